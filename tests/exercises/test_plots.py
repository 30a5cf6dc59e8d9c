"""The SVG plots of the course's exercises: well-formed, accessible, and true to the function."""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from exercises import plots
from exercises.definition import ExerciseDef
from grading.evaluate import compile_float
from grading.parser import parse
from tests.conftest import make_exercise, make_submission

SVG = "{http://www.w3.org/2000/svg}"
COURSE = Path(__file__).resolve().parents[2] / "course"
# Exercise pieces drawn only once the exercise is solved.
ANSWER_SERIES = {"taylor", "tangent", "tangents", "descent", "fit"}


def _course() -> dict[str, ExerciseDef]:
    found = {}
    for path in COURSE.glob("*/*.yaml"):
        for data in yaml.safe_load(path.read_text()).get("exercises", []):
            found[data["slug"]] = ExerciseDef.model_validate(data)
    return found


COURSE_EXERCISES = _course()
PLOTTED = sorted(slug for slug, ex in COURSE_EXERCISES.items() if ex.plot is not None)
# The values of the variant each picture was first drawn for.
FIRST_VALUES = {"maclaurin-cos-2x": {"k": 2}, "linearise-square-root": {"m": 2, "h": 0.1}}
FIRST_VALUES["gradient-descent-steps"] = {"c": 3, "p": 2, "q": 1}


def figure_for(slug: str, values: dict | None, solved: bool) -> plots.Figure:
    values = FIRST_VALUES.get(slug, {}) if values is None else values
    return plots.figure_for(COURSE_EXERCISES[slug].plot, values, solved)


def plot_svg(slug: str, values: dict | None = None, solved: bool = False) -> str:
    values = FIRST_VALUES.get(slug, {}) if values is None else values
    return plots.plot_svg(COURSE_EXERCISES[slug].plot, values, solved)


def _svg(figure: plots.Figure) -> ET.Element:
    return ET.fromstring(figure.to_svg("test-plot"))


