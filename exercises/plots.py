"""Pictures for exercises: small SVG plots drawn on the server with NumPy.

Every curve is computed by the grading engine's own float evaluator from text in the
answer syntax (`grading.parser.parse`, then `grading.evaluate.compile_float`), and
every iterate by the course's reference routines, so a picture and the grader never
disagree about a function.

A plot shows the set-up of its exercise (the function, the data, the starting point);
what the student is asked to find (a tangent line, a fit, the iterates) is drawn only
once the student has solved the exercise, beside the worked solution.

An exercise declares its plot in its definition (`plot:` in YAML, see
`exercises.definition` and docs/authoring.md): a function with a tangent or
Newton-Raphson's steps, a Taylor polynomial, contours with a path of iterates, or data
with a fit. It is drawn with the student's own values of the exercise's parameters
(their variant); `reveal` says whether to draw what the exercise asks for.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape

import numpy as np
import sympy as sp

from exercises import variants
from exercises.definition import DefinitionError, parse_plot
from grading.evaluate import compile_float, to_sympy
from grading.parser import ParseError, parse
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


# ---------------------------------------------------------------- plots declared in exercises


class PlotError(ValueError):
    """A declared plot that cannot be drawn for these values; says why."""


def _text(template: str, values: dict) -> str:
    return variants.render_text(template, values)


def _expression(template: str, values: dict) -> str:
    return variants.render_expression(template, values)


def _amount(value, values: dict, where: str) -> float:
    """A number of the declaration: a number, or an expression over the parameters."""
    if isinstance(value, int | float):
        return float(value)
    text = _expression(str(value), values)
    try:
        result = float(variants.exact_value(text, values, where))
    except (TypeError, ValueError) as e:
        raise PlotError(f"{where}: {e}") from None
    return result


def _range(pair, values: dict, where: str) -> tuple[float, float]:
    low, high = (_amount(v, values, where) for v in pair)
    if not low < high:
        raise PlotError(f"{where}: needs low < high, got {low:g} and {high:g}")
    return low, high


def _curve(text: str, values: dict, variables=("x",), where: str = "f"):
    rendered = _expression(text, values)
    try:
        return rendered, function_of(rendered, variables)
    except ParseError as e:
        raise PlotError(f"{where}: {e}") from None


def _symbolic(text: str, variables) -> sp.Expr:
    symbols = {name: sp.Symbol(name) for name in variables}
    return to_sympy(parse(text, variables=list(variables)), symbols=symbols)


def _n(value: float) -> str:
    """A number as a label: `3`, `0.2`, `-1.5`."""
    return f"{value:g}"


def _figure(spec, values: dict, reveal: bool, xlim, ylim) -> Figure:
    desc = _text(spec.description, values)
    if reveal and spec.solved_description:
        desc = f"{desc} {_text(spec.solved_description, values)}"
    return Figure(
        title=_text(spec.title, values),
        desc=desc,
        xlim=xlim,
        ylim=ylim,
        xlabel=spec.xlabel,
        ylabel=spec.ylabel,
    )


def _function_plot(spec, values: dict, reveal: bool) -> Figure:
    xlim, ylim = _range(spec.x, values, "x"), _range(spec.y, values, "y")
    text, f = _curve(spec.f, values)
    fig = _figure(spec, values, reveal, xlim, ylim)

    def at(v: float) -> float:
        return float(f(np.array([v]))[0])

    fig.curve(f, series="f", label=_text(spec.label, values))
    if reveal and spec.tangent_at is not None:
        a = _amount(spec.tangent_at, values, "tangent_at")
        x = sp.Symbol("x")
        line = symbolic.linearisation(_symbolic(text, ["x"]), x, sp.nsimplify(a))
        fig.curve(
            function_of(to_answer_text(line)),
            series="tangent",
            label=f"tangent at {_n(a)}",
            style="answer",
        )
    if spec.newton is not None:
        x0 = _amount(spec.newton.x0, values, "newton.x0")
        if reveal:
            x = sp.Symbol("x")
            df = function_of(to_answer_text(sp.diff(_symbolic(text, ["x"]), x)))
            run = numeric.newton_raphson(
                at, lambda v: float(df(np.array([v]))[0]), x0, steps=spec.newton.steps
            )
            xs = [float(v) for v in run.iterates]
            tangents = [((a, at(a)), (b, 0.0)) for a, b in zip(xs, xs[1:], strict=False)]
            guides = [((a, 0.0), (a, at(a))) for a in xs[1:-1]]
            fig.segments(tangents, series="tangents", label="tangent steps", style="answer")
            fig.segments(guides, series="guides", label=None, style="guide")
        fig.points([x0], [at(x0)], series="start", label=f"x₀ = {_n(x0)}")
    for point in spec.points:
        px = _amount(point.x, values, "points.x")
        py = at(px) if point.y is None else _amount(point.y, values, "points.y")
        label = _text(point.label, values) if point.label else f"({_n(px)}, {_n(py)})"
        fig.points([px], [py], series="point", label=label)
    return fig


def _taylor_plot(spec, values: dict, reveal: bool) -> Figure:
    xlim, ylim = _range(spec.x, values, "x"), _range(spec.y, values, "y")
    text, f = _curve(spec.f, values)
    fig = _figure(spec, values, reveal, xlim, ylim)
    fig.curve(f, series="f", label=_text(spec.label, values))
    if reveal:
        x = sp.Symbol("x")
        centre = sp.nsimplify(_amount(spec.centre, values, "centre"))
        degrees = spec.degree if isinstance(spec.degree, list) else [spec.degree]
        for degree in degrees:
            series = symbolic.taylor_polynomial(_symbolic(text, ["x"]), x, centre, degree)
            fig.curve(
                function_of(to_answer_text(series)),
                series="taylor",
                label="Taylor polynomial" if len(degrees) == 1 else f"degree {degree}",
                style="answer",
            )
    return fig


def _contour_plot(spec, values: dict, reveal: bool) -> Figure:
    xlim, ylim = _range(spec.x, values, "x"), _range(spec.y, values, "y")
    variables = tuple(spec.variables)
    text, f = _curve(spec.f, values, variables)
    fig = _figure(spec, values, reveal, xlim, ylim)
    start = [_amount(v, values, "start") for v in spec.start]
    if spec.levels:
        levels = [_amount(v, values, "levels") for v in spec.levels]
    else:
        # Levels through the start and inside it, down to the minimum.
        top = float(f(np.array([start[0]]), np.array([start[1]]))[0])
        levels = [top * s for s in (0.02, 0.06, 0.12, 0.25, 0.45, 0.7, 1.0, 1.4)]
    fig.contours(f, levels, series="contours", label="level curves")
    if reveal:
        expr = _symbolic(text, variables)
        symbols = [sp.Symbol(v) for v in variables]
        grad = [function_of(to_answer_text(sp.diff(expr, s)), variables) for s in symbols]

        def gradient(point):
            return np.array([float(g(np.array([point[0]]), np.array([point[1]]))[0]) for g in grad])

        if spec.path.method == "gradient_descent":
            run = numeric.gradient_descent(gradient, start, spec.path.gamma, steps=spec.path.steps)
        else:
            hess = [
                [function_of(to_answer_text(sp.diff(expr, a, b)), variables) for b in symbols]
                for a in symbols
            ]

            def hessian(point):
                return np.array(
                    [
                        [float(h(np.array([point[0]]), np.array([point[1]]))[0]) for h in row]
                        for row in hess
                    ]
                )

            run = numeric.newton_raphson_nd(gradient, hessian, start, steps=spec.path.steps)
        it = np.asarray(run.iterates, dtype=float)
        label = "descent" if spec.path.method == "gradient_descent" else "Newton-Raphson"
        fig.path(it[:, 0], it[:, 1], series="descent", label=label, names=["x₀", "x₁", "x₂"])
    else:
        fig.points(
            [start[0]], [start[1]], series="start", label=f"x₀ = ({_n(start[0])}, {_n(start[1])})"
        )
    return fig


def _fit_plot(spec, values: dict, reveal: bool) -> Figure:
    xlim, ylim = _range(spec.x, values, "x"), _range(spec.y, values, "y")
    xs = np.array([_amount(v, values, "data.x") for v in spec.data.x])
    ys = np.array([_amount(v, values, "data.y") for v in spec.data.y])
    fig = _figure(spec, values, reveal, xlim, ylim)
    if spec.model == "line":
        if reveal:
            m, c = regression.linfit(xs, ys)
            line = to_answer_text(sp.nsimplify(m) * sp.Symbol("x") + sp.nsimplify(c))
            label = _text(spec.fit_label, values) or "fitted line"
            fig.curve(function_of(line), series="fit", label=label, style="answer")
    else:
        names = list(spec.model.start)
        start = np.array(
            [_amount(v, values, f"model.start.{n}") for n, v in spec.model.start.items()]
        )
        text = _expression(spec.model.f, values)
        model = function_of(text, ("x", *names))

        def curve_at(params):
            return lambda x: model(x, *(np.full_like(x, p, dtype=float) for p in params))

        if spec.model.show_start:
            label = ", ".join(f"{n} = {_n(v)}" for n, v in zip(names, start, strict=True))
            fig.curve(curve_at(start), series="start", label=label)
        if reveal:
            best = _least_squares(lambda p: curve_at(p)(xs), ys, start)
            label = _text(spec.fit_label, values) or ", ".join(
                f"{n} = {v:.3f}" for n, v in zip(names, best, strict=True)
            )
            fig.curve(curve_at(best), series="fit", label=label, style="answer")
    fig.points(xs, ys, series="data", label="data")
    return fig


def _least_squares(model: Callable, ys: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The parameters minimising the sum of squared residuals: Gauss-Newton with
    step halving, from the declared start."""
    p = np.asarray(start, dtype=float).copy()

    def cost(q):
        r = ys - model(q)
        return float(r @ r) if np.all(np.isfinite(r)) else np.inf

    for _ in range(200):
        r = ys - model(p)
        h = 1e-7 * np.maximum(1.0, np.abs(p))
        jac = np.column_stack(
            [(model(p + h[i] * np.eye(len(p))[i]) - model(p)) / h[i] for i in range(len(p))]
        )
        step, *_ = np.linalg.lstsq(jac, r, rcond=None)
        t = 1.0
        while t > 1e-6 and cost(p + t * step) > cost(p):
            t /= 2
        if t <= 1e-6:
            break
        p = p + t * step
        if np.linalg.norm(t * step) <= 1e-12 * max(1.0, float(np.linalg.norm(p))):
            break
    return p


