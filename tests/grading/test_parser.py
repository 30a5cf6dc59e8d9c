"""The answer syntax of the specification, section 1: what is read, and how."""

from fractions import Fraction

import pytest

from grading.nodes import (
    Apply,
    BinOp,
    Call,
    Constant,
    Group,
    Neg,
    Number,
    Symbol,
    free_symbols,
    postorder,
    walk,
)
from grading.parser import (
    Limits,
    ParseError,
    parse,
    parse_choice,
    parse_function_definition,
    parse_functions,
)

VARIABLES = ("x", "y", "a", "b", "c", "z", "x1", "x_1", "theta", "lambda")
FUNCTIONS = ("f", "sigma")


def show(node) -> str:
    """A tree as a prefix expression: `(* 2 x)`."""
    if isinstance(node, Number):
        value = node.value
        return str(value.numerator) if value.denominator == 1 else str(value)
    if isinstance(node, Symbol | Constant):
        return node.name
    if isinstance(node, Neg):
        return f"(neg {show(node.operand)})"
    if isinstance(node, BinOp):
        return f"({node.op} {show(node.left)} {show(node.right)})"
    if isinstance(node, Call | Apply):
        name = node.func if isinstance(node, Call) else node.name
        return f"({name} {show(node.arg)})"
    assert isinstance(node, Group)
    return node.bracket + " ".join(show(item) for item in node.items)


def read(text: str, variables=VARIABLES, functions=FUNCTIONS, **kwargs) -> str:
    return show(parse(text, variables, functions, **kwargs))


def error(text: str, variables=VARIABLES, functions=FUNCTIONS, **kwargs) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(text, variables, functions, **kwargs)
    return info.value


# -- numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", Fraction(2)),
        ("2.5", Fraction(5, 2)),
        (".5", Fraction(1, 2)),
        ("5.", Fraction(5)),
        ("1e-3", Fraction(1, 1000)),
        ("2.5E4", Fraction(25000)),
        ("2e+3", Fraction(2000)),
        ("0.333", Fraction(333, 1000)),
        ("007", Fraction(7)),
    ],
)
def test_it_reads_number_literals_exactly(text, value):
    node = parse(text)
    assert isinstance(node, Number)
    assert node.value == value
    assert node.text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2e + 3", "(+ (* 2 e) 3)"),
        ("2*e+3", "(+ (* 2 e) 3)"),
        ("2e", "(* 2 e)"),
        ("2e+x", "(+ (* 2 e) x)"),
        ("2e3x", "(* 2000 x)"),
        ("2E", None),
    ],
)
def test_it_reads_e_after_digits_as_scientific_only_before_a_digit(text, expected):
    if expected is None:
        assert "E" in error(text).message
    else:
        assert read(text) == expected


def test_it_reads_scientific_notation_even_when_e_is_a_variable():
    assert read("2e+3", variables=("e",)) == "2000"
    assert read("2e", variables=("e",)) == "(* 2 e)"
    assert isinstance(parse("e", variables=("e",)), Symbol)
    assert isinstance(parse("e"), Constant)


# -- operators --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x+y-z", "(- (+ x y) z)"),
        ("x-y-z", "(- (- x y) z)"),
        ("x/y/z", "(/ (/ x y) z)"),
        ("x+y*z", "(+ x (* y z))"),
        ("x^2", "(^ x 2)"),
        ("x**2", "(^ x 2)"),
        ("x^y^z", "(^ x (^ y z))"),
        ("-x^2", "(neg (^ x 2))"),
        ("2^-1", "(^ 2 (neg 1))"),
        ("-2^2", "(neg (^ 2 2))"),
        ("2^-x^2", "(^ 2 (neg (^ x 2)))"),
        ("2**-1", "(^ 2 (neg 1))"),
        ("+x", "x"),
        ("x*-y", "(* x (neg y))"),
        ("x - -y", "(- x (neg y))"),
        ("--x", "(neg (neg x))"),
        ("-x*y", "(* (neg x) y)"),
        ("(x+y)^2", "(^ (+ x y) 2)"),
        ("e^-x", "(^ e (neg x))"),
    ],
)
def test_it_applies_precedence_and_associativity(text, expected):
    assert read(text) == expected


