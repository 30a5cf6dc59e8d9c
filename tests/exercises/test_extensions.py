"""Per-student extensions of a problem set's due date, used by the late policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exercises import queue
from exercises.models import Extension, ProblemSet, Submission
from tests.conftest import make_exercise, make_problem_set

pytestmark = pytest.mark.django_db


def past_due(**kwargs) -> ProblemSet:
    return make_problem_set(due=timezone.now() - timedelta(days=1), **kwargs)


def test_it_accepts_answers_in_full_until_the_students_own_due_date(alice, bob):
    problem_set = past_due(late_policy=ProblemSet.LatePolicy.REFUSE)
    exercise = make_exercise(problem_set=problem_set)
    Extension.objects.create(
        student=alice, problem_set=problem_set, due=timezone.now() + timedelta(days=2)
    )

    submission = queue.submit(alice, exercise, {"a": "2x"})
    with pytest.raises(queue.SubmissionRefused, match="due date"):
        queue.submit(bob, exercise, {"a": "2x"})

    assert (submission.late, submission.multiplier) == (False, 1.0)
    assert not Submission.objects.filter(student=bob).exists()


def test_it_reads_each_students_own_due_date_with_the_exercise_in_the_api(client, alice, bob):
    from rest_framework.authtoken.models import Token

    problem_set = past_due(late_policy=ProblemSet.LatePolicy.PENALTY, late_penalty=0.5)
    exercise = make_exercise(problem_set=problem_set)
    later = timezone.now() + timedelta(days=2)
    Extension.objects.create(student=alice, problem_set=problem_set, due=later)
    url = f"/api/exercises/{exercise.slug}/"
    replies = {}
    for student in (alice, bob):
        auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=student).key}"}
        shown = client.get(url, **auth).json()
        submitted = client.post(
            f"{url}submissions/", {"answers": {"a": "2x"}}, content_type="application/json", **auth
        )
        assert submitted.status_code == 202
        replies[student.username] = (shown["due"], shown["late"])

    assert replies["alice"] == (later.isoformat().replace("+00:00", "Z"), False)
    assert replies["bob"][1] is True
    late = dict(Submission.objects.values_list("student__username", "late"))
    assert late == {"alice": False, "bob": True}
    assert Submission.objects.get(student=bob).multiplier == 0.5


def test_it_applies_the_late_policy_after_the_extension(alice):
    problem_set = past_due(late_policy=ProblemSet.LatePolicy.PENALTY, late_penalty=0.5)
    exercise = make_exercise(problem_set=problem_set)
    Extension.objects.create(
        student=alice, problem_set=problem_set, due=timezone.now() - timedelta(hours=1)
    )

    submission = queue.submit(alice, exercise, {"a": "2x"})

    assert (submission.late, submission.multiplier) == (True, 0.5)


def test_it_tells_each_student_their_own_due_date(alice_client, alice, bob):
    problem_set = past_due()
    exercise = make_exercise(problem_set=problem_set)
    later = timezone.now() + timedelta(days=3)
    Extension.objects.create(student=alice, problem_set=problem_set, due=later)

    body = alice_client.get(f"/api/exercises/{exercise.slug}/").json()

    assert body["due"] == later.isoformat().replace("+00:00", "Z")
    assert problem_set.due_for(bob) == problem_set.due


# ---------------------------------------------------------------- the admin


def change_form(problem_set: ProblemSet, extensions: list[dict]) -> dict:
    data = {
        "module": problem_set.module_id,
        "slug": problem_set.slug,
        "title": problem_set.title,
        "summary": problem_set.summary,
        "order": problem_set.order,
        "late_policy": problem_set.late_policy,
        "late_penalty": problem_set.late_penalty,
        "kind": problem_set.kind,
        "exercises-TOTAL_FORMS": 0,
        "exercises-INITIAL_FORMS": 0,
        "placements-TOTAL_FORMS": 0,
        "placements-INITIAL_FORMS": 0,
        "extensions-TOTAL_FORMS": len(extensions),
        "extensions-INITIAL_FORMS": 0,
    }
    for i, row in enumerate(extensions):
        data.update({f"extensions-{i}-{k}": v for k, v in row.items()})
    return data


def test_it_lets_an_instructor_grant_an_extension(client, charlie, alice):
    problem_set = past_due()
    client.force_login(charlie)

    response = client.post(
        reverse("admin:exercises_problemset_change", args=[problem_set.pk]),
        change_form(
            problem_set,
            [{"student": alice.pk, "due_0": "2030-01-02", "due_1": "17:00", "reason": "ill"}],
        ),
    )

    assert response.status_code == 302
    extension = Extension.objects.get()
    assert (extension.student, extension.reason) == (alice, "ill")
    assert problem_set.due_for(alice).year == 2030


def test_it_keeps_students_and_strangers_from_granting_extensions(client, alice):
    problem_set = past_due()
    url = reverse("admin:exercises_problemset_change", args=[problem_set.pk])
    data = change_form(
        problem_set, [{"student": alice.pk, "due_0": "2030-01-02", "due_1": "17:00"}]
    )

    anonymous = client.post(url, data)
    client.force_login(alice)
    student = client.post(url, data)

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert student.status_code == 302 and "/login/" in student["Location"]
    assert not Extension.objects.exists()


def test_it_refuses_a_second_extension_for_the_same_student(client, charlie, alice):
    problem_set = past_due()
    Extension.objects.create(student=alice, problem_set=problem_set, due=timezone.now())
    client.force_login(charlie)

    response = client.post(
        reverse("admin:exercises_problemset_change", args=[problem_set.pk]),
        {
            **change_form(
                problem_set, [{"student": alice.pk, "due_0": "2030-01-02", "due_1": "17:00"}]
            ),
            "extensions-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    assert "already has an extension" in response.content.decode()
    assert Extension.objects.count() == 1
