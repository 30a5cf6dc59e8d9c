"""The syntax tree of an answer: small frozen dataclasses built by `grading.parser`.

Every node carries `col`, the 1-based column of its first character in the text as
typed, so that messages can point at it. `col` takes no part in equality or hashing:
two trees are equal when they say the same thing, wherever it was written.

A chain such as `x + x + ... + x` is a left-deep tree as deep as it is long, so code
that walks trees should not rely on Python recursion alone: `walk` and `postorder`
here are iterative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Number:
    """A literal, exact: `0.333` is 333/1000, `2.5E4` is 25000."""

    value: Fraction
    text: str
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Symbol:
    """A declared variable."""

    name: str
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Constant:
    """`pi` or `e`."""

    name: str
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Neg:
    """Unary minus (unary plus is dropped by the parser)."""

    operand: Node
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BinOp:
    """`op` is one of `+ - * / ^`; `**` is read as `^`, implicit multiplication as `*`."""

    op: str
    left: Node
    right: Node
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Call:
    """A built-in function under its canonical name (`arcsin` is `asin`, `ln` is `log`)."""

    func: str
    arg: Node
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Apply:
    """An exercise function, defined or abstract, applied to one argument."""

    name: str
    arg: Node
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Group:
    """A bracketed list: a vector, a matrix row, a point, a set of points."""

    items: tuple[Node, ...]
    bracket: str
    col: int | None = field(default=None, compare=False)


Node = Number | Symbol | Constant | Neg | BinOp | Call | Apply | Group

BUILTIN_FUNCTIONS = frozenset(
    "sin cos tan sec csc cot asin acos atan sinh cosh tanh exp log log10 sqrt abs".split()
)
CONSTANTS = frozenset({"pi", "e"})


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-trees of `node`, left to right."""
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, Call | Apply):
        return (node.arg,)
    if isinstance(node, Group):
        return node.items
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def postorder(node: Node) -> Iterator[Node]:
    """Every node of the tree, children before parents, without recursion.

    Evaluating in this order with a dict of results keyed by `id(node)` handles trees
    of any depth.
    """
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            yield current
            continue
        stack.append((current, True))
        stack.extend((child, False) for child in reversed(children(current)))


def free_symbols(node: Node) -> frozenset[str]:
    """Names of the variables that occur in the tree."""
    return frozenset(n.name for n in walk(node) if isinstance(n, Symbol))


def applied_functions(node: Node) -> frozenset[str]:
    """Names of the exercise functions that occur in the tree."""
    return frozenset(n.name for n in walk(node) if isinstance(n, Apply))