# -- implicit multiplication ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2x", "(* 2 x)"),
        ("2(x+1)", "(* 2 (+ x 1))"),
        ("(x+1)(x-1)", "(* (+ x 1) (- x 1))"),
        ("(x+1)x", "(* (+ x 1) x)"),
        ("2sin(x)", "(* 2 (sin x))"),
        ("x sin(x)", "(* x (sin x))"),
        ("x y", "(* x y)"),
        ("2 pi", "(* 2 pi)"),
        ("1/2x", "(* (/ 1 2) x)"),
        ("e^2x", "(* (^ e 2) x)"),
        ("2x^2", "(* 2 (^ x 2))"),
        ("x(x+1)", "(* x (+ x 1))"),
        ("2x y z", "(* (* (* 2 x) y) z)"),
        ("|x|y", "(* (abs x) y)"),
        ("|x|(y)", "(* (abs x) y)"),
        ("2√x", "(* 2 (sqrt x))"),
        ("-2x", "(* (neg 2) x)"),
    ],
)
def test_it_reads_implicit_multiplication_like_a_star(text, expected):
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "column"),
    [("2 3", 3), ("(x+1)2", 6), ("x 2", 3), ("2x 3", 4)],
)
def test_it_refuses_a_number_as_the_right_hand_factor(text, column):
    problem = error(text)
    assert problem.column == column
    assert f"column {column}" in problem.message
    assert "*" in problem.message


@pytest.mark.parametrize("text", ["1.2.3", "2..5", "x + 3.1.4"])
def test_it_says_a_number_has_two_decimal_points(text):
    assert error(text).message.endswith("has two decimal points")


@pytest.mark.parametrize(
    ("text", "advice"), [("sech(x)^2", "1/cosh(...)"), ("coth x", "cosh(...)/sinh(...)")]
)
def test_it_says_what_to_type_for_a_function_the_syntax_lacks(text, advice):
    assert error(text).message.endswith(f"write {advice}")


# -- names ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x", "x1", "x_1", "theta", "lambda"])
def test_it_reads_declared_variables(name):
    assert parse(name, VARIABLES) == Symbol(name)


def test_it_names_an_undeclared_name_and_where_it_is():
    problem = error("x + 2*z + q", variables=("x", "z"))
    assert problem.message == 'unknown name "q" at column 11'
    assert problem.column == 11


def test_it_says_when_the_answer_takes_no_variables():
    assert "no variables" in error("x", variables=()).message


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("xpi", "x*pi"),
        ("thetax", "theta*x"),
        ("thetasin(x)", "theta*sin(...)"),
        ("Sin(x)", "sin"),
        ("PI", "pi"),
        ("xx1", "x*x1"),
        ("x_1y", "x_1*y"),
    ],
)
def test_it_suggests_what_an_unknown_name_may_mean(text, suggestion):
    assert f"did you mean {suggestion}?" in error(text).message


def test_it_suggests_a_differently_written_subscript():
    assert "did you mean x_2?" in error("x2", variables=("x_2",)).message


# -- letter runs ------------------------------------------------------------


def read_run(text: str, variables=("x", "y"), functions=()) -> str:
    return read(text, variables, functions)


@pytest.mark.parametrize(
    ("text", "variables", "same_as"),
    [
        # The specification's examples.
        ("xy", ("x", "y"), "x*y"),
        ("2xy^2", ("x", "y"), "2*x*(y^2)"),
        ("xe^x", ("x", "y"), "x*e^x"),
        ("xsin(x)", ("x", "y"), "x*sin(x)"),
        ("2xcos(x^2)", ("x", "y"), "2*x*cos(x^2)"),
        ("aasin(x)", ("a", "x"), "a*asin(x)"),
        # More letters, other functions, aliases.
        ("xyz", ("x", "y", "z"), "x*y*z"),
        ("xx", ("x",), "x*x"),
        ("xycos(x)", ("x", "y"), "x*y*cos(x)"),
        ("xarcsin(x)", ("x",), "x*asin(x)"),
        ("xln(x)", ("x",), "x*log(x)"),
        ("xsinh(x)", ("x",), "x*sinh(x)"),
        ("xexp(-x)", ("x",), "x*exp(-x)"),
        ("ex", ("x",), "e*x"),
        ("2ex", ("x",), "2*e*x"),
        ("ee^x", ("x",), "e*e^x"),
        ("Xy", ("X", "y"), "X*y"),
    ],
)
def test_it_reads_a_run_of_declared_letters_as_a_product(text, variables, same_as):
    assert parse(text, variables) == parse(same_as, variables)


def test_it_gives_a_power_after_a_run_to_its_last_letter():
    assert read_run("2xy^2") == "(* (* 2 x) (^ y 2))"
    assert read_run("xy^2x") == "(* (* x (^ y 2)) x)"
    assert read_run("-xy^2") == read_run("-x y^2")


def test_it_splits_off_the_longest_function_name_before_a_bracket():
    assert read_run("xasin(x)", ("x", "a")) == "(* x (asin x))"
    assert read_run("xsinh(x)", ("x", "h")) == "(* x (sinh x))"
    # The function is split off first, even when its letters are declared too.
    assert read_run("xsin(x)", ("x", "s", "i", "n")) == "(* x (sin x))"


