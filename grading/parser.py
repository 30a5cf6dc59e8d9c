"""What a student typed, read into a syntax tree (`grading.nodes`).

A hand-written tokenizer and recursive-descent parser for the answer syntax of the
specification, section 1. Nothing here evaluates the text as code: a string is
either read by the grammar below or refused with a `ParseError` whose message says
what is wrong and where.

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary | implicit-factor)*
    unary      := ("+" | "-")* power
    power      := primary ("^" ("+" | "-")* primary)*       right-associative
    primary    := number | name | function "(" expression ")" | "(" ... ")"
                | "[" ... "]" | "{" ... "}" | "|" expression "|" | "√" primary

Chains of operators are read with loops, so that the only recursion is through
brackets, whose depth is limited; hostile input therefore costs time linear in its
length and never exhausts the stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from grading.nodes import (
    BUILTIN_FUNCTIONS,
    CONSTANTS,
    Apply,
    BinOp,
    Call,
    Constant,
    Group,
    Neg,
    Node,
    Number,
    Symbol,
    applied_functions,
    postorder,
)


@dataclass(frozen=True)
class Limits:
    """Bounds on an answer, each refused with a clear message when exceeded."""

    max_length: int = 1000
    max_depth: int = 100
    max_digits: int = 50
    # The decimal exponent written in a literal, as in 1e-300.
    max_exponent: int = 1000
    # The magnitude of a constant power, as in x^10000.
    max_power: int = 10000
    # A constant value larger than 10^this in magnitude is refused.
    max_magnitude_log10: int = 1000


class ParseError(ValueError):
    """An answer that cannot be read. `message` is meant for the student."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


FUNCTION_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "ln": "log"}
FUNCTION_NAMES = BUILTIN_FUNCTIONS | FUNCTION_ALIASES.keys()
_INVERSES = {"sin": "asin", "cos": "acos", "tan": "atan"}

GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi"
    " rho sigma tau upsilon phi chi psi omega"
).split()

# The pasted-character table of the specification, and nothing else. "√" stays a
# character of its own: it becomes a token, not the letters "sqrt", which would run
# into the name that follows. A Greek letter is a name of its own, kept apart from its
# neighbours by the tokenizer.
PASTED = {
    "\u2212": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u00a0": " ",
    "\u202f": " ",
}
PASTED.update({chr(0x3B1 + i): name for i, name in enumerate(GREEK[:17])})
PASTED["\u03c2"] = "sigma"  # final sigma
PASTED.update({chr(0x3C3 + i): name for i, name in enumerate(GREEK[17:])})
# The capitals that look like Latin letters (Alpha, Beta, ...) are left out: a pasted
# "Α" is far more likely a mistaken "A" than a name, so it is refused with a message.
PASTED.update(
    {
        "\u0393": "Gamma",
        "\u0394": "Delta",
        "\u0398": "Theta",
        "\u039b": "Lambda",
        "\u039e": "Xi",
        "\u03a0": "Pi",
        "\u03a3": "Sigma",
        "\u03a5": "Upsilon",
        "\u03a6": "Phi",
        "\u03a8": "Psi",
        "\u03a9": "Omega",
        # Variant letter forms that mathematical text is often pasted with.
        "\u03d1": "theta",
        "\u03d5": "phi",
        "\u03f5": "epsilon",
        "\u03d6": "pi",
        "\u03f1": "rho",
    }
)
SQRT_SIGN = "\u221a"

