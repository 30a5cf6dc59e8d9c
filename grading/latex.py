"""A syntax tree as LaTeX, for the live preview and for showing expected answers.

The output is handed to KaTeX in the browser. It is built only from fixed LaTeX and
from names and numbers that the parser has already validated (letters, digits and
underscores; digits, ".", "e" and signs), so no text a student typed reaches the
renderer unchecked.

The preview shows how an answer was read, so it keeps the tree's structure: `1/2x`
shows as a half times x, parentheses appear wherever precedence needs them, and two
letters multiplied show a dot between them (`xy` as x·y), so that a run of letters
read as a product is not mistaken for one name.
Long chains of one operator are rendered with loops rather than recursion.
"""

from __future__ import annotations

import re

from grading.nodes import Apply, BinOp, Call, Constant, Group, Neg, Node, Number, Symbol

SUM, PRODUCT, NEG, POWER, ATOM = 1, 2, 3, 4, 5

GREEK_LOWER = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi"
    " rho sigma tau upsilon phi chi psi omega".split()
)
GREEK_UPPER = frozenset("Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())

_FUNCTIONS = {
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "sec": r"\sec",
    "csc": r"\csc",
    "cot": r"\cot",
    "asin": r"\arcsin",
    "acos": r"\arccos",
    "atan": r"\arctan",
    "sinh": r"\sinh",
    "cosh": r"\cosh",
    "tanh": r"\tanh",
    "exp": r"\exp",
    "log": r"\log",
    "log10": r"\log_{10}",
}
_ENDS_WITH_COMMAND = re.compile(r"\\[A-Za-z]+\Z")
# Functions whose power is conventionally written sin^2(x).
_POWER_BEFORE_ARGUMENT = {"sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh"}


def to_latex(node: Node) -> str:
    """LaTeX for `node`."""
    try:
        return _render(node)[0]
    except RecursionError:
        # Only a pathological tree (hundreds of alternating levels) gets here.
        return r"\text{(too long to preview)}"


def name_latex(name: str) -> str:
    """`theta` as `\\theta`, `x_1` and `x1` as `x_{1}`, `rate` as `\\mathrm{rate}`."""
    if "_" in name:
        base, sub = name.split("_", 1)
    else:
        stripped = name.rstrip("0123456789")
        base, sub = (stripped, name[len(stripped) :]) if stripped else (name, "")
    if not base:
        return _word(name)
    text = _word(base)
    if sub:
        text += "_{" + _word(sub) + "}"
    return text


def _word(word: str) -> str:
    if word in GREEK_LOWER or word in GREEK_UPPER:
        return "\\" + word
    if word == "omicron":
        return "o"
    if len(word) == 1 or word.isdigit():
        return word
    return r"\mathrm{" + word.replace("_", r"\_") + "}"


def _function_name(name: str) -> str:
    if name in GREEK_LOWER or name in GREEK_UPPER or len(name) == 1:
        return name_latex(name)
    return r"\operatorname{" + name.replace("_", r"\_") + "}"


def _paren(text: str) -> str:
    return r"\left(" + text + r"\right)"


def _render(node: Node) -> tuple[str, int]:
    if isinstance(node, Number):
        return _number(node)
    if isinstance(node, Symbol):
        return name_latex(node.name), ATOM
    if isinstance(node, Constant):
        return (r"\pi" if node.name == "pi" else "e"), ATOM
    if isinstance(node, Neg):
        return _neg(node), NEG
    if isinstance(node, BinOp):
        if node.op in "+-":
            return _sum(node), SUM
        if node.op in "*/":
            return _product(node)
        return _power(node), POWER
    if isinstance(node, Call):
        return _call(node), ATOM
    if isinstance(node, Apply):
        return _function_name(node.name) + _paren(_render(node.arg)[0]), ATOM
    if isinstance(node, Group):
        return _group(node), ATOM
    raise TypeError(f"not a syntax tree node: {node!r}")


def _number(node: Number) -> tuple[str, int]:
    text = node.text.lower()
    mantissa, _, exponent = text.partition("e")
    if mantissa.startswith("."):
        mantissa = "0" + mantissa
    mantissa = mantissa.rstrip(".") if mantissa.endswith(".") else mantissa
    if not exponent:
        return mantissa, ATOM
    exponent = exponent.lstrip("+")
    return mantissa + r" \cdot 10^{" + exponent + "}", PRODUCT


def _neg(node: Node) -> str:
    count = 0
    while isinstance(node, Neg):
        count += 1
        node = node.operand
    text, level = _render(node)
    if level <= SUM:
        text = _paren(text)
    text = "-" + text
    for _ in range(count - 1):
        text = "-" + _paren(text)
    return text


def _operand(node: Node, minimum: int) -> str:
    """`node` rendered, in parentheses unless it binds at least as tightly as `minimum`."""
    text, level = _render(node)
    return _paren(text) if level < minimum else text


def _left_spine(node: BinOp, ops: str) -> tuple[Node, list[tuple[str, Node]]]:
    steps: list[tuple[str, Node]] = []
    current: Node = node
    while isinstance(current, BinOp) and current.op in ops:
        steps.append((current.op, current.right))
        current = current.left
    steps.reverse()
    return current, steps


def _sum(node: BinOp) -> str:
    first, steps = _left_spine(node, "+-")
    text, _ = _render(first)
    for op, right in steps:
        # a - (b + c) and a + (-b) keep their parentheses.
        term = _operand(right, PRODUCT)
        text += f" {op} " + (_paren(term) if isinstance(right, Neg) else term)
    return text


def _product(node: BinOp) -> tuple[str, int]:
    first, steps = _left_spine(node, "*/")
    text, level = _render(first)
    for op, right in steps:
        if op == "/":
            text = r"\frac{" + text + "}{" + _render(right)[0] + "}"
            level = ATOM
            continue
        if level <= SUM:
            text = _paren(text)
        factor = _operand(right, POWER)
        if factor[0].isdigit() or factor[0] in ".-":
            separator = r" \cdot "
        elif text[-1].isalpha() and factor[0].isalpha() and not _ENDS_WITH_COMMAND.search(text):
            # x·y: two letters side by side would look like one name, and a student
            # who typed the run xy should see that it was read as a product.
            separator = r" \cdot "
        elif text[-1].isalpha() and (
            factor[0].isalpha() or (factor[0] == "\\" and not factor.startswith(r"\left"))
        ):
            # x \sin(x), \theta \, x: a space the eye sees, which also ends a command.
            separator = r" \, "
        else:
            separator = ""
        text += separator + factor
        level = PRODUCT
    return text, level


def _power(node: BinOp) -> str:
    bases: list[Node] = []
    current: Node = node
    while isinstance(current, BinOp) and current.op == "^":
        bases.append(current.left)
        current = current.right
    text = _render(current)[0]
    for base in reversed(bases):
        text = _base(base, text)
    return text


def _base(base: Node, exponent: str) -> str:
    power = "^{" + exponent + "}"
    if (
        isinstance(base, Call)
        and base.func in _POWER_BEFORE_ARGUMENT
        and exponent.isdigit()
        and exponent != "0"
    ):
        return _FUNCTIONS[base.func] + power + _paren(_render(base.arg)[0])
    text, level = _render(base)
    needs_parentheses = (
        level < ATOM
        or (isinstance(base, Call) and base.func == "sqrt")
        or (isinstance(base, BinOp) and base.op == "/")
    )
    if needs_parentheses:
        text = _paren(text)
    return text + power


def _call(node: Call) -> str:
    arg = _render(node.arg)[0]
    if node.func == "sqrt":
        return r"\sqrt{" + arg + "}"
    if node.func == "abs":
        return r"\left|" + arg + r"\right|"
    return _FUNCTIONS[node.func] + _paren(arg)


def _group(node: Group) -> str:
    items = node.items
    if node.bracket == "[" and items:
        if all(isinstance(item, Group) and item.bracket == "[" for item in items):
            rows = [item.items for item in items]  # type: ignore[union-attr]
            if all(not isinstance(entry, Group) for row in rows for entry in row):
                body = r" \\ ".join(" & ".join(_render(e)[0] for e in row) for row in rows)
                return r"\begin{pmatrix} " + body + r" \end{pmatrix}"
        elif not any(isinstance(item, Group) for item in items):
            body = r" \\ ".join(_render(item)[0] for item in items)
            return r"\begin{pmatrix} " + body + r" \end{pmatrix}"
    inner = ", ".join(_render(item)[0] for item in items) or r"\,"
    if node.bracket == "{":
        return r"\left\{" + inner + r"\right\}"
    if node.bracket == "[":
        return r"\left[" + inner + r"\right]"
    return _paren(inner)
