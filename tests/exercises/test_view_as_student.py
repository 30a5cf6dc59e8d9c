"""Staff viewing the course as a student sees it: the student's work, read-only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from exercises import view_as
from exercises.models import (
    Extension,
    ProblemSet,
    QuizDraft,
    QuizStart,
    Submission,
    Variant,
)
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db

PICK = "/admin/view-as/"
STOP = "/admin/view-as/stop/"


def make_randomised(**kwargs):
    kwargs.setdefault("parameters", {"a": {"int": [2, 900]}})
    kwargs.setdefault("prompt", "Differentiate \\( f(x) = {{a}}x^2 \\).")
    parts = [{"key": "a", "kind": "expression", "expected": "{{2*a}}x", "variables": ["x"]}]
    return make_exercise(parts=parts, **kwargs)


def give_variant(student, exercise, a: int) -> Variant:
    return Variant.objects.create(
        student=student, exercise=exercise, seed=1, values={"a": a}, expected={"a": f"{2 * a}x"}
    )


@pytest.fixture
def viewing(client, charlie, alice):
    """Charlie, an instructor, viewing the course as alice."""
    client.force_login(charlie)
    response = client.post(PICK, {"student": alice.pk})
    assert response.status_code == 302 and response["Location"] == "/"
    return client


def test_it_shows_the_students_work_not_ones_own(viewing, charlie, alice):
    exercise = make_randomised()
    give_variant(alice, exercise, 777)
    give_variant(charlie, exercise, 555)
    graded = Submission.Status.GRADED
    mine = make_submission(charlie, exercise, answers={"a": "1110x"}, status=graded, score=1.0)
    theirs = make_submission(alice, exercise, answers={"a": "99x"}, status=graded, score=0.0)

    page = viewing.get(exercise.get_absolute_url()).content.decode()

    assert "777" in page and "555" not in page
    assert 'value="99x"' in page and "1110x" not in page
    assert "Viewing as" in page and "alice" in page and "read-only" in page
    assert '<fieldset disabled class="view-as-read-only">' in page
    assert viewing.get(theirs.get_absolute_url()).status_code == 200
    assert viewing.get(mine.get_absolute_url()).status_code == 404
    problem_set_page = viewing.get(exercise.problem_set.get_absolute_url()).content.decode()
    assert "1 attempt" in problem_set_page or "tried" in problem_set_page


def test_it_shows_the_students_own_due_date(viewing, alice):
    problem_set = make_problem_set(due=timezone.now() - timedelta(days=1))
    make_exercise(problem_set=problem_set)
    Extension.objects.create(
        student=alice, problem_set=problem_set, due=timezone.now() + timedelta(days=3)
    )
    page = viewing.get(problem_set.get_absolute_url()).content.decode()
    assert "your extended date" in page and "(passed)" not in page


def test_it_draws_no_variant_and_starts_no_quiz(viewing, client, alice):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ)
    exercise = make_randomised(problem_set=quiz)

    page = viewing.get(exercise.get_absolute_url()).content.decode()
    viewing.get(exercise.get_absolute_url(), {"fragment": "feedback"})

    assert not Variant.objects.exists()
    assert not QuizStart.objects.exists()
    # What was shown is what the student will be shown: the values of their own seed.
    client.force_login(alice)
    client.get(exercise.get_absolute_url())
    drawn = Variant.objects.get(student=alice)
    assert f"f(x) = {drawn.values['a']}x^2" in page
    assert QuizStart.objects.filter(student=alice).count() == 1


def test_it_refuses_every_post_with_a_message(viewing, alice):
    exercise = make_exercise()
    timed = make_problem_set(kind=ProblemSet.Kind.QUIZ, time_limit=30)
    quiz_exercise = make_exercise(problem_set=timed)
    QuizStart.objects.create(student=alice, problem_set=timed, started=timezone.now())

    response = viewing.post(exercise.get_absolute_url(), {"answer-a": "2x"})
    assert response.status_code == 403
    assert "read-only" in response.content.decode()
    assert viewing.post(f"/sets/{timed.slug}/start/", {"confirm": "yes"}).status_code == 403
    response = viewing.post(
        f"/exercises/{quiz_exercise.slug}/draft/",
        json.dumps({"answers": {"a": "2x"}}),
        content_type="application/json",
    )
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    assert viewing.post(f"/exercises/{exercise.slug}/run/", {"part": "a"}).status_code == 403

    assert not Submission.objects.exists()
    assert not QuizDraft.objects.exists()
    assert QuizStart.objects.count() == 1


def test_it_stops_on_request(viewing, charlie, alice):
    exercise = make_exercise()
    assert viewing.get("/").context["viewing_as"] == alice

    response = viewing.post(STOP)

    assert response.status_code == 302
    assert view_as.SESSION_KEY not in viewing.session
    assert viewing.get("/").context["viewing_as"] is None
    response = viewing.post(exercise.get_absolute_url(), {"answer-a": "2x"})
    assert response.status_code == 302
    assert Submission.objects.get().student == charlie


def test_it_refuses_students_and_staff_without_permission(client, alice, bob):
    exercise = make_exercise()
    response = client.get(PICK)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    assert "/admin/login/" in client.post(PICK, {"student": bob.pk})["Location"]
    # A student whose session says otherwise still sees, and answers as, themselves.
    session = client.session
    session[view_as.SESSION_KEY] = bob.pk
    session.save()
    assert client.get("/").context["viewing_as"] is None
    client.post(exercise.get_absolute_url(), {"answer-a": "2x"})
    assert Submission.objects.get().student == alice

    staff = get_user_model().objects.create_user("dora", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_problemset"))
    client.force_login(staff)
    assert client.get(PICK).status_code == 403
    assert client.post(PICK, {"student": bob.pk}).status_code == 403
    session = client.session
    session[view_as.SESSION_KEY] = bob.pk
    session.save()
    assert client.get("/").context["viewing_as"] is None


def test_it_views_only_students(client, charlie, alice):
    client.force_login(charlie)
    other = get_user_model().objects.create_user("erin", is_staff=True)
    response = client.post(PICK, {"student": other.pk})
    assert response.status_code == 400
    assert view_as.SESSION_KEY not in client.session
    assert client.post(PICK, {"student": "nobody"}).status_code == 400
    page = client.get(PICK).content.decode()
    assert "View the course as this student" in page
    # From the course's gradebook: the student already picked.
    page = client.get(PICK, {"student": alice.pk}).content.decode()
    assert f'<option value="{alice.pk}" selected>alice</option>' in page
    assert client.get(PICK, {"student": "9" * 30}).status_code == 200
    assert "/admin/view-as/" in client.get("/admin/").content.decode()


def test_it_finds_students_for_those_who_may_view_submissions(client, charlie, alice):
    client.force_login(charlie)
    response = client.get(
        "/admin/students/",
        {
            "term": "ali",
            "app_label": "exercises",
            "model_name": "submission",
            "field_name": "student",
        },
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(alice.pk)]