def test_it_splits_off_a_function_whose_name_ends_in_digits():
    assert read_run("xlog10(x)") == "(* x (log10 x))"
    # Only letters are left of the function: "x1sin(x)" is no run.
    with pytest.raises(ParseError, match="x1\\*sin"):
        parse("x1sin(x)", ("x1", "x"))


def test_it_reads_a_run_before_a_bracket_without_a_function_as_letters():
    assert read_run("xy(x+1)") == "(* (* x y) (+ x 1))"


def test_it_splits_off_an_exercise_function():
    assert read_run("zsigma(z)", ("z",), ("sigma",)) == "(* z (sigma z))"
    assert read_run("xf(x)", ("x",), ("f",)) == "(* x (f x))"
    assert read_run("2xyf(x)", ("x", "y"), ("f",)) == "(* (* (* 2 x) y) (f x))"


@pytest.mark.parametrize(
    ("text", "variables", "functions", "expected"),
    [
        ("xy", ("x", "y", "xy"), (), "xy"),
        ("pi", ("p", "i"), (), "pi"),
        ("sin(x)", ("s", "i", "n", "x"), (), "(sin x)"),
        ("ab(x)", ("a", "b", "x"), ("ab",), "(ab x)"),
        ("xy^2", ("x", "y", "xy"), (), "(^ xy 2)"),
    ],
)
def test_it_reads_a_declared_name_rather_than_a_run(text, variables, functions, expected):
    assert read(text, variables, functions) == expected


def test_it_reads_e_in_a_run_as_the_variable_when_e_is_declared():
    assert parse("xe", ("x", "e")) == BinOp("*", Symbol("x"), Symbol("e"))
    assert parse("xe", ("x",)) == BinOp("*", Symbol("x"), Constant("e"))
    assert parse("ex", ("x", "e")) == BinOp("*", Symbol("e"), Symbol("x"))


def test_it_still_reads_scientific_notation_before_a_run():
    assert read_run("2e3xy") == "(* (* 2000 x) y)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2xy(x+1)", "(* (* (* 2 x) y) (+ x 1))"),
        ("(x+1)xy", "(* (* (+ x 1) x) y)"),
        ("1/2xy", "(* (* (/ 1 2) x) y)"),
        ("e^2xy", "(* (* (^ e 2) x) y)"),
        ("xy sin^2(x)", "(* (* x y) (^ (sin x) 2))"),
        ("xy√x", "(* (* x y) (sqrt x))"),
        ("[xy, yx]", "[(* x y) (* y x)"),
    ],
)
def test_it_reads_a_run_next_to_numbers_and_brackets(text, expected):
    assert read_run(text) == expected


@pytest.mark.parametrize(("text", "column"), [("xy 2", 4), ("xy(x+1)2", 8)])
def test_it_refuses_a_number_after_a_run_as_after_any_factor(text, column):
    problem = error(text, ("x", "y"))
    assert problem.column == column
    assert "write * for a product" in problem.message


def test_it_points_at_the_letters_of_a_run():
    tree = parse("2xy^2", ("x", "y"))
    assert tree.right.left.col == 3
    assert error("xy + q", ("x", "y")).column == 6


@pytest.mark.parametrize(
    ("text", "variables", "message"),
    [
        # The specification's examples.
        (
            "thetax",
            ("theta", "x"),
            '"thetax" at column 1 is not a known name: did you mean theta*x?',
        ),
        ("pix", ("x",), '"pix" at column 1 is not a known name: did you mean pi*x?'),
        ("sinx", ("x",), '"sinx" at column 1 is not a known name: write sin(x)'),
        ("x1y", ("x1", "y"), '"x1y" at column 1 is not a known name: did you mean x1*y?'),
        # A function name inside a name, with what follows as its argument.
        ("2sinxy", ("x", "y"), '"sinxy" at column 2 is not a known name: write sin(xy)'),
        ("sin2x", ("x",), '"sin2x" at column 1 is not a known name: write sin(2x)'),
        ("xsinx", ("x",), '"xsinx" at column 1 is not a known name: did you mean x*sin(x)?'),
        ("fx", ("x",), '"fx" at column 1 is not a known name: write f(x)'),
        (
            "2sinxcosx",
            ("x",),
            '"sinxcosx" at column 2 is not a known name: did you mean sin(x)*cos(x)?',
        ),
        # A run is split before "(" only: sin^2(x) after a run is not read.
        (
            "xsin^2(x)",
            ("x",),
            '"xsin" at column 1 is not a known name: did you mean x*sin^2(...)?',
        ),
        # A letter that is not declared.
        ("xq", ("x",), 'unknown name "xq" at column 1: q is not a variable of this question'),
        (
            "xqzx",
            ("x",),
            'unknown name "xqzx" at column 1: q and z are not variables of this question',
        ),
        # A function ends the run, but its bracket is missing.
        ("xsin", ("x",), '"xsin" at column 1 is not a known name: did you mean x*sin(...)?'),
        # A name with a digit or an underscore is not a run of letters.
        ("xy1", ("x", "y"), 'unknown name "xy1" at column 1'),
    ],
)
def test_it_refuses_other_runs_with_a_suggestion(text, variables, message):
    assert error(text, variables, ("f",)).message == message