# Characters students paste that the table does not read, with what to type instead.
_HINTS = {
    "\u2217": "*",
    "\u2219": "*",
    "\u2022": "*",
    "\u2062": "*",
    "\u2013": "-",
    "\u2014": "-",
    "\u00b5": "mu",
    "\u2032": "a derivative as an expression",
    "\u221e": "a number",
    "\u2264": "an expression only",
    "\u2265": "an expression only",
    "\u2002": "an ordinary space",
    "\u2003": "an ordinary space",
    "\u2009": "an ordinary space",
    "\u200a": "an ordinary space",
}
# Superscripts beyond the table's ² and ³.
_HINTS.update({sup: f"^{digit}" for sup, digit in zip("⁰¹⁴⁵⁶⁷⁸⁹", "01456789", strict=True)})
_HINTS["\u207b"] = "^-"
# Greek capitals drawn like Latin letters.
_HINTS.update(
    {greek: f'"{latin}"' for greek, latin in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX", strict=True)}
)
_ASCII_HINTS = {
    "=": ': type only the expression, without "="',
    "<": ": comparisons are not part of an answer",
    ">": ": comparisons are not part of an answer",
    '"': ": quotes are not part of an answer",
    "'": ": quotes are not part of an answer",
    "!": ": factorials are not supported",
    ";": ": type a single answer",
    "\\": ": type maths as plain text, e.g. sqrt(x) or x^2",
}

# Functions students reach for that the syntax does not have, and what to type instead.
_MISSING_FUNCTIONS = {
    "sech": "1/cosh(...)",
    "csch": "1/sinh(...)",
    "coth": "cosh(...)/sinh(...)",
    "cosec": "csc(...)",
    "arcsec": "acos(1/...)",
    "arccsc": "asin(1/...)",
    "arccot": "atan(1/...)",
}

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
_LOG10_2 = math.log10(2)


@dataclass(slots=True)
class Token:
    kind: str  # "number", "name", "op", one of "()[]{},|", "sqrt" or "end"
    text: str  # canonical: "**" is "^", "π" is "pi"
    col: int  # 1-based column of its first character as typed
    raw: str  # as typed, for messages
    value: Fraction | None = None


def _quote(text: str) -> str:
    if len(text) > 30:
        text = text[:27] + "..."
    return f'"{text}"'


def _describe_char(ch: str) -> str:
    if ch.isprintable():
        return f'"{ch}" (U+{ord(ch):04X})'
    return f"U+{ord(ch):04X}"


def _translate(text: str) -> tuple[str, list[int]]:
    """The text after the pasted-character table, and the column as typed of each of
    its characters."""
    if text.isascii():
        return text, list(range(1, len(text) + 1))
    out: list[str] = []
    cols: list[int] = []
    for index, ch in enumerate(text):
        col = index + 1
        if ch in "\u00b2\u00b3" and index > 0 and text[index - 1] in "\u00b2\u00b3":
            # "x²³" reads as x^23 to the eye; as x^2^3 it would be quietly misread.
            raise ParseError(
                f"two superscripts in a row at column {index}: write the power with ^, e.g. x^23",
                index,
            )
        if ch in PASTED:
            replacement = PASTED[ch]
            if replacement.isalpha():
                # A pasted letter is a name of its own: 2πx is 2*pi*x, not 2*pix.
                replacement = f" {replacement} "
        elif ch == SQRT_SIGN or ch.isascii():
            replacement = ch
        else:
            message = f"the character {_describe_char(ch)} at column {col} is not allowed"
            if ch in _HINTS:
                message += f": type {_HINTS[ch]} instead"
            raise ParseError(message, col)
        out.append(replacement)
        cols.extend([col] * len(replacement))
    return "".join(out), cols


_TOKEN_PATTERN = re.compile(
    r"""
    (?P<space>[ \t\n\r]+)
    | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<name>[A-Za-z][A-Za-z0-9_]*)
    | (?P<power>\*\*)
    | (?P<op>[-+*/^])
    | (?P<punct>[()\[\]{},|])
    | (?P<sqrt>\u221a)
    """,
    re.VERBOSE,
)


def tokenize(text: str, limits: Limits = Limits()) -> list[Token]:
    """Split an answer into tokens; the last one has kind "end".

    `<digits>e<sign?><digits>` is always scientific notation; "2e" alone, or "2e+x", is
    2 followed by the constant e. A pasted Greek letter is a name token of its own:
    "xθ" is the names x and theta, "θ1" the name theta and the number 1.
    """
    source, cols = _translate(text)
    tokens: list[Token] = []
    position, n = 0, len(source)
    while position < n:
        match = _TOKEN_PATTERN.match(source, position)
        if match is None:
            col = cols[position]
            ch = source[position]
            following = source[position + 1 : position + 2]
            message = f"unexpected {_quote(ch)} at column {col}"
            if not ch.isprintable():
                message = f"the character {_describe_char(ch)} at column {col} is not allowed"
            elif ch == "." and following.isalpha():
                message += ": there is no attribute access in an answer"
            elif ch == "_" and _pasted_letter_before(text, col):
                # "θ_1": the pasted letter stands alone, so the subscript has no name.
                name = PASTED[text[col - 2]].strip()
                subscript = re.match(r"_[A-Za-z0-9_]*", source[position:]).group()
                message += f": a pasted letter is a name of its own; type {name}{subscript}"
            elif ch == "=" and following == "=":
                message += _ASCII_HINTS["<"]
            elif ch == ";" and source[:position].count("[") + source[:position].count("(") > (
                source[:position].count("]") + source[:position].count(")")
            ):
                message += ": separate the items of a list with commas"
            elif (
                ch == "'"
                and position
                and (source[position - 1].isalnum() or source[position - 1] == ")")
            ):
                message += ": a prime cannot be typed; write the derivative out instead"
            else:
                message += _ASCII_HINTS.get(ch, "")
            raise ParseError(message, col)
        kind = match.lastgroup
        start, stop = match.span()
        position = stop
        if kind == "space":
            continue
        col = cols[start]
        raw = text[col - 1 : cols[stop - 1]]
        word = match.group()
        if kind == "number":
            tokens.append(Token("number", word, col, raw, _number_value(word, col, limits)))
        elif kind == "name":
            tokens.append(Token("name", word, col, raw))
        elif kind == "power":
            tokens.append(Token("op", "^", col, raw))
        elif kind == "op":
            tokens.append(Token("op", word, col, raw))
        elif kind == "punct":
            tokens.append(Token(word, word, col, raw))
        else:
            tokens.append(Token("sqrt", "sqrt", col, raw))
    tokens.append(Token("end", "", len(text) + 1, ""))
    return tokens


def _pasted_letter_before(text: str, col: int) -> bool:
    """The character typed just before column `col` is a pasted Greek letter."""
    return col >= 2 and PASTED.get(text[col - 2], "").isalpha()


def _number_value(word: str, col: int, limits: Limits) -> Fraction:
    mantissa, _, exponent_text = word.replace("E", "e").partition("e")
    whole, _, fraction = mantissa.partition(".")
    if len(whole) + len(fraction) > limits.max_digits:
        raise ParseError(
            f"the number at column {col} has too many digits (at most {limits.max_digits})", col
        )
    exponent = 0
    if exponent_text:
        digits = exponent_text.lstrip("+-").lstrip("0") or "0"
        if len(digits) > len(str(limits.max_exponent)) or int(digits) > limits.max_exponent:
            raise ParseError(
                f"the number at column {col} has too large an exponent"
                f" (at most {limits.max_exponent})",
                col,
            )
        exponent = -int(digits) if exponent_text.startswith("-") else int(digits)
    value = Fraction(int(whole + fraction or "0"), 10 ** len(fraction))
    return value * Fraction(10) ** exponent


def _suggest_split(word: str, known: set[str], functions: set[str], call: bool) -> str | None:
    """`x*y` for "xy" when the pieces are all known names, else None."""
    if len(word) > 30:
        return None
    n = len(word)
    # best[i]: the fewest pieces that spell word[:i]
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, n + 1):
            piece = word[i:j]
            allowed = piece in known or (call and j == n and piece in functions)
            if allowed and (best[j] is None or len(best[j]) > len(best[i]) + 1):
                best[j] = best[i] + [piece]
    pieces = best[n]
    # More than a few pieces is more likely a typing slip than a product.
    if not pieces or not 2 <= len(pieces) <= 4:
        return None
    text = "*".join(pieces)
    return text + "(...)" if call and pieces[-1] in functions else text


