"""The choice checker: one answer or several, all or nothing or partial credit."""

import io
import json

import pytest

import grading
from grading.cli import run
from grading.engine import check


def make_case(**kwargs) -> dict:
    case = {"kind": "choice", "expected": "a, c, d", "answer": "a, c, d", "options": list("abcde")}
    case.update(kwargs)
    return case


def judge(**kwargs):
    return check(make_case(**kwargs), in_process=True)


def test_it_says_how_many_right_choices_are_missing():
    verdict = judge(answer="a")
    assert verdict.status == "incorrect"
    assert verdict.message == "2 of the right choices are missing."
    assert verdict.details == {"missing": 2, "extra": 0, "score": 0.0}


def test_it_says_how_many_chosen_ones_are_wrong():
    verdict = judge(answer="a, c, d, e")
    assert verdict.message == "1 choice is wrong."
    verdict = judge(answer="a, c, d, b, e")
    assert verdict.message == "2 choices are wrong."


def test_it_says_both_in_one_sentence():
    verdict = judge(answer="a, b")
    assert verdict.message == "2 of the right choices are missing and 1 choice is wrong."


def test_it_gives_nothing_for_a_near_miss_when_all_or_nothing():
    assert judge(answer="a, c").details["score"] == 0.0


def test_it_gives_each_right_pick_its_share_when_partial():
    verdict = judge(answer="a, c", scoring="partial")
    assert verdict.status == "incorrect"
    assert verdict.details["score"] == pytest.approx(2 / 3)


def test_it_takes_a_right_picks_worth_for_each_wrong_one_by_default():
    verdict = judge(answer="a, c, b", scoring="partial")
    assert verdict.details["score"] == pytest.approx(1 / 3)


def test_it_takes_the_authors_penalty_for_each_wrong_pick():
    verdict = judge(answer="a, c, d, b", scoring="partial", penalty=0.25)
    assert verdict.details["score"] == pytest.approx(0.75)


def test_it_never_scores_below_zero():
    verdict = judge(answer="a, b, e", scoring="partial", penalty=1)
    assert verdict.details["score"] == 0.0


def test_it_gives_full_credit_only_as_correct():
    verdict = judge(answer="d, c, a", scoring="partial")
    assert verdict.status == "correct"


def test_it_refuses_two_keys_for_a_single_answer_as_invalid():
    case = make_case(expected="b", answer="a, b", multiple=False)
    verdict = check(case, in_process=True)
    assert verdict.status == "invalid"
    assert "one option" in verdict.message
    # Refused on arrival too, so that it costs no attempt.
    assert grading.validate(case).status == "invalid"


def test_it_judges_one_key_for_a_single_answer():
    assert judge(expected="b", answer="B", multiple=False).status == "correct"
    verdict = judge(expected="b", answer="a", multiple=False)
    assert verdict.status == "incorrect"
    assert verdict.message == "That is not the right choice."


def test_it_does_not_tell_a_multiple_answer_part_that_one_key_is_expected():
    verdict = judge(expected="b", answer="a", multiple=True)
    assert verdict.message == "1 of the right choices is missing and 1 choice is wrong."


def test_it_accepts_two_keys_when_the_case_does_not_say():
    assert judge(expected="a, b", answer="b, a").status == "correct"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"multiple": "yes"}, "`multiple`"),
        ({"scoring": "some"}, "`scoring`"),
        ({"penalty": 2}, "`penalty`"),
        ({"penalty": True}, "`penalty`"),
        ({"multiple": False}, "single-answer"),
    ],
)
def test_it_reports_a_wrong_rule_to_the_author(fields, said):
    verdict = judge(answer="a", **fields)
    assert verdict.status == "error"
    assert said in verdict.message


def test_it_keeps_the_partial_score_with_an_authors_mistake():
    verdict = judge(
        answer="a, c",
        scoring="partial",
        mistakes=[{"answer": "a, c", "message": "d is right too."}],
    )
    assert verdict.message == "d is right too."
    assert verdict.details["score"] == pytest.approx(2 / 3)


def test_it_takes_the_rules_on_the_command_line():
    out = io.StringIO()
    case = make_case(id="p", answer="a, c", scoring="partial", multiple=True)
    run([json.dumps(case)], out, in_process=True)
    result = json.loads(out.getvalue())
    assert (result["id"], result["status"]) == ("p", "incorrect")
    assert result["message"] == "1 of the right choices is missing."
    case = make_case(id="s", expected="b", answer="a, b", multiple=False)
    out = io.StringIO()
    run([json.dumps(case)], out, in_process=True)
    assert json.loads(out.getvalue())["status"] == "invalid"
