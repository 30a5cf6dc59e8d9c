"""Expected answers rendered as text in the student answer syntax."""

import random
import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from grading.evaluate import to_sympy
from grading.parser import ParseError, parse
from grading.reference.text import AnswerTextError, expression_text, to_answer_text

x, y, e, theta = sp.symbols("x y e theta")
SYMBOLS = {"x": x, "y": y, "theta": theta}

_FUNCTIONS = "sin cos tan sec csc cot asin acos atan sinh cosh tanh exp log sqrt abs".split()
_TOKEN = re.compile(r"\s+|\d+\.?\d*(?:e[+-]?\d+)?|\.\d+|[A-Za-z][A-Za-z0-9_]*|\^|[-+*/(),\[\]]")


def _assert_answer_syntax(text: str, variables=("x", "y", "theta"), functions=()) -> None:
    """Only numbers, declared names, listed functions, e, pi and the listed operators."""
    assert "**" not in text
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match, f"unexpected character {text[position]!r} in {text!r}"
        token = match.group()
        if token[0].isalpha():
            assert token in {*variables, *functions, *_FUNCTIONS, "pi", "e"}, (token, text)
        position = match.end()


def _round_trip(text: str, variables=("x", "y", "theta")) -> sp.Expr:
    symbols = {name: SYMBOLS.get(name, sp.Symbol(name)) for name in variables}
    return to_sympy(parse(text, variables), symbols=dict(symbols))