def _letter_run(
    word: str, variables: set[str], callables: set[str], call: bool
) -> list[str] | None:
    """The factors that a run of letters is read as, or None when it is not read.

    The specification's letter runs: every letter a declared one-letter variable, or e
    (declared or Euler's number); before "(" the longest function name that ends the run
    is split off first. `word` is a name that is neither declared nor a constant nor a
    function: "xy" gives x, y; "xsin" before "(" gives x, sin; "thetax" gives None.
    """
    function: list[str] = []
    if call:
        # The function may end in digits (log10): "xlog10(" is x*log10(.
        for length in range(len(word) - 1, 0, -1):
            if word[-length:] in callables:
                function = [word[-length:]]
                word = word[:-length]
                break
    if word.isalpha() and all(letter in variables or letter == "e" for letter in word):
        return list(word) + function
    return None


def _undeclared_letters(word: str, variables: set[str]) -> str | None:
    """ "q is not a variable" for the run "xq" with x declared; None unless `word` is a
    run of letters of which some, not all, are declared one-letter variables."""
    if not word.isalpha() or len(word) > 30:
        return None
    missing = list(dict.fromkeys(c for c in word if c not in variables and c != "e"))
    if not missing or len(missing) == len(set(word) - {"e"}):
        return None
    if len(missing) == 1:
        return f"{missing[0]} is not a variable"
    return f"{', '.join(missing[:-1])} and {missing[-1]} are not variables"


