import math

import numpy as np
import pytest
import sympy

from grading import evaluate
from grading.evaluate import (
    compile_float,
    compile_mp,
    exact_value,
    mp_compare,
    mp_value,
    to_sympy,
)
from grading.parser import parse, parse_functions


def mp_at(text: str, *point: float, variables=("x",), functions=()):
    table = parse_functions(list(functions))
    tree = parse(text, variables, tuple(table))
    return mp_value(compile_mp(tree, variables, table), point)


def float_at(text: str, *xs: float, functions=()):
    table = parse_functions(list(functions))
    tree = parse(text, ("x",), tuple(table))
    return compile_float(tree, ("x",), table)([np.array(xs, dtype=float)])


@pytest.mark.parametrize(
    "text, x",
    [
        ("x^(1/3)", -8.0),
        ("(-8)^(1/3)", 0.0),
        ("sqrt(x)", -1.0),
        ("log(x)", 0.0),
        ("log(x)", -2.0),
        ("log10(x)", -2.0),
        ("asin(x)", 1.5),
        ("acos(x)", -1.01),
        ("1/(x - x)", 3.0),
        ("x^0", 0.0),
        ("0^x", -1.0),
        ("csc(x)", 0.0),
        ("cot(x)", 0.0),
        ("x^x", -2.5),
    ],
)
def test_it_leaves_values_off_the_real_line_undefined(text, x):
    result = mp_at(text, x)
    assert result.resolved and result.value is None
    assert math.isnan(float_at(text, x)[0])


@pytest.mark.parametrize(
    "text, x, value",
    [
        ("x^3", -2.0, -8.0),
        ("x^(-2)", -2.0, 0.25),
        ("x^x", -2.0, 0.25),
        ("x^(0.1*10)", -2.0, -2.0),
        ("sqrt(x^2)", -3.0, 3.0),
        ("0^x", 2.0, 0.0),
        ("|x|", -1.5, 1.5),
        ("asin(x)", 1.0, math.pi / 2),
    ],
)
def test_it_evaluates_where_the_real_value_exists(text, x, value):
    result = mp_at(text, x)
    assert result.defined
    assert result.to_float() == pytest.approx(value, rel=1e-15)
    assert float_at(text, x)[0] == pytest.approx(value, rel=1e-12)


def test_it_evaluates_as_written_without_simplifying():
    assert mp_at("sqrt(x)^2", -4.0).value is None
    assert mp_at("sqrt(x)^2", 4.0).to_float() == pytest.approx(4.0)
    assert mp_at("x/x", 0.0).value is None
    assert mp_at("exp(log(x))", -1.0).value is None


def test_it_keeps_decimals_exact():
    assert exact_value(parse("0.1 + 0.2")) == exact_value(parse("0.3"))
    assert exact_value(parse("0.333")) != exact_value(parse("1/3"))
    assert exact_value(parse("pi")) is None


def test_it_sees_through_cancellation_that_floats_cannot():
    result = mp_at("(x^1000 + 1) - x^1000", 5.0)
    assert result.to_float() == 1.0
    assert float_at("(x^1000 + 1) - x^1000", 1.5)[0] != 1.0


def test_it_tells_a_difference_of_one_part_in_a_hundred_digits():
    e = mp_at("x/7", 2.5)
    close = mp_at("0.142857142857142857142857 x", 2.5)
    off = mp_at("0.1428571428571 x", 2.5)
    assert mp_compare(close, e) == "equal"
    assert mp_compare(off, e) == "different"


def test_it_reports_a_zero_computed_inexactly_as_indistinct():
    zero = mp_at("0", 0.7)
    inexact = mp_at("sin(x)^2 + cos(x)^2 - 1", 0.7)
    assert mp_compare(inexact, zero) == "indistinct"
    assert mp_compare(mp_at("1e-30", 0.7), zero) == "different"
    assert mp_compare(mp_at("1e-200 + sin(x)^2 + cos(x)^2 - 1", 0.7), zero) == "different"


def test_it_reports_uncertain_when_the_error_bound_is_wide():
    one = mp_at("1", 3.0)
    hopeless = mp_at("(x^10000 + 1) - x^10000", 3.0)
    assert mp_compare(hopeless, one) == "uncertain"


