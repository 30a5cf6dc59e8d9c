"""The checkers' verdicts and the feedback students see, kind by kind."""

import numpy as np
import pytest

from grading.checkers import read_setting
from grading.checkers.expressions import _describe_region
from grading.engine import check


def make_case(**kwargs) -> dict:
    case = {"kind": "expression", "expected": "x^2", "answer": "x^2", "variables": ["x"]}
    case.update(kwargs)
    return case


def judge(**kwargs):
    return check(make_case(**kwargs), in_process=True)


# --- expressions ---------------------------------------------------------------------


def test_it_accepts_an_equivalent_form():
    verdict = judge(expected="2*x*cos(x^2)", answer="2x cos(x^2)")
    assert verdict.status == "correct"
    assert verdict.message


def test_it_says_when_the_sign_is_flipped():
    verdict = judge(expected="-sin(x)", answer="sin(x)")
    assert verdict.status == "incorrect"
    assert "sign" in verdict.message


def test_it_says_off_by_a_constant_factor_without_giving_the_factor():
    verdict = judge(expected="3x^2", answer="x^2")
    assert verdict.status == "incorrect"
    assert "constant factor" in verdict.message
    assert "3" not in verdict.message


def test_it_says_when_an_answer_differs_by_a_constant():
    verdict = judge(expected="x^3/3", answer="x^3/3 + 2")
    assert verdict.status == "incorrect"
    assert "by a constant" in verdict.message


def test_it_says_where_an_answer_is_undefined():
    verdict = judge(expected="log(x^2)", answer="2 log(x)")
    assert verdict.status == "incorrect"
    assert "undefined for x < 0" in verdict.message


def test_it_says_on_which_part_of_the_domain_an_answer_is_wrong():
    verdict = judge(expected="abs(x)", answer="x")
    assert verdict.status == "incorrect"
    assert "differs for x < 0" in verdict.message


def test_it_names_a_point_where_a_piecewise_difference_has_no_simple_threshold():
    verdict = judge(expected="x^1000", answer="x^1000 + 1")
    assert verdict.status == "incorrect"
    assert "x = " in verdict.message


@pytest.mark.parametrize(
    "expected, answer, status",
    [
        ("x", "sqrt(x^2)", "incorrect"),
        ("log(x^2)", "2 log(x)", "incorrect"),
        ("pi/2", "atan(x) + atan(1/x)", "incorrect"),
        ("x + 1", "(x^2-1)/(x-1)", "correct"),
        ("x/3", "0.333x", "incorrect"),
        ("x/2", "0.5x", "correct"),
        ("x^1000", "x^1000 + 1", "incorrect"),
        ("1", "(x^1000 + 1) - x^1000", "correct"),
    ],
)
def test_it_applies_the_specifications_examples(expected, answer, status):
    assert judge(expected=expected, answer=answer).status == status


def test_it_respects_the_declared_domain():
    assert judge(expected="x", answer="sqrt(x)^2", domain={"x": [0, 10]}).status == "correct"
    assert judge(expected="x", answer="sqrt(x)^2").status == "incorrect"


def test_it_accepts_a_removable_singularity_in_two_variables():
    verdict = judge(expected="y", answer="x*y/x", variables=["x", "y"])
    assert verdict.status == "correct"


def test_it_calls_an_expected_answer_real_nowhere_an_error_for_the_author():
    verdict = judge(expected="sqrt(-1-x^2)", answer="x")
    assert verdict.status == "error"
    assert "expected" in verdict.message


def test_it_calls_an_unreadable_expected_answer_an_error():
    verdict = judge(expected="2x+", answer="x")
    assert verdict.status == "error"
    assert "expected answer cannot be read" in verdict.message


def test_it_reports_the_parsers_message_and_column_for_an_unreadable_answer():
    verdict = judge(answer="x^2 + x1y", variables=["x", "x1", "y"])
    assert verdict.status == "invalid"
    assert "x1*y" in verdict.message
    assert verdict.details["column"] == 7


def test_it_refuses_a_list_where_an_expression_is_expected():
    verdict = judge(answer="[x, 1]")
    assert verdict.status == "invalid"


