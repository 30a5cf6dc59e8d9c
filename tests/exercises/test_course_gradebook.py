"""The course's gradebook in the admin: every student, every problem set, totals per
module and course, "not attempted" apart from 0."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from exercises import gradebook
from exercises.models import Exercise, Extension, Placement, Submission
from tests.conftest import make_exercise, make_module, make_problem_set, make_submission

pytestmark = pytest.mark.django_db

URL = "/admin/gradebook/"
GRADED = Submission.Status.GRADED


def read(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def course(db):
    """Two modules: one with two sets (two exercises, then one), one with one set."""
    first = make_module(slug="m1", title="Module one", order=1)
    second = make_module(slug="m2", title="Module two", order=2)
    week1 = make_problem_set(module=first, slug="week1", title="Week 1", order=1)
    week2 = make_problem_set(module=first, slug="week2", title="Week 2", order=2)
    week3 = make_problem_set(module=second, slug="week3", title="Week 3", order=1)
    return {
        "sets": (week1, week2, week3),
        "e1": make_exercise(problem_set=week1, slug="e1", order=1),
        "e2": make_exercise(problem_set=week1, slug="e2", order=2),
        "draft": make_exercise(problem_set=week1, slug="draft", status=Exercise.Status.DRAFT),
        "e3": make_exercise(problem_set=week2, slug="e3"),
        "e4": make_exercise(problem_set=week3, slug="e4"),
    }


def test_it_totals_each_set_module_and_the_course_apart_from_not_attempted(
    client, charlie, alice, bob, course
):
    make_submission(alice, course["e1"], status=GRADED, score=1.0, credit=0.5)
    make_submission(alice, course["e1"], status=GRADED, score=1.0, credit=0.75)
    make_submission(alice, course["e2"], status=GRADED, score=0.0, credit=0.0)
    make_submission(alice, course["e4"], status=Submission.Status.QUEUED)
    make_submission(bob, course["e3"], status=GRADED, score=0.0, credit=0.0)
    make_submission(bob, course["draft"], status=GRADED, score=1.0, credit=1.0)
    client.force_login(charlie)

    response = client.get(URL, {"download": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="gradebook-course-' in response["Content-Disposition"]
    assert read(response) == [
        ["username", "first name", "last name", "email"]
        + ["week1 (/2)", "week2 (/1)", "m1 total (/3)", "week3 (/1)", "m2 total (/1)"]
        + ["course total (/4)"],
        ["alice", "", "", "", "0.75", "", "0.75", "", "", "0.75"],
        # 0 earned, attempted: 0, not empty; the draft counts for nothing.
        ["bob", "", "", "", "", "0", "0", "", "", "0"],
    ]


def test_it_expands_each_exercise_on_request(client, charlie, alice, course):
    make_submission(alice, course["e2"], status=GRADED, score=0.5, credit=0.5)
    client.force_login(charlie)
    rows = read(client.get(URL, {"download": "csv", "exercises": "1"}))
    assert rows[0][4:8] == ["week1/e1 (/1)", "week1/e2 (/1)", "week1 (/2)", "week2/e3 (/1)"]
    assert rows[1][4:8] == ["", "0.5", "0.5", ""]


def test_it_shows_a_table_with_a_legend_and_a_dash_for_not_attempted(
    client, charlie, alice, course
):
    make_submission(alice, course["e1"], status=GRADED, score=1.0, credit=1.0)
    week1 = course["sets"][0]
    Extension.objects.create(
        student=alice, problem_set=week1, due=timezone.now() + timedelta(days=2)
    )
    client.force_login(charlie)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "not attempted" in page and "—" in page
    book = response.context["book"]
    (row,) = book.rows
    assert [s.total.text for m in row.modules for s in m.sets] == ["1", "", ""]
    assert row.modules[0].sets[0].total.extended_to is not None
    assert "extension to " in page
    assert "?download=csv" in page and "Week 3</a> /1" in page
    assert client.get(URL, {"exercises": "1"}).context["with_exercises"] is True


def test_it_reads_every_score_in_a_few_queries(
    client, charlie, course, django_assert_max_num_queries
):
    students = [get_user_model().objects.create_user(f"s{n}") for n in range(8)]
    for student in students:
        for key in ("e1", "e2", "e3", "e4"):
            make_submission(student, course[key], status=GRADED, score=1.0, credit=1.0)
    client.force_login(charlie)
    # Sessions, the user and their permissions, then the gradebook's own few: never one
    # per student, problem set or exercise.
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"exercises": "1"})
    assert len(response.context["book"].rows) == 8
    with django_assert_max_num_queries(5):
        exercises, best = gradebook.best_credits()
    assert len(exercises) == 4 and len(best) == 32


def test_it_is_linked_from_the_admin_index(client, charlie):
    client.force_login(charlie)
    assert URL in client.get("/admin/").content.decode()


def test_it_keeps_students_and_staff_without_permission_out(client, alice, course):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    assert "/admin/login/" in client.get(URL)["Location"]
    staff = get_user_model().objects.create_user("dora", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_problemset"))
    client.force_login(staff)
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"download": "csv"}).status_code == 403
    assert URL not in client.get("/admin/").content.decode()
    assert client.post(URL).status_code == 405


def test_it_scores_an_exercise_placed_in_a_quiz_apart_from_its_own_set(
    client, charlie, alice, course
):
    week1, _, week3 = course["sets"]
    Placement.objects.create(problem_set=week3, exercise=course["e1"], order=5)
    make_submission(alice, course["e1"], status=GRADED, score=1.0, credit=1.0)
    client.force_login(charlie)

    rows = read(client.get(URL, {"download": "csv", "exercises": "1"}))

    header = rows[0]
    assert "week3/e1 (/1)" in header and "week1/e1 (/1)" in header
    alice_row = dict(zip(header, rows[1], strict=True))
    assert alice_row["week1/e1 (/1)"] == "1"
    assert alice_row["week3/e1 (/1)"] == ""  # not attempted in the quiz
    make_submission(alice, course["e1"], problem_set=week3, status=GRADED, score=0.0, credit=0.0)
    rows = read(client.get(URL, {"download": "csv", "exercises": "1"}))
    alice_row = dict(zip(rows[0], rows[1], strict=True))
    assert (alice_row["week1/e1 (/1)"], alice_row["week3/e1 (/1)"]) == ("1", "0")
