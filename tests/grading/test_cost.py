"""Answers built to be costly: huge arguments to tanh, exp, sin and the rest.

Each must get its right, final verdict (never the time bound's "simpler form" one),
and no evaluation may work with more bits than a fixed cap: the engine decides these
from the size of the argument instead of raising the precision. The cap is watched
through the evaluator's own count of the bits it works with (`grading.evaluate`),
not by timing; the time these answers take is in docs/benchmarks.md.
"""

import json
from pathlib import Path

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading import check, evaluate
from grading.engine import TOO_SLOW
from grading.parser import parse, parse_functions

CASES = Path(__file__).parent / "cases" / "costly.jsonl"

# The highest working precision, or a 4,000-bit argument reduction on top of it, or a
# number just above the size below which the numeric rule counts values as zero.
CAP = evaluate.PRECISIONS[-1] + evaluate.FLUSH_BITS

PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)


class Overspent(BaseException):
    """Raised at the first evaluation past the cap; a BaseException, so that the
    engine's own handling of errors cannot turn it into a verdict."""


@pytest.fixture(autouse=True)
def capped(monkeypatch):
    """Fail at once where an evaluation goes past the cap, instead of running on."""
    note = evaluate._note_bits

    def note_capped(bits: int) -> None:
        if bits > CAP:
            raise Overspent(f"{bits} bits")
        note(bits)

    monkeypatch.setattr(evaluate, "_note_bits", note_capped)
    evaluate.reset_work_bits()


def costly_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def checked(case: dict):
    submitted = {key: value for key, value in case.items() if key != "expect"}
    return check(submitted, in_process=True)


def assert_final(verdict) -> None:
    assert verdict.message != TOO_SLOW
    assert "internal_error" not in verdict.details
    assert "timed_out" not in verdict.details


@pytest.mark.parametrize("case", costly_cases(), ids=lambda c: c["id"])
def test_it_gives_a_costly_answer_its_final_verdict_within_the_cap(case):
    verdict = checked(case)
    assert_final(verdict)
    assert verdict.status == case["expect"], verdict.message
    assert evaluate.work_bits() <= CAP


def test_it_counts_the_bits_an_evaluation_works_with():
    # The cap means something only if the count follows the work.
    checked({"kind": "numeric", "expected": "0", "answer": "sin(1e1000)"})
    assert evaluate.work_bits() > (10**1000).bit_length()


def test_it_keeps_a_huge_exact_argument_exact_so_that_the_first_precision_decides():
    # 9e999 x is exact at a float x: sin of it is known at 128 bits after a reduction
    # as long as the argument, instead of at the highest precision.
    case = {"kind": "expression", "expected": "sin(x*9e999)", "answer": "sin(9e999*x)"}
    assert checked({**case, "variables": ["x"]}).status == "correct"
    assert evaluate.work_bits() <= evaluate.PRECISIONS[0] + (9 * 10**999).bit_length() + 8


def test_it_stops_raising_the_precision_when_the_error_bound_does_not_shrink():
    # 1 - tanh(1e20) is 0 within 2^-4000 at every precision: going on buys nothing.
    table = parse_functions([])
    fn = evaluate.compile_mp(parse("1 - tanh(1e20 x)", ("x",)), ("x",), table)
    result = evaluate.mp_value(fn, (1.0,))
    assert result.defined and result.to_float() == 0.0
    assert evaluate.work_bits() < evaluate.PRECISIONS[-1]
    # An exact zero computed inexactly climbs only until its bound settles every
    # comparison (below 2^-1000), not to the last precision.
    evaluate.reset_work_bits()
    fn = evaluate.compile_mp(parse("sin(x)^2 + cos(x)^2 - 1", ("x",)), ("x",), table)
    result = evaluate.mp_value(fn, (0.3,))
    assert result.defined
    assert evaluate.work_bits() == evaluate.PRECISIONS[2]
    assert evaluate.mp_compare(result, evaluate.mp_number(parse("0", ()))) == "indistinct"


@pytest.mark.parametrize(
    "answer, expected, status",
    [
        # A long sum that is exactly zero: settled at the third precision.
        ("+".join(f"sin({k}x)^2+cos({k}x)^2-1" for k in range(1, 41)), "0", "correct"),
        # Differences far below the first precision's reach are still told apart.
        ("sin(x)^2 + cos(x)^2 - 1 + 1e-300 x", "0", "incorrect"),
        ("sin(x)^2 + cos(x)^2 - 1 + 1e-300 x", "1e-300 x", "correct"),
        ("sin(x)^2 + cos(x)^2 + 1e-15 x", "1", "incorrect"),
    ],
)
def test_an_exact_zero_computed_inexactly_is_judged_below_the_last_precision(
    answer, expected, status
):
    case = {"kind": "expression", "expected": expected, "answer": answer, "variables": ["x"]}
    assert checked(case).status == status
    assert evaluate.work_bits() < evaluate.PRECISIONS[3]


def test_it_refuses_sin_of_a_huge_argument_known_only_approximately():
    # pi*1e300 would need 1,000 bits of pi before the first bit of its sine.
    case = {"kind": "numeric", "expected": "0", "answer": "sin(pi*1e300)"}
    verdict = checked(case)
    assert verdict.status == "invalid" and "too large" in verdict.message
    assert checked({**case, "answer": "sin(pi*1e70)"}).status == "correct"


def test_the_cap_stops_an_evaluation_that_goes_past_it(monkeypatch):
    monkeypatch.setattr(evaluate, "PRECISIONS", (128, 4 * CAP))
    with pytest.raises(Overspent):
        # An exact zero computed inexactly climbs to the next precision.
        checked({"kind": "numeric", "expected": "0", "answer": "sin(1)^2 + cos(1)^2 - 1"})