def test_it_does_not_read_a_run_with_an_abstract_function_letter():
    assert "f(x)" in error("xfx", ("x",), ("f",)).message
    assert error("fx", ("x",), ("f",)).column == 1


def test_it_reads_the_constants():
    assert parse("pi") == Constant("pi")
    assert parse("e") == Constant("e")
    assert read("2 e^x") == "(* 2 (^ e x))"


# -- functions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "func"),
    [
        ("sin(x)", "sin"),
        ("cos(x)", "cos"),
        ("tan(x)", "tan"),
        ("sec(x)", "sec"),
        ("csc(x)", "csc"),
        ("cot(x)", "cot"),
        ("asin(x)", "asin"),
        ("arcsin(x)", "asin"),
        ("acos(x)", "acos"),
        ("arccos(x)", "acos"),
        ("atan(x)", "atan"),
        ("arctan(x)", "atan"),
        ("sinh(x)", "sinh"),
        ("cosh(x)", "cosh"),
        ("tanh(x)", "tanh"),
        ("exp(x)", "exp"),
        ("log(x)", "log"),
        ("ln(x)", "log"),
        ("log10(x)", "log10"),
        ("sqrt(x)", "sqrt"),
        ("abs(x)", "abs"),
        ("|x|", "abs"),
        ("√x", "sqrt"),
    ],
)
def test_it_reads_built_in_functions_under_their_canonical_names(text, func):
    assert parse(text, VARIABLES) == Call(func, Symbol("x"))


@pytest.mark.parametrize("text", ["sin x", "sin", "exp 2", "2 log x"])
def test_it_requires_parentheses_after_a_function(text):
    assert "needs parentheses" in error(text).message


def test_it_shows_how_to_add_the_parentheses():
    assert error("sin x").message == '"sin" at column 1 needs parentheses: write sin(x)'


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("x sin 3x", "write sin(3x)"),
        ("cos x^2", "write cos(x^2)"),
        ("2 sin 2 pi x + 1", "write sin(2 pi x)"),
        ("sin(x) + cos 2x y", "write cos(2x y)"),
        ("exp -x", "write exp(...)"),
    ],
)
def test_it_puts_the_whole_factor_that_follows_in_the_parentheses(text, advice):
    assert error(text, ("x", "y")).message.endswith(advice)


@pytest.mark.parametrize("text", ["sin^-1(x)", "sin^(-1)(x)", "tan^(-1)(x)"])
def test_it_calls_an_inverse_power_of_a_function_ambiguous_however_bracketed(text):
    message = error(text).message
    assert "ambiguous" in message
    assert "for the inverse" in message and "for the reciprocal" in message


def test_it_says_curly_brackets_do_not_group():
    assert error("x^{2}").message == "curly brackets at column 3 do not group: use ( ) instead"


def test_it_says_a_prime_cannot_be_typed():
    message = error("f'(x)").message
    assert message.startswith('unexpected "\'" at column 2')
    assert "write the derivative out" in message


def test_it_shows_how_to_write_a_power_of_ten():
    message = error("2.37x10^-2", ()).message
    assert "2.37*10^..." in message and "2.37e..." in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sin^2(x)", "(^ (sin x) 2)"),
        ("cos^3(2x)", "(^ (cos (* 2 x)) 3)"),
        ("ln^2(x)", "(^ (log x) 2)"),
        ("sin²(x)", "(^ (sin x) 2)"),
    ],
)
def test_it_reads_a_power_written_before_the_argument(text, expected):
    assert read(text) == expected


def test_it_refuses_an_inverse_written_as_a_power():
    problem = error("sin^-1(x)")
    assert "ambiguous" in problem.message
    assert "asin(x)" in problem.message
    assert problem.column == 1