class _Parser:
    def __init__(
        self,
        text: str,
        variables: Iterable[str],
        functions: Iterable[str],
        limits: Limits,
    ) -> None:
        self.text = text
        self.limits = limits
        self.variables = set(variables)
        self.functions = set(functions)
        self.tokens = self.split_letter_runs(tokenize(text, limits))
        self.pos = 0
        # The closers expected by the brackets and bars we are inside, innermost last,
        # with the opening token of each.
        self.open: list[Token] = []
        self.depth = 0

    def split_letter_runs(self, tokens: list[Token]) -> list[Token]:
        """Each name that reads as a letter run replaced by its factors, one token each,
        so that a power after the run takes only its last letter: 2xy^2 is 2*x*(y^2)."""
        callables = self.functions | FUNCTION_NAMES
        result: list[Token] = []
        for index, token in enumerate(tokens):
            word = token.text
            if (
                token.kind != "name"
                or word in self.variables
                or word in callables
                or word in CONSTANTS
            ):
                result.append(token)
                continue
            call = tokens[index + 1].kind == "("
            pieces = _letter_run(word, self.variables, callables, call)
            if pieces is None:
                result.append(token)
                continue
            # A name token is typed in ASCII, so its columns follow its letters.
            offset = 0
            for piece in pieces:
                result.append(Token("name", piece, token.col + offset, piece))
                offset += len(piece)
        return result

    # -- token helpers --------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def in_bar(self) -> bool:
        return bool(self.open) and self.open[-1].kind == "|"

    def enter(self, opener: Token) -> None:
        """Go one level deeper; a "√" counts as a level but is not a bracket."""
        if self.depth >= self.limits.max_depth:
            raise ParseError(
                f"the answer is nested too deeply at column {opener.col}"
                f" (at most {self.limits.max_depth} levels)",
                opener.col,
            )
        self.depth += 1
        if opener.kind != "sqrt":
            self.open.append(opener)

    def leave(self, opener: Token) -> None:
        self.depth -= 1
        if opener.kind != "sqrt":
            self.open.pop()

    def expect_close(self, opener: Token) -> Token:
        closer = "|" if opener.kind == "|" else _OPENERS[opener.kind]
        token = self.tok
        if token.kind == closer:
            return self.advance()
        expected_by_outer = any(
            ("|" if o.kind == "|" else _OPENERS[o.kind]) == token.kind for o in self.open[:-1]
        )
        if token.kind == "end" or expected_by_outer:
            raise ParseError(
                f"missing {_quote(closer)} to close {_quote(opener.raw)} at column {opener.col}",
                opener.col,
            )
        if token.kind in _CLOSERS:
            raise ParseError(
                f"{_quote(token.raw)} at column {token.col} does not match"
                f" {_quote(opener.raw)} at column {opener.col}",
                token.col,
            )
        if token.kind == ",":
            raise ParseError(f"unexpected {_quote(',')} at column {token.col}", token.col)
        raise self.unexpected(token)

    def unexpected(self, token: Token) -> ParseError:
        if token.kind == "end":
            return ParseError(f"the answer ends too early at column {token.col}", token.col)
        if token.kind in _CLOSERS:
            return ParseError(
                f"{_quote(token.raw)} at column {token.col} has no matching opening bracket",
                token.col,
            )
        return ParseError(f"unexpected {_quote(token.raw)} at column {token.col}", token.col)

    def scalar(self, node: Node) -> Node:
        if isinstance(node, Group) and node.bracket == "{" and len(node.items) == 1:
            raise ParseError(
                f"curly brackets at column {node.col} do not group: use ( ) instead",
                node.col,
            )
        if isinstance(node, Group):
            raise ParseError(
                f"the list at column {node.col} cannot be part of an expression",
                node.col,
            )
        return node

    # -- grammar --------------------------------------------------------------

    def parse(self) -> Node:
        if not self.text.strip() or self.tok.kind == "end":
            raise ParseError("empty answer", None)
        node = self.expression()
        token = self.tok
        if token.kind != "end":
            if token.kind == ",":
                raise ParseError(
                    f"unexpected {_quote(',')} at column {token.col}:"
                    " put a list in brackets, e.g. [1, 2]",
                    token.col,
                )
            if token.kind == "|":
                raise ParseError(
                    f"{_quote('|')} at column {token.col} has no matching {_quote('|')}",
                    token.col,
                )
            raise self.unexpected(token)
        return node

    def expression(self) -> Node:
        node = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance().text
            right = self.term()
            node = BinOp(op, self.scalar(node), self.scalar(right), col=node.col)
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            token = self.tok
            if token.kind == "op" and token.text in "*/":
                self.advance()
                right = self.unary()
            elif token.kind in ("name", "(", "sqrt"):
                right = self.power()
                token = Token("op", "*", token.col, "")
            elif token.kind == "number":
                previous = self.tokens[self.pos - 1] if self.pos else None
                if (
                    previous is not None
                    and previous.kind == "number"
                    and token.raw.startswith(".")
                    and "." in previous.raw
                    and previous.col + len(previous.raw) == token.col
                ):
                    # `2..5`, `1.2.3`
                    raise ParseError(
                        f"the number at column {previous.col} has two decimal points",
                        previous.col,
                    )
                if (
                    previous is not None
                    and previous.kind == "number"
                    and token.raw.startswith(".")
                    and "." not in previous.raw
                ):
                    # `2 .25`: a space typed inside a number.
                    raise ParseError(
                        f"a space at column {token.col - 1} splits a number:"
                        f" write {previous.raw}{token.raw}, or * for a product",
                        token.col,
                    )
                if previous is not None and previous.kind == "name":
                    self.check_pasted_letter_then_number(previous, token)
                raise ParseError(
                    f"missing operator before {_quote(token.raw)} at column {token.col}:"
                    " write * for a product",
                    token.col,
                )
            elif token.kind == "|" and not any(o.kind == "|" for o in self.open):
                raise ParseError(
                    f"missing operator before {_quote('|')} at column {token.col}:"
                    " write * for a product, as in 2*|x|",
                    token.col,
                )
            else:
                return node
            node = BinOp(token.text, self.scalar(node), self.scalar(right), col=node.col)

    def check_pasted_letter_then_number(self, letter: Token, number: Token) -> None:
        """Refuse "θ1" where theta1 or theta_1 is declared, naming it: a pasted letter is
        a name of its own, so "θ1" is theta followed by 1."""
        if letter.raw.isascii() or letter.col + len(letter.raw) != number.col:
            return
        names = (f"{letter.text}{number.raw}", f"{letter.text}_{number.raw}")
        for name in names:
            if name in self.variables:
                raise ParseError(
                    f"{_quote(letter.raw + number.raw)} at column {letter.col}: a pasted letter"
                    f" is a name of its own; type {name}",
                    letter.col,
                )

    def signs(self) -> list[Token]:
        signs = []
        while self.tok.kind == "op" and self.tok.text in "+-":
            signs.append(self.advance())
        return signs

    @staticmethod
    def apply_signs(signs: list[Token], node: Node) -> Node:
        for sign in reversed(signs):
            if sign.text == "-":
                node = Neg(node, col=sign.col)
        return node

    def unary(self) -> Node:
        signs = self.signs()
        node = self.power()
        if signs:
            node = self.apply_signs(signs, self.scalar(node))
        return node

    def power(self) -> Node:
        base = self.primary()
        if not (self.tok.kind == "op" and self.tok.text == "^"):
            return base
        operands = [self.scalar(base)]
        carets: list[Token] = []
        signs_before: list[list[Token]] = []
        while self.tok.kind == "op" and self.tok.text == "^":
            carets.append(self.advance())
            signs_before.append(self.signs())
            if self.tok.kind == "end":
                caret = carets[-1]
                raise ParseError(
                    f"missing the power after {_quote(caret.raw)} at column {caret.col}",
                    caret.col,
                )
            operands.append(self.scalar(self.primary()))
        # a ^ -b ^ c is a ^ (-(b ^ c)): fold from the right.
        node = self.apply_signs(signs_before[-1], operands[-1])
        for k in range(len(operands) - 2, -1, -1):
            node = BinOp("^", operands[k], node, col=operands[k].col)
            if k > 0:
                node = self.apply_signs(signs_before[k - 1], node)
        return node

    def primary(self) -> Node:
        token = self.tok
        kind = token.kind
        if kind == "number":
            self.advance()
            return Number(token.value, token.text, col=token.col)
        if kind == "name":
            return self.name()
        if kind in _OPENERS:
            return self.bracketed()
        if kind == "|":
            return self.bars()
        if kind == "sqrt":
            return self.sqrt_sign()
        if kind == "op" and token.text in "+-":
            # Only reached after "^" or inside a √ operand, where the signs were taken.
            raise self.unexpected(token)
        previous = self.tokens[self.pos - 1] if self.pos > 0 else None
        ends_early = kind == "end" or kind in _CLOSERS or kind == ","
        if previous is not None and ends_early and (kind == "end" or previous.kind == "op"):
            raise ParseError(
                f"missing something after {_quote(previous.raw)} at column {previous.col}",
                previous.col,
            )
        raise self.unexpected(token)

    def bracketed(self) -> Node:
        opener = self.advance()
        self.enter(opener)
        closer = _OPENERS[opener.kind]
        items: list[Node] = []
        comma = False
        if self.tok.kind == closer:
            if opener.kind == "(":
                raise ParseError(f"empty parentheses at column {opener.col}", opener.col)
        else:
            items.append(self.expression())
            while self.tok.kind == ",":
                comma_token = self.advance()
                comma = True
                if self.tok.kind in (closer, ",", "end"):
                    raise ParseError(
                        f"missing an item after {_quote(',')} at column {comma_token.col}",
                        comma_token.col,
                    )
                items.append(self.expression())
        self.expect_close(opener)
        self.leave(opener)
        if opener.kind == "(" and not comma:
            return items[0]
        return Group(tuple(items), opener.kind, col=opener.col)

    def bars(self) -> Node:
        opener = self.advance()
        if self.in_bar():
            raise ParseError(
                f"{_quote('|')} at column {opener.col}: |...| cannot be nested directly;"
                " use abs(...) inside",
                opener.col,
            )
        self.enter(opener)
        if self.tok.kind == "|":
            raise ParseError(
                f"{_quote('||')} at column {opener.col}: |...| cannot be empty or nested"
                " directly; use abs(...) inside",
                opener.col,
            )
        inner = self.scalar(self.expression())
        self.expect_close(opener)
        self.leave(opener)
        return Call("abs", inner, col=opener.col)

    def sqrt_sign(self) -> Node:
        sign = self.advance()
        self.enter(sign)
        token = self.tok
        if token.kind not in ("number", "name", "(", "sqrt", "|"):
            raise ParseError(
                f"{_quote(SQRT_SIGN)} at column {sign.col} must be followed by a number,"
                f" a name or a bracket: write {SQRT_SIGN}(...)",
                sign.col,
            )
        operand = self.scalar(self.primary())
        self.leave(sign)
        # The sign takes the group or name that follows and nothing more, as the
        # specification reads it: √x² is sqrt(x)^2, which is undefined for x < 0.
        return Call("sqrt", operand, col=sign.col)

    def name(self) -> Node:
        token = self.advance()
        name = token.text
        followed_by_call = self.tok.kind == "("
        if name in self.variables and not (followed_by_call and name in self.functions):
            return Symbol(name, col=token.col)
        if name in self.functions:
            return self.call(token, name, builtin=False)
        if name in FUNCTION_NAMES:
            return self.call(token, FUNCTION_ALIASES.get(name, name), builtin=True)
        if name in CONSTANTS:
            return Constant(name, col=token.col)
        raise self.unknown_name(token, followed_by_call)

    def unknown_name(self, token: Token, call: bool) -> ParseError:
        name = token.text
        known = set(self.variables) | {c for c in CONSTANTS if c not in self.variables}
        callables = set(self.functions) | FUNCTION_NAMES
        what = "function" if call and not known & {name} else "name"
        shown = _quote(token.raw)
        if self.tok.kind == "number":
            self.check_pasted_letter_then_number(token, self.tok)
        hint = None
        power = self.function_power_after()
        split = _suggest_split(name, known, callables, call or power is not None)
        if split and power is not None and split.endswith("(...)"):
            # "xsin^2(x)": a run is split before "(" only, not before a power.
            hint = split.removesuffix("(...)") + f"^{power}(...)"
        elif split:
            hint = split.removesuffix("(...)") if power is not None else split
        written = self.function_inside(name) if not hint and not call else None
        if written and "*" not in written:
            return ParseError(
                f"{shown} at column {token.col} is not a known name: write {written}", token.col
            )
        if written:
            hint = written
        if not hint:
            everything = known | callables
            folded = [k for k in everything if k.lower() == name.lower()]
            folded += [
                k for k in everything if k.replace("_", "") == name.replace("_", "") and k != name
            ]
            if folded:
                hint = sorted(folded)[0]
        previous = self.tokens[self.pos - 2] if self.pos >= 2 else None
        if (
            not hint
            and previous is not None
            and previous.kind == "number"
            and name in {"x10", "X10"}
        ):
            return ParseError(
                f"{shown} at column {token.col} is not a known name: for a power of ten write"
                f" {previous.raw}*10^... or {previous.raw}e...",
                token.col,
            )
        if not hint and name.lower() in _MISSING_FUNCTIONS:
            return ParseError(
                f"{shown} at column {token.col} is not a known function:"
                f" write {_MISSING_FUNCTIONS[name.lower()]}",
                token.col,
            )
        if not hint and not call:
            # "xsin" without its bracket: the function that ends the run wants one.
            split = _suggest_split(name, known, callables, True)
            if split and split.endswith("(...)"):
                hint = split
        if hint:
            return ParseError(
                f"{shown} at column {token.col} is not a known {what}: did you mean {hint}?",
                token.col,
            )
        message = f"unknown {what} {shown} at column {token.col}"
        undeclared = _undeclared_letters(name, self.variables)
        if undeclared:
            # A run of letters with one not declared: say which, so "xq" is not
            # mistaken for a refusal of letter runs as such.
            message += f": {undeclared} of this question"
        if not call and not self.variables:
            message += " (this answer has no variables)"
        return ParseError(message, token.col)

    def function_power_after(self) -> str | None:
        """The n when the tokens ahead are `^ n (`, as after the "sin" of sin^2(x)."""
        caret, power, opener = self.tok, self.peek(), self.peek(2)
        if (
            caret.kind == "op"
            and caret.text == "^"
            and power.kind == "number"
            and power.text.isdigit()
            and opener.kind == "("
        ):
            return power.text
        return None

    def function_inside(self, word: str) -> str | None:
        """`sin(x)` for "sinx", `x*sin(2x)` for "xsin2x": a function name inside a name,
        with the rest of the name as its argument, when every part can be read."""
        if len(word) > 30:
            return None
        callables = self.functions | FUNCTION_NAMES
        for start in range(len(word) - 1):
            prefix = word[:start]
            factors = [prefix] if prefix in self.variables or prefix in CONSTANTS else None
            if prefix and factors is None:
                factors = _letter_run(prefix, self.variables, callables, call=False)
                if factors is None:
                    continue
            for stop in range(len(word) - 1, start, -1):
                function = word[start:stop]
                if function in callables:
                    calls = self.calls_in(word[stop:], function)
                    if calls:
                        return "*".join([*(factors or []), calls])
        return None

    def calls_in(self, rest: str, function: str) -> str | None:
        """`sin(x)*cos(x)` for the rest "xcosx" of "sinxcosx" after `function` "sin"."""
        arguments = self.call_arguments(rest, {})
        return function + arguments if arguments else None

    def call_arguments(self, rest: str, memo: dict[str, str | None]) -> str | None:
        """`(x)*cos(x)` for "xcosx": an argument, then maybe more calls. Remembering
        the answer for each tail keeps the search polynomial in the length."""
        if rest in memo:
            return memo[rest]
        memo[rest] = None
        if self.readable_argument(rest):
            memo[rest] = f"({rest})"
            return memo[rest]
        callables = self.functions | FUNCTION_NAMES
        for end in range(1, len(rest)):
            argument, tail = rest[:end], rest[end:]
            if not self.readable_argument(argument):
                continue
            for stop in range(len(tail) - 1, 0, -1):
                if tail[:stop] in callables:
                    after = self.call_arguments(tail[stop:], memo)
                    if after:
                        memo[rest] = f"({argument})*{tail[:stop]}{after}"
                        return memo[rest]
        return None

    def readable_argument(self, text: str) -> bool:
        """`text`, the tail of a name, reads as a number, a name or a letter run."""
        digits = len(text) - len(text.lstrip("0123456789"))
        name = text[digits:]
        if not name:
            return True
        if name in self.variables or name in CONSTANTS:
            return True
        return _letter_run(name, self.variables, set(), call=False) is not None

    def call(self, token: Token, name: str, builtin: bool) -> Node:
        node_type = Call if builtin else Apply
        shown = token.raw
        power: Token | None = None
        if self.tok.kind == "op" and self.tok.text == "^":
            power = self.read_function_power(token, builtin)
        if self.tok.kind != "(":
            inner = self.following_factor() or "..."
            suffix = f"^{power.text}" if power else ""
            raise ParseError(
                f"{_quote(shown + suffix)} at column {token.col} needs parentheses:"
                f" write {shown}{suffix}({inner})",
                token.col,
            )
        opener = self.advance()
        self.enter(opener)
        if self.tok.kind == ")":
            raise ParseError(
                f"missing the argument of {_quote(shown)} at column {token.col}", token.col
            )
        arg = self.scalar(self.expression())
        if self.tok.kind == ",":
            message = f"{_quote(shown)} at column {token.col} takes one argument"
            if name == "log":
                message += ": log is the natural logarithm; for base b write log(x)/log(b)"
            raise ParseError(message, self.tok.col)
        self.expect_close(opener)
        self.leave(opener)
        node: Node = node_type(name, arg, col=token.col)
        if power is not None:
            node = BinOp("^", node, Number(power.value, power.text, col=power.col), col=token.col)
        return node

    def following_factor(self) -> str | None:
        """The text of the product that follows a function name typed without brackets.

        `sin 3x` reads as "3x" and `cos x^2` as "x^2": what the student most likely
        meant as the argument. None when it is not a short run of numbers and names.
        """
        end = self.pos
        while True:
            token = self.tokens[end]
            if token.kind == "number" or (
                token.kind == "name"
                and token.text not in self.functions
                and token.text not in FUNCTION_NAMES
                and (token.text in self.variables or token.text in CONSTANTS)
            ):
                end += 1
            elif (
                token.kind == "op"
                and token.text == "^"
                and end > self.pos
                and self.tokens[end + 1].kind in ("number", "name")
            ):
                end += 1
            else:
                break
        if end == self.pos:
            return None
        first, last = self.tokens[self.pos], self.tokens[end - 1]
        text = self.text[first.col - 1 : last.col - 1 + len(last.raw)]
        return text if len(text) <= 30 and "\n" not in text else None

    def read_function_power(self, token: Token, builtin: bool) -> Token:
        """The n of `sin^n(x)`: a positive whole number written right after "^"."""
        caret = self.advance()
        shown = token.raw
        nxt = self.tok
        if not builtin:
            raise ParseError(
                f'"{shown}^" at column {token.col} is ambiguous:'
                f" write {shown}(x)^2 for a power or {shown}({shown}(x)) for a composition",
                token.col,
            )
        bracketed = nxt.kind == "(" and self.peek().kind == "op" and self.peek().text == "-"
        if (nxt.kind == "op" and nxt.text == "-") or bracketed:
            inverse = _INVERSES.get(FUNCTION_ALIASES.get(token.text, token.text))
            choice = f"{inverse}(x) for the inverse or " if inverse else ""
            after = self.peek(2 if bracketed else 1)
            power = after.raw if after.kind == "number" else ""
            typed = f"{shown}^(-{power})" if bracketed else f"{shown}^-{power}"
            raise ParseError(
                f'"{typed}" at column {token.col} is ambiguous:'
                f" write {choice}1/{shown}(x) for the reciprocal",
                token.col,
            )
        if nxt.kind != "number" or not nxt.text.isdigit() or nxt.value == 0:
            raise ParseError(
                f'only a positive whole power may follow "{shown}^" at column {caret.col}:'
                f" write {shown}(x)^y",
                caret.col,
            )
        self.advance()
        return nxt