def test_it_treats_float_overflow_as_infinite_not_undefined():
    assert math.isinf(float_at("exp(x)", 1000.0)[0])
    assert mp_at("exp(x)", 1000.0).defined


def test_it_leaves_absurdly_large_arguments_unresolved():
    result = mp_at("exp(exp(exp(x)))", 10.0)
    assert not result.resolved


def test_it_substitutes_a_defined_function_by_its_body():
    functions = ["sigma(z) = 1/(1+e^(-z))"]
    assert mp_at("sigma(x)", 0.0, functions=functions).to_float() == 0.5
    assert float_at("sigma(x)", 0.0, functions=functions)[0] == 0.5


def test_it_evaluates_a_defined_function_as_written():
    functions = ["h(t) = sqrt(t)^2"]
    assert mp_at("h(x)", -1.0, functions=functions).value is None


def test_it_gives_different_abstract_functions_different_stand_ins():
    table = parse_functions(["f", "g"])
    for variant in range(4):
        fx = compile_mp(parse("f(x)", ("x",), ("f", "g")), ("x",), table, variant)
        gx = compile_mp(parse("g(x)", ("x",), ("f", "g")), ("x",), table, variant)
        assert mp_compare(mp_value(fx, (0.3,)), mp_value(gx, (0.3,))) == "different"


def test_to_sympy_keeps_the_expression_as_written():
    x = sympy.Symbol("x", real=True)
    converted = to_sympy(parse("sqrt(x)^2", ("x",)))
    assert converted != x
    assert sympy.simplify(to_sympy(parse("2 x cos(x^2)", ("x",))) - 2 * x * sympy.cos(x**2)) == 0


def test_to_sympy_substitutes_defined_functions_and_keeps_abstract_ones():
    table = parse_functions(["sigma(z) = 1/(1+e^(-z))", "f"])
    tree = parse("sigma(x) + f(x)", ("x",), tuple(table))
    converted = to_sympy(tree, table)
    assert converted.has(sympy.Function("f"))
    assert converted.has(sympy.exp)


def test_it_knows_a_subtree_minus_itself_is_zero_where_defined():
    assert mp_at("sqrt(1/(1+x^2) - 1/(1+x^2))", 0.3).to_float() == 0.0
    assert mp_at("log(x) - log(x)", -1.0).value is None


def test_it_takes_a_value_indistinguishable_from_zero_as_zero_in_a_domain_question():
    # 0.5 - 1/(1+1^2) folds to an exact 0, the rest cancels only within rounding.
    result = mp_at("sqrt((0.5 - 1.25/(1+x^2)) - (1/(1+1^2) - 1.25/(1+x^2)))", 0.3)
    assert result.defined and result.to_float() == 0.0
    assert mp_at("log((0.5 - 1.25/(1+x^2)) - (1/(1+1^2) - 1.25/(1+x^2)))", 0.3).value is None


def test_it_stays_cheap_on_huge_exact_constants_and_arguments():
    # Folding stops at a size bound; mpmath is not asked for tanh of 2^100.
    product = "*".join(["(101/100)^2999"] * 40)
    assert exact_value(parse(product)) is None
    assert mp_at(product, 0.0).defined
    assert mp_at("tanh(2^100 x)", 1.0).to_float() == 1.0


def test_it_evaluates_a_repeated_subtree_once_per_point_and_precision(monkeypatch):
    calls = []
    sin = evaluate._MP_FUNCS["sin"]
    monkeypatch.setitem(evaluate._MP_FUNCS, "sin", lambda a: calls.append(a) or sin(a))
    tree = parse("sin(x)^2 + sin(x)^2 + sin(x)^2 + sin(2x)", ("x",))
    fn = compile_mp(tree, ("x",))
    first = mp_value(fn, (0.3,))
    assert len(calls) == 2  # sin(x) and sin(2x), each once
    assert abs(first.to_float() - (3 * math.sin(0.3) ** 2 + math.sin(0.6))) < 1e-15
    # Another point is another evaluation, not the last one's values again.
    second = mp_value(fn, (1.1,))
    assert len(calls) == 4
    assert abs(second.to_float() - (3 * math.sin(1.1) ** 2 + math.sin(2.2))) < 1e-15