@pytest.mark.parametrize("text", ["sin^0(x)", "sin^2.5(x)", "sin^(2)(x)", "sin^x(x)"])
def test_it_refuses_other_powers_before_the_argument(text):
    assert "positive whole power" in error(text).message


def test_it_refuses_more_than_one_argument():
    assert "takes one argument" in error("sin(x, y)").message
    assert "log(x)/log(b)" in error("log(x, 2)").message


def test_it_refuses_an_empty_argument():
    assert "missing the argument" in error("sin()").message


def test_it_reads_exercise_functions():
    assert parse("sigma(x)", VARIABLES, FUNCTIONS) == Apply("sigma", Symbol("x"))
    assert read("f(2x) + f(y)") == "(+ (f (* 2 x)) (f y))"


def test_it_refuses_an_undeclared_function():
    problem = error("g(x)")
    assert problem.message == 'unknown function "g" at column 1'


def test_it_refuses_a_power_of_an_exercise_function_before_its_argument():
    assert "ambiguous" in error("f^2(x)").message


def test_it_reads_a_variable_before_parentheses_as_a_product():
    assert read("x(y)") == "(* x y)"


# -- absolute value bars ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("|x|", "(abs x)"),
        ("|x-1|^2", "(^ (abs (- x 1)) 2)"),
        ("|abs(x)-1|", "(abs (- (abs x) 1))"),
        ("|(|x|-1)|", "(abs (- (abs x) 1))"),
        ("|x|+|y|", "(+ (abs x) (abs y))"),
        ("|-x|", "(abs (neg x))"),
        ("|x|*|y|", "(* (abs x) (abs y))"),
    ],
)
def test_it_reads_absolute_value_bars(text, expected):
    assert read(text) == expected


@pytest.mark.parametrize("text", ["||x|-1|", "|x+|y||", "||"])
def test_it_refuses_directly_nested_bars(text):
    assert "nested directly" in error(text).message


def test_it_refuses_the_ambiguous_bar_product():
    problem = error("|a|b|c|")
    assert "missing operator" in problem.message
    assert problem.column == 5


def test_it_refuses_a_bar_as_an_implicit_factor():
    assert "2*|x|" in error("2|x|").message


def test_it_reports_an_unclosed_bar():
    problem = error("2*|x")
    assert problem.message == 'missing "|" to close "|" at column 3'
    assert problem.column == 3


# -- lists ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[a, b, c]", "[a b c"),
        ("(a, b, c)", "(a b c"),
        ("[[a], [b], [c]]", "[[a [b [c"),
        ("[[a, b], [c, z]]", "[[a b [c z"),
        ("[[1, 2], [3, 4]]", "[[1 2 [3 4"),
        ("[(1, 2), (3, 4)]", "[(1 2 (3 4"),
        ("{(1, 2), (3, 4)}", "{(1 2 (3 4"),
        ("{}", "{"),
        ("[]", "["),
        ("[x]", "[x"),
        ("(x)", "x"),
        ("((x))", "x"),
        ("[2x, -y^2]", "[(* 2 x) (neg (^ y 2))"),
    ],
)
def test_it_reads_vectors_matrices_and_sets(text, expected):
    assert read(text) == expected


def test_it_keeps_a_group_of_one():
    node = parse("[x]", VARIABLES)
    assert node == Group((Symbol("x"),), "[")


@pytest.mark.parametrize("text", ["[1,2]*2", "-[1,2]", "sin([1])", "2(1,2)", "[1](2)", "(1,2)^2"])
def test_it_refuses_a_list_inside_an_expression(text):
    assert "cannot be part of an expression" in error(text).message


@pytest.mark.parametrize(("text", "column"), [("[1,]", 3), ("[,1]", 2), ("(1,,2)", 3)])
def test_it_refuses_a_missing_item(text, column):
    assert error(text).column == column


def test_it_refuses_empty_parentheses():
    assert error("()").message == "empty parentheses at column 1"


def test_it_asks_for_brackets_around_a_bare_list():
    assert "[1, 2]" in error("1, 2").message


# -- brackets and positions -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("(x", 'missing ")" to close "(" at column 1', 1),
        ("2*(x+1", 'missing ")" to close "(" at column 3', 3),
        ("[1, 2", 'missing "]" to close "[" at column 1', 1),
        ("sin(x", 'missing ")" to close "(" at column 4', 4),
        ("(x]", '"]" at column 3 does not match "(" at column 1', 3),
        ("[(x]", 'missing ")" to close "(" at column 2', 2),
        ("x)", '")" at column 2 has no matching opening bracket', 2),
        ("x+1)*2", '")" at column 4 has no matching opening bracket', 4),
        ("(x,y", 'missing ")" to close "(" at column 1', 1),
        ("x,", 'unexpected "," at column 2: put a list in brackets, e.g. [1, 2]', 2),
        ("2+*x", 'unexpected "*" at column 3', 3),
        ("x+", 'missing something after "+" at column 2', 2),
        ("(x^)", 'missing something after "^" at column 3', 3),
        ("[x, 2*]", 'missing something after "*" at column 6', 6),
        ("sin(-)", 'missing something after "-" at column 5', 5),
        ("x^", 'missing the power after "^" at column 2', 2),
    ],
)
def test_it_says_where_brackets_and_operators_go_wrong(text, message, column):
    problem = error(text)
    assert problem.message == message
    assert problem.column == column