def test_it_uses_an_authors_message_for_an_expected_mistake():
    mistakes = [
        {"answer": "cos(x^2)", "message": "Did you forget the chain rule?"},
        {"answer": "2x sin(x^2)", "message": "The derivative of sin is cos."},
    ]
    verdict = judge(expected="2x cos(x^2)", answer="cos(x**2)", mistakes=mistakes)
    assert verdict.status == "incorrect"
    assert verdict.message == "Did you forget the chain rule?"
    assert judge(expected="2x cos(x^2)", answer="2x cos(x^2)", mistakes=mistakes).status == (
        "correct"
    )


def test_it_names_which_mistake_matched_by_its_place_in_the_list():
    mistakes = [
        {"answer": "cos(x^2)", "message": "Did you forget the chain rule?"},
        {"answer": "2x sin(x^2)", "message": "The derivative of sin is cos."},
    ]
    verdict = judge(expected="2x cos(x^2)", answer="2 x sin(x^2)", mistakes=mistakes)
    assert verdict.message == "The derivative of sin is cos."
    assert verdict.details["mistake"] is True
    assert verdict.details["mistake_index"] == 1
    unknown = judge(expected="2x cos(x^2)", answer="x", mistakes=mistakes)
    assert "mistake_index" not in unknown.details


def test_it_reads_and_compiles_a_wrong_answer_once_for_all_the_known_mistakes(monkeypatch):
    from grading.checkers import expressions, setting
    from grading.parser import parse

    for cached in (
        setting._parse_answer_cached,
        expressions._answer_mp_cached,
        expressions._answer_float_cached,
    ):
        cached.cache_clear()
    answer = "3x sin(x^2) + 1"
    tree = parse(answer, ("x",), ())
    read, compiled = [], []
    real_parse, real_mp, real_float = (
        setting.parse,
        expressions.compile_mp,
        expressions.compile_float,
    )
    monkeypatch.setattr(
        setting, "parse", lambda text, *a: read.append(text) or real_parse(text, *a)
    )
    monkeypatch.setattr(
        expressions, "compile_mp", lambda t, *a: compiled.append(("mp", t)) or real_mp(t, *a)
    )
    monkeypatch.setattr(
        expressions,
        "compile_float",
        lambda t, *a: compiled.append(("float", t)) or real_float(t, *a),
    )
    mistakes = [
        {"answer": "cos(x^2)", "message": "Chain rule!"},
        {"answer": "2x sin(x^2)", "message": "The derivative of sin is cos."},
        {"answer": "1 + 3*x*sin(x**2)", "message": "Found."},
    ]

    verdict = judge(expected="2x cos(x^2)", answer=answer, mistakes=mistakes)

    assert (verdict.message, verdict.details["mistake_index"]) == ("Found.", 2)
    # Compared four times (the expected answer, then each mistake): read once,
    # compiled once each way.
    assert read.count(answer) == 1
    assert [kind for kind, t in compiled if t == tree] == ["mp", "float"]
    # The same verdicts without the kept answers.
    for cached in (
        setting._parse_answer_cached,
        expressions._answer_mp_cached,
        expressions._answer_float_cached,
    ):
        cached.cache_clear()
    monkeypatch.setattr(expressions, "_answer_mp_cached", expressions._answer_mp_cached.__wrapped__)
    monkeypatch.setattr(
        expressions, "_answer_float_cached", expressions._answer_float_cached.__wrapped__
    )
    again = judge(expected="2x cos(x^2)", answer=answer, mistakes=mistakes)
    assert (again.status, again.message, again.details) == (
        verdict.status,
        verdict.message,
        verdict.details,
    )


def test_it_matches_mistakes_by_equivalence_not_by_text():
    mistakes = [{"answer": "cos(x^2)", "message": "Chain rule!"}]
    verdict = judge(expected="2x cos(x^2)", answer="cos(x x) + 0", mistakes=mistakes)
    assert verdict.message == "Chain rule!"


def test_it_requires_equality_for_every_abstract_function():
    assert judge(expected="f(x)^2", answer="f(x) f(x)", functions=["f"]).status == "correct"
    assert judge(expected="f(2x)", answer="2 f(x)", functions=["f"]).status == "incorrect"
    verdict = judge(expected="f(g(x))", answer="g(f(x))", functions=["f", "g"])
    assert verdict.status == "incorrect"


# --- numbers ---------------------------------------------------------------------------


def number(expected, answer, **kwargs):
    case = {"kind": "numeric", "expected": expected, "answer": answer}
    case.update(kwargs)
    return check(case, in_process=True)