def _compare_values(a: sp.Expr, b: sp.Expr, rel: float = 1e-12) -> int:
    """How many sample points had a real, finite `a`; asserts `b` equals it at each."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(12):
        point = {s: sp.Float(rng.uniform(-3, 3)) for s in (x, y, theta)}
        va = complex(sp.N(a.subs(point), 30))
        if not np.isfinite(va) or abs(va.imag) > 1e-12:
            continue
        vb = complex(sp.N(b.subs(point), 30))
        assert abs(va - vb) <= rel * max(1.0, abs(va)), (a, b, point)
        checked += 1
    return checked


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (x**5 - 12 * x**3, "x^5 - 12*x^3"),
        (sp.Rational(3, 4), "3/4"),
        (sp.Rational(-3, 4) * x, "-3*x/4"),
        (x**-2, "x^(-2)"),
        (x ** sp.Rational(1, 3), "x^(1/3)"),
        (sp.sqrt(x), "sqrt(x)"),
        (1 / sp.sqrt(x + 1), "1/sqrt(x + 1)"),
        (sp.exp(2 * x), "exp(2*x)"),
        (sp.E, "e"),
        (sp.pi / 4, "pi/4"),
        (sp.Abs(x), "abs(x)"),
        (sp.log(x), "log(x)"),
        (-(x**2), "-x^2"),
        ((-1) ** x, "(-1)^x"),
        (sp.Rational(1, 2) ** x, "(1/2)^x"),
        (sp.Pow(sp.Pow(x, y, evaluate=False), y, evaluate=False), "(x^y)^y"),
        (2 * x * sp.cos(x**2), "2*x*cos(x^2)"),
        (sp.Pow(sp.Pow(x, -1, evaluate=False), -1, evaluate=False), "1/(1/x)"),
        (sp.Function("sigma")(x) * (1 - sp.Function("sigma")(x)), "(1 - sigma(x))*sigma(x)"),
    ],
)
def test_it_writes_expressions_in_the_answer_syntax(value, text):
    assert to_answer_text(value) == text
    _assert_answer_syntax(text, functions=("sigma",))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2, "2"),
        (Fraction(3, 4), "3/4"),
        (0.1 + 0.2, "0.30000000000000004"),
        (2.0945514815423265, "2.0945514815423265"),
        (1e-05, "1e-05"),
        (np.float64(1.4), "1.4"),
        (np.int64(-7), "-7"),
        (sp.Float(0.5), "0.5"),
    ],
)
def test_it_writes_numbers_exactly_or_with_every_digit(value, text):
    assert to_answer_text(value) == text


def test_it_reads_back_every_float_digit_for_digit():
    rng = np.random.default_rng(1)
    for value in rng.normal(0, 1e3, 50).tolist() + [1e-300, 6.02e23, -2.5e-7]:
        tree = parse(to_answer_text(value))
        assert float(to_sympy(tree)) == value


def test_it_keeps_the_digits_of_a_high_precision_float():
    value = sp.Float("1.2345678901234567890123456789", 30)
    text = to_answer_text(value)
    assert text.startswith("1.23456789012345678901234567")
    assert abs(sp.Rational(text) - value) < sp.Float("1e-28")


def test_it_writes_euler_as_exp_1_when_e_is_a_variable():
    assert to_answer_text(sp.E * e) == "exp(1)*e"
    assert to_answer_text([sp.E, e]) == "[exp(1), e]"


def test_it_writes_vectors_matrices_and_points():
    assert to_answer_text(sp.Matrix([[2 * x, 6 * y]])) == "[2*x, 6*y]"
    assert to_answer_text(sp.Matrix([1, 2])) == "[1, 2]"
    assert to_answer_text(np.array([1.6, 0.4])) == "[1.6, 0.4]"
    assert to_answer_text([sp.Rational(1, 2), x]) == "[1/2, x]"
    assert to_answer_text(sp.Matrix([[1, 2], [3, 4]])) == "[[1, 2], [3, 4]]"
    assert to_answer_text(np.array([[0.5, 1.0]]), kind="matrix") == "[[0.5, 1.0]]"
    assert to_answer_text([[1, 0], [0, x]]) == "[[1, 0], [0, x]]"
    assert to_answer_text([(1, 1), (-1, -1)]) == "[(1, 1), (-1, -1)]"
    assert to_answer_text({(1, 2), (-1, 0)}) == "[(-1, 0), (1, 2)]"
    assert to_answer_text([]) == "[]"
    assert to_answer_text(sp.Matrix([[sp.pi]])) == "pi"


def test_it_refuses_a_matrix_where_a_vector_is_asked_for():
    with pytest.raises(AnswerTextError):
        to_answer_text(sp.Matrix([[1, 2], [3, 4]]), kind="vector")


@pytest.mark.parametrize(
    "value",
    [
        sp.I * x,
        sp.oo,
        -sp.oo,
        sp.zoo,
        sp.nan,
        float("inf"),
        float("nan"),
        complex(1, 2),
        sp.atan2(x, y),
        sp.sign(x),
        sp.asinh(x),
        sp.Integral(x, x),
        sp.Derivative(sp.Function("f")(x), x),
        sp.Piecewise((x, x > 0), (0, True)),
        sp.Eq(x, 1),
        sp.Function("g")(x, y),
        sp.Symbol("x'"),
        sp.Symbol("sin"),
        True,
        "x + 1",
    ],
)
def test_it_refuses_what_the_answer_syntax_cannot_write(value):
    with pytest.raises(AnswerTextError):
        to_answer_text(value)


def test_it_refuses_a_scalar_written_as_a_matrix():
    with pytest.raises(AnswerTextError):
        to_answer_text(x, kind="matrix")


def _random_expression(rng: random.Random, depth: int) -> sp.Expr:
    leaves = [
        x,
        y,
        theta,
        sp.Integer(rng.randint(-9, 9)),
        sp.Rational(rng.randint(-9, 9), rng.randint(1, 9)),
        sp.pi,
        sp.E,
        sp.Float(rng.uniform(-5, 5)),
    ]
    if depth == 0:
        return rng.choice(leaves)
    a = _random_expression(rng, depth - 1)
    b = _random_expression(rng, depth - 1)
    choice = rng.randrange(9)
    if choice == 0:
        return a + b
    if choice == 1:
        return a - b
    if choice == 2:
        return a * b
    if choice == 3:
        return a / b
    if choice == 4:
        return a ** rng.choice([2, 3, -1, -2, sp.Rational(1, 2), sp.Rational(-1, 3), y])
    if choice == 5:
        return sp.Pow(a, b, evaluate=False)
    if choice == 6:
        return -a
    func = rng.choice([sp.sin, sp.cos, sp.tan, sp.exp, sp.log, sp.Abs, sp.atan, sp.sinh, sp.sec])
    return func(a)


def test_it_round_trips_random_expressions_through_the_answer_parser():
    rng = random.Random(20251124)
    compared = 0
    for _ in range(150):
        value = _random_expression(rng, rng.randint(1, 3))
        if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I):
            continue
        text = expression_text(value)
        _assert_answer_syntax(text)
        try:
            back = _round_trip(text)
        except ParseError as error:
            # Random nesting can build constants beyond the parser's size limit
            # (`sinh(e^24)`); that is the limit working, not the text being wrong.
            assert "too large" in str(error), text
            continue
        if _compare_values(value, back):
            compared += 1
    assert compared > 100


def test_it_round_trips_vectors_matrices_and_points():
    for value, kind in (
        (sp.Matrix([[2 * x * y, x**2 - sp.Rational(1, 3)]]), "[]"),
        (
            sp.Matrix([[sp.cos(theta), -x * sp.sin(theta)], [sp.sin(theta), x * sp.cos(theta)]]),
            "[[]]",
        ),
        ([(sp.sqrt(2), -sp.pi / 3), (0.25, 1)], "[()]"),
    ):
        text = to_answer_text(value)
        _assert_answer_syntax(text)
        tree = parse(text, ["x", "y", "theta"])
        assert tree.bracket == "["
        items = tree.items
        assert len(items) == (1 if kind == "[]" else 2) or kind == "[]"
        if kind == "[()]":
            assert all(item.bracket == "(" for item in items)
            for item, point in zip(items, value, strict=True):
                for node, coordinate in zip(item.items, point, strict=True):
                    assert float(to_sympy(node)) == pytest.approx(float(coordinate), rel=1e-15)
        elif kind == "[[]]":
            for row_node, row in zip(items, value.tolist(), strict=True):
                for node, entry in zip(row_node.items, row, strict=True):
                    back = to_sympy(node, symbols={"x": x, "theta": theta})
                    assert sp.simplify(back - entry) == 0
        else:
            entries = list(value)
            assert len(items) == len(entries)
            for node, entry in zip(items, entries, strict=True):
                assert sp.simplify(to_sympy(node, symbols={"x": x, "y": y}) - entry) == 0