def test_it_refuses_an_empty_answer():
    for text in ["", "   ", "\u00a0"]:
        problem = error(text)
        assert problem.message == "empty answer"


def test_it_records_columns_on_nodes():
    node = parse("x + sin(y)", VARIABLES)
    assert node.col == 1
    assert node.right.col == 5
    assert node.right.arg.col == 9


def test_it_compares_trees_without_columns():
    assert parse("x+y", VARIABLES) == parse(" x + y", VARIABLES)
    assert hash(parse("x+y", VARIABLES)) == hash(parse("x +y", VARIABLES))


# -- pasted characters ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("\u2212x", "-x"),
        ("2\u00d7x", "2*x"),
        ("2\u00b7x", "2*x"),
        ("x\u00f7y", "x/y"),
        ("2\u03c0", "2pi"),
        ("x\u00b2", "x^2"),
        ("x\u00b3", "x^3"),
        ("2\u00b2", "2^2"),
        ("x\u00b2y", "x^2 y"),
        ("\u221ax", "sqrt(x)"),
        ("\u221a(x+1)", "sqrt(x+1)"),
        ("\u221a2", "sqrt(2)"),
        ("\u221a2x", "sqrt(2)*x"),
        ("\u221a\u221ax", "sqrt(sqrt(x))"),
        ("\u03b8", "theta"),
        ("\u03bb", "lambda"),
        ("2\u03b8", "2theta"),
        ("x\u00a0+\u00a0y", "x + y"),
        ("e^(\u2212x)", "e^(-x)"),
    ],
)
def test_it_reads_pasted_characters_through_the_table(text, same_as):
    assert parse(text, VARIABLES) == parse(same_as, VARIABLES)


@pytest.mark.parametrize(
    ("letter", "name"),
    [("α", "alpha"), ("β", "beta"), ("μ", "mu"), ("σ", "sigma"), ("ω", "omega"), ("Σ", "Sigma")],
)
def test_it_reads_greek_letters_as_their_names(letter, name):
    assert parse(letter, variables=(name,)) == Symbol(name)


def test_it_reads_a_pasted_greek_function_name():
    assert parse("σ(x)", VARIABLES, FUNCTIONS) == Apply("sigma", Symbol("x"))


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("2πx", "2*pi*x"),
        ("θx", "theta*x"),
        ("xθ", "x*theta"),
        ("θθ", "theta*theta"),
        ("2πθx", "2*pi*theta*x"),
        ("xσ(x)", "x*sigma(x)"),
        ("θ^2x", "theta^2*x"),
        ("xy", "x*y"),
    ],
)
def test_it_reads_a_pasted_letter_as_a_name_of_its_own(text, same_as):
    assert parse(text, VARIABLES, FUNCTIONS) == parse(same_as, VARIABLES, FUNCTIONS)


def test_it_does_not_glue_a_pasted_letter_to_the_letters_around_it():
    # Glued, "πx" would be the unknown name pix and "θx" the name thetax.
    assert parse("πx", ("x", "pix")) == BinOp("*", Constant("pi"), Symbol("x"))
    assert parse("θx", ("x", "theta", "thetax")) == BinOp("*", Symbol("theta"), Symbol("x"))


@pytest.mark.parametrize("variables", [("theta_1",), ("theta", "theta1")])
def test_it_names_the_variable_a_pasted_letter_and_a_digit_may_mean(variables):
    problem = error("θ1", variables)
    assert problem.message.endswith(f"a pasted letter is a name of its own; type {variables[-1]}")
    assert problem.column == 1


def test_it_reads_the_dot_operator_as_a_product():
    assert parse("x⋅y", VARIABLES) == parse("x*y", VARIABLES)
    assert parse("2⋅3", VARIABLES) == parse("2*3", VARIABLES)


def test_it_refuses_a_run_of_superscripts():
    problem = error("x\u00b2\u00b3")
    assert problem.column == 2
    assert "x^23" in problem.message


