"""The per-problem-set gradebook, downloaded as CSV from the admin."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from exercises import gradebook
from exercises.models import Exercise, Submission
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db


def gradebook_url(problem_set) -> str:
    return f"/admin/exercises/problemset/{problem_set.pk}/gradebook.csv"


def read(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_it_lists_each_students_best_credit_per_exercise(client, charlie, alice, bob):
    ps = make_problem_set(slug="week-1")
    first = make_exercise(problem_set=ps, slug="first")
    second = make_exercise(problem_set=ps, slug="second")
    make_exercise(problem_set=ps, slug="hidden", status=Exercise.Status.DRAFT)
    graded = Submission.Status.GRADED
    make_submission(alice, first, status=graded, score=1.0, credit=0.5)
    make_submission(alice, first, status=graded, score=1.0, credit=0.75)
    make_submission(alice, second, status=Submission.Status.QUEUED)
    make_submission(bob, second, status=graded, score=0.5, credit=0.5)
    client.force_login(charlie)

    response = client.get(gradebook_url(ps))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="gradebook-week-1-' in response["Content-Disposition"]
    assert read(response) == [
        ["username", "first name", "last name", "email", "first", "second", "total", "out of"],
        ["alice", "", "", "", "0.75", "", "0.75", "2"],
        ["bob", "", "", "", "", "0.5", "0.5", "2"],
    ]


def test_it_keeps_spreadsheets_from_reading_cells_as_formulas(client, charlie):
    ps = make_problem_set()
    get_user_model().objects.create_user(
        "=HYPERLINK(1)", first_name="+cmd", last_name="-2", email="@x"
    )
    client.force_login(charlie)
    rows = read(client.get(gradebook_url(ps)))
    assert rows[1][:4] == ["'=HYPERLINK(1)", "'+cmd", "'-2", "'@x"]
    assert gradebook.cell("\tx") == "'\tx" and gradebook.cell("a=b") == "a=b"


def test_it_links_the_gradebook_from_the_problem_set_pages(client, charlie):
    ps = make_problem_set()
    client.force_login(charlie)
    assert gradebook_url(ps) in client.get("/admin/exercises/problemset/").content.decode()
    page = client.get(f"/admin/exercises/problemset/{ps.pk}/change/").content.decode()
    assert gradebook_url(ps) in page


def test_it_keeps_students_and_strangers_out_of_the_gradebook(client, alice):
    ps = make_problem_set()
    response = client.get(gradebook_url(ps))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    response = client.get(gradebook_url(ps))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_refuses_staff_without_the_right_to_see_submissions(client):
    ps = make_problem_set()
    staff = get_user_model().objects.create_user("dora", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(gradebook_url(ps)).status_code == 403


def test_it_answers_a_bad_problem_set_id_with_404(client, charlie):
    client.force_login(charlie)
    assert client.get("/admin/exercises/problemset/999999/gradebook.csv").status_code == 404
    assert client.get("/admin/exercises/problemset/abc/gradebook.csv").status_code == 404