def readings(
    text: str,
    variables: Iterable[str] = (),
    functions: Iterable[str] = (),
    limits: Limits = Limits(),
) -> list[tuple[str, str]]:
    """How each group of letters typed together was split, for the live preview.

    A pair (as typed, as read) for each run of names that touch in the text, as a letter
    run or a pasted letter beside others gives: `[("xy", "x·y")]` for "2xy^2",
    `[("πx", "π·x")]` for "2πx", `[("xsin", "x·sin")]` for "xsin(x)". A name read
    whole (a declared `xy`) gives nothing. Call it on an answer that `parse` reads.
    """
    tokens = _Parser(text, variables, functions, limits).tokens
    result: list[tuple[str, str]] = []
    group: list[Token] = []
    for token in tokens:
        touches = bool(group) and group[-1].col + len(group[-1].raw) == token.col
        if token.kind == "name" and touches:
            group.append(token)
            continue
        if len(group) > 1:
            typed = text[group[0].col - 1 : group[-1].col - 1 + len(group[-1].raw)]
            result.append((typed, "\u00b7".join(t.raw for t in group)))
        group = [token] if token.kind == "name" else []
    return result


def _check_magnitudes(node: Node, limits: Limits) -> None:
    """Refuse constant sub-expressions too large to compute, without computing them.

    Each constant sub-tree gets a rough (sign, log10 of magnitude) estimate in floating
    point; sign None means unknown. Where a value is not known closely, the estimate
    errs towards large, so a contrived cancellation may be refused. Bounded functions
    (sin, atan, and tan away from its poles) count as moderate: this guards against
    the blow-ups of powers and exponentials, while the time bound of a check remains
    the last word on anything slow.
    """
    limit = limits.max_magnitude_log10
    estimates: dict[int, tuple[int | None, float] | None] = {}
    for current in postorder(node):
        estimate = _estimate(current, estimates, limits)
        estimates[id(current)] = estimate
        if estimate is not None and estimate[1] > limit:
            raise ParseError(
                f"the value at column {current.col} is too large (larger than 10^{limit} in size)",
                current.col,
            )


