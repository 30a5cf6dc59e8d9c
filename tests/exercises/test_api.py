"""The JSON API."""

import json

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from exercises.models import CodeRun, Submission
from tests.conftest import make_code_exercise, make_exercise, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, alice):
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_it_issues_a_token(client, alice):
    response = post_json(
        client, "/api/auth/token/", {"username": "alice", "password": "alice-password"}
    )
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=alice).key


def test_it_refuses_a_wrong_password(client, alice):
    response = post_json(client, "/api/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_it_throttles_token_requests(client, alice, settings):
    settings.API_TOKEN_REQUESTS_PER_MINUTE = 3
    responses = [
        post_json(client, "/api/auth/token/", {"username": "alice", "password": "x"})
        for _ in range(4)
    ]
    assert [r.status_code for r in responses] == [400, 400, 400, 429]
    assert int(responses[-1]["Retry-After"]) > 0


def test_it_says_what_is_wrong_with_a_malformed_body(client, api, exercise):
    response = api.post(
        f"/api/exercises/{exercise.slug}/submissions/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    response = post_json(api, f"/api/exercises/{exercise.slug}/submissions/", ["a"])
    assert response.status_code == 400
    response = post_json(api, f"/api/exercises/{exercise.slug}/submissions/", {"answers": {"a": 2}})
    assert response.status_code == 400
    response = post_json(
        api, f"/api/exercises/{exercise.slug}/submissions/", {"answers": {"zz": "1"}}
    )
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_it_matches_the_apis_urls_before_any_other():
    from django.urls import resolve

    match = resolve("/api/submissions/1/")
    assert match.url_name == "ex-api-submission"
    # Only the API's own patterns were tried on the way.
    assert {str(tried[0].pattern) for tried in match.tried} == {"api/"}


def test_it_answers_in_json_whatever_the_client_accepts(api, exercise):
    for accept in ("text/html", "application/xml;q=0.9", "*/*", "application/json"):
        response = api.get(f"/api/exercises/{exercise.slug}/", HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"] == "application/json"
        assert response.json()["slug"] == exercise.slug
    # The schema, which has two forms, is still chosen by what is asked for.
    assert api.get("/api/schema/")["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert api.get("/api/schema/?format=json")["Content-Type"].startswith(
        "application/vnd.oai.openapi+json"
    )


def test_it_requires_authentication(client, exercise):
    assert client.get("/api/modules/").status_code in {401, 403}
    response = post_json(
        client, f"/api/exercises/{exercise.slug}/submissions/", {"answers": {"a": "2x"}}
    )
    assert response.status_code in {401, 403}
    assert not Submission.objects.exists()


def test_it_lists_modules_in_order(api):
    second = make_exercise()
    first = make_exercise()
    first.problem_set.module.order = 0
    first.problem_set.module.save()
    data = api.get("/api/modules/").json()
    assert [m["slug"] for m in data] == [
        first.problem_set.module.slug,
        second.problem_set.module.slug,
    ]
    assert data[0]["problem_sets"][0]["exercises"] == [{"slug": first.slug, "title": first.title}]


def test_it_shows_an_exercise_without_its_answers(api):
    exercise = make_exercise(
        parts=[
            {
                "key": "a",
                "kind": "choice",
                "expected": "b",
                "options": [{"key": "a", "text": "one"}, {"key": "b", "text": "two"}],
            },
        ]
    )
    data = api.get(f"/api/exercises/{exercise.slug}/").json()
    assert data["parts"] == [
        {
            "key": "a",
            "kind": "choice",
            "label": "",
            "variables": [],
            "options": [{"key": "a", "text": "one"}, {"key": "b", "text": "two"}],
            "multiple": False,
            "scoring": "all-or-nothing",
        }
    ]
    assert "expected" not in json.dumps(data)
    assert "solution" not in data


def test_it_accepts_and_grades_a_submission(
    api, alice, exercise, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            api, f"/api/exercises/{exercise.slug}/submissions/", {"answers": {"a": "2 x"}}
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"].endswith(f"/api/submissions/{body['id']}/")
    data = api.get(f"/api/submissions/{body['id']}/").json()
    assert data["status"] == "graded"
    assert data["score"] == 1.0
    assert data["parts"]["a"]["status"] == "correct"
    assert Submission.objects.get().student == alice


def test_it_refuses_an_unreadable_answer_with_422(api, exercise):
    response = post_json(
        api, f"/api/exercises/{exercise.slug}/submissions/", {"answers": {"a": "2x)"}}
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"a"}
    assert not Submission.objects.exists()


def test_it_hides_another_students_submission(api, bob, exercise):
    s = make_submission(bob, exercise)
    assert api.get(f"/api/submissions/{s.pk}/").status_code == 404
    assert api.get("/api/submissions/987654/").status_code == 404


def test_it_404s_an_unknown_exercise(api):
    assert api.get("/api/exercises/nope/").status_code == 404
    assert post_json(api, "/api/exercises/nope/submissions/", {"answers": {}}).status_code == 404


def test_it_rejects_wrong_methods(api, exercise):
    assert api.get(f"/api/exercises/{exercise.slug}/submissions/").status_code == 405
    assert api.delete("/api/modules/").status_code == 405


def post_raw(client, url, body: str | bytes):
    """`body` as a client sends it: a JSON text, or bytes that may not even be UTF-8."""
    data = body.encode() if isinstance(body, str) else body
    return client.post(url, data, content_type="application/json")


def post_urls(exercise, code_exercise):
    return [
        "/api/auth/token/",
        f"/api/exercises/{exercise.slug}/submissions/",
        f"/api/exercises/{code_exercise.slug}/runs/",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 5_000 + "1" + "}" * 5_000,
        '{"answers": {"a": ' + "[" * 20 + '"2x"' + "]" * 20 + "}}",
    ],
    ids=["lists", "objects", "under-the-parsers-limit"],
)
def test_it_refuses_deeply_nested_json_on_every_post_endpoint(api, exercise, body):
    code_exercise = make_code_exercise()
    for url in post_urls(exercise, code_exercise):
        response = post_raw(api, url, body)
        assert response.status_code == 400, url
        assert "nested" in response.json()["detail"], url
    assert not Submission.objects.exists()
    assert not CodeRun.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "alice", "password": "pass\\udfff"}',
        '{"\\ud800": "alice", "password": "x"}',
    ],
)
def test_it_refuses_a_lone_surrogate_in_a_token_request(client, alice, body):
    response = post_raw(client, "/api/auth/token/", body)
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["detail"]
    assert not Token.objects.exists()


