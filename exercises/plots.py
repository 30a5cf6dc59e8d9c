"""Pictures for exercises: small SVG plots drawn on the server with NumPy.

Every curve is computed by the grading engine's own float evaluator from text in the
answer syntax (`grading.parser.parse`, then `grading.evaluate.compile_float`), and
every iterate by the course's reference routines, so a picture and the grader never
disagree about a function.

A plot shows the set-up of its exercise (the function, the data, the starting point);
what the student is asked to find (a tangent line, a fit, the iterates) is drawn only
once the student has solved the exercise, beside the worked solution.

The registry `PLOTS` is keyed by exercise slug, for the course in `course/`; a plot
is drawn with the student's own values of the exercise's parameters (their variant).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape

import numpy as np
import sympy as sp

from grading.evaluate import compile_float
from grading.parser import parse
from grading.reference import numeric, regression, symbolic
from grading.reference.text import to_answer_text

# Colours and dash patterns: every pair of series differs in more than colour.
STYLES = {
    "main": {"stroke": "#1f5fbf", "stroke-width": "2.5", "fill": "none"},
    "answer": {
        "stroke": "#c2410c",
        "stroke-width": "2.5",
        "fill": "none",
        "stroke-dasharray": "8 5",
    },
    "steps": {"stroke": "#b42318", "stroke-width": "2", "fill": "none"},
    "guide": {
        "stroke": "#5b6373",
        "stroke-width": "1.2",
        "fill": "none",
        "stroke-dasharray": "3 3",
    },
    "contour": {"stroke": "#8a94a6", "stroke-width": "1.1", "fill": "none"},
}
MARKERS = {"main": "#1f5fbf", "answer": "#c2410c", "steps": "#b42318", "data": "#1d2330"}


def function_of(text: str, variables: Sequence[str] = ("x",)) -> Callable[..., np.ndarray]:
    """A vectorised float function from text in the answer syntax: NaN where undefined."""
    evaluator = compile_float(parse(text, variables=variables), list(variables))

    def f(*columns: np.ndarray) -> np.ndarray:
        columns = [np.asarray(c, dtype=float) for c in columns]
        with np.errstate(all="ignore"):
            values = evaluator(columns)
        return np.broadcast_to(np.asarray(values, dtype=float), columns[0].shape).copy()

    return f


def nice_ticks(low: float, high: float, target: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [low, high]."""
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def _number(value: float) -> str:
    """A tick label: `2`, `0.5`, `−1.5` (a true minus sign), never `-0`."""
    if abs(value) < 1e-12:
        return "0"
    text = f"{value:.6g}"
    return text.replace("-", "\u2212")


def _attrs(style: dict) -> str:
    return " ".join(f'{k}="{v}"' for k, v in style.items())


