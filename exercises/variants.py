"""Randomised exercises: parameters, the variant each student gets, and templates.

An exercise declares parameters and constraints:

    parameters:
      a: {int: [2, 9]}                          # an integer from 2 to 9
      b: {int: [-6, 6], step: 2, exclude: [0]} # -6, -4, -2, 2, 4, 6
      c: {choice: [1, 2, 5]}                    # one of a list (numbers or text)
      h: {decimal: [0.1, 0.5], step: 0.1}       # 0.1, 0.2, ..., 0.5
    constraints:
      - "a != b"
      - "1 <= c/a <= 3"

Constraints are comparisons between expressions in the answer syntax, read by the
engine's parser and evaluated exactly with SymPy (never Python's eval). Values are
drawn from a seeded generator and redrawn until every constraint holds, at most
MAX_TRIES times.

Texts are templates: `{{ expression }}` is replaced by the value of an expression in
the parameters. In prompts, solutions, labels and messages the value is written as
text (`3`, `1.5`, `2/3`); in expected answers, listed mistakes, sample answers and the
arguments of a reference routine it is written in parentheses, `(-3)`, so that
`x^3 - {{a}}x` stays `x^3 - (-3)x` whatever the sign. `{{` directly followed by another
`{` is not a template, so LaTeX's `\\frac{{{a}}}{2}` reads as `\\frac{` `{{a}}` `}{2}`.
An exercise without parameters is not templated at all.

This module does not touch the database: the models call it, and so do the course's
tests on the YAML files.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

import sympy

from grading.evaluate import to_sympy
from grading.parser import ParseError, parse, tokenize
from grading.reference.text import RESERVED_NAMES, AnswerTextError, to_answer_text

MAX_TRIES = 1000
# Templates filled in that a process remembers (`render_text`, `render_expression`).
RENDERED_REMEMBERED = 8192
MAX_CHOICES = 10**9

TEMPLATE = re.compile(r"\{\{(?!\{)\s*([^{}]+?)\s*\}\}")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_COMPARISON = re.compile(r"(<=|>=|!=|==|<|>|=)")


class VariantError(ValueError):
    """The parameters, a constraint or a template cannot give a variant; says why."""


# ---------------------------------------------------------------- seeds and draws


def seed_for(secret: str, student_id: int, slug: str) -> int:
    """A student's seed for an exercise: stable, and unguessable without the secret."""
    digest = hmac.new(secret.encode(), f"{student_id}:{slug}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _number(value, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise VariantError(f"{where}: {value!r} is not a number")
    try:
        return Fraction(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        raise VariantError(f"{where}: {value!r} is not a number") from None


def _json_number(value: Fraction):
    if value.denominator == 1:
        return int(value)
    return float(Decimal(value.numerator) / Decimal(value.denominator))


@dataclass(frozen=True)
class Values:
    """The values a parameter can take: a list, or `count` steps up from `low`."""

    items: tuple = ()
    low: Fraction = Fraction(0)
    step: Fraction = Fraction(1)
    count: int = 0
    exclude: tuple = ()

    def pick(self, rng: random.Random):
        """One value, or None for an excluded one (the caller draws again)."""
        if self.items:
            return rng.choice(self.items)
        value = _json_number(self.low + rng.randrange(self.count) * self.step)
        return None if value in self.exclude else value


def choices(name: str, spec) -> Values:
    """What a parameter's declaration allows; VariantError if it is malformed."""
    where = f"parameter {name}"
    if not _NAME.match(name) or name in RESERVED_NAMES or name in {"e", "pi"}:
        raise VariantError(f"{where}: not a usable name (a letter, then letters, digits or _)")
    if not isinstance(spec, dict):
        raise VariantError(
            f"{where}: give {{int: [low, high]}}, {{decimal: ...}} or {{choice: [...]}}"
        )
    kinds = [k for k in ("int", "decimal", "choice") if k in spec]
    if len(kinds) != 1:
        raise VariantError(f"{where}: give exactly one of int, decimal or choice")
    kind = kinds[0]
    unknown = set(spec) - {kind, "step", "exclude"}
    if unknown:
        raise VariantError(f"{where}: unknown key {', '.join(sorted(unknown))}")
    exclude = spec.get("exclude", [])
    if not isinstance(exclude, list):
        raise VariantError(f"{where}: exclude needs a list")
    if kind == "choice":
        items = spec["choice"]
        if not isinstance(items, list) or not items:
            raise VariantError(f"{where}: choice needs a non-empty list")
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int | float | str):
                raise VariantError(f"{where}: {item!r} is neither a number nor text")
        if "step" in spec:
            raise VariantError(f"{where}: a choice has no step")
        items = [v for v in items if v not in exclude]
        if not items:
            raise VariantError(f"{where}: every value is excluded")
        return Values(items=tuple(items))
    bounds = spec[kind]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise VariantError(f"{where}: {kind} needs [low, high]")
    low, high = (_number(b, where) for b in bounds)
    step = _number(spec.get("step", 1 if kind == "int" else "0.1"), where)
    if kind == "int" and (low.denominator != 1 or high.denominator != 1 or step.denominator != 1):
        raise VariantError(f"{where}: an int range needs whole numbers")
    if step <= 0 or low > high:
        raise VariantError(f"{where}: needs low <= high and a positive step")
    count = int((high - low) / step) + 1
    if count > MAX_CHOICES:
        raise VariantError(f"{where}: more than {MAX_CHOICES} values; use a larger step")
    values = Values(low=low, step=step, count=count, exclude=tuple(exclude))
    if count <= len(exclude) and all(_json_number(low + k * step) in exclude for k in range(count)):
        raise VariantError(f"{where}: every value is excluded")
    return values


def check_parameters(parameters, constraints) -> dict[str, Values]:
    """The values of each parameter; VariantError if the declaration is malformed."""
    if not isinstance(parameters, dict):
        raise VariantError("parameters must be a mapping from names to declarations")
    if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
        raise VariantError("constraints must be a list of comparisons, as text")
    table = {name: choices(name, spec) for name, spec in parameters.items()}
    for constraint in constraints:
        _check_comparison(constraint, list(table))
    return table


def _check_comparison(text: str, names: list[str]) -> None:
    pieces = _COMPARISON.split(text)
    if len(pieces) < 3:
        raise VariantError(f"constraint {text!r}: no comparison (<, <=, >, >=, =, !=)")
    for side in pieces[0::2]:
        try:
            parse(side.strip(), variables=names)
        except ParseError as e:
            raise VariantError(f"constraint {text!r}: {e}") from None


def _holds(text: str, values: dict) -> bool:
    pieces = _COMPARISON.split(text)
    sides = [_exact(side, values, f"constraint {text!r}") for side in pieces[0::2]]
    ops = pieces[1::2]
    for left, op, right in zip(sides, ops, sides[1:], strict=False):
        if op in {"<", "<=", ">", ">="} and not (left.is_real and right.is_real):
            return False
        try:
            ok = _compare(left, op, right)
        except TypeError:  # SymPy cannot order these two values
            raise VariantError(f"constraint {text!r}: cannot compare {left} and {right}") from None
        if not ok:
            return False
    return True


def _compare(left, op: str, right) -> bool:
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "!=":
        return not _is_zero(left - right)
    return _is_zero(left - right)


def _is_zero(value) -> bool:
    return value == 0 if value.is_Number else sympy.simplify(value) == 0


def draw(parameters, constraints, seed: int) -> dict:
    """The parameter values for a seed: the same seed always gives the same values."""
    if not parameters:
        return {}
    table = check_parameters(parameters, constraints)
    rng = random.Random(seed)
    for _ in range(MAX_TRIES):
        values = {name: options.pick(rng) for name, options in table.items()}
        if any(v is None for v in values.values()):
            continue
        try:
            if all(_holds(c, values) for c in constraints):
                return values
        except VariantError:
            continue  # undefined for these values (a division by zero): draw again
    raise VariantError(f"no values satisfy the constraints after {MAX_TRIES} draws")


# ---------------------------------------------------------------- templates


def _substituted(text: str, values: dict) -> str:
    """The expression with each numeric parameter replaced by its value in parentheses,
    token by token, so that the parser's limits on the size of constants apply to the
    values too (`a^b` with large values is refused rather than computed)."""
    pieces = []
    for token in tokenize(text):
        if (
            token.kind == "name"
            and token.text in values
            and not isinstance(values[token.text], str)
        ):
            pieces.append(f"({_number_text(values[token.text])})")
        else:
            pieces.append(token.text)
    return " ".join(pieces)


def _exact(text: str, values: dict, where: str):
    """The exact value of an expression in the parameters, for these values."""
    try:
        tree = parse(_substituted(text, values))
        result = to_sympy(tree).doit()
    except ParseError as e:
        raise VariantError(f"{where}: {e}") from None
    except (TypeError, ZeroDivisionError, ValueError) as e:
        raise VariantError(f"{where}: {e}") from None
    if isinstance(result, list):
        raise VariantError(f"{where}: a list is not a value")
    if result.free_symbols:
        names = ", ".join(sorted(str(s) for s in result.free_symbols))
        raise VariantError(f"{where}: {names} is not a parameter")
    if result.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or not result.is_finite:
        raise VariantError(f"{where}: undefined for {describe(values)}")
    return result


def exact_value(text: str, values: dict, where: str):
    """The exact value of an expression over the parameters (VariantError if it has none)."""
    return _exact(text, values, where)


def describe(values: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())


def _value(text: str, values: dict):
    if text in values:
        return values[text]
    numeric = [name for name, v in values.items() if not isinstance(v, str)]
    try:
        # Read once with the names, for a message that speaks of them.
        parse(text, variables=numeric)
    except ParseError as e:
        raise VariantError(f"{{{{{text}}}}}: {e}") from None
    return _exact(text, values, f"{{{{{text}}}}}")


def _number_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            format(Decimal(str(value)).normalize(), "f") if value != int(value) else str(int(value))
        )
    if isinstance(value, sympy.Rational):
        p, q = int(value.p), int(value.q)
        if q == 1:
            return str(p)
        rest = q
        for factor in (2, 5):
            while rest % factor == 0:
                rest //= factor
        if rest == 1:
            return format(Decimal(p) / Decimal(q), "f")
        return f"{p}/{q}"
    try:
        return to_answer_text(value)
    except AnswerTextError as e:
        raise VariantError(f"{value}: {e}") from None


