"""On PostgreSQL a student's exercise and submission are read with hand-written SQL
(`exercises.student_reads`): what the API answers must be what the ORM path answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from exercises import queue, regrade, student_reads
from exercises.models import Exercise, Extension, Placement, ProblemSet, Variant
from tests.conftest import make_exercise, make_problem_set

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the hand-written reads are for PostgreSQL only")


@pytest.fixture(autouse=True)
def no_publish(monkeypatch):
    monkeypatch.setattr(regrade, "send", lambda job_id: True)


def parameterised(**kwargs) -> Exercise:
    return make_exercise(
        parts=[{"key": "a", "kind": "expression", "expected": "{{a}} x", "variables": ["x"]}],
        parameters={"a": {"int": [2, 9]}},
        **kwargs,
    )


def answered(student, exercise: Exercise, answer: str, problem_set=None):
    shown = exercise if problem_set is None else problem_set.exercise_shown(exercise.slug)
    submission = queue.submit(student, shown.with_parts(), {"a": answer})
    queue.grade(submission.pk)
    return submission


def both_ways(client, url, monkeypatch):
    """The answers to `url` on the fast path and on the ORM path."""
    fast = client.get(url)
    with monkeypatch.context() as orm:
        orm.setattr(student_reads, "enabled", lambda: False)
        slow = client.get(url)
    return fast, slow


def assert_same(client, url, monkeypatch) -> dict:
    fast, slow = both_ways(client, url, monkeypatch)
    assert fast.status_code == slow.status_code
    assert fast.json() == slow.json()
    return fast.json()


def test_it_reads_what_the_orm_reads(alice):
    exercise = parameterised()
    due = timezone.now() + timedelta(days=3)
    Extension.objects.create(student=alice, problem_set=exercise.problem_set, due=due)
    exercise.variant_for(alice)

    read = student_reads.published_exercise(exercise.slug, alice)
    orm = Exercise.published.for_student(alice).get(slug=exercise.slug)

    assert model_to_dict(read) == model_to_dict(orm)
    assert model_to_dict(read.problem_set) == model_to_dict(orm.problem_set)
    assert read.student_due == orm.student_due == due
    variant = read.variant_for(alice)
    assert model_to_dict(variant) == model_to_dict(Variant.objects.get(student=alice))
    assert variant.exercise is read


def test_it_reads_a_history_as_the_orm_does(alice):
    from exercises.models import Submission

    exercise = make_exercise()
    answered(alice, exercise, "x")
    answered(alice, exercise, "2x")
    answered(alice, make_exercise(), "2x")

    read = student_reads.history(alice, exercise)
    orm = list(Submission.objects.filter(student=alice, exercise=exercise))

    assert [model_to_dict(s) for s in read] == [model_to_dict(s) for s in orm]
    assert [s.attempt for s in read] == [2, 1]


def test_it_shows_an_exercise_as_the_orm_does(alice, alice_client, monkeypatch):
    exercise = parameterised(max_attempts=5)
    url = f"/api/exercises/{exercise.slug}/"
    alice_client.get(url)  # the variant is drawn
    a = Variant.objects.get(student=alice).values["a"]
    Extension.objects.create(
        student=alice, problem_set=exercise.problem_set, due=timezone.now() + timedelta(days=1)
    )
    answered(alice, exercise, "x")
    answered(alice, exercise, f"{a}x")
    # A fix that changes the first verdict: the history reads its regrade.
    exercise.parts.update(expected="x")
    exercise.version += 1
    exercise.save()
    job = regrade.start(exercise=exercise, reason="A typo.")
    while regrade.perform(job.pk) == "continued":
        pass

    body = assert_same(alice_client, url, monkeypatch)

    assert body["attempts_used"] == 2 and body["due"] is not None


def test_it_shows_a_placed_exercise_and_its_quiz_as_the_orm_does(alice, alice_client, monkeypatch):
    practice = make_problem_set()
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ, time_limit=20)
    exercise = parameterised(problem_set=practice)
    Placement.objects.create(problem_set=quiz, exercise=exercise)
    alice_client.get(f"/api/exercises/{exercise.slug}/")
    alice_client.get(f"/api/sets/{quiz.slug}/exercises/{exercise.slug}/")  # starts the quiz
    answered(alice, exercise, "x", problem_set=quiz)
    answered(alice, exercise, "2x")

    own = assert_same(alice_client, f"/api/exercises/{exercise.slug}/", monkeypatch)
    placed = assert_same(
        alice_client, f"/api/sets/{quiz.slug}/exercises/{exercise.slug}/", monkeypatch
    )

    assert own["attempts_used"] == placed["attempts_used"] == 1
    assert placed["kind"] == "quiz" and placed["quiz_ends"] is not None


def test_it_finds_what_the_orm_finds_for_students(alice, alice_client, monkeypatch):
    draft = make_exercise(status=Exercise.Status.DRAFT)
    unopened = make_exercise(problem_set=make_problem_set(opens=timezone.now() + timedelta(days=1)))
    opened = make_exercise(problem_set=make_problem_set(opens=timezone.now()))

    for slug, found in [
        (draft.slug, 404),
        (unopened.slug, 404),
        ("no-such-exercise", 404),
        (opened.slug, 200),
    ]:
        fast, slow = both_ways(alice_client, f"/api/exercises/{slug}/", monkeypatch)
        assert fast.status_code == slow.status_code == found
        assert fast.json() == slow.json()


def test_it_answers_a_poll_as_the_orm_does(alice, bob, client, alice_client, monkeypatch):
    exercise = make_exercise()
    wrong = answered(alice, exercise, "x")
    right = answered(alice, exercise, "2x")
    exercise.parts.update(expected="x")
    exercise.version += 1
    exercise.save()
    job = regrade.start(exercise=exercise, reason="A typo.")
    while regrade.perform(job.pk) == "continued":
        pass

    regraded = assert_same(alice_client, f"/api/submissions/{wrong.pk}/", monkeypatch)
    assert_same(alice_client, f"/api/submissions/{right.pk}/", monkeypatch)
    client.force_login(bob)
    fast, slow = both_ways(client, f"/api/submissions/{wrong.pk}/", monkeypatch)

    assert regraded["regrades"] and regraded["score"] == 1.0
    assert fast.status_code == slow.status_code == 404