def test_it_never_reads_a_superscript_as_a_factor():
    assert read("x²") == "(^ x 2)"
    assert read("3x²") == "(* 3 (^ x 2))"


@pytest.mark.parametrize(
    ("text", "column"),
    [("x⁴", 2), ("x + ½", 5), ("ｘ", 1), ("x∗y", 2), ("x–y", 2), ("∞", 1), ("x\u2009y", 2)],
)
def test_it_refuses_other_non_ascii_characters_naming_them(text, column):
    problem = error(text)
    assert problem.column == column
    assert f"U+{ord(text[column - 1]):04X}" in problem.message
    assert f"column {column}" in problem.message


def test_it_hints_what_to_type_for_a_lookalike():
    assert "type * instead" in error("x∗y").message
    assert 'type "A" instead' in error("\u0391", variables=("A",)).message
    assert "type * instead" in error("x\u2219y").message
    assert "type ^4 instead" in error("x⁴").message


def test_it_says_a_pasted_letter_takes_no_subscript():
    problem = error("θ_1", variables=("theta_1",))
    assert problem.column == 2
    assert "type theta_1" in problem.message


@pytest.mark.parametrize("text", ["√x^2", "√x²", "√(x)^2", "(√x)^2"])
def test_it_applies_the_square_root_sign_to_what_follows_before_a_power(text):
    assert parse(text, VARIABLES) == parse("sqrt(x)^2", VARIABLES)


def test_it_refuses_the_square_root_sign_before_nothing_readable():
    assert "must be followed by" in error("√-x").message
    assert "must be followed by" in error("x*√").message


# -- not maths --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x.real",
        "x[0]",
        "'x'",
        '"x"',
        "x = 1",
        "x == 1",
        "x < 2",
        "x >= 2",
        "x; y",
        "__import__('os')",
        "lambda x: x",
        "[x for x in y]",
        "import os",
        "os.system('ls')",
        "x if y else z",
        "exec('1')",
        "eval(x)",
        "x @ y",
        "x % y",
        "x // y",
        "x & y",
        "~x",
        "x!",
        "#x",
        "`x`",
        "$x$",
        "\\sin(x)",
        "x\\y",
        "sin.__class__",
        "().__class__",
        "x?",
        "0x10",
    ],
)
def test_it_refuses_what_is_not_maths(text):
    problem = error(text)
    assert problem.message
    assert problem.column is None or 1 <= problem.column <= len(text) + 1


def test_it_explains_an_equals_sign():
    assert "without" in error("y = 2x").message


# -- limits -----------------------------------------------------------------


def test_it_refuses_a_long_answer():
    problem = error("x+" * 500 + "x")
    assert "too long" in problem.message
    assert read("x+" * 499 + "x").count("+") == 499


def test_it_accepts_nesting_up_to_the_limit():
    assert read("(" * 100 + "x" + ")" * 100) == "x"
    assert read("[" * 100 + "]" * 100).startswith("[[")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 101 + "x" + ")" * 101,
        "[" * 101 + "]" * 101,
        "sin(" * 101 + "x" + ")" * 101,
        "√" * 101 + "x",
        "(" * 600,
    ],
)
def test_it_refuses_nesting_beyond_the_limit(text):
    assert "nested too deeply" in error(text).message


def test_it_follows_configured_limits():
    tight = Limits(max_length=10, max_depth=2, max_digits=3, max_exponent=5, max_power=10)
    assert "too long" in error("x" + "+x" * 6, limits=tight).message
    assert "nested" in error("(((x)))", limits=tight).message
    assert read("((x))", limits=tight) == "x"
    assert "too many digits" in error("1234", limits=tight).message
    assert "exponent" in error("1e6", limits=tight).message
    assert "power" in error("x^11", limits=tight).message
    assert read("x^10", limits=tight) == "(^ x 10)"


def test_it_refuses_number_literals_beyond_the_limits():
    assert read("9" * 50).startswith("9")
    assert "too many digits" in error("9" * 51).message
    assert "too many digits" in error("0." + "1" * 50).message
    assert parse("1e-1000").value == Fraction(1, 10**1000)
    assert "exponent" in error("1e1001").message
    assert "exponent" in error("1e-99999999999999999999").message


def test_it_refuses_too_large_an_integer_power():
    assert "power" in error("x^20000").message
    assert "power" in error("x^-20000").message
    assert "power" in error("x^(10^5)").message
    assert read("(x-a)^6000") == "(^ (- x a) 6000)"
    assert read("x^10000") == "(^ x 10000)"


@pytest.mark.parametrize(
    "text", ["9^9^9^9", "10^10^10", "2^2^2^2^2^2", "10^1001", "exp(exp(10))", "9e999*100"]
)
def test_it_refuses_constants_too_large_to_compute(text):
    problem = error(text)
    assert "too large" in problem.message
    assert problem.column is not None