def render_text(template: str, values: dict) -> str:
    """A prompt, label or message with the values written in."""
    if not values or not template:
        return template
    return _rendered(template, values, expression=False)


def render_expression(template: str, values: dict) -> str:
    """An answer (expected, mistake, sample) with each value in parentheses."""
    if not values or not template:
        return template
    return _rendered(template, values, expression=True)


def _rendered(template: str, values: dict, expression: bool) -> str:
    """The template filled in, remembered by the process for these values.

    Each `{{ expression }}` is read and computed exactly with SymPy, which costs far
    more than the rest of a request: a student's exercise page, and every part a worker
    grades (its known mistakes are templates too), would compute the same values again
    for the same variant. Values that cannot be a key (a list) are not remembered."""
    try:
        key = tuple((name, type(value), value) for name, value in values.items())
        hash(key)
    except TypeError:
        return _fill(template, values, expression)
    return _fill_remembered(template, key, expression)


@lru_cache(maxsize=RENDERED_REMEMBERED)
def _fill_remembered(template: str, key: tuple, expression: bool) -> str:
    return _fill(template, {name: value for name, _, value in key}, expression)


def _fill(template: str, values: dict, expression: bool) -> str:
    if not expression:
        return TEMPLATE.sub(lambda m: _number_text(_value(m.group(1), values)), template)

    def one(match: re.Match) -> str:
        text = _number_text(_value(match.group(1), values))
        return text if _NAME.match(text) else f"({text})"

    return TEMPLATE.sub(one, template)


def render_data(data, values: dict, expression: bool = True):
    """Templates inside the JSON of a routine call or a list of tests."""
    if isinstance(data, str):
        return render_expression(data, values) if expression else render_text(data, values)
    if isinstance(data, list):
        return [render_data(item, values, expression) for item in data]
    if isinstance(data, dict):
        return {key: render_data(item, values, expression) for key, item in data.items()}
    return data


def mistakes_for(mistakes: list, values: dict) -> list:
    if not values:
        return list(mistakes)
    return [
        {
            **m,
            "answer": render_expression(m.get("answer", ""), values),
            "message": render_text(m.get("message", ""), values),
        }
        for m in mistakes
    ]
