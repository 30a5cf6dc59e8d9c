"""'Run the visible tests': a code part's visible tests on the student's source, with no
attempt used (exercises/coderuns.py, the `ex-run` and `ex-run-result` views, the API)."""

import json
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.authtoken.models import Token

from exercises import coderuns
from exercises.models import CodeRun, ProblemSet, Submission
from grading.code import SandboxUnavailable
from tests.conftest import (
    HALF_RIGHT_CODE,
    RIGHT_CODE,
    make_code_exercise,
    make_problem_set,
)

pytestmark = pytest.mark.django_db

SYNTAX_ERROR = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) /\n"


@pytest.fixture
def published(monkeypatch):
    """What `publish` was asked to send: (task name, args, Celery queue)."""
    sent = []

    def publish(name, *args, queue=None, on_sent=None):
        sent.append((name, args, queue))
        return True

    monkeypatch.setattr(coderuns, "publish", publish)
    return sent


@pytest.fixture
def code_exercise(db):
    return make_code_exercise()


def run_url(exercise) -> str:
    return f"/exercises/{exercise.slug}/run/"


def post_run(client, exercise, source, part="code"):
    return client.post(run_url(exercise), {"part": part, f"answer-{part}": source})


def make_run(student, exercise, source=RIGHT_CODE, **kwargs) -> CodeRun:
    kwargs.setdefault("variant", exercise.variant_for(student))
    return CodeRun.objects.create(
        student=student, exercise=exercise, part_key="code", source=source, **kwargs
    )


@pytest.fixture
def api(client, alice):
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


# ---------------------------------------------------------------- starting a run


def test_it_queues_a_run_on_the_code_queue(
    alice_client, alice, code_exercise, published, settings, django_capture_on_commit_callbacks
):
    settings.CODE_QUEUE = "code-here"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_run(alice_client, code_exercise, RIGHT_CODE)
    assert response.status_code == 202
    run = CodeRun.objects.get(student=alice)
    assert response.json() == {"id": run.pk, "url": f"/runs/{run.pk}/"}
    assert (run.status, run.part_key, run.source) == ("queued", "code", RIGHT_CODE)
    assert published == [(coderuns.RUN, (run.pk,), "code-here")]
    # It costs no attempt.
    assert not Submission.objects.filter(student=alice).exists()


def test_it_refuses_code_that_does_not_compile(alice_client, alice, code_exercise, published):
    response = post_run(alice_client, code_exercise, SYNTAX_ERROR)
    assert response.status_code == 422
    assert response.json()["error"].startswith("line 2, column")
    assert not CodeRun.objects.exists()
    assert published == []


def test_it_refuses_a_part_that_is_not_code(alice_client, published):
    exercise = make_code_exercise(with_maths=True)
    response = post_run(alice_client, exercise, "2x", part="a")
    assert response.status_code == 400
    assert "no code part" in response.json()["error"]
    assert not CodeRun.objects.exists()


def test_it_limits_runs_per_minute(alice_client, code_exercise, published, settings):
    settings.CODE_RUNS_PER_MINUTE = 2
    codes = [post_run(alice_client, code_exercise, RIGHT_CODE) for _ in range(3)]
    assert [r.status_code for r in codes] == [202, 202, 429]
    body = codes[-1].json()
    assert body["retry_after"] > 0 and "wait" in body["error"]
    assert int(codes[-1]["Retry-After"]) == body["retry_after"]
    assert CodeRun.objects.count() == 2


def test_it_refuses_runs_in_a_quiz_whose_feedback_is_held(alice_client, published):
    exercise = make_code_exercise(
        problem_set=make_problem_set(kind=ProblemSet.Kind.QUIZ, feedback_released=None)
    )
    response = post_run(alice_client, exercise, RIGHT_CODE)
    assert response.status_code == 403
    assert response.json()["error"] == coderuns.HELD_MESSAGE
    assert not CodeRun.objects.exists()


def test_it_refuses_runs_after_the_due_date_when_late_answers_are_refused(alice_client, published):
    exercise = make_code_exercise(
        problem_set=make_problem_set(
            due=timezone.now() - timedelta(days=1), late_policy=ProblemSet.LatePolicy.REFUSE
        )
    )
    response = post_run(alice_client, exercise, RIGHT_CODE)
    assert response.status_code == 403
    assert "due date" in response.json()["error"]
    assert not CodeRun.objects.exists()


# ---------------------------------------------------------------- access


def test_it_sends_anonymous_visitors_to_sign_in(client, code_exercise, published):
    response = post_run(client, code_exercise, RIGHT_CODE)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not CodeRun.objects.exists()


def test_it_refuses_the_wrong_methods(alice_client, alice, code_exercise, published):
    assert alice_client.get(run_url(code_exercise)).status_code == 405
    run = make_run(alice, code_exercise)
    assert alice_client.post(f"/runs/{run.pk}/").status_code == 405
    assert not CodeRun.objects.exclude(pk=run.pk).exists()