@pytest.mark.parametrize(
    "text",
    [
        "2^-1",
        "10^300",
        "(1/2)^2000",
        "1e1000",
        "10^-5000^0",
        "2^1000*x",
        "x^x^x^x",
        "exp(-1e20)",
        "9e999 - 0.5",
        "exp(-1e301 - 0.5)",
        "-(1e500 + 2e500)",
    ],
)
def test_it_accepts_constants_that_are_merely_big_or_tiny(text):
    assert parse(text, VARIABLES) is not None


def test_it_parses_long_flat_chains_without_recursion():
    roomy = Limits(max_length=20000)
    for op in ["+", "*", "-", "/", " "]:
        node = parse("x" + (op + "x") * 5000, VARIABLES, limits=roomy)
        assert sum(1 for n in walk(node) if isinstance(n, Symbol)) == 5001
    node = parse("-" * 5000 + "x", VARIABLES, limits=roomy)
    assert sum(1 for n in postorder(node) if isinstance(n, Neg)) == 5000
    assert free_symbols(parse("x" + "^x" * 3000, VARIABLES, limits=roomy)) == {"x"}


# -- exercise functions and choices ------------------------------------------


def test_it_reads_a_function_definition():
    definition = parse_function_definition("sigma(z) = 1/(1+e^(-z))")
    assert definition.name == "sigma"
    assert definition.param == "z"
    assert show(definition.body) == "(/ 1 (+ 1 (^ e (neg z))))"


def test_it_reads_an_abstract_function():
    name, param, body = parse_function_definition("f")
    assert (name, param, body) == ("f", None, None)


def test_it_reads_an_abstract_function_with_its_parameter():
    definition = parse_function_definition("f(x)")
    assert (definition.name, definition.param, definition.body) == ("f", "x", None)


def test_it_reads_a_definition_using_another_function():
    definition = parse_function_definition("g(t) = sigma(t)^2", functions=("sigma", "g"))
    assert show(definition.body) == "(^ (sigma t) 2)"


@pytest.mark.parametrize(
    "text", ["sigma(z) = 1/(1+e^(-x))", "sin(x) = x", "f(x, y) = x", "f(x) = f(x)", "2 = x", "f("]
)
def test_it_refuses_a_bad_definition(text):
    with pytest.raises(ParseError):
        parse_function_definition(text)


def test_it_points_into_the_body_of_a_bad_definition():
    with pytest.raises(ParseError) as info:
        parse_function_definition("f(x) = 2*y")
    assert info.value.column == 10
    assert '"y"' in info.value.message


def test_it_reads_a_list_of_functions_and_refuses_cycles():
    functions = parse_functions(["sigma(z) = 1/(1+e^(-z))", "g(t) = sigma(t)^2", "h"])
    assert set(functions) == {"sigma", "g", "h"}
    assert functions["h"].body is None
    with pytest.raises(ParseError, match="itself"):
        parse_functions(["f(x) = g(x)", "g(x) = f(x)+1"])
    with pytest.raises(ParseError, match="itself"):
        parse_functions(["f(x) = g(x)", "g(x) = h(x)", "h(x) = 2*f(x)", "k"])
    assert set(parse_functions(["f(x) = g(x) + h(x)", "g(x) = h(x)", "h(x) = x"])) == {
        "f",
        "g",
        "h",
    }


@pytest.mark.parametrize(
    ("text", "chosen"),
    [("b", {"b"}), ("a, c", {"a", "c"}), ("c,a", {"a", "c"}), ("a,a", {"a"}), (" B ", {"b"})],
)
def test_it_reads_choices(text, chosen):
    assert parse_choice(text, ["a", "b", "c"]) == frozenset(chosen)


def test_it_names_an_unknown_option():
    with pytest.raises(ParseError) as info:
        parse_choice("a, e", ["a", "b", "c"])
    assert '"e"' in info.value.message
    assert info.value.column == 4


@pytest.mark.parametrize("text", ["", "  ", "a,", ",a", "a,,b"])
def test_it_refuses_an_empty_choice(text):
    with pytest.raises(ParseError):
        parse_choice(text, ["a", "b"])


def test_it_says_a_space_splits_a_number():
    assert (
        error("2 .25").message
        == "a space at column 2 splits a number: write 2.25, or * for a product"
    )


def test_it_asks_for_commas_for_a_semicolon_inside_brackets():
    assert error("[1; 2]").message.endswith("separate the items of a list with commas")
    assert error("x; 2").message.endswith("type a single answer")