def test_it_compares_numbers_exactly_at_the_tolerance_boundary():
    assert number("1", "0.999", rtol=1e-3, atol=0).status == "correct"
    assert number("1", "0.9989999999999999999999", rtol=1e-3, atol=0).status == "incorrect"
    assert number("pi", "pi*1.001", rtol=1e-3, atol=0).status == "correct"


def test_it_uses_the_default_tolerances():
    assert number("pi/4", "0.7854").status == "correct"
    assert number("0", "1e-13").status == "correct"
    assert number("0", "1e-11").status == "incorrect"


def test_it_says_close_but_not_accurate_enough():
    verdict = number("pi", "3.14", rtol=1e-4)
    assert verdict.status == "incorrect"
    assert "more digits" in verdict.message


def test_it_refuses_a_number_with_a_variable_or_off_the_real_line():
    assert number("1", "x", variables=["x"]).status == "invalid"
    assert "variable x" in number("1", "x", variables=["x"]).message
    assert number("1", "sqrt(-1)").status == "invalid"
    assert number("1", "1/0").status == "invalid"


def test_it_calls_an_undefined_expected_number_an_error():
    assert number("log(-1)", "1").status == "error"


# --- vectors and matrices ------------------------------------------------------------------


def vector(expected, answer, **kwargs):
    case = {"kind": "vector", "expected": expected, "answer": answer, "variables": ["x", "y"]}
    case.update(kwargs)
    return check(case, in_process=True)


def matrix(expected, answer, **kwargs):
    case = {"kind": "matrix", "expected": expected, "answer": answer, "variables": ["r", "t"]}
    case.update(kwargs)
    return check(case, in_process=True)


def test_it_accepts_a_row_or_a_column_for_a_vector():
    assert vector("[2x y, x^2]", "[[2x y], [x^2]]").status == "correct"
    assert vector("[2x y, x^2]", "(2x y, x^2)").status == "correct"


def test_it_names_the_wrong_components():
    verdict = vector("[1, 2, 3]", "[1, 5, 6]")
    assert verdict.status == "incorrect"
    assert "Components 2 and 3" in verdict.message
    assert verdict.details["wrong"] == [2, 3]


def test_it_says_when_a_vector_has_the_wrong_length():
    verdict = vector("[1, 2, 3]", "[1, 2]")
    assert verdict.status == "incorrect"
    assert "2 components" in verdict.message and "should have 3" in verdict.message


def test_it_refuses_a_scalar_or_a_matrix_as_a_vector():
    assert vector("[1, 2]", "x").status == "invalid"
    assert vector("[1, 2]", "[[1, 2], [3, 4]]").status == "invalid"


def test_it_applies_the_numeric_rule_to_vectors_with_a_tolerance():
    assert vector("[1.28, 0.16]", "[1.28, 0.1601]", rtol=1e-3).status == "correct"
    assert vector("[1.28, 0.16]", "[1.28, 0.1601]").status == "incorrect"


def test_it_names_a_transposed_matrix():
    verdict = matrix(
        "[[cos(t), -r sin(t)], [sin(t), r cos(t)]]", "[[cos(t), sin(t)], [-r sin(t), r cos(t)]]"
    )
    assert verdict.status == "incorrect"
    assert "transpose" in verdict.message
    verdict = matrix("[[1, 2, 3], [4, 5, 6]]", "[[1, 4], [2, 5], [3, 6]]")
    assert "transpose" in verdict.message


def test_it_names_the_wrong_entries_of_a_matrix():
    verdict = matrix("[[1, 2], [3, 4]]", "[[1, 2], [3, 5]]")
    assert verdict.status == "incorrect"
    assert "(2, 2)" in verdict.message
    assert verdict.details["wrong"] == [[2, 2]]


def test_it_says_when_a_matrix_has_the_wrong_shape():
    verdict = matrix("[[1, 2], [3, 4]]", "[[1, 2, 0], [3, 4, 0]]")
    assert verdict.status == "incorrect"
    assert "2×3" in verdict.message and "2×2" in verdict.message


def test_it_refuses_a_ragged_matrix():
    assert matrix("[[1, 2], [3, 4]]", "[[1, 2], [3]]").status == "invalid"


# --- points and choices ---------------------------------------------------------------


def points(expected, answer, **kwargs):
    case = {"kind": "points", "expected": expected, "answer": answer}
    case.update(kwargs)
    return check(case, in_process=True)


