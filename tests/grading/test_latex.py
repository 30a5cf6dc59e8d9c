"""The live preview: answer trees as LaTeX for KaTeX."""

import re

import pytest

from grading.latex import name_latex, to_latex
from grading.parser import Limits, parse

VARIABLES = ("x", "y", "z", "a", "b", "x1", "x_1", "theta", "alpha_2", "rate", "Sigma", "x_ab")
FUNCTIONS = ("f", "sigma", "relu")


def latex(text: str) -> str:
    return to_latex(parse(text, VARIABLES, FUNCTIONS))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2x", "2x"),
        ("2*3", r"2 \cdot 3"),
        ("x*2", r"x \cdot 2"),
        ("x y", r"x \cdot y"),
        ("2 pi", r"2\pi"),
        ("-2x", "-2x"),
        ("2(x+1)", r"2\left(x + 1\right)"),
        ("(x+1)(x-1)", r"\left(x + 1\right)\left(x - 1\right)"),
        ("x sin(x)", r"x \, \sin\left(x\right)"),
        ("x*(-y)", r"x\left(-y\right)"),
    ],
)
def test_it_shows_products(text, expected):
    assert latex(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x/2", r"\frac{x}{2}"),
        ("1/2x", r"\frac{1}{2}x"),
        ("x/(y/z)", r"\frac{x}{\frac{y}{z}}"),
        ("(x+1)/(x-1)", r"\frac{x + 1}{x - 1}"),
    ],
)
def test_it_shows_quotients_as_fractions(text, expected):
    assert latex(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("xy", r"x \cdot y"),
        ("2xy^2", r"2x \cdot y^{2}"),
        ("xe^x", r"x \cdot e^{x}"),
        ("xsin(x)", r"x \, \sin\left(x\right)"),
        ("2xcos(x^2)", r"2x \, \cos\left(x^{2}\right)"),
        ("aasin(x)", r"a \, \arcsin\left(x\right)"),
        ("xf(x)", r"x \cdot f\left(x\right)"),
        ("θx", r"\theta \, x"),
        ("2πx", r"2\pi \, x"),
    ],
)
def test_it_shows_how_a_run_of_letters_was_split(text, expected):
    assert latex(text) == expected