def _value(estimate: tuple[int | None, float]) -> float | None:
    sign, lg = estimate
    if sign is None or lg > 300:
        return None
    if sign == 0 or lg == -math.inf:
        return 0.0
    return sign * 10.0**lg


_BOUNDED = {"sin", "cos", "tanh", "atan", "asin", "acos", "tan", "sec", "csc", "cot"}


def _estimate(
    node: Node, estimates: dict[int, tuple[int | None, float] | None], limits: Limits
) -> tuple[int | None, float] | None:
    if isinstance(node, Number):
        value = node.value
        if value == 0:
            return (0, -math.inf)
        lg = math.log10(abs(value.numerator)) - math.log10(value.denominator)
        return (1 if value > 0 else -1, lg)
    if isinstance(node, Constant):
        return (1, math.log10(math.pi if node.name == "pi" else math.e))
    if isinstance(node, Symbol | Apply | Group):
        return None
    if isinstance(node, Neg):
        inner = estimates[id(node.operand)]
        if inner is None:
            return None
        return (None if inner[0] is None else -inner[0], inner[1])
    if isinstance(node, Call):
        arg = estimates[id(node.arg)]
        if arg is None:
            return None
        return _estimate_call(node.func, arg)
    assert isinstance(node, BinOp)
    left, right = estimates[id(node.left)], estimates[id(node.right)]
    if (
        node.op == "^"
        and right is not None
        and right[1] > math.log10(limits.max_power)
        and not _known_fractional(node.right)
    ):
        # The limit is on whole powers (x^100000.5 is left to the evaluators, which
        # bound their own work).
        col = node.right.col
        raise ParseError(
            f"the power at column {col} is too large (at most {limits.max_power} in size)", col
        )
    if left is None or right is None:
        return None
    (ls, ll), (rs, rl) = left, right
    if node.op in "+-":
        if ls == 0:
            return (rs if node.op == "+" or rs is None else -rs, rl)
        if rs == 0:
            return left
        lv, rv = _value(left), _value(right)
        if lv is not None and rv is not None:
            total = lv + rv if node.op == "+" else lv - rv
            if total == 0:
                return (None, max(ll, rl) - 15)
            return (1 if total > 0 else -1, math.log10(abs(total)))
        if ls is not None and rs is not None:
            # Too large for floats, but the signs are known: a sum that one term
            # dominates has that term's sign (-1e301 - 0.5 is negative, so its exp is
            # tiny), and is at most 1.1 times as large.
            rs_signed = rs if node.op == "+" else -rs
            if abs(ll - rl) > 1:
                return (ls if ll > rl else rs_signed, max(ll, rl) + math.log10(1.1))
            if ls == rs_signed:
                return (ls, max(ll, rl) + _LOG10_2)
        return (None, max(ll, rl) + _LOG10_2)
    if node.op == "*":
        sign = None if ls is None or rs is None else ls * rs
        if ls == 0 or rs == 0:
            return (0, -math.inf)
        return (sign, ll + rl)
    if node.op == "/":
        if rs == 0:
            return (None, 0.0)  # division by zero: undefined, which is not for us to say
        sign = None if ls is None or rs is None else ls * rs
        return (sign, ll - rl)
    # "^"
    if ls == 0:
        return (0, -math.inf)
    exponent = _value(right)
    if exponent is not None:
        if exponent == 0:
            return (1, 0.0)
        sign = 1 if ls == 1 else None
        if ls == -1 and exponent.is_integer():
            sign = -1 if int(exponent) % 2 else 1
        return (sign, exponent * ll)
    if ll == 0:
        return (None, 0.0)
    if rl <= 300:
        # The exponent's sign is unknown but its size is not: bound the result by it.
        return (1 if ls == 1 else None, 10.0**rl * abs(ll))
    grows = (ll > 0) == (rs == 1) if rs is not None else True
    return (None, math.inf if grows else -math.inf)