def test_it_compares_points_as_sets():
    assert points("[(1, 1), (-1, -1)]", "{(-1, -1), (1, 1), (1, 1)}").status == "correct"
    assert points("[]", "{}").status == "correct"


def test_it_counts_missing_and_extra_points():
    verdict = points("[(1, 1), (-1, -1)]", "[(1, 1), (0, 0), (2, 2)]")
    assert verdict.status == "incorrect"
    assert verdict.details == {"missing": 1, "extra": 2}
    assert "1 point is missing" in verdict.message


def test_it_refuses_a_point_of_the_wrong_dimension():
    verdict = points("[(1, 1)]", "[(1, 1, 1)]")
    assert verdict.status == "invalid"
    assert "3 coordinates" in verdict.message


def test_it_compares_point_coordinates_with_the_numeric_rule():
    assert points("[(sqrt(2), 0)]", "[(1.4142, 0)]").status == "correct"
    assert points("[(sqrt(2), 0)]", "[(1.41, 0)]").status == "incorrect"


def test_it_compares_choices_as_sets():
    case = {"kind": "choice", "expected": "a, c", "options": ["a", "b", "c"]}
    assert check({**case, "answer": "c, a"}, in_process=True).status == "correct"
    assert check({**case, "answer": "a"}, in_process=True).status == "incorrect"
    assert check({**case, "answer": "z"}, in_process=True).status == "invalid"


def test_it_finds_an_answer_wrong_only_on_a_thin_slab():
    bump = "(0.0005 - abs(x-3.0015)) + abs(0.0005 - abs(x-3.0015))"
    verdict = judge(expected="x", answer=f"x + {bump}")
    assert verdict.status == "incorrect"
    assert "3.0015" in verdict.message


def test_it_says_when_an_answer_is_real_nowhere():
    verdict = judge(expected="x", answer="log(-x^2 - 1)")
    assert verdict.status == "incorrect"
    assert "not a real number anywhere" in verdict.message


@pytest.mark.parametrize(
    "expected, answer, reason",
    [
        ("-sin(x)", "sin(x)", "sign"),
        ("3x^2", "x^2", "factor"),
        ("x^3/3", "x^3/3 + 2", "constant"),
        ("abs(x)", "x", "partial"),
        ("log(x^2)", "2 log(x)", "undefined"),
        ("x^2", "x^3", "different"),
    ],
)
def test_it_names_the_kind_of_mistake_in_the_details(expected, answer, reason):
    verdict = judge(expected=expected, answer=answer)
    assert verdict.status == "incorrect"
    assert verdict.details["reason"] == reason


def test_it_does_not_call_a_tiny_difference_a_constant_factor():
    from grading import check

    verdict = check(
        {"kind": "expression", "expected": "x^2", "answer": "x^2 + 1e-25 x", "variables": ["x"]},
        in_process=True,
    )
    assert verdict.status == "incorrect"
    assert "factor" not in verdict.message
    assert "constant" not in verdict.message


def test_it_sees_a_difference_on_a_narrow_interval():
    from grading import check

    # Differs from x only where |x - 1.2346| < 0.07: between points of a coarse sample.
    case = {
        "kind": "expression",
        "expected": "x",
        "answer": "x + exp(-1e4*(x-1.234567)^2)",
        "variables": ["x"],
    }
    assert check(case, in_process=True).status == "incorrect"


def test_it_spreads_the_uniform_points_without_wide_gaps():
    import numpy as np

    from grading.checkers import sample_points

    points = np.sort(sample_points(((-10.0, 10.0),), 1000)[0])
    # One point in each of 1,000 slices of width 0.02: no gap wider than two slices.
    assert np.max(np.diff(points)) <= 0.04


def test_it_looks_closer_where_floats_barely_differ():
    from grading import check

    # The bump is above 1e-20 relative on a disc where floats see at most a few points,
    # all within float tolerance: only a high-precision look at them tells.
    case = {
        "kind": "expression",
        "expected": "x*y",
        "answer": "x*y + exp(-100*((x-1)^2+(y-2)^2))",
        "variables": ["x", "y"],
    }
    assert check(case, in_process=True).status == "incorrect"


# --- messages for slips a student can fix ----------------------------------------------


def test_it_says_a_small_constant_offset_is_a_constant_not_a_partly_right_answer():
    verdict = judge(expected="(x-1)^2", answer="x^2 - 2x + 1.0000001")
    assert verdict.status == "incorrect"
    assert "by a constant" in verdict.message