def test_it_tells_a_declared_name_from_a_run_of_letters():
    assert to_latex(parse("xy", ("x", "y", "xy"))) == r"\mathrm{xy}"
    assert to_latex(parse("xy", ("x", "y"))) == r"x \cdot y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2", "x^{2}"),
        ("-x^2", "-x^{2}"),
        ("(-x)^2", r"\left(-x\right)^{2}"),
        ("2^-1", "2^{-1}"),
        ("e^2x", "e^{2}x"),
        ("x^y^z", "x^{y^{z}}"),
        ("(x^y)^z", r"\left(x^{y}\right)^{z}"),
        ("(x+1)^2", r"\left(x + 1\right)^{2}"),
        ("(1/2)^2", r"\left(\frac{1}{2}\right)^{2}"),
        ("e^(-x^2/2)", r"e^{\frac{-x^{2}}{2}}"),
        ("sin^2(x)", r"\sin^{2}\left(x\right)"),
        ("sqrt(x)^2", r"\left(\sqrt{x}\right)^{2}"),
        ("|x|^2", r"\left|x\right|^{2}"),
        ("x_1^2", "x_{1}^{2}"),
    ],
)
def test_it_shows_powers_with_braces(text, expected):
    assert latex(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a-(x+y)", r"a - \left(x + y\right)"),
        ("a+(x+y)", r"a + \left(x + y\right)"),
        ("a+-x", r"a + \left(-x\right)"),
        ("--x", r"-\left(-x\right)"),
        ("-(x+y)", r"-\left(x + y\right)"),
        ("a-x-y", "a - x - y"),
    ],
)
def test_it_keeps_the_parentheses_precedence_needs(text, expected):
    assert latex(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sin(x)", r"\sin\left(x\right)"),
        ("arcsin(x)", r"\arcsin\left(x\right)"),
        ("ln(x)", r"\log\left(x\right)"),
        ("log10(x)", r"\log_{10}\left(x\right)"),
        ("sqrt(x+1)", r"\sqrt{x + 1}"),
        ("√x", r"\sqrt{x}"),
        ("|x-1|", r"\left|x - 1\right|"),
        ("abs(x)", r"\left|x\right|"),
        ("exp(x)", r"\exp\left(x\right)"),
        ("sigma(x)", r"\sigma\left(x\right)"),
        ("relu(x)", r"\operatorname{relu}\left(x\right)"),
        ("f(x)", r"f\left(x\right)"),
    ],
)
def test_it_shows_functions(text, expected):
    assert latex(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x", "x"),
        ("theta", r"\theta"),
        ("Sigma", r"\Sigma"),
        ("x_1", "x_{1}"),
        ("x1", "x_{1}"),
        ("alpha_2", r"\alpha_{2}"),
        ("rate", r"\mathrm{rate}"),
        ("x_ab", r"x_{\mathrm{ab}}"),
        ("x_theta", r"x_{\theta}"),
    ],
)
def test_it_shows_names(name, expected):
    assert name_latex(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pi", r"\pi"),
        ("2.5", "2.5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("2.5E4", r"2.5 \cdot 10^{4}"),
        ("1e-3", r"1 \cdot 10^{-3}"),
        ("2e+3", r"2 \cdot 10^{3}"),
        ("x*2e3", r"x\left(2 \cdot 10^{3}\right)"),
    ],
)
def test_it_shows_numbers_and_constants(text, expected):
    assert latex(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2, 3]", r"\begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}"),
        ("[[1], [2]]", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"),
        ("[[1, 2], [3, 4]]", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}"),
        ("(1, 2)", r"\left(1, 2\right)"),
        ("[(1, 2), (3, 4)]", r"\left[\left(1, 2\right), \left(3, 4\right)\right]"),
        ("{(1, 2)}", r"\left\{\left(1, 2\right)\right\}"),
        ("{}", r"\left\{\,\right\}"),
        ("[]", r"\left[\,\right]"),
    ],
)
def test_it_shows_vectors_matrices_and_sets(text, expected):
    assert latex(text) == expected


def test_it_renders_long_chains_without_recursion():
    roomy = Limits(max_length=50000)
    text = to_latex(parse("x" + "+x" * 5000, ("x",), limits=roomy))
    assert text.count("+") == 5000
    text = to_latex(parse("x" + "/x" * 3000, ("x",), limits=roomy))
    assert text.count(r"\frac") == 3000
    text = to_latex(parse("x" + "^x" * 3000, ("x",), limits=roomy))
    assert text.count("^") == 3000
    text = to_latex(parse("-" * 3000 + "x", ("x",), limits=roomy))
    assert text.count("-") == 3000


SAFE_COMMANDS = {
    "left",
    "right",
    "frac",
    "cdot",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "exp",
    "log",
    "pi",
    "theta",
    "alpha",
    "sigma",
    "Sigma",
    "mathrm",
    "operatorname",
    "begin",
    "end",
    "emptyset",
}


@pytest.mark.parametrize(
    "text",
    [
        "theta^2 + x_1*sigma(rate) - |x|/2",
        "π·θ−x²÷√2",
        "[[1e-3, alpha_2], [x_ab, -sqrt(relu(y))]]",
        "{(1, 2)}",
    ],
)
def test_it_emits_only_known_commands_and_safe_characters(text):
    output = latex(text)
    assert re.fullmatch(r"[A-Za-z0-9_{}\\^+\-/(),.&|\[\] ]*", output)
    commands = set(re.findall(r"\\([A-Za-z]+)", output))
    assert commands <= SAFE_COMMANDS