@dataclass
class Figure:
    """One plot: data coordinates in `xlim` x `ylim`, drawn into a fixed SVG view box."""

    title: str
    desc: str
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    xlabel: str = "x"
    ylabel: str = "y"
    width: int = 640
    height: int = 400
    left: int = 58
    right: int = 18
    top: int = 40
    bottom: int = 46
    layers: list[str] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)

    # ------------------------------------------------------------ coordinates

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.width - self.right, self.height - self.bottom)

    def px(self, x):
        x0, x1 = self.xlim
        return self.left + (np.asarray(x, dtype=float) - x0) / (x1 - x0) * (
            self.width - self.left - self.right
        )

    def py(self, y):
        y0, y1 = self.ylim
        return (self.height - self.bottom) - (np.asarray(y, dtype=float) - y0) / (y1 - y0) * (
            self.height - self.top - self.bottom
        )

    def data_x(self, px: float) -> float:
        """The data x of an SVG x coordinate (the inverse of `px`)."""
        x0, x1 = self.xlim
        return x0 + (px - self.left) / (self.width - self.left - self.right) * (x1 - x0)

    def data_y(self, py: float) -> float:
        y0, y1 = self.ylim
        return y0 + ((self.height - self.bottom) - py) / (self.height - self.top - self.bottom) * (
            y1 - y0
        )

    # ------------------------------------------------------------ drawing

    def _polylines(self, xs, ys) -> list[str]:
        """Polylines through the finite points, broken where the curve is undefined or far off."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        span = self.ylim[1] - self.ylim[0]
        ok = np.isfinite(xs) & np.isfinite(ys)
        ok &= (ys > self.ylim[0] - span) & (ys < self.ylim[1] + span)
        runs, current = [], []
        for x, y, good in zip(self.px(xs), self.py(ys), ok, strict=True):
            if good:
                current.append(f"{x:.2f},{y:.2f}")
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        return [" ".join(run) for run in runs if len(run) > 1]

    def _add(
        self, series: str, body: str, label: str | None, style: str, clip: bool = True
    ) -> None:
        clip_attr = ' clip-path="url(#{id}-clip)"' if clip else ""
        self.layers.append(f'<g class="series" data-series="{series}"{clip_attr}>{body}</g>')
        if label:
            self.legend.append((label, style, series))

    def curve(self, f: Callable, *, series: str, label: str | None, style: str = "main") -> None:
        """The graph of f over the x range, sampled finely enough to look smooth."""
        xs = np.linspace(self.xlim[0], self.xlim[1], 241)
        self.line(xs, f(xs), series=series, label=label, style=style)

    def line(self, xs, ys, *, series: str, label: str | None, style: str = "main") -> None:
        attrs = _attrs(STYLES[style])
        body = "".join(f'<polyline points="{p}" {attrs}/>' for p in self._polylines(xs, ys))
        self._add(series, body, label, style)

    def points(self, xs, ys, *, series: str, label: str | None, style: str = "data") -> None:
        colour = MARKERS[style]
        body = "".join(
            f'<circle cx="{x:.2f}" cy="{y:.2f}" r="5" fill="{colour}" stroke="#fff" stroke-width="1.5"/>'
            for x, y in zip(self.px(xs), self.py(ys), strict=True)
        )
        self._add(series, body, label, style)

    def path(self, xs, ys, *, series: str, label: str | None, names: Sequence[str] = ()) -> None:
        """Iterates joined in order, each marked, the first few named (x₀, x₁, ...)."""
        attrs = _attrs(STYLES["steps"])
        sx, sy = self.px(xs), self.py(ys)
        body = "".join(f'<polyline points="{p}" {attrs}/>' for p in self._polylines(xs, ys))
        body += "".join(
            f'<circle cx="{x:.2f}" cy="{y:.2f}" r="4" fill="{MARKERS["steps"]}"/>'
            for x, y in zip(sx, sy, strict=True)
        )
        body += "".join(
            f'<text x="{x + 7:.2f}" y="{y - 7:.2f}" class="plot-label" font-size="16"'
            f' fill="#1d2330">{escape(name)}</text>'
            for x, y, name in zip(sx, sy, names, strict=False)
        )
        self._add(series, body, label, "steps")

    def segments(self, pairs, *, series: str, label: str | None, style: str) -> None:
        attrs = _attrs(STYLES[style])
        body = "".join(
            f'<line x1="{self.px(a[0]):.2f}" y1="{self.py(a[1]):.2f}"'
            f' x2="{self.px(b[0]):.2f}" y2="{self.py(b[1]):.2f}" {attrs}/>'
            for a, b in pairs
        )
        self._add(series, body, label, style)

    def contours(self, f: Callable, levels: Sequence[float], *, series: str, label: str) -> None:
        """Level curves of f(x, y) by marching squares on a grid over the plot."""
        xs = np.linspace(self.xlim[0], self.xlim[1], 81)
        ys = np.linspace(self.ylim[0], self.ylim[1], 61)
        gx, gy = np.meshgrid(xs, ys)
        z = f(gx.ravel(), gy.ravel()).reshape(gx.shape)
        parts = []
        for level in levels:
            d = []
            for (x0, y0), (x1, y1) in _level_segments(xs, ys, z, level):
                d.append(
                    f"M{self.px(x0):.2f},{self.py(y0):.2f}L{self.px(x1):.2f},{self.py(y1):.2f}"
                )
            if d:
                parts.append(f'<path d="{"".join(d)}" {_attrs(STYLES["contour"])}/>')
        self._add(series, "".join(parts), label, "contour")

    # ------------------------------------------------------------ output

    def _axes(self) -> str:
        x0, y0, x1, y1 = self.box
        out = [f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="#fff"/>']
        for t in nice_ticks(*self.xlim):
            x = float(self.px(t))
            out.append(f'<line x1="{x:.2f}" y1="{y0}" x2="{x:.2f}" y2="{y1}" stroke="#eceef3"/>')
            out.append(
                f'<line x1="{x:.2f}" y1="{y1}" x2="{x:.2f}" y2="{y1 + 6}" stroke="#1d2330"/>'
            )
            out.append(
                f'<text x="{x:.2f}" y="{y1 + 22}" text-anchor="middle" font-size="15"'
                f' fill="#1d2330">{_number(t)}</text>'
            )
        for t in nice_ticks(*self.ylim, target=5):
            y = float(self.py(t))
            out.append(f'<line x1="{x0}" y1="{y:.2f}" x2="{x1}" y2="{y:.2f}" stroke="#eceef3"/>')
            out.append(
                f'<line x1="{x0 - 6}" y1="{y:.2f}" x2="{x0}" y2="{y:.2f}" stroke="#1d2330"/>'
            )
            out.append(
                f'<text x="{x0 - 9}" y="{y + 4.5:.2f}" text-anchor="end" font-size="15"'
                f' fill="#1d2330">{_number(t)}</text>'
            )
        # The lines x = 0 and y = 0, where they are in view, darker than the grid.
        if self.ylim[0] < 0 < self.ylim[1]:
            y = float(self.py(0))
            out.append(f'<line x1="{x0}" y1="{y:.2f}" x2="{x1}" y2="{y:.2f}" stroke="#9aa3b2"/>')
        if self.xlim[0] < 0 < self.xlim[1]:
            x = float(self.px(0))
            out.append(f'<line x1="{x:.2f}" y1="{y0}" x2="{x:.2f}" y2="{y1}" stroke="#9aa3b2"/>')
        out.append(
            f'<path d="M{x0},{y0}V{y1}H{x1}" fill="none" stroke="#1d2330" stroke-width="1.2"/>'
        )
        out.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{self.height - 6}" text-anchor="middle"'
            f' font-size="16" font-style="italic" fill="#1d2330">{escape(self.xlabel)}</text>'
        )
        out.append(
            f'<text x="14" y="{(y0 + y1) / 2:.1f}" text-anchor="middle" font-size="16"'
            f' font-style="italic" fill="#1d2330"'
            f' transform="rotate(-90 14 {(y0 + y1) / 2:.1f})">{escape(self.ylabel)}</text>'
        )
        return "".join(out)

    def _legend(self) -> str:
        """One row above the plot, right-aligned, so that it never hides a curve."""
        if not self.legend:
            return ""
        widths = [44 + 8.6 * len(label) for label, _, _ in self.legend]
        left = self.width - self.right - sum(widths)
        y = self.top / 2
        out = []
        for (label, style, _), width in zip(self.legend, widths, strict=True):
            if style in MARKERS and style not in STYLES:
                out.append(f'<circle cx="{left + 11:.1f}" cy="{y}" r="5" fill="{MARKERS[style]}"/>')
            else:
                out.append(
                    f'<line x1="{left:.1f}" y1="{y}" x2="{left + 22:.1f}" y2="{y}"'
                    f" {_attrs(STYLES[style])}/>"
                )
            out.append(
                f'<text x="{left + 28:.1f}" y="{y + 4.5}" font-size="15" fill="#1d2330">'
                f"{escape(label)}</text>"
            )
            left += width
        return '<g class="legend">' + "".join(out) + "</g>"

    def to_svg(self, id_prefix: str = "plot") -> str:
        """The figure as an SVG element, with a title and a description for screen readers."""
        x0, y0, x1, y1 = self.box
        pid = id_prefix
        layers = "".join(self.layers).replace("{id}", pid)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" id="{pid}"'
            f' viewBox="0 0 {self.width} {self.height}" role="img"'
            f' aria-labelledby="{pid}-title {pid}-desc"'
            f' font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
            f'<title id="{pid}-title">{escape(self.title)}</title>'
            f'<desc id="{pid}-desc">{escape(self.desc)}</desc>'
            f'<defs><clipPath id="{pid}-clip"><rect x="{x0}" y="{y0}" width="{x1 - x0}"'
            f' height="{y1 - y0}"/></clipPath></defs>'
            f"{self._axes()}{layers}{self._legend()}</svg>"
        )


def _level_segments(xs, ys, z, level: float) -> list[tuple[tuple[float, float], ...]]:
    """Marching squares: the pieces of the curve z = level, one or two per grid cell."""
    above = z > level
    corners = above[:-1, :-1].astype(int) + above[:-1, 1:] + above[1:, 1:] + above[1:, :-1]
    finite = np.isfinite(z)
    whole = finite[:-1, :-1] & finite[:-1, 1:] & finite[1:, 1:] & finite[1:, :-1]
    segments = []
    for j, i in zip(*np.nonzero((corners > 0) & (corners < 4) & whole), strict=True):
        # Corners counter-clockwise from the bottom left; each edge joins two of them.
        pts = [(xs[i], ys[j]), (xs[i + 1], ys[j]), (xs[i + 1], ys[j + 1]), (xs[i], ys[j + 1])]
        vals = [z[j, i], z[j, i + 1], z[j + 1, i + 1], z[j + 1, i]]
        crossings = []
        for k in range(4):
            a, b = k, (k + 1) % 4
            if (vals[a] > level) != (vals[b] > level):
                t = (level - vals[a]) / (vals[b] - vals[a])
                crossings.append(
                    (
                        pts[a][0] + t * (pts[b][0] - pts[a][0]),
                        pts[a][1] + t * (pts[b][1] - pts[a][1]),
                    )
                )
        for k in range(0, len(crossings) - 1, 2):
            segments.append((crossings[k], crossings[k + 1]))
    return segments


# ---------------------------------------------------------------- the course's plots

_x = sp.Symbol("x")


def _n(value: float) -> str:
    """A parameter as answer text and as a label: `3`, `0.2`, `-1.5`."""
    return f"{value:g}"


def maclaurin_cos_kx(values: dict, solved: bool) -> Figure:
    k = values["k"]
    fig = Figure(
        title=f"The graph of cos({_n(k)}x)",
        desc=f"The curve y = cos({_n(k)}x) for x from {_n(-5 / k)} to {_n(5 / k)},"
        " a wave between −1 and 1 with its peak at x = 0."
        + (
            " Dashed: its Maclaurin polynomial up to x⁴, close to the curve near 0."
            if solved
            else ""
        ),
        xlim=(-5 / k, 5 / k),
        ylim=(-1.6, 1.8),
    )
    fig.curve(function_of(f"cos({_n(k)}x)"), series="f", label=f"cos({_n(k)}x)")
    if solved:
        series = symbolic.taylor_polynomial(sp.cos(sp.nsimplify(k) * _x), _x, 0, 4)
        fig.curve(
            function_of(to_answer_text(series)),
            series="taylor",
            label="Taylor polynomial",
            style="answer",
        )
    return fig


def linearise_square_root(values: dict, solved: bool) -> Figure:
    m = values["m"]
    a = m * m
    fig = Figure(
        title=f"The graph of √x near x = {_n(a)}",
        desc=f"The curve y = √x for x from 0 to {_n(2.25 * a)}, with the point ({_n(a)}, {_n(m)})"
        " marked."
        + (" Dashed: the tangent line there, which lies above the curve." if solved else ""),
        xlim=(0, 2.25 * a),
        ylim=(0, 1.75 * m),
    )
    fig.curve(function_of("sqrt(x)"), series="f", label="√x")
    if solved:
        tangent = to_answer_text(symbolic.linearisation(sp.sqrt(_x), _x, sp.nsimplify(a)))
        fig.curve(
            function_of(tangent), series="tangent", label=f"tangent at {_n(a)}", style="answer"
        )
    fig.points([a], [m], series="point", label=f"({_n(a)}, {_n(m)})")
    return fig


def newton_raphson_cubic(values: dict, solved: bool) -> Figure:
    f, df = function_of("x^3 - 2x - 5"), function_of("3x^2 - 2")

    def at(g, v: float) -> float:
        return float(g(np.array([v]))[0])

    fig = Figure(
        title="The graph of x³ − 2x − 5",
        desc="The curve y = x³ − 2x − 5 for x from 1.8 to 2.4, crossing zero between 2 and 2.2,"
        " with the starting point x₀ = 2 marked."
        + (
            " Each Newton-Raphson step follows the tangent line down to the axis." if solved else ""
        ),
        xlim=(1.8, 2.4),
        ylim=(-3, 4),
    )
    fig.curve(f, series="f", label="f(x)")
    if solved:
        run = numeric.newton_raphson(lambda v: at(f, v), lambda v: at(df, v), 2.0, steps=2)
        xs = [float(v) for v in run.iterates]
        tangents = [((a, at(f, a)), (b, 0.0)) for a, b in zip(xs, xs[1:], strict=False)]
        guides = [((a, 0.0), (a, at(f, a))) for a in xs[1:-1]]
        fig.segments(tangents, series="tangents", label="tangent steps", style="answer")
        fig.segments(guides, series="guides", label=None, style="guide")
    fig.points([2], [at(f, 2.0)], series="start", label="x₀ = 2")
    return fig


def gradient_descent_steps(values: dict, solved: bool) -> Figure:
    c, p, q = values["c"], values["p"], values["q"]
    variables = ("x", "y")
    f = function_of(f"x^2 + {_n(c)}y^2", variables)
    top = p * p + c * q * q
    # A square-ish window around the origin and the start, in the plot's 8:5 shape.
    half_y = max(abs(q), abs(p) * 5 / 8) + 0.5
    half_x = half_y * 8 / 5
    fig = Figure(
        title=f"Contours of f(x, y) = x² + {_n(c)}y²",
        desc=f"Level curves of x² + {_n(c)}y², ellipses around the minimum at the origin,"
        f" narrower in y, with the starting point ({_n(p)}, {_n(q)}) marked."
        + (
            " The gradient-descent iterates with step size 0.1 head for the origin,"
            " y shrinking faster than x."
            if solved
            else ""
        ),
        xlim=(-half_x, half_x),
        ylim=(-half_y, half_y),
        ylabel="y",
    )
    levels = [top * s for s in (0.02, 0.06, 0.12, 0.25, 0.45, 0.7, 1.0, 1.4)]
    fig.contours(f, levels, series="contours", label="level curves")
    if solved:
        grad = function_of("2x", variables), function_of(f"{_n(2 * c)}y", variables)

        def gradient(point):
            return np.array([float(g(np.array([point[0]]), np.array([point[1]]))[0]) for g in grad])

        run = numeric.gradient_descent(gradient, [float(p), float(q)], 0.1, steps=8)
        it = np.asarray(run.iterates)
        fig.path(it[:, 0], it[:, 1], series="descent", label="descent", names=["x₀", "x₁", "x₂"])
    else:
        fig.points([p], [q], series="start", label=f"x₀ = ({_n(p)}, {_n(q)})")
    return fig


def straight_line_fit(values: dict, solved: bool) -> Figure:
    xs, ys = [1, 2, 3, 4], [2, 3, 5, 6]
    fig = Figure(
        title="The four data points",
        desc="Data points (1, 2), (2, 3), (3, 5) and (4, 6), rising roughly in a line."
        + (" Dashed: the least-squares line, passing between them." if solved else ""),
        xlim=(0, 5),
        ylim=(0, 8),
    )
    if solved:
        m, c = regression.linfit(xs, ys)
        line = to_answer_text(sp.nsimplify(m) * _x + sp.nsimplify(c))
        fig.curve(function_of(line), series="fit", label="fitted line", style="answer")
    fig.points(xs, ys, series="data", label="data")
    return fig


def steepest_descent_fit(values: dict, solved: bool) -> Figure:
    fig = Figure(
        title="The model y = e^(kx) and the two data points",
        desc="Data points (1, 2) and (2, 5), and the model y = e^(kx) at the starting k = 1,"
        " which passes well above them."
        + (" Dashed: the model at the best fit, k near 0.80." if solved else ""),
        xlim=(0, 2.5),
        ylim=(0, 10),
    )
    fig.curve(function_of("e^x"), series="start", label="k = 1")
    if solved:
        slope = function_of("-2(2 - e^k) e^k - 4(5 - e^(2k)) e^(2k)", ("k",))
        run = numeric.gradient_descent(
            lambda k: np.array([float(slope(np.array([k[0]]))[0])]), [1.0], 0.001, max_iter=20000
        )
        k = float(np.asarray(run.iterates)[-1][0])
        fig.curve(function_of(f"e^({k!r} x)"), series="fit", label=f"k = {k:.3f}", style="answer")
    fig.points([1, 2], [2, 5], series="data", label="data")
    return fig


@dataclass(frozen=True)
class Plot:
    """How to draw an exercise's picture, and the parameters it reads.

    `defaults` are the values of an exercise without parameters; `ignored` names
    parameters that change nothing in the picture. A picture drawn for other numbers
    than the student's would mislead, so a variant whose parameters are not exactly
    these (an exercise rewritten since) gets no picture at all.
    """

    draw: Callable[[dict, bool], Figure]
    defaults: dict = field(default_factory=dict)
    ignored: frozenset = frozenset()

    def values_for(self, values: dict | None) -> dict | None:
        if not values:
            return dict(self.defaults)
        if set(values) - self.ignored != set(self.defaults):
            return None
        return {name: values[name] for name in self.defaults}


PLOTS: dict[str, Plot] = {
    "maclaurin-cos-2x": Plot(maclaurin_cos_kx, {"k": 2}),
    "linearise-square-root": Plot(linearise_square_root, {"m": 2}, frozenset({"h"})),
    "newton-raphson-cubic": Plot(newton_raphson_cubic),
    "gradient-descent-steps": Plot(gradient_descent_steps, {"c": 3, "p": 2, "q": 1}),
    "straight-line-fit": Plot(straight_line_fit),
    "steepest-descent-fit": Plot(steepest_descent_fit),
}


def figure_for(slug: str, values: dict | None, solved: bool) -> Figure | None:
    """The exercise's picture for a student's parameter values, or None if it has none."""
    plot = PLOTS.get(slug)
    if plot is None:
        return None
    used = plot.values_for(values)
    return None if used is None else plot.draw(used, solved)


@lru_cache(maxsize=256)
def _cached_svg(slug: str, values_json: str, solved: bool) -> str | None:
    figure = figure_for(slug, json.loads(values_json), solved)
    return None if figure is None else figure.to_svg(id_prefix=f"plot-{slug}")


def plot_svg(slug: str, values: dict | None = None, solved: bool = False) -> str | None:
    """The exercise's picture as inline SVG (drawn once per slug, values and state), or None."""
    if slug not in PLOTS:
        return None
    return _cached_svg(slug, json.dumps(values or {}, sort_keys=True), solved)