def test_it_never_calls_a_tiny_difference_everywhere_right_on_part_of_the_domain():
    verdict = judge(expected="x^2", answer="x^2 + 1e-9")
    assert verdict.status == "incorrect"
    assert "part of the domain" not in verdict.message
    assert "some points" not in verdict.message


@pytest.mark.parametrize(
    ("expected", "answer", "rtol", "more_digits"),
    [
        ("pi", "3.14", "1e-4", True),
        ("pi", "-3.14", "1e-4", False),
        ("pi", "3.1416", "1e-6", True),
        ("0.0237", "2.4e-2", "1e-3", True),
        ("pi", "355/113", "5e-8", False),
        ("7.55", "7.63", "0.01", False),
        ("1.6", "1.60161", "1e-3", False),
    ],
)
def test_it_asks_for_more_digits_only_when_the_answer_is_the_expected_number_rounded(
    expected, answer, rtol, more_digits
):
    verdict = judge(
        kind="numeric", expected=expected, answer=answer, rtol=rtol, atol=0, variables=[]
    )
    assert verdict.status == "incorrect"
    assert ("more digits" in verdict.message) is more_digits


def test_it_tells_a_decimal_comma_from_a_list():
    verdict = judge(kind="numeric", expected="2.1", answer="2,10", variables=[])
    assert verdict.status == "invalid"
    assert verdict.message == "Write a decimal with a point, not a comma: 2.10, not 2,10."
    assert verdict.details["column"] == 2


def test_it_asks_for_brackets_around_a_single_point():
    verdict = judge(kind="points", expected="[(2, 1)]", answer="(2, 1)", variables=[])
    assert verdict.status == "invalid"
    assert "square brackets" in verdict.message


def test_it_shows_how_to_write_no_points():
    verdict = judge(kind="points", expected="[]", answer="none", variables=[])
    assert verdict.status == "invalid"
    assert "[]" in verdict.message


@pytest.mark.parametrize("answer", ["a c", "a; c", "[a, c]", "{a, c}"])
def test_it_shows_how_to_list_options(answer):
    verdict = judge(kind="choice", expected="a, c", answer=answer, options=["a", "b", "c"])
    assert verdict.status == "invalid"
    assert "a, c" in verdict.message


def test_it_leaves_a_line_of_undefined_points_alone_where_the_domain_is_a_quadrant():
    # Undefined on x = y only (measure zero), also where the sample points near the
    # denominator's zeros are clipped into the corner (10, 10) of the box.
    verdict = judge(
        expected="sqrt(x) + sqrt(y)", answer="(x - y)/(sqrt(x) - sqrt(y))", variables=["x", "y"]
    )
    assert verdict.status == "correct"


def test_it_names_no_region_at_the_edge_of_the_box():
    setting = read_setting({"variables": ["x"]})
    x = np.array([-5.0, 0.5, 9.9999999, 10.0, 10.0])
    at_the_edge = np.array([False, False, False, True, True])
    assert _describe_region(setting, (x,), at_the_edge, ~at_the_edge) is None
    inside = x < 0
    assert _describe_region(setting, (x,), inside, ~inside) == "x < 0"


@pytest.mark.parametrize(
    ("expected", "answer", "domain", "wrong_word"),
    [
        # Floats round (1 - cos(x))/x^2 to 0 near 0: the difference is not a constant.
        ("(1 - cos(x))/x^2", "1/2", [-1e-9, 1e-9], "constant"),
        # exp(-1000) underflows to 0 = -0 in floats: not a sign slip.
        ("0", "exp(-1000)", [-10, 10], "sign"),
        # Wrong everywhere by less than float noise: not right on part of the domain.
        ("sin(x)", "sin(x + 2*3.14159265358979)", [-10, 10], "some points"),
    ],
)
def test_it_names_a_pattern_only_when_the_exact_values_show_it(
    expected, answer, domain, wrong_word
):
    verdict = judge(expected=expected, answer=answer, domain={"x": domain})
    assert verdict.status == "incorrect"
    assert wrong_word not in verdict.message


def test_it_shows_a_plain_example_point_rather_than_one_beside_a_boundary():
    verdict = judge(expected="2 atan(x)", answer="atan(2x/(1 - x^2))")
    assert verdict.status == "incorrect"
    assert "x = -1)" not in verdict.message and "x = 1)" not in verdict.message


