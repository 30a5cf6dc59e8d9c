"""Whatever a student types, the parser answers with a tree or a ParseError, nothing else."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading.latex import to_latex
from grading.nodes import Apply, BinOp, Call, Constant, Group, Neg, Number, Symbol
from grading.parser import Limits, ParseError, parse

VARIABLES = ("x", "y", "theta", "x_1")
FUNCTIONS = ("f",)

SPECIAL = (
    "\u2212\u00d7\u00b7\u00f7\u03c0\u00b2\u00b3\u221a\u03b8\u03bb\u03c3\u00a0\u22c5\u2013\u00bd"
)
PIECES = [
    "x",
    "y",
    "theta",
    "x_1",
    "2",
    "2.5",
    ".5",
    "5.",
    "1e-3",
    "2e+3",
    "e",
    "pi",
    "9",
    "10",
    "sin",
    "cos",
    "log",
    "sqrt",
    "abs",
    "arcsin",
    "f",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    ",",
    "^",
    "**",
    "*",
    "/",
    "+",
    "-",
    " ",
    "√",
    "²",
    "π",
    "θ",
    "−",
    "xy",
    "sin^2",
    "=",
    ".",
]

roomy = settings(
    deadline=None,
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow],
)


def _as_text(node) -> str:
    """Fully parenthesised text for a tree: reading it back must give the same tree."""
    if isinstance(node, Number):
        return node.text
    if isinstance(node, Symbol | Constant):
        return node.name
    if isinstance(node, Neg):
        return f"(-({_as_text(node.operand)}))"
    if isinstance(node, BinOp):
        return f"(({_as_text(node.left)}){node.op}({_as_text(node.right)}))"
    if isinstance(node, Call | Apply):
        name = node.func if isinstance(node, Call) else node.name
        return f"{name}({_as_text(node.arg)})"
    assert isinstance(node, Group)
    closer = {"(": ")", "[": "]", "{": "}"}[node.bracket]
    return node.bracket + ",".join(_as_text(item) for item in node.items) + closer


def _check(text: str) -> None:
    try:
        node = parse(text, VARIABLES, FUNCTIONS)
    except ParseError as error:
        assert error.message
        assert error.column is None or 1 <= error.column <= len(text) + 1
        return
    latex = to_latex(node)
    assert isinstance(latex, str) and latex
    again = parse(_as_text(node), VARIABLES, FUNCTIONS, Limits(max_length=10**5, max_depth=500))
    assert again == node


@roomy
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_it_reads_or_refuses_random_ascii(text):
    _check(text)


@roomy
@given(st.text(alphabet=st.sampled_from(SPECIAL + "x2+-*/^()|[], e"), max_size=30))
def test_it_reads_or_refuses_random_pasted_characters(text):
    _check(text)


@roomy
@given(st.text(max_size=20))
def test_it_reads_or_refuses_any_unicode(text):
    _check(text)


@roomy
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_it_reads_or_refuses_random_token_soup(text):
    _check(text)


@roomy
@given(
    st.lists(
        st.sampled_from(["9", "10", "2", "e", "pi", "^", "^-", "*", "exp(", ")"]), max_size=25
    ).map("".join)
)
def test_it_reads_or_refuses_random_towers_of_powers(text):
    _check(text)
