"""A regrade that changes a verdict is visible to its student: on the attempt's page, in
the attempts list and in the API, with when, the score before and after, and why."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from exercises import queue, regrade
from exercises.models import Exercise, ProblemSet, RegradeJob, Submission
from tests.conftest import make_exercise, make_problem_set

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_publish(monkeypatch):
    sent = []
    monkeypatch.setattr(regrade, "send", lambda job_id: sent.append(job_id) or True)
    return sent


def graded(student, exercise: Exercise, answer: str) -> Submission:
    submission = queue.submit(student, exercise, {"a": answer})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def fix_and_regrade(exercise: Exercise, expected: str, reason: str = "", **target) -> RegradeJob:
    exercise.parts.update(expected=expected)
    exercise.version += 1
    exercise.save()
    job = regrade.start(**(target or {"exercise": exercise}), reason=reason)
    while regrade.perform(job.pk) == "continued":
        pass
    job.refresh_from_db()
    return job


def test_it_shows_on_the_attempt_page_when_and_why_the_score_changed(alice, alice_client):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    job = fix_and_regrade(exercise, "x", reason="The expected answer had a typo.")

    html = alice_client.get(submission.get_absolute_url()).content.decode()

    assert "This verdict was changed by a regrade" in html
    when = job.gradings.get().created
    assert f'<time datetime="{when.isoformat()}"' in html
    assert re.search(r"from <strong>0%</strong> to <strong>100%</strong>", html)
    assert "The expected answer had a typo." in html


def test_it_gives_the_version_change_when_the_instructor_gave_no_reason(alice, alice_client):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    fix_and_regrade(exercise, "x")

    html = alice_client.get(submission.get_absolute_url()).content.decode()

    assert "The exercise was corrected (version 1 → 2)" in html


def test_it_says_nothing_of_a_regrade_that_kept_the_verdict(alice, alice_client):
    exercise = make_exercise()
    submission = graded(alice, exercise, "2x")
    fix_and_regrade(exercise, "2*x")

    html = alice_client.get(submission.get_absolute_url()).content.decode()
    page = alice_client.get(exercise.get_absolute_url()).content.decode()

    assert submission.gradings.count() == 2
    assert "changed by a regrade" not in html
    assert "regraded" not in page


def test_it_marks_the_changed_attempt_in_the_attempts_list(alice, alice_client):
    exercise = make_exercise()
    changed = graded(alice, exercise, "x")
    kept = graded(alice, exercise, "3x")
    fix_and_regrade(exercise, "x", reason="A typo.")

    html = alice_client.get(exercise.get_absolute_url()).content.decode()
    rows = {
        int(m[1]): m[2]
        for m in re.finditer(r'<a href="/submissions/(\d+)/">(.*?)</tr>', html, re.S)
    }

    assert "regraded" in rows[changed.pk] and "was 0%" in rows[changed.pk]
    assert 'title="A typo."' in rows[changed.pk]
    assert "regraded" not in rows[kept.pk]


def test_it_lists_the_changes_in_the_apis_submission(alice, alice_client):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    job = fix_and_regrade(exercise, "x", reason="A typo.")

    body = alice_client.get(f"/api/submissions/{submission.pk}/").json()

    when = job.gradings.get().created.isoformat().replace("+00:00", "Z")
    assert body["score"] == 1.0
    assert body["regrades"] == [
        {
            "at": when,
            "old_score": 0.0,
            "new_score": 1.0,
            "old_credit": 0.0,
            "new_credit": 1.0,
            "reason": "A typo.",
        }
    ]


def test_it_gives_an_empty_list_in_the_api_when_nothing_changed(alice, alice_client):
    submission = graded(alice, make_exercise(), "2x")

    body = alice_client.get(f"/api/submissions/{submission.pk}/").json()

    assert body["regrades"] == []


def test_it_holds_a_change_back_while_the_quizs_feedback_is(alice, alice_client):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ)
    exercise = make_exercise(problem_set=quiz)
    submission = graded(alice, exercise, "x")
    fix_and_regrade(exercise, "x", reason="A typo.")

    html = alice_client.get(submission.get_absolute_url()).content.decode()
    body = alice_client.get(f"/api/submissions/{submission.pk}/").json()
    page = alice_client.get(exercise.get_absolute_url()).content.decode()

    assert "A typo." not in html and "regrade" not in html
    assert "regrades" not in body and "score" not in body
    assert "regraded" not in page


def test_it_shows_another_students_regrade_to_nobody_else(alice, bob, client):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    fix_and_regrade(exercise, "x", reason="A typo.")
    client.force_login(bob)

    assert client.get(submission.get_absolute_url()).status_code == 404
    assert client.get(f"/api/submissions/{submission.pk}/").status_code == 404


def test_it_reads_every_change_oldest_first(alice):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    fix_and_regrade(exercise, "x", reason="First fix.")
    fix_and_regrade(exercise, "2x", reason="Second thoughts.")
    submission.refresh_from_db()

    changes = regrade.verdict_changes(submission)

    assert [(c.old_score, c.new_score, c.reason) for c in changes] == [
        (0.0, 1.0, "First fix."),
        (1.0, 0.0, "Second thoughts."),
    ]


# ---------------------------------------------------------------- the instructor's reason


def test_it_keeps_the_reason_given_with_the_list_action(client, charlie):
    exercise = make_exercise()
    client.force_login(charlie)

    client.post(
        reverse("admin:exercises_exercise_changelist"),
        {"action": "regrade_all", "_selected_action": [exercise.pk], "reason": "  A typo. "},
    )

    assert RegradeJob.objects.get().reason == "A typo."


@pytest.mark.parametrize("model", ["exercise", "problemset"])
def test_it_keeps_the_reason_given_with_the_button(client, charlie, model):
    exercise = make_exercise()
    target = exercise if model == "exercise" else exercise.problem_set
    client.force_login(charlie)

    page = client.get(reverse(f"admin:exercises_{model}_change", args=[target.pk]))
    client.post(
        reverse(f"admin:exercises_{model}_regrade", args=[target.pk]),
        {"reason": "The answer to part a was wrong."},
    )

    assert 'name="reason"' in page.content.decode()
    assert RegradeJob.objects.get().reason == "The answer to part a was wrong."


def test_it_cuts_an_overlong_reason_rather_than_failing(client, charlie):
    exercise = make_exercise()
    client.force_login(charlie)

    response = client.post(
        reverse("admin:exercises_exercise_regrade", args=[exercise.pk]), {"reason": "x" * 1000}
    )

    assert response.status_code == 302
    assert len(RegradeJob.objects.get().reason) == 300