@pytest.mark.parametrize("field", ["username", "password"])
def test_it_refuses_a_nul_in_a_token_request(client, alice, field):
    body = {"username": "alice", "password": "alice-password"}
    body[field] = body[field][:2] + "\x00" + body[field][2:]
    response = post_json(client, "/api/auth/token/", body)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert not Token.objects.exists()


def test_it_refuses_a_lone_surrogate_in_a_choice_answer_without_echoing_it(api):
    choice = make_exercise(
        [{"key": "c", "kind": "choice", "expected": "A", "options": [{"key": "A", "text": "a"}]}]
    )
    response = post_raw(
        api, f"/api/exercises/{choice.slug}/submissions/", '{"answers": {"c": "\\ud800"}}'
    )
    assert response.status_code == 400
    response.content.decode("utf-8")
    assert "lone surrogate (\\ud800)" in response.json()["detail"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        '"answers"',
        "17",
        "null",
        '{"answers": {"a": 2}}',
        '{"answers": {"a": null}}',
        '{"answers": {"a": ["2x"]}}',
        '{"answers": [["a", "2x"]]}',
        '{"answers": {"a": ' + "9" * 5_000 + "}}",
        b'{"answers": {"a": "\xff"}}',
    ],
)
def test_it_refuses_a_malformed_submission_with_a_message(api, exercise, body):
    response = post_raw(api, f"/api/exercises/{exercise.slug}/submissions/", body)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"part": ["code"], "answer": "x"},
        {"part": "code", "answer": 1},
        {"part": "co\x00de", "answer": "x = 1"},
        '{"part": "\\ud800", "answer": "x = 1"}',
        '{"part": "code", "answer": "\\ud800"}',
    ],
)
def test_it_refuses_a_malformed_run_with_a_message(api, body):
    code_exercise = make_code_exercise()
    url = f"/api/exercises/{code_exercise.slug}/runs/"
    response = post_raw(api, url, body if isinstance(body, str) else json.dumps(body))
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not CodeRun.objects.exists()


def test_it_refuses_a_body_too_large_with_a_message(api, exercise, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"answers": {"a": "x" * 2000}})
    response = post_raw(api, f"/api/exercises/{exercise.slug}/submissions/", body)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not Submission.objects.exists()


# ---------------------------------------------------------------- the cost of the hot path


def parameterised_exercise():
    """Three parts and a variant per student, like most of the course's exercises."""
    return make_exercise(
        [
            {"key": "a", "kind": "expression", "expected": "{{a}} x", "variables": ["x"]},
            {"key": "b", "kind": "numeric", "expected": "{{a}}"},
            {"key": "c", "kind": "expression", "expected": "x^{{a}}", "variables": ["x"]},
        ],
        parameters={"a": {"int": [2, 9]}},
    )