def test_it_says_why_a_value_too_large_cannot_be_checked():
    verdict = checked(
        {
            "kind": "expression",
            "expected": "x",
            "answer": "cosh(1e20*x)",
            "variables": ["x"],
            "domain": {"x": [1, 2]},
        }
    )
    assert verdict.status == "invalid"
    assert "too large" in verdict.message


def test_it_says_when_an_expected_number_is_too_large_to_compute(monkeypatch):
    # Beyond the parser's limits only through an author's own limits.
    monkeypatch.setattr(evaluate, "_MAX_EXP_MAG", 10)
    verdict = checked({"kind": "numeric", "expected": "cosh(2000)", "answer": "1"})
    assert verdict.status == "error"
    assert "too large" in verdict.message


def test_it_refuses_to_compare_numbers_below_its_zero_without_an_absolute_tolerance():
    tiny = "(1e-1000)^10000"
    answer = checked({"kind": "numeric", "expected": "1e-1000^5", "answer": tiny, "atol": 0})
    assert answer.status == "invalid" and "too small" in answer.message
    expected = checked({"kind": "numeric", "expected": tiny, "answer": "0", "atol": 0})
    assert expected.status == "error" and "too small" in expected.message
    # With the default absolute tolerance, both are simply 0.
    assert checked({"kind": "numeric", "expected": tiny, "answer": "0"}).status == "correct"


def test_it_checks_five_costly_parts_through_the_helpers():
    # The path a submission takes in production: a helper process under the time bound.
    parts = [
        {"kind": "numeric", "expected": "1", "answer": "tanh(1e20)"},
        {"kind": "numeric", "expected": "1", "answer": "tanh(1e300)"},
        {"kind": "numeric", "expected": "0", "answer": "exp(-1e300)"},
        {"kind": "vector", "expected": "[1, -1]", "answer": "[tanh(10^10^2), tanh(-9^999)]"},
        {
            "kind": "expression",
            "expected": "tanh(x*1e300) + sin(x*1e300)",
            "answer": "sin(1e300*x) + tanh(1e300*x)",
            "variables": ["x"],
        },
    ]
    verdicts = [check(part) for part in parts]
    for verdict in verdicts:
        assert_final(verdict)
    assert [v.status for v in verdicts] == ["correct"] * 5


# --- properties over random huge arguments ------------------------------------------

mantissas = st.integers(1, 9)
exponents = st.integers(16, 999)
signs = st.sampled_from([1, -1])


@PROPERTY_SETTINGS
@given(sign=signs, mantissa=mantissas, exponent=exponents)
def test_tanh_of_a_huge_number_is_its_sign(sign, mantissa, exponent):
    answer = f"tanh({'-' if sign < 0 else ''}{mantissa}e{exponent})"
    verdict = checked({"kind": "numeric", "expected": str(sign), "answer": answer, "atol": 0})
    assert_final(verdict)
    assert verdict.status == "correct"
    assert evaluate.work_bits() <= CAP


@PROPERTY_SETTINGS
@given(mantissa=mantissas, exponent=exponents, power=st.sampled_from(["exp", "e^"]))
def test_exp_of_a_hugely_negative_number_is_zero(mantissa, exponent, power):
    # Not a whole number: e^(-10^20) is refused as too large a power, like x^(10^20).
    argument = f"(-{mantissa}e{exponent} - 0.5)"
    answer = f"exp{argument}" if power == "exp" else f"e^{argument}"
    verdict = checked({"kind": "numeric", "expected": "0", "answer": answer})
    assert_final(verdict)
    assert verdict.status == "correct"
    assert evaluate.work_bits() <= CAP


@PROPERTY_SETTINGS
@given(
    function=st.sampled_from(["sin", "cos", "tan"]),
    mantissa=mantissas,
    exponent=st.integers(16, 999),
)
def test_a_periodic_function_of_a_huge_number_is_computed_right(function, mantissa, exponent):
    with mpmath.workprec(exponent * 4 + 200):
        value = getattr(mpmath, function)(mantissa * mpmath.mpf(10) ** exponent)
    expected = mpmath.nstr(value, 40)
    answer = f"{function}({mantissa}e{exponent})"
    case = {"kind": "numeric", "expected": expected, "answer": answer, "rtol": 1e-15, "atol": 0}
    verdict = checked(case)
    assert_final(verdict)
    assert verdict.status == "correct", (answer, expected, verdict.message)
    assert evaluate.work_bits() <= CAP


@PROPERTY_SETTINGS
@given(
    outer=st.sampled_from(["sin", "cos", "tanh", "exp", "sinh", "cosh", "atan", "sec"]),
    inner=st.sampled_from(["tanh", "exp", "sin", "log", "sqrt", "abs", ""]),
    mantissa=mantissas,
    exponent=st.integers(16, 1000),
    negative=st.booleans(),
    scaled=st.booleans(),
)
def test_any_function_of_a_huge_argument_gets_a_final_verdict(
    outer, inner, mantissa, exponent, negative, scaled
):
    number = f"{'-' if negative else ''}{mantissa}e{exponent}"
    argument = f"{number}*x" if scaled else number
    answer = f"{outer}({inner}({argument}))" if inner else f"{outer}({argument})"
    cases = [
        {"kind": "expression", "expected": "x", "answer": answer, "variables": ["x"]},
        {"kind": "numeric", "expected": "1", "answer": answer.replace("*x", "")},
        {"kind": "vector", "expected": "[1, 2]", "answer": f"[{answer}, 2]", "variables": ["x"]},
    ]
    for case in cases:
        verdict = checked(case)
        assert_final(verdict)
        assert verdict.status in {"correct", "incorrect", "invalid"}
        assert verdict.message
    assert evaluate.work_bits() <= CAP