def _known_fractional(node: Node) -> bool:
    """The constant `node` is exactly a number that is not a whole number."""
    from grading.evaluate import exact_value  # the parser is used without it otherwise

    value = exact_value(node)
    return value is not None and value.denominator != 1


def _estimate_call(func: str, arg: tuple[int | None, float]) -> tuple[int | None, float]:
    sign, lg = arg
    value = _value(arg)
    if func in _BOUNDED:
        return (None, 0.5)
    if func == "abs":
        return (0 if sign == 0 else 1, lg)
    if func == "sqrt":
        return (0 if sign == 0 else 1, lg / 2)
    if func in ("log", "log10"):
        if sign == 0 or lg == -math.inf:
            return (None, 0.0)
        ln = abs(lg) * math.log(10)
        return (None, math.log10(ln + 1))
    # exp, sinh, cosh: e^|v| at most; exp of a negative is small (exp(-10^20), like
    # e^(-10^20), is a tiny number, not a large one).
    if value is not None:
        if func == "exp":
            return (1, value / math.log(10))
        return (1 if func != "sinh" else None, abs(value) / math.log(10))
    if func == "exp" and sign == -1:
        return (1, -math.inf)
    return (None, math.inf)


def parse(
    text: str,
    variables: Iterable[str] = (),
    functions: Iterable[str] = (),
    limits: Limits = Limits(),
) -> Node:
    """Read one answer into a tree, or raise `ParseError`.

    `variables` are the declared variable names and `functions` the names of the
    exercise's functions (`sigma`, `f`), defined or abstract.
    """
    if not isinstance(text, str):
        raise ParseError("the answer must be text", None)
    if len(text) > limits.max_length:
        raise ParseError(
            f"the answer is too long ({len(text)} characters; at most {limits.max_length})",
            None,
        )
    try:
        node = _Parser(text, variables, functions, limits).parse()
    except RecursionError:
        # Only reachable with a max_depth set beyond what the interpreter's stack holds.
        raise ParseError("the answer is nested too deeply", None) from None
    _check_magnitudes(node, limits)
    return node