def queries_of(call) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return [q["sql"] for q in captured.captured_queries]


def test_it_answers_a_poll_with_two_queries(api, alice, exercise, django_assert_num_queries):
    s = make_submission(alice, exercise, status="queued")
    with django_assert_num_queries(2):  # the token with its user, the submission
        body = api.get(f"/api/submissions/{s.pk}/").json()
    assert body["status"] == "queued"


def test_it_reads_an_exercise_s_parts_once_per_version(api, alice):
    ex = parameterised_exercise()
    url = f"/api/exercises/{ex.slug}/"
    api.get(url)  # the variant is drawn and kept

    queries = queries_of(lambda: api.get(url))

    # The exercise with its problem set and the student's extension; the variant (read
    # with the exercise on PostgreSQL: `student_reads`); the student's submissions to it
    # (the token was looked up by the first request).
    assert len(queries) == (2 if connection.vendor == "postgresql" else 3)
    assert not [q for q in queries if "exercises_part" in q]
    assert not [q for q in queries if 'FROM "exercises_exercise"' in q][1:]


def test_it_shows_the_parts_of_a_new_version(api, alice):
    from django.db.models import F

    from exercises.models import Exercise, Part

    ex = parameterised_exercise()
    url = f"/api/exercises/{ex.slug}/"
    api.get(url)
    # As the admin saves it from another process: the parts, then the version.
    Part.objects.filter(exercise=ex, key="a").update(label="The derivative")
    Exercise.objects.filter(pk=ex.pk).update(version=F("version") + 1)

    labels = [p["label"] for p in api.get(url).json()["parts"]]

    assert labels == ["The derivative", "", ""]


def test_it_submits_with_seven_queries_or_five_on_postgresql(
    api, alice, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import connection

    from exercises.tasks import grade_submission

    sent = []
    monkeypatch.setattr(grade_submission, "apply_async", lambda *a, **kw: sent.append(a))
    ex = parameterised_exercise()
    api.get(f"/api/exercises/{ex.slug}/")
    a = alice.variants.get().values["a"]
    answers = {"answers": {"a": f"{a}x", "b": str(a), "c": f"x^{a}"}}
    url = f"/api/exercises/{ex.slug}/submissions/"

    def submit():
        # The message is published once the transaction commits, as in production.
        with django_capture_on_commit_callbacks(execute=True):
            return post_json(api, url, answers)

    queries = queries_of(submit)

    # The exercise with its problem set and the student's extension; the variant (read
    # with the exercise on PostgreSQL: `student_reads`); in the transaction, the
    # student's lock, the attempts so far with those in flight, the insert (on
    # PostgreSQL one statement with the counts), marked sent with the row: nothing
    # more once published (the token was looked up by the first request).
    assert len(queries) == (5 if connection.vendor == "postgresql" else 7)
    assert not [q for q in queries if "exercises_part" in q]
    submission = Submission.objects.get()
    assert (submission.attempt, submission.answers) == (1, answers["answers"])
    assert submission.last_sent is not None and len(sent) == 1


def test_it_builds_the_outline_once_for_everyone(api, bob, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_exercise()
    first = api.get("/api/modules/").json()
    other = Token.objects.create(user=bob)
    with CaptureQueriesContext(connection) as queries:
        second = client.get("/api/modules/", HTTP_AUTHORIZATION=f"Token {other.key}").json()
    # Only bob's token: the outline was built for alice's request.
    assert [q["sql"] for q in queries.captured_queries if "authtoken" not in q["sql"]] == []
    assert second == first


def test_a_change_to_the_content_is_in_the_next_outline(api):
    exercise = make_exercise()
    api.get("/api/modules/")
    exercise.title = "Renamed"
    exercise.save()
    outline = api.get("/api/modules/").json()
    assert outline[0]["problem_sets"][0]["exercises"][0]["title"] == "Renamed"
    make_exercise()
    assert len(api.get("/api/modules/").json()) == 2


def test_the_outline_is_built_again_after_its_seconds(api, monkeypatch, settings):
    from exercises import outline

    exercise = make_exercise()
    api.get("/api/modules/")
    # Changed by another process: no signal here.
    type(exercise).objects.filter(pk=exercise.pk).update(title="Elsewhere")
    assert api.get("/api/modules/").json()[0]["problem_sets"][0]["exercises"][0]["title"] != (
        "Elsewhere"
    )
    later = outline.time.monotonic() + settings.API_OUTLINE_CACHE_SECONDS + 1
    monkeypatch.setattr(outline.time, "monotonic", lambda: later)
    assert api.get("/api/modules/").json()[0]["problem_sets"][0]["exercises"][0]["title"] == (
        "Elsewhere"
    )