def _series(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-series"): g for g in root.iter(f"{SVG}g") if g.get("data-series")}


def _curve_points(figure: plots.Figure, group: ET.Element) -> np.ndarray:
    """The (x, y) data coordinates of the points of a series' polylines."""
    points = []
    for line in group.iter(f"{SVG}polyline"):
        for pair in line.get("points").split():
            px, py = (float(v) for v in pair.split(","))
            points.append((figure.data_x(px), figure.data_y(py)))
    return np.array(points)


def _engine(text: str, variables=("x",)):
    evaluator = compile_float(parse(text, variables=variables), list(variables))
    return lambda *cols: np.broadcast_to(
        evaluator([np.asarray(c, float) for c in cols]), np.shape(cols[0])
    )


def _tolerance(figure: plots.Figure) -> float:
    # Coordinates are written to 0.01 px.
    return 0.006 * (figure.ylim[1] - figure.ylim[0]) / (figure.height - figure.top - figure.bottom)


@pytest.mark.parametrize("solved", [False, True])
@pytest.mark.parametrize("slug", PLOTTED)
def test_it_draws_each_plot_as_accessible_svg(slug, solved):
    root = ET.fromstring(plot_svg(slug, None, solved))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text.strip()
    assert desc is not None and len(desc.text) > 40
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert len(labels) >= 8  # tick labels on both axes and the axis names
    drawn = set(_series(root))
    assert drawn
    if solved:
        assert drawn & ANSWER_SERIES
    else:
        assert not drawn & ANSWER_SERIES


def test_it_draws_the_curve_of_the_function():
    figure = figure_for("maclaurin-cos-2x", None, solved=True)
    series = _series(_svg(figure))
    curve = _curve_points(figure, series["f"])
    assert len(curve) > 100
    assert curve[:, 0].min() == pytest.approx(-2.5, abs=0.01)
    assert curve[:, 0].max() == pytest.approx(2.5, abs=0.01)
    f = _engine("cos(2x)")
    assert np.allclose(curve[:, 1], f(curve[:, 0]), atol=_tolerance(figure) * 3)


def test_it_draws_the_taylor_polynomial_of_the_exercise():
    figure = figure_for("maclaurin-cos-2x", None, solved=True)
    taylor = _curve_points(figure, _series(_svg(figure))["taylor"])
    expected = _engine("1 - 2x^2 + 2/3 x^4")
    assert len(taylor) > 50
    assert np.allclose(taylor[:, 1], expected(taylor[:, 0]), atol=_tolerance(figure) * 3)


def test_it_draws_the_tangent_line_through_the_point():
    figure = figure_for("linearise-square-root", None, solved=True)
    series = _series(_svg(figure))
    tangent = _curve_points(figure, series["tangent"])
    assert np.allclose(tangent[:, 1], 2 + (tangent[:, 0] - 4) / 4, atol=_tolerance(figure) * 3)
    (circle,) = series["point"].iter(f"{SVG}circle")
    assert figure.data_x(float(circle.get("cx"))) == pytest.approx(4, abs=1e-3)
    assert figure.data_y(float(circle.get("cy"))) == pytest.approx(2, abs=1e-3)


def test_it_breaks_a_curve_where_the_function_is_undefined():
    figure = plots.Figure(title="t", desc="d", xlim=(-4, 4), ylim=(-1, 3))
    figure.curve(plots.function_of("sqrt(x)"), series="f", label="f")
    curve = _curve_points(figure, _series(_svg(figure))["f"])
    assert curve[:, 0].min() >= -1e-6
    assert np.allclose(curve[:, 1], np.sqrt(curve[:, 0].clip(0)), atol=_tolerance(figure) * 3)


def test_it_marks_the_gradient_descent_iterates():
    figure = figure_for("gradient-descent-steps", None, solved=True)
    circles = list(_series(_svg(figure))["descent"].iter(f"{SVG}circle"))
    iterates = [
        (figure.data_x(float(c.get("cx"))), figure.data_y(float(c.get("cy")))) for c in circles
    ]
    assert iterates[:3] == [
        pytest.approx((2, 1), abs=1e-3),
        pytest.approx((1.6, 0.4), abs=1e-3),
        pytest.approx((1.28, 0.16), abs=1e-3),
    ]


def test_its_level_curves_lie_on_their_levels():
    figure = plots.Figure(title="t", desc="d", xlim=(-2, 2), ylim=(-2, 2))
    figure.contours(plots.function_of("x^2 + 3y^2", ("x", "y")), [1.0], series="c", label="c")
    (path,) = _series(_svg(figure))["c"].iter(f"{SVG}path")
    coords = [
        float(v)
        for v in path.get("d").replace("M", " ").replace("L", " ").replace(",", " ").split()
    ]
    xs = np.array([figure.data_x(v) for v in coords[0::2]])
    ys = np.array([figure.data_y(v) for v in coords[1::2]])
    assert len(xs) > 40
    # Linear interpolation on a 0.05 grid: the level is met to within a few per cent.
    assert np.allclose(xs**2 + 3 * ys**2, 1.0, atol=0.03)


def test_it_follows_the_newton_raphson_tangents_to_the_axis():
    figure = figure_for("newton-raphson-cubic", None, solved=True)
    lines = list(_series(_svg(figure))["tangents"].iter(f"{SVG}line"))
    x0, y0 = figure.data_x(float(lines[0].get("x1"))), figure.data_y(float(lines[0].get("y1")))
    x1, y1 = figure.data_x(float(lines[0].get("x2"))), figure.data_y(float(lines[0].get("y2")))
    assert (x0, y0) == (pytest.approx(2, abs=1e-3), pytest.approx(-1, abs=1e-3))
    assert (x1, y1) == (pytest.approx(2.1, abs=1e-3), pytest.approx(0, abs=1e-3))


def test_it_chooses_round_ticks():
    assert plots.nice_ticks(0, 9) == [0, 2, 4, 6, 8]
    assert plots.nice_ticks(-2.5, 2.5) == [-2, -1, 0, 1, 2]
    assert plots.nice_ticks(1.8, 2.4) == [1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4]


def test_it_escapes_text_in_titles():
    root = _svg(plots.Figure(title="a < b & c", desc="<script>", xlim=(0, 1), ylim=(0, 1)))
    assert root.find(f"{SVG}title").text == "a < b & c"
    assert root.find(f"{SVG}desc").text == "<script>"


@pytest.mark.django_db
def test_the_exercise_page_shows_the_plot_and_the_answer_only_once_solved(alice_client, alice):
    exercise = make_exercise(
        slug="straight-line-fit", plot=COURSE_EXERCISES["straight-line-fit"].plot.to_data()
    )
    page = alice_client.get(f"/exercises/{exercise.slug}/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="plot"' in page
    assert 'data-series="data"' in page
    assert 'data-series="fit"' not in page
    make_submission(alice, exercise, status="graded", score=1.0)
    page = alice_client.get(f"/exercises/{exercise.slug}/").content.decode()
    assert 'data-series="fit"' in page


@pytest.mark.django_db
def test_an_exercise_without_a_plot_has_none(alice_client):
    exercise = make_exercise()
    assert "<svg" not in alice_client.get(f"/exercises/{exercise.slug}/").content.decode()


def test_the_six_pictures_of_the_course_are_declared_in_its_files():
    assert PLOTTED == [
        "gradient-descent-steps",
        "linearise-square-root",
        "maclaurin-cos-2x",
        "newton-raphson-cubic",
        "steepest-descent-fit",
        "straight-line-fit",
    ]


@pytest.mark.parametrize("slug", PLOTTED)
def test_every_plot_draws_for_every_variant_of_its_exercise(slug):
    exercise = COURSE_EXERCISES[slug]
    for seed in range(5):
        values = exercise.values_for_seed(seed)
        assert plots.plot_svg(exercise.plot, values, False), (slug, values)
        assert plots.plot_svg(exercise.plot, values, True), (slug, values)


def test_it_fits_the_model_by_least_squares():
    figure = figure_for("steepest-descent-fit", {}, solved=True)
    labels = [label for label, _, _ in figure.legend]
    # The minimum of (2 - e^k)^2 + (5 - e^2k)^2.
    assert labels == ["k = 1", "k = 0.800", "data"]


def test_it_draws_the_path_of_newton_raphson_on_contours():
    spec = {
        "kind": "contour",
        "title": "t",
        "description": "d",
        "f": "x^2 + 3y^2",
        "x": [-3, 3],
        "y": [-2, 2],
        "start": [2, 1],
        "path": {"method": "newton_raphson", "steps": 2},
    }
    figure = plots.figure_for(spec, {}, reveal=True)
    circles = list(_series(_svg(figure))["descent"].iter(f"{SVG}circle"))
    second = (
        figure.data_x(float(circles[1].get("cx"))),
        figure.data_y(float(circles[1].get("cy"))),
    )
    # Newton's method finds the minimum of a quadratic in one step.
    assert second == (pytest.approx(0, abs=1e-3), pytest.approx(0, abs=1e-3))


def test_it_draws_the_students_own_variant():
    figure = figure_for("maclaurin-cos-2x", {"k": 3}, solved=True)
    root = _svg(figure)
    assert root.find(f"{SVG}title").text == "The graph of cos(3x)"
    series = _series(root)
    curve = _curve_points(figure, series["f"])
    assert np.allclose(curve[:, 1], _engine("cos(3x)")(curve[:, 0]), atol=_tolerance(figure) * 3)
    taylor = _curve_points(figure, series["taylor"])
    expected = _engine("1 - 9/2 x^2 + 81/24 x^4")
    assert np.allclose(taylor[:, 1], expected(taylor[:, 0]), atol=_tolerance(figure) * 3)


def test_it_moves_the_tangent_with_the_variant():
    figure = figure_for("linearise-square-root", {"m": 5, "h": 0.2}, solved=True)
    tangent = _curve_points(figure, _series(_svg(figure))["tangent"])
    assert np.allclose(tangent[:, 1], 5 + (tangent[:, 0] - 25) / 10, atol=_tolerance(figure) * 3)


def test_it_starts_gradient_descent_from_the_variants_point():
    figure = figure_for("gradient-descent-steps", {"c": 2, "p": 3, "q": 2}, solved=True)
    circles = list(_series(_svg(figure))["descent"].iter(f"{SVG}circle"))
    first, second = (
        (figure.data_x(float(c.get("cx"))), figure.data_y(float(c.get("cy")))) for c in circles[:2]
    )
    assert first == (pytest.approx(3, abs=1e-3), pytest.approx(2, abs=1e-3))
    # x1 = (3, 2) - 0.1 (6, 8)
    assert second == (pytest.approx(2.4, abs=1e-3), pytest.approx(1.2, abs=1e-3))


def test_it_draws_nothing_for_a_variant_it_cannot_read():
    # Numbers other than the student's would mislead: no picture rather than a wrong one.
    with pytest.raises(plots.PlotError):
        figure_for("maclaurin-cos-2x", {"a": 3}, solved=False)
    assert plot_svg("maclaurin-cos-2x", {"a": 3}) == ""
    assert plots.plot_svg({}, {}, False) == ""


@pytest.mark.django_db
def test_the_exercise_page_plots_the_students_variant(alice_client):
    exercise = make_exercise(
        slug="maclaurin-cos-2x",
        plot=COURSE_EXERCISES["maclaurin-cos-2x"].plot.to_data(),
        parameters={"k": {"int": [4, 4]}},
        prompt="Expand \\( \\cos({{k}}x) \\).",
    )
    page = alice_client.get(f"/exercises/{exercise.slug}/").content.decode()
    assert "The graph of cos(4x)</title>" in page
