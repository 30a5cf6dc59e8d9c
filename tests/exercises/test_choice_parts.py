"""Choice parts on the exercise page and in the API: radio buttons for one answer,
check boxes for several, partial credit, and a single answer that refuses two keys."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token

from exercises.definition import DefinitionError, PartDef, parse
from exercises.models import Submission
from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db

OPTIONS = [{"key": k, "text": f"option {k}"} for k in "abcd"]


def make_choice_exercise(**part) -> object:
    fields = {"key": "c", "kind": "choice", "options": OPTIONS, "expected": "b"}
    fields.update(part)
    return make_exercise([fields])


@pytest.fixture
def single(db):
    return make_choice_exercise()


@pytest.fixture
def several(db):
    return make_choice_exercise(expected="a, c, d", multiple=True, scoring="partial")


@pytest.fixture
def api(client, alice):
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def url(exercise) -> str:
    return f"/exercises/{exercise.slug}/"


def test_it_shows_radio_buttons_for_one_answer(alice_client, single):
    html = alice_client.get(url(single)).content.decode()
    assert html.count('type="radio" name="answer-c"') == 4
    assert 'type="checkbox"' not in html
    assert "<legend>" in html
    assert 'type="text" id="answer-c"' not in html
    # Nothing to type: no word of typing maths.
    assert "Type maths as on a calculator" not in html


def test_it_shows_check_boxes_for_several_answers(alice_client, several):
    html = alice_client.get(url(several)).content.decode()
    assert html.count('type="checkbox" name="answer-c"') == 4
    assert "each wrong one takes a share away" in html


def test_it_grades_the_ticked_boxes_with_partial_credit(
    alice_client, several, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url(several), {"answer-c": ["a", "c"]})

    submission = Submission.objects.get()
    assert response["Location"] == f"{submission.exercise.get_absolute_url()}#latest-attempt"
    submission.refresh_from_db()
    assert submission.answers == {"c": "a, c"}
    assert submission.results["c"]["status"] == "incorrect"
    assert submission.results["c"]["message"] == "1 of the right choices is missing."
    assert submission.score == pytest.approx(2 / 3)
    # The last attempt's boxes are ticked again on the page.
    html = alice_client.get(url(several)).content.decode()
    assert html.count(" checked") == 2


def test_it_refuses_two_keys_for_one_answer_without_using_an_attempt(api, single):
    response = api.post(
        f"/api/exercises/{single.slug}/submissions/",
        json.dumps({"answers": {"c": "a, b"}}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert "choose only one option" in response.json()["errors"]["c"]
    assert not Submission.objects.exists()


def test_it_refuses_two_radio_values_forged_into_the_form(alice_client, single):
    response = alice_client.post(url(single), {"answer-c": ["a", "b"]})

    assert response.status_code == 422
    assert b"choose only one option" in response.content
    assert not Submission.objects.exists()


def test_it_still_takes_typed_keys_from_the_api(
    api, several, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/exercises/{several.slug}/submissions/",
            json.dumps({"answers": {"c": "D, a, c"}}),
            content_type="application/json",
        )

    assert response.status_code == 202
    data = api.get(response.json()["url"]).json()
    assert data["parts"]["c"]["status"] == "correct"
    assert data["score"] == 1.0


def test_it_shows_in_the_api_whether_a_part_takes_several_options(api, several):
    data = api.get(f"/api/exercises/{several.slug}/").json()
    assert data["parts"][0]["multiple"] is True


# ---------------------------------------------------------------- the definition


def choice(**fields) -> dict:
    return {"key": "c", "kind": "choice", "options": OPTIONS, "expected": "a", **fields}


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"expected": "a, c", "multiple": False}, "multiple: true"),
        ({"scoring": "partial"}, "partial credit is for a part with several answers"),
        ({"multiple": True, "penalty": 0.5}, "needs scoring: partial"),
        ({"multiple": True, "scoring": "partial", "penalty": 2}, "penalty"),
        ({"multiple": True, "scoring": "some"}, "scoring"),
        ({"multiple": "yes"}, "multiple"),
    ],
)
def test_it_refuses_a_choice_definition_that_cannot_hold(fields, said):
    with pytest.raises(DefinitionError) as raised:
        parse(PartDef, choice(**fields))
    assert said in " ".join(raised.value.messages())


def test_it_refuses_choice_rules_on_another_kind():
    with pytest.raises(DefinitionError) as raised:
        parse(PartDef, {"key": "a", "kind": "expression", "expected": "x", "multiple": True})
    assert "only a choice part" in " ".join(raised.value.messages())


def test_it_hands_the_rules_to_the_engine():
    part = parse(PartDef, choice(expected="a, c", multiple=True, scoring="partial", penalty=0.25))
    case = part.case_for("a", "a, c", {})
    assert (case["multiple"], case["scoring"], case["penalty"]) == (True, "partial", 0.25)
    single = parse(PartDef, choice()).case_for("a", "a", {})
    assert single["multiple"] is False
    assert "scoring" not in single


def test_it_keeps_a_single_answer_definition_as_it_was():
    part = parse(PartDef, choice())
    assert (part.multiple, part.scoring, part.penalty) == (None, "all-or-nothing", None)
    assert part.to_data() == choice()


def test_it_takes_several_keys_when_the_expected_answer_names_several():
    assert parse(PartDef, choice(expected="a, c")).case_for("a", "a, c", {})["multiple"] is True
    assert parse(PartDef, choice()).case_for("a", "a", {})["multiple"] is False
    # A template may name one key or several: check boxes take both.
    templated = parse(PartDef, choice(expected="{{k}}"))
    assert templated.case_for("a", "a", {})["multiple"] is True


def test_it_shows_check_boxes_for_an_older_part_that_expects_several(alice_client):
    exercise = make_choice_exercise(expected="a, c")
    html = alice_client.get(url(exercise)).content.decode()
    assert html.count('type="checkbox" name="answer-c"') == 4


# ---------------------------------------------------------------- the admin


def part_form(**data):
    from django.forms import modelform_factory

    from exercises.admin import PartForm
    from exercises.models import Part

    fields = ["key", "kind", "expected", "options", "multiple", "scoring", "penalty", "weight"]
    form_class = modelform_factory(Part, form=PartForm, fields=fields)
    posted = {
        "key": "c",
        "kind": "choice",
        "expected": "a, c",
        "options": json.dumps(OPTIONS),
        "weight": 1,
        **data,
    }
    return form_class(data=posted)


def test_the_admin_saves_a_choices_rules():
    form = part_form(multiple="true", scoring="partial", penalty="0.25")
    assert form.is_valid(), form.errors
    part = form.save(commit=False)
    assert (part.multiple, part.scoring, part.penalty) == (True, "partial", 0.25)


def test_the_admin_says_what_is_wrong_with_a_choices_rules():
    form = part_form(multiple="false", scoring="all-or-nothing")
    assert not form.is_valid()
    assert "multiple: true" in str(form.errors)
