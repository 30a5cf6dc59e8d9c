"""A part's hint, offered once the student has answered that part wrongly."""

import pytest

from tests.conftest import make_exercise, make_submission

pytestmark = pytest.mark.django_db

HINT = "Bring the power down in front."


@pytest.fixture
def hinted():
    return make_exercise(
        parts=[
            {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"], "hint": HINT},
            {"key": "b", "kind": "numeric", "expected": "4", "hint": "Put x = 2 in."},
        ]
    )


def page(client, exercise) -> str:
    return client.get(f"/exercises/{exercise.slug}/").content.decode()


def test_it_keeps_the_hint_back_before_any_attempt(alice_client, hinted):
    assert HINT not in page(alice_client, hinted)


def test_it_offers_the_hint_of_a_part_answered_wrongly(alice_client, alice, hinted):
    make_submission(
        alice,
        hinted,
        status="graded",
        score=0.5,
        results={
            "a": {"status": "incorrect", "message": "x"},
            "b": {"status": "correct", "message": ""},
        },
    )
    html = page(alice_client, hinted)
    assert HINT in html
    assert 'id="part-hint-a"' in html
    assert "Put x = 2 in." not in html  # part b was right


def test_it_offers_no_hint_for_another_students_mistakes(client, alice, bob, hinted):
    make_submission(
        alice,
        hinted,
        status="graded",
        score=0.0,
        results={
            "a": {"status": "incorrect", "message": "x"},
            "b": {"status": "incorrect", "message": ""},
        },
    )
    client.force_login(bob)
    assert HINT not in page(client, hinted)


def test_it_offers_no_hint_for_an_answer_still_being_graded(alice_client, alice, hinted):
    make_submission(alice, hinted, status="queued")
    assert HINT not in page(alice_client, hinted)


def test_it_loads_and_exports_the_hint(tmp_path):
    from pathlib import Path

    import yaml

    from exercises.management.commands.export_course import Command as Export
    from exercises.management.commands.load_course import load_course
    from exercises.models import Part

    load_course(Path("course"), seeds=1)
    part = Part.objects.filter(kind="expression").first()
    part.hint = "Think of the **chain rule**."
    part.save()
    Export().handle(folder=str(tmp_path), overwrite=True)
    texts = [yaml.safe_load(p.read_text()) for p in tmp_path.glob("*/*.yaml")]
    hints = {
        (ex["slug"], str(q["key"])): q.get("hint", "")
        for ps in texts
        for ex in ps["exercises"]
        for q in ex["parts"]
    }
    assert hints[(part.exercise.slug, part.key)] == "Think of the **chain rule**."
    # The course's own hints are written back as they were loaded.
    stored = {(p.exercise.slug, p.key): p.hint for p in Part.objects.select_related("exercise")}
    assert hints == stored