@pytest.mark.parametrize(
    ("expected", "answer", "functions"),
    [
        # Equal means to a relative 1e-20: beside a zero of the expected answer a tiny
        # constant is a large relative difference, on a set of positive measure.
        ("x", "x + 1e-30", []),
        ("x - 1", "x - 1 + 1e-25", []),
        ("sin(x)", "sin(x) + 1e-25*x", []),
        ("sin(1000x)", "sin(1000x) + 1e-25*sin(x)", []),
        ("f(x)", "f(x) + 1e-30", ["f"]),
    ],
)
def test_it_sees_a_tiny_difference_beside_the_zeros_of_the_expected_answer(
    expected, answer, functions
):
    assert judge(expected=expected, answer=answer, functions=functions).status == "incorrect"


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("sin(x)", "2 sin(x/2) cos(x/2)"),
        ("x - 1", "(x^2 - 1)/(x + 1)"),
        ("sin(1000x)", "2 sin(500x) cos(500x)"),
        ("x^2 - 2", "(x - sqrt(2))(x + sqrt(2))"),
        ("x^3 - 2x - 5", "x(x^2 - 2) - 5"),
    ],
)
def test_it_still_accepts_equal_forms_beside_those_zeros(expected, answer):
    assert judge(expected=expected, answer=answer).status == "correct"


def test_it_accepts_the_expected_answer_typed_another_way_at_once():
    assert judge(expected="2*x*cos(x^2)", answer="2x cos(x^2)").status == "correct"
    assert judge(expected="log(x)", answer="ln(x)", domain={"x": [-10, 0.5]}).status == "correct"


def test_it_still_blames_the_author_for_an_expected_answer_defined_nowhere_typed_back():
    assert judge(expected="sqrt(-1 - x^2)", answer="sqrt(-1 - x^2)").status == "error"
    assert judge(expected="log(-x)", answer="ln(-x)", domain={"x": [1, 2]}).status == "error"


def test_it_reminds_of_the_commas_when_a_vector_reads_as_one_component():
    verdict = judge(kind="vector", expected="[14, -3]", answer="[14 -3]", variables=[])
    assert verdict.status == "incorrect"
    assert verdict.message == (
        "Your vector has 1 component; it should have 2. Separate the components with commas."
    )


@pytest.mark.parametrize(
    ("expected", "answer", "places"),
    [("[2x, 3y]", "[3y, 2x]", "1 and 2"), ("[1, 2, 3]", "[1, 3, 2]", "2 and 3")],
)
def test_it_says_when_right_components_are_in_the_wrong_places(expected, answer, places):
    verdict = judge(kind="vector", expected=expected, answer=answer, variables=["x", "y"])
    assert verdict.status == "incorrect"
    assert verdict.message.startswith(f"Components {places} are right but in the wrong places")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "[(x, 0), (-1, 0)]",
            "Point 1: a coordinate must be a number; it contains the variable x.",
        ),
        ("[(1, 0), (sqrt(-1), 0)]", "Point 2: a coordinate is not a real number"),
    ],
)
def test_it_says_which_point_holds_what_is_not_a_number(answer, message):
    verdict = judge(kind="points", expected="[(1, 0), (-1, 0)]", answer=answer, variables=["x"])
    assert verdict.status == "invalid"
    assert verdict.message.startswith(message)


@pytest.mark.parametrize(
    ("kind", "expected", "answer", "hint"),
    [
        ("vector", "[1/3, -2/3]", "[0.3333, -0.6667]", True),
        ("expression", "(x - 1)^3/3", "0.333(x - 1)^3", True),
        ("expression", "x/2", "0.5x + 1", False),
        ("expression", "0.3333x", "0.3334x", False),
    ],
)
def test_it_says_decimals_count_exactly_when_the_answer_rounded_some(kind, expected, answer, hint):
    verdict = judge(kind=kind, expected=expected, answer=answer)
    assert verdict.status == "incorrect"
    assert ("Decimals count exactly" in verdict.message) is hint


@pytest.mark.parametrize("answer", ["x^100000.5", "x^(200001/2)"])
def test_it_limits_whole_powers_only(answer):
    assert judge(expected="x", answer=answer).status == "incorrect"
    assert judge(expected="x", answer="x^10001").status == "invalid"