_DRAW = {
    "function": _function_plot,
    "taylor": _taylor_plot,
    "contour": _contour_plot,
    "fit": _fit_plot,
}


def figure_for(plot, values: dict | None, reveal: bool) -> Figure:
    """The declared plot (a definition, or its data as stored) for a variant's values.
    What the exercise asks for is drawn only when `reveal` is true. Raises PlotError
    (or VariantError) when it cannot be drawn for these values."""
    if isinstance(plot, dict):
        try:
            plot = parse_plot(plot)
        except DefinitionError as e:
            raise PlotError(str(e)) from None
    try:
        return _DRAW[plot.kind](plot, values or {}, reveal)
    except (variants.VariantError, ParseError) as e:
        raise PlotError(str(e)) from None


@lru_cache(maxsize=256)
def _cached_svg(plot_json: str, values_json: str, reveal: bool) -> str:
    try:
        figure = figure_for(json.loads(plot_json), json.loads(values_json), reveal)
    except PlotError:
        # A picture drawn for other numbers than the student's would mislead: none at all.
        return ""
    digest = hashlib.sha256(plot_json.encode()).hexdigest()[:8]
    return figure.to_svg(id_prefix=f"plot-{digest}")


def plot_svg(plot_spec, values: dict | None, reveal: bool) -> str:
    """The declared plot as inline SVG for a variant's values, drawn once per plot, values
    and state; "" when there is no plot or it cannot be drawn for these values."""
    if not plot_spec:
        return ""
    if not isinstance(plot_spec, dict):
        plot_spec = plot_spec.to_data()
    return _cached_svg(
        json.dumps(plot_spec, sort_keys=True), json.dumps(values or {}, sort_keys=True), reveal
    )