@dataclass(frozen=True)
class FunctionDefinition:
    """`name(param) = body`; `body` is None for an abstract function."""

    name: str
    param: str | None
    body: Node | None

    def __iter__(self):
        """Unpacks as `name, param, body`."""
        return iter((self.name, self.param, self.body))


def parse_function_definition(
    text: str, functions: Iterable[str] = (), limits: Limits = Limits()
) -> FunctionDefinition:
    """Read `sigma(z) = 1/(1+e^(-z))`, or a bare name `f` for an abstract function.

    The body may use the parameter and the other exercise functions named in
    `functions`, but not the function being defined.
    """
    head, eq, body_text = text.partition("=")
    head_tokens = tokenize(head.strip() or " ", limits)
    kinds = [t.kind for t in head_tokens]
    if not eq:
        # An abstract function: "f", or "f(x)" naming its parameter.
        if kinds in (["name", "end"], ["name", "(", "name", ")", "end"]):
            name = head_tokens[0].text
            _check_function_name(name, text)
            param = head_tokens[2].text if len(kinds) > 2 else None
            return FunctionDefinition(name, param, None)
        raise ParseError(f"a function is written as a name or as f(x) = ...: got {text!r}", None)
    if kinds != ["name", "(", "name", ")", "end"]:
        raise ParseError(f"a function definition is written f(x) = ...: got {text!r}", None)
    name, param = head_tokens[0].text, head_tokens[2].text
    _check_function_name(name, text)
    others = set(functions) - {name}
    try:
        body = parse(body_text, variables=(param,), functions=others, limits=limits)
    except ParseError as error:
        offset = len(head) + 1
        column = None if error.column is None else error.column + offset
        raise ParseError(f"in the definition of {name}: {error.message}", column) from None
    return FunctionDefinition(name, param, body)


def _check_function_name(name: str, text: str) -> None:
    if name in FUNCTION_NAMES or name in CONSTANTS:
        raise ParseError(f"{name} is a built-in name and cannot be redefined: {text!r}", None)


def parse_functions(
    definitions: Sequence[str], limits: Limits = Limits()
) -> dict[str, FunctionDefinition]:
    """Read an exercise's function list; a function may not depend on itself."""
    names = []
    for text in definitions:
        head = text.partition("=")[0]
        tokens = tokenize(head.strip() or " ", limits)
        if tokens[0].kind != "name":
            raise ParseError(f"a function is written as a name or as f(x) = ...: got {text!r}")
        names.append(tokens[0].text)
    if len(set(names)) != len(names):
        raise ParseError("a function is declared twice", None)
    result = {}
    for text in definitions:
        definition = parse_function_definition(text, functions=names, limits=limits)
        result[definition.name] = definition
    _check_no_cycle(result)
    return result


def _check_no_cycle(definitions: dict[str, FunctionDefinition]) -> None:
    uses = {
        name: sorted(applied_functions(d.body)) if d.body is not None else []
        for name, d in definitions.items()
    }
    done: set[str] = set()
    for start in uses:
        if start in done:
            continue
        visiting = {start}
        stack = [(start, iter(uses[start]))]
        while stack:
            name, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                done.add(name)
                visiting.discard(name)
                stack.pop()
            elif nxt in visiting:
                raise ParseError(f"the function {nxt} is defined in terms of itself", None)
            elif nxt not in done:
                visiting.add(nxt)
                stack.append((nxt, iter(uses.get(nxt, []))))


def _shown(key: str) -> str:
    """An unknown option as the message echoes it: at most 20 characters, and any that
    cannot be printed (a NUL, a lone surrogate) as its code, U+0000."""
    shown = "".join(c if c.isprintable() else f"U+{ord(c):04X}" for c in key[:20])
    return shown if len(key) <= 20 else shown + "..."


def parse_choice(text: str, options: Iterable[str]) -> frozenset[str]:
    """Read option keys separated by commas, e.g. `a, c`."""
    options = list(options)
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty answer", None)
    if len(text) > Limits().max_length:
        raise ParseError("the answer is too long", None)
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] in "[({" and stripped[-1] in "])}":
        inner = ", ".join(p.strip() for p in stripped[1:-1].split(",") if p.strip())
        raise ParseError(
            f"type the option keys without brackets, e.g. {inner or 'a, c'}",
            text.index(stripped[0]) + 1,
        )
    chosen = set()
    position = 0
    for part in text.split(","):
        key = part.strip()
        col = position + (len(part) - len(part.lstrip())) + 1
        position += len(part) + 1
        if not key:
            raise ParseError(f"missing an option at column {col}", col)
        if key in options:
            chosen.add(key)
            continue
        folded = [o for o in options if o.lower() == key.lower()]
        if len(folded) == 1:
            chosen.add(folded[0])
            continue
        shown = _shown(key)
        listed = ", ".join(options)
        pieces = [p for p in re.split(r"[\s;]+", key.strip("[](){} ")) if p]
        known = {o.lower() for o in options}
        if pieces and all(p.lower() in known for p in pieces):
            example = ", ".join(pieces)
            raise ParseError(
                f'"{shown}" at column {col}: type the option keys separated by commas,'
                f" e.g. {example}",
                col,
            )
        raise ParseError(f'unknown option "{shown}" at column {col}: the options are {listed}', col)
    return frozenset(chosen)
