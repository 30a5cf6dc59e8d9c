"""Instructors pick the student of an extension by name or e-mail as they type, without
seeing the user admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from exercises.models import Extension
from tests.conftest import make_problem_set

pytestmark = pytest.mark.django_db

URL = "/admin/students/"
EXTENSION = {"app_label": "exercises", "model_name": "extension", "field_name": "student"}


def make_student(username: str, **kwargs):
    kwargs.setdefault("email", f"{username}@example.org")
    return get_user_model().objects.create_user(username, password="x", **kwargs)


def search(client, term: str = "", **params):
    return client.get(URL, {**EXTENSION, "term": term, **params})


@pytest.fixture
def students(alice, bob):
    alice.first_name, alice.last_name, alice.email = "Alice", "Liddell", "al@wonder.example"
    alice.save()
    bob.first_name, bob.last_name, bob.email = "Robert", "Smith", "bob@example.org"
    bob.save()
    return alice, bob


@pytest.fixture
def charlie_client(client, charlie):
    client.force_login(charlie)
    return client


@pytest.mark.parametrize("term", ["liddell", "ALICE", "al@wonder", "alice liddell", "ice"])
def test_it_finds_a_student_by_name_username_or_email(charlie_client, students, term):
    alice, _ = students

    body = search(charlie_client, term).json()

    assert body == {
        "results": [{"id": str(alice.pk), "text": "Alice Liddell (alice, al@wonder.example)"}],
        "pagination": {"more": False},
    }


def test_it_finds_students_only(charlie_client, students, charlie):
    make_student("staffer", is_staff=True)
    make_student("gone", is_active=False)

    names = [r["text"] for r in search(charlie_client).json()["results"]]

    assert names == [
        "Alice Liddell (alice, al@wonder.example)",
        "Robert Smith (bob, bob@example.org)",
    ]


def test_it_answers_a_page_at_a_time(charlie_client, db):
    for n in range(25):
        make_student(f"student-{n:02}")

    first = search(charlie_client, "student").json()
    second = search(charlie_client, "student", page="2").json()
    beyond = search(charlie_client, "student", page="9").json()

    assert (len(first["results"]), first["pagination"]["more"]) == (20, True)
    assert (len(second["results"]), second["pagination"]["more"]) == (5, False)
    assert beyond == {"results": [], "pagination": {"more": False}}


@pytest.mark.parametrize("params", [{"term": "a\x00b"}, {"page": "x"}, {"page": "-3"}])
def test_it_answers_odd_input_without_an_error(charlie_client, students, params):
    response = search(charlie_client, **params)

    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_it_lets_the_instructors_group_search_but_not_see_the_user_admin(charlie_client, students):
    assert search(charlie_client, "alice").status_code == 200
    assert charlie_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    alice, _ = students
    assert charlie_client.get(reverse("admin:auth_user_change", args=[alice.pk])).status_code == 403


def test_it_sends_anonymous_visitors_and_students_to_the_admins_login(client, alice):
    anonymous = search(client, "a")
    client.force_login(alice)
    student = search(client, "a")

    for response in (anonymous, student):
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_refuses_staff_who_may_not_grant_extensions(client, students):
    viewer = make_student("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_extension"))
    client.force_login(viewer)

    response = search(client, "alice")

    assert response.status_code == 403
    assert "alice" not in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"model_name": "coderun"},
        {"field_name": "problem_set"},
        {"app_label": "auth", "model_name": "user", "field_name": "groups"},
        {"model_name": ""},
    ],
)
def test_it_refuses_a_field_that_is_not_a_students(charlie_client, students, params):
    response = search(charlie_client, "alice", **params)

    assert response.status_code == 403
    assert "alice" not in response.content.decode()


def test_it_refuses_other_methods(charlie_client):
    assert charlie_client.post(URL, EXTENSION).status_code == 405


def test_it_offers_the_picker_on_the_problem_sets_page(charlie_client, students):
    alice, _ = students
    problem_set = make_problem_set()
    Extension.objects.create(student=alice, problem_set=problem_set, due=timezone.now())

    html = charlie_client.get(
        reverse("admin:exercises_problemset_change", args=[problem_set.pk])
    ).content.decode()

    assert f'data-ajax--url="{URL}"' in html
    assert 'data-model-name="extension"' in html
    # The student already chosen shows by name, and nothing links to the user admin.
    assert "Alice Liddell (alice, al@wonder.example)" in html
    assert "/admin/auth/user/" not in html


def test_it_grants_an_extension_to_the_student_picked(charlie_client, students):
    alice, _ = students
    problem_set = make_problem_set()
    picked = search(charlie_client, "liddell").json()["results"][0]["id"]

    response = charlie_client.post(
        reverse("admin:exercises_problemset_change", args=[problem_set.pk]),
        {
            "module": problem_set.module_id,
            "slug": problem_set.slug,
            "title": problem_set.title,
            "summary": "",
            "order": problem_set.order,
            "late_policy": problem_set.late_policy,
            "late_penalty": problem_set.late_penalty,
            "kind": problem_set.kind,
            "exercises-TOTAL_FORMS": 0,
            "exercises-INITIAL_FORMS": 0,
            "placements-TOTAL_FORMS": 0,
            "placements-INITIAL_FORMS": 0,
            "extensions-TOTAL_FORMS": 1,
            "extensions-INITIAL_FORMS": 0,
            "extensions-0-student": picked,
            "extensions-0-due_0": "2030-01-02",
            "extensions-0-due_1": "17:00",
            "extensions-0-reason": "ill",
        },
    )

    assert response.status_code == 302
    assert Extension.objects.get().student == alice