def test_it_hides_another_students_run(client, alice, bob, code_exercise):
    run = make_run(alice, code_exercise)
    client.force_login(bob)
    assert client.get(f"/runs/{run.pk}/").status_code == 404
    token = Token.objects.create(user=bob)
    response = client.get(f"/api/runs/{run.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 404


def test_it_answers_404_for_a_bad_id(alice_client, code_exercise, published):
    assert alice_client.get("/runs/999999/").status_code == 404
    response = alice_client.post("/exercises/no-such-exercise/run/", {"part": "code"})
    assert response.status_code == 404
    assert not CodeRun.objects.exists()


# ---------------------------------------------------------------- performing a run


def test_it_runs_only_the_visible_tests(alice_client, alice, code_exercise):
    run = make_run(alice, code_exercise, HALF_RIGHT_CODE)
    assert coderuns.perform(run.pk) == "done"
    run.refresh_from_db()
    assert run.status == "done" and run.tries == 1 and run.finished is not None
    result = run.result
    assert result["status"] == "incorrect"
    assert [t["passed"] for t in result["details"]["tests"]] == [True, False]
    assert result["details"]["hidden"] == {"passed": 0, "total": 0}
    assert result["score"] == pytest.approx(0.5)
    assert not Submission.objects.filter(student=alice).exists()

    body = alice_client.get(f"/runs/{run.pk}/").json()
    assert body["status"] == "done"
    assert "x^3 at -1" in body["html"] and "1 of 2 tests passed" in body["html"]
    assert "✗" in body["html"] and "✓" in body["html"]


def test_it_runs_once_when_delivered_twice(alice, code_exercise):
    run = make_run(alice, code_exercise)
    assert coderuns.perform(run.pk) == "done"
    finished = CodeRun.objects.get(pk=run.pk).finished
    assert coderuns.perform(run.pk) == "skipped"
    run.refresh_from_db()
    assert (run.tries, run.finished) == (1, finished)


def test_it_delays_a_run_when_no_sandbox_starts(alice_client, alice, code_exercise, monkeypatch):
    def refuse(case):
        raise SandboxUnavailable("bwrap: No permissions to create new namespace")

    monkeypatch.setattr("grading.code.check_code", refuse)
    run = make_run(alice, code_exercise)
    assert coderuns.perform(run.pk) == "delayed"
    run.refresh_from_db()
    assert (run.status, run.tries, run.result) == ("delayed", 0, {})
    assert run.message == coderuns.DELAYED_MESSAGE
    assert "namespace" in run.problem
    body = alice_client.get(f"/runs/{run.pk}/").json()
    assert body["status"] == "delayed"
    assert "costs you nothing" in body["html"] and "namespace" not in body["html"]


def test_it_sweeps_delayed_and_abandoned_runs_again(alice, code_exercise, published, settings):
    settings.GRADING_REQUEUE_AFTER = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    delayed = make_run(alice, code_exercise, status="delayed", last_sent=long_ago)
    abandoned = make_run(alice, code_exercise, status="running", started=long_ago, tries=1)
    recent = make_run(alice, code_exercise, status="delayed", last_sent=timezone.now())
    done = make_run(alice, code_exercise, status="done", last_sent=long_ago)
    stale = make_run(
        alice, code_exercise, created=timezone.now() - timedelta(hours=2), last_sent=long_ago
    )
    counts = coderuns.sweep()
    assert counts == {"runs_resent": 2, "runs_given_up": 1}
    assert sorted(args for _, args, _ in published) == [(delayed.pk,), (abandoned.pk,)]
    stale.refresh_from_db()
    assert (stale.status, stale.message) == ("failed", coderuns.GIVEN_UP_MESSAGE)
    recent.refresh_from_db()
    done.refresh_from_db()
    assert (recent.status, done.status) == ("delayed", "done")
    # The resent delayed run is done once the sandbox works.
    assert coderuns.perform(delayed.pk) == "done"


# ---------------------------------------------------------------- the API


def test_it_runs_the_visible_tests_through_the_api(
    api, alice, code_exercise, django_capture_on_commit_callbacks, eager_celery
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/exercises/{code_exercise.slug}/runs/",
            json.dumps({"part": "code", "answer": RIGHT_CODE}),
            content_type="application/json",
        )
    assert response.status_code == 202
    body = response.json()
    run = CodeRun.objects.get(student=alice)
    assert body == {
        "id": run.pk,
        "status": "queued",
        "url": f"http://testserver/api/runs/{run.pk}/",
    }
    result = api.get(f"/api/runs/{run.pk}/").json()
    assert result["status"] == "done"
    assert result["result"]["status"] == "correct"
    assert len(result["result"]["details"]["tests"]) == 2


def test_it_refuses_unreadable_code_through_the_api(api, code_exercise, published):
    response = api.post(
        f"/api/exercises/{code_exercise.slug}/runs/",
        json.dumps({"part": "code", "answer": SYNTAX_ERROR}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("line 2, column")
    response = api.post(
        f"/api/exercises/{code_exercise.slug}/runs/",
        json.dumps({"part": "code"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not CodeRun.objects.exists()


def test_it_refuses_anonymous_api_runs(client, code_exercise, published):
    response = client.post(
        f"/api/exercises/{code_exercise.slug}/runs/",
        json.dumps({"part": "code", "answer": RIGHT_CODE}),
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not CodeRun.objects.exists()


# ---------------------------------------------------------------- the feedback template


def hostile_result() -> dict:
    return {
        "status": "incorrect",
        "message": "1 of 2 tests passed.",
        "details": {
            "score": 0.5,
            "tests": [
                {
                    "name": "x^2 at 3",
                    "call": "forward_difference(<x^2>, 3, 0.001)",
                    "passed": True,
                    "expected": "6.001",
                    "received": "6.001",
                },
                {
                    "name": "x^3 at -1",
                    "call": "forward_difference(<x^3>, -1, 0.001)",
                    "passed": False,
                    "expected": "2.997",
                    "received": "",
                    "message": "it raised ValueError",
                    "error": {
                        "type": "ValueError",
                        "message": "<script>alert('raised')</script>",
                        "line": 3,
                    },
                },
            ],
            "hidden": {"passed": 3, "total": 4},
            "output": "<script>alert('printed')</script>\n",
        },
    }


def test_it_renders_each_visible_test_and_the_hidden_count():
    html = render_to_string("exercises/_code_feedback.html", {"result": hostile_result()})
    assert html.count('class="code-test ') == 2
    assert "test-passed" in html and "test-failed" in html
    assert "✓" in html and "✗" in html
    assert '<code class="code-call">forward_difference(&lt;x^2&gt;, 3, 0.001)</code>' in html
    assert "<code>6.001</code>" in html and "<code>2.997</code>" in html
    # An exception is shown once, as what the call raised: its type, message and line.
    assert "<dt>Raised</dt>" in html and "it raised ValueError" not in html
    assert "ValueError" in html and "line 3 of your code" in html
    assert "Hidden tests: 3 of 4 passed" in html
    assert "Printed output" in html and "<pre" in html


def test_it_escapes_what_the_students_code_printed_and_raised():
    html = render_to_string("exercises/_code_feedback.html", {"result": hostile_result()})
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;printed&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;raised&#x27;)&lt;/script&gt;" in html


def test_it_shows_nothing_without_a_status():
    # A quiz whose feedback is held blanks the status: the tests' feedback goes with it.
    result = {**hostile_result(), "status": ""}
    html = render_to_string("exercises/_code_feedback.html", {"result": result})
    assert html.strip() == ""


def test_it_shows_no_output_section_when_nothing_was_printed():
    result = hostile_result()
    result["details"]["output"] = ""
    result["details"]["hidden"] = {"passed": 0, "total": 0}
    html = render_to_string("exercises/_code_feedback.html", {"result": result})
    assert "Printed output" not in html and "Hidden tests" not in html


def test_it_offers_the_row_of_a_graded_code_part_to_the_template(alice):
    exercise = make_code_exercise()
    submission = Submission.objects.create(
        student=alice,
        exercise=exercise,
        attempt=1,
        answers={"code": RIGHT_CODE},
        status="graded",
        results={"code": {**hostile_result(), "score": 0.5}},
    )
    (row,) = submission.part_results()
    assert row["score"] == 0.5 and row["details"]["hidden"]["total"] == 4
    html = render_to_string("exercises/_code_feedback.html", {"result": row})
    assert "Hidden tests: 3 of 4 passed" in html


def test_it_says_once_that_the_code_could_not_run_at_all():
    result = hostile_result()
    result["details"]["error"] = {
        "type": "NameError",
        "message": "name 'np' is not defined",
        "line": 2,
    }
    for test in result["details"]["tests"]:
        test.update(passed=False, received="", message="not run: your code could not run")
        test.pop("error", None)
    html = render_to_string("exercises/_code_feedback.html", {"result": result})
    assert html.count("NameError") == 1
    assert "Your code could not run:" in html and "line 2 of your code" in html


@pytest.mark.parametrize("part", ["co\x00de", "\x00", ""])
def test_it_refuses_a_run_of_a_part_key_that_is_no_key(alice_client, code_exercise, part):
    response = alice_client.post(run_url(code_exercise), {"part": part, f"answer-{part}": "x"})
    assert response.status_code == 400
    assert "no code part named" in response.json()["error"]
    assert not CodeRun.objects.exists()
