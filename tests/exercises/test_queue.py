"""Leases, idempotent grading, the sweep and poison answers (exercises/queue.py)."""

import json
import math
import time
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone

import grading
from courseserver.celery import app as celery_app
from exercises import answer_stats, question_tests, queue, regrade
from exercises.models import Grading, Submission
from exercises.tasks import grade_submission
from tests.conftest import broker_down, make_code_exercise, make_exercise, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_broker(monkeypatch):
    """The sweep finds no message in the broker (tests/integration/test_sweep.py reads a real one)."""
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: {})


def test_it_grades_once_when_delivered_twice(alice, exercise):
    s = make_submission(alice, exercise, answers={"a": "2*x"})
    assert queue.grade(s.pk) == "graded"
    s.refresh_from_db()
    graded_at = s.graded
    assert queue.grade(s.pk) == "skipped"
    s.refresh_from_db()
    assert s.status == "graded"
    assert s.tries == 1
    assert s.graded == graded_at


def test_it_does_not_take_a_live_lease(alice, exercise):
    s = make_submission(alice, exercise)
    token = queue.claim(s.pk)
    assert token is not None
    assert queue.claim(s.pk) is None
    s.refresh_from_db()
    assert s.status == "grading"
    assert s.lease_token == token


def test_it_takes_over_an_expired_lease(alice, exercise):
    s = make_submission(alice, exercise)
    first = queue.claim(s.pk)
    Submission.objects.filter(pk=s.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    second = queue.claim(s.pk)
    assert second is not None and second != first
    s.refresh_from_db()
    assert s.tries == 2


def test_it_takes_a_lease_that_lapses_just_after_its_claim_looked(alice, exercise, monkeypatch):
    # A message sent as a dead worker's lease lapses: the claim sees the lease still
    # live, and an instant later it has lapsed. The message grades it, not drops it.
    s = make_submission(alice, exercise, status="grading", tries=1)
    Submission.objects.filter(pk=s.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    real_claim = queue.claim
    looks = []

    def claim_an_instant_early(pk):
        looks.append(pk)
        return None if len(looks) == 1 else real_claim(pk)

    monkeypatch.setattr(queue, "claim", claim_an_instant_early)

    outcome = queue.grade(s.pk)

    s.refresh_from_db()
    assert outcome == "graded"
    assert (s.status, s.tries) == ("graded", 2)


def test_it_discards_a_verdict_from_a_lost_lease(alice, exercise, monkeypatch):
    s = make_submission(alice, exercise)
    real_judge = queue.judge

    def judge_while_another_worker_takes_over(submission, **kwargs):
        Submission.objects.filter(pk=s.pk).update(lease_token=None)
        return real_judge(submission, **kwargs)

    monkeypatch.setattr(queue, "judge", judge_while_another_worker_takes_over)
    assert queue.grade(s.pk) == "lost-lease"
    s.refresh_from_db()
    assert s.status == "grading"


def test_it_fails_a_poison_submission_after_its_tries(alice, exercise, settings):
    settings.GRADING_MAX_TRIES = 2
    s = make_submission(alice, exercise)
    past = timezone.now() - timedelta(seconds=1)
    for _ in range(2):  # taken twice, and each time its worker died
        assert queue.claim(s.pk) is not None
        Submission.objects.filter(pk=s.pk).update(lease_expires=past)
    assert queue.grade(s.pk) == "skipped"
    s.refresh_from_db()
    assert s.status == "failed"
    assert s.message == queue.FAILED_MESSAGE


def test_it_sweeps_queued_and_abandoned_submissions(alice, exercise, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    settings.GRADING_REQUEUE_AFTER = 60
    now = timezone.now()
    never_sent = make_submission(alice, exercise, status="queued")
    sent_long_ago = make_submission(
        alice, exercise, status="queued", last_sent=now - timedelta(minutes=5)
    )
    sent_just_now = make_submission(alice, exercise, status="queued", last_sent=now)
    abandoned = make_submission(
        alice, exercise, status="grading", tries=1, lease_expires=now - timedelta(seconds=1)
    )
    leased = make_submission(
        alice, exercise, status="grading", tries=1, lease_expires=now + timedelta(minutes=1)
    )
    exhausted = make_submission(
        alice, exercise, status="grading", tries=3, lease_expires=now - timedelta(seconds=1)
    )
    make_submission(alice, exercise, status="graded")

    counts = queue.sweep()

    assert sorted(sent) == sorted([never_sent.pk, sent_long_ago.pk, abandoned.pk])
    assert counts == {"resent": 3, "failed": 1}
    exhausted.refresh_from_db()
    assert exhausted.status == "failed"
    for s in (sent_just_now, leased):
        s.refresh_from_db()
        assert s.status in {"queued", "grading"}


def test_it_requeues_failed_submissions_with_fresh_tries(
    alice, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    s = make_submission(alice, exercise, status="failed", tries=3, message="x")
    done = make_submission(alice, exercise, status="graded", score=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.requeue([s.pk, done.pk]) == 1
    s.refresh_from_db()
    assert (s.status, s.tries, s.message) == ("queued", 0, "")
    assert sent == [s.pk]


def test_it_never_raises_when_the_broker_is_down(
    alice, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    s = make_submission(alice, exercise)
    broker_down(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue.send(s.pk)
    assert len(callbacks) == 1
    s.refresh_from_db()
    assert s.last_sent is None


@pytest.mark.django_db(transaction=True)
def test_it_publishes_at_once_outside_a_transaction(alice, exercise, monkeypatch):
    s = make_submission(alice, exercise)
    monkeypatch.setattr(grade_submission, "apply_async", lambda **kwargs: None)
    assert queue.send(s.pk) is True
    s.refresh_from_db()
    assert s.last_sent is not None

    broker_down(monkeypatch)
    assert queue.send(s.pk) is False


@pytest.mark.django_db(transaction=True)
def test_it_stops_trying_a_broker_that_is_down_for_a_few_seconds(alice, exercise, monkeypatch):
    from courseserver.celery import broker_outage

    s = make_submission(alice, exercise)
    now = [1000.0]
    monkeypatch.setattr(broker_outage, "clock", lambda: now[0])
    tried = []

    def refuse(**kwargs):
        tried.append(kwargs)
        raise OSError("Connection refused")

    monkeypatch.setattr(grade_submission, "apply_async", refuse)
    assert [queue.send(s.pk) for _ in range(3)] == [False] * 3
    assert len(tried) == 1
    assert queue.sweep()["resent"] == 0  # nor does the sweep, meanwhile

    now[0] += broker_outage.seconds
    monkeypatch.setattr(grade_submission, "apply_async", lambda **kwargs: tried.append(kwargs))
    assert queue.send(s.pk) is True
    assert len(tried) == 2
    assert not broker_outage
    s.refresh_from_db()
    assert s.last_sent is not None


def test_it_publishes_only_once_the_transaction_commits(alice, exercise, monkeypatch):
    sent = []
    monkeypatch.setattr(grade_submission, "apply_async", lambda **kwargs: sent.append(kwargs))
    s = make_submission(alice, exercise)
    with transaction.atomic():
        queue.send(s.pk)
        assert sent == []
    # The test's own transaction is still open: nothing is sent until it commits.
    assert sent == []


@pytest.mark.parametrize(
    "name", [queue.GRADE, regrade.REGRADE, question_tests.RUN, answer_stats.COMPUTE]
)
def test_it_names_tasks_that_exist(name):
    assert name in celery_app.tasks


def test_it_reports_an_author_error_without_blaming_the_student(alice):
    from tests.conftest import make_exercise

    exercise = make_exercise(
        parts=[{"key": "a", "kind": "expression", "expected": "sqrt(-1 - x^2)", "variables": ["x"]}]
    )
    s = make_submission(alice, exercise, answers={"a": "x"})
    queue.grade(s.pk)
    s.refresh_from_db()
    assert s.results["a"]["status"] == "error"
    assert "problem in the exercise" in s.results["a"]["message"]


def test_it_renews_a_lease_for_its_holder_only(alice, exercise, settings):
    s = make_submission(alice, exercise)
    token = queue.claim(s.pk)
    Submission.objects.filter(pk=s.pk).update(lease_expires=timezone.now())
    assert queue.renew(s.pk, uuid.uuid4()) is False
    s.refresh_from_db()
    assert s.lease_expires <= timezone.now()

    assert queue.renew(s.pk, token) is True
    s.refresh_from_db()
    lease = timedelta(seconds=settings.GRADING_LEASE_SECONDS)
    assert timezone.now() + lease / 2 < s.lease_expires <= timezone.now() + lease
    assert s.lease_token == token


def test_it_says_how_long_a_live_lease_has_left(alice, exercise, settings):
    s = make_submission(alice, exercise)
    assert queue.lease_left(s.pk) is None
    queue.claim(s.pk)
    assert 0 < queue.lease_left(s.pk) <= settings.GRADING_LEASE_SECONDS
    Submission.objects.filter(pk=s.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    assert queue.lease_left(s.pk) is None


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_lease_while_a_slow_check_runs(alice, exercise, settings, monkeypatch):
    settings.GRADING_LEASE_SECONDS = 1.5
    s = make_submission(alice, exercise)
    real_judge = queue.judge
    taken_meanwhile = []

    def slow_judge(submission, **kwargs):
        time.sleep(3)  # twice the lease: it lapses unless renewed
        taken_meanwhile.append(queue.claim(s.pk))
        return real_judge(submission, **kwargs)

    monkeypatch.setattr(queue, "judge", slow_judge)
    assert queue.grade(s.pk) == "graded"
    assert taken_meanwhile == [None]
    s.refresh_from_db()
    assert (s.status, s.tries) == ("graded", 1)
    assert Grading.objects.filter(submission=s).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_stops_renewing_a_lease_another_worker_took(alice, exercise, settings):
    settings.GRADING_LEASE_SECONDS = 0.3
    s = make_submission(alice, exercise)
    token = queue.claim(s.pk)
    with queue.Heartbeat(s.pk, token) as heartbeat:
        Submission.objects.filter(pk=s.pk).update(lease_token=uuid.uuid4())
        # Its first beat finds the lease taken, and the beats stop.
        assert heartbeat.stopped.wait(timeout=5)
    assert heartbeat.beats == 0


@pytest.mark.django_db(transaction=True)
def test_one_thread_beats_for_every_lease_the_process_holds(alice, bob, exercise, settings):
    import threading

    settings.GRADING_LEASE_SECONDS = 1.5  # a beat every half second
    first, second = make_submission(alice, exercise), make_submission(bob, exercise)
    tokens = queue.claim(first.pk), queue.claim(second.pk)
    with queue.Heartbeat(first.pk, tokens[0]) as one, queue.Heartbeat(second.pk, tokens[1]) as two:
        deadline = time.monotonic() + 30
        while min(one.beats, two.beats) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        beaters = [t for t in threading.enumerate() if t.name == "lease-heartbeat"]
        # Renewed: neither lease can be taken while it is held.
        assert queue.claim(first.pk) is None and queue.claim(second.pk) is None
    assert min(one.beats, two.beats) >= 2
    assert len(beaters) == 1
    assert one.stopped.is_set() and two.stopped.is_set()
    time.sleep(0.2)  # a beat under way at the release ends
    after = one.beats, two.beats
    time.sleep(1.2)
    assert (one.beats, two.beats) == after  # no beats once released


def test_it_tries_again_as_a_dead_workers_lease_lapses(alice, exercise, monkeypatch):
    s = make_submission(alice, exercise)
    queue.claim(s.pk)  # the pool process that held it died; its message comes back
    retried = []

    class Retried(Exception):
        pass

    def retry(**kwargs):
        retried.append(kwargs)
        return Retried()

    monkeypatch.setattr(grade_submission, "retry", retry)
    with pytest.raises(Retried):
        grade_submission(s.pk)
    assert len(retried) == 1
    assert 1 < retried[0]["countdown"] <= 16
    s.refresh_from_db()
    assert (s.status, s.tries) == ("grading", 1)
    assert not Grading.objects.filter(submission=s).exists()

    # Once the lease has lapsed, the next try grades it.
    Submission.objects.filter(pk=s.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    assert grade_submission(s.pk) == "graded"
    assert Grading.objects.filter(submission=s).count() == 1


def test_it_sweeps_a_lease_about_to_lapse_but_not_a_renewed_one(
    alice, exercise, settings, monkeypatch
):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    now = timezone.now()
    # The heartbeat renews a lease every 5 s to 15 s ahead: one lapsing within the next
    # sweep's interval has missed its beats.
    lapsing = make_submission(
        alice, exercise, status="grading", tries=1, lease_expires=now + timedelta(seconds=2)
    )
    make_submission(
        alice, exercise, status="grading", tries=1, lease_expires=now + timedelta(seconds=12)
    )
    assert queue.sweep() == {"resent": 1, "failed": 0}
    assert sent == [lapsing.pk]


def test_it_skips_what_the_broker_still_holds(alice, exercise, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    long_ago = timezone.now() - timedelta(minutes=5)
    waiting = make_submission(alice, exercise, status="queued", last_sent=long_ago)
    lost = make_submission(alice, exercise, status="queued", last_sent=long_ago)
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: {waiting.pk: math.inf})
    assert queue.sweep()["resent"] == 1
    assert sent == [lost.pk]

    # The broker cannot be read: what was sent long ago is sent again.
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: None)
    sent.clear()
    assert queue.sweep()["resent"] == 2
    assert sorted(sent) == sorted([waiting.pk, lost.pk])


def test_it_runs_the_sweep_off_the_grading_queue(settings):
    from exercises.processes import maths_worker_command

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-submissions"]
    assert entry["options"]["queue"] == settings.HOUSEKEEPING_QUEUE
    assert settings.HOUSEKEEPING_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    # A sweep not run within its interval is dropped, not run late in a pile.
    assert entry["options"]["expires"] == entry["schedule"]
    command = maths_worker_command(settings.VAR_DIR / "schedule")
    assert command[command.index("--queues") + 1].split(",") == [
        settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.HOUSEKEEPING_QUEUE,
    ]


# ---------------------------------------------------------------- fairness between students

THREE_PARTS = [
    {"key": key, "kind": "expression", "expected": "2x", "variables": ["x"]} for key in "abc"
]
# Alice's answers: right, and (in these tests) each takes 2 s to check.
SLOW = "x*2"


@pytest.fixture
def slow_checks(monkeypatch, settings):
    """Checking SLOW takes 2 s on a fake clock, against a slice of 0.5 s; returns the
    answers checked, in order."""
    settings.GRADING_SLICE_SECONDS = 0.5
    now = [1000.0]
    checked = []
    real_check = grading.check

    def check(case, **kwargs):
        slow = SLOW in json.dumps(case)
        checked.append("slow" if slow else "fast")
        now[0] += 2.0 if slow else 0.001
        return real_check(case, **kwargs)

    monkeypatch.setattr(queue, "clock", lambda: now[0])
    monkeypatch.setattr(grading, "check", check)
    return checked


@pytest.fixture
def broker(monkeypatch):
    """A queue in memory in place of the broker: messages (args, countdown) in order."""
    messages = []

    def publish(name, *args, queue=None, on_sent=None, countdown=None, on_failed=None):
        messages.append((args, countdown))
        if on_sent:
            on_sent()
        return True

    monkeypatch.setattr(queue, "publish", publish)
    return messages


def work(messages) -> list[tuple[int, str]]:
    """A worker taking the messages in order, until none is left."""
    outcomes = []
    while messages:
        args, _ = messages.pop(0)
        outcomes.append((args[0], queue.grade(*args)))
    return outcomes


def test_it_grades_other_students_between_the_slow_parts_of_one(
    alice, bob, slow_checks, broker, django_capture_on_commit_callbacks
):
    exercise = make_exercise(THREE_PARTS)
    slow = make_submission(alice, exercise, answers=dict.fromkeys("abc", SLOW))
    slow_again = make_submission(alice, exercise, answers=dict.fromkeys("abc", SLOW))
    fast = make_submission(bob, exercise, answers=dict.fromkeys("abc", "2x"))
    broker.extend([((s.pk,), None) for s in (slow, slow_again, fast)])

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = work(broker)

    # One slow check, then Bob's whole submission, then the rest of Alice's, one
    # submission after the other.
    assert slow_checks == ["slow", "fast", "fast", "fast"] + ["slow"] * 5
    assert outcomes[:3] == [(slow.pk, "yielded"), (slow_again.pk, "deferred"), (fast.pk, "graded")]
    assert [pk for pk, outcome in outcomes if outcome == "graded"] == [
        fast.pk,
        slow.pk,
        slow_again.pk,
    ]
    for s in (slow, slow_again, fast):
        s.refresh_from_db()
        assert (s.status, s.score, s.tries) == ("graded", 1.0, 1)
        assert set(s.results) == set("abc")
        assert Grading.objects.filter(submission=s).count() == 1


def test_it_grades_a_yielded_submission_once_when_delivered_twice(
    alice, slow_checks, broker, django_capture_on_commit_callbacks
):
    exercise = make_exercise(THREE_PARTS)
    s = make_submission(alice, exercise, answers={"a": SLOW, "b": "2x", "c": "3x"})
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.grade(s.pk) == "yielded"
    ((args, countdown),) = broker
    assert args == (s.pk, {"a": {"status": "correct", "message": mock.ANY}})
    assert countdown is None
    s.refresh_from_db()
    assert (s.status, s.tries, s.lease_token) == ("queued", 0, None)

    assert queue.grade(*args) == "graded"
    assert queue.grade(*args) == "skipped"
    s.refresh_from_db()
    assert s.results["b"]["status"] == "correct"
    assert s.results["c"]["status"] == "incorrect"
    assert s.score == pytest.approx(2 / 3)
    assert slow_checks == ["slow", "fast", "fast"]
    assert Grading.objects.filter(submission=s).count() == 1


def test_it_grades_one_submission_of_a_student_at_a_time(alice, bob, exercise, broker):
    first = make_submission(alice, exercise)
    second = make_submission(alice, exercise)
    bobs = make_submission(bob, exercise)
    assert queue.claim(first.pk) is not None  # being graded by another worker

    assert queue.grade(second.pk) == "deferred"
    assert broker == [((second.pk,), queue.BUSY_COUNTDOWN)]
    second.refresh_from_db()
    assert (second.status, second.tries) == ("queued", 0)
    assert queue.grade(bobs.pk) == "graded"

    # Once the first has its verdict (or its worker's lease lapsed), the second goes.
    Submission.objects.filter(pk=first.pk).update(lease_expires=timezone.now())
    assert queue.grade(second.pk) == "graded"


def test_it_takes_its_own_lease_up_again_after_the_database_went_away(alice, exercise, monkeypatch):
    s = make_submission(alice, exercise)
    real_judge = queue.judge

    def judge_as_the_database_restarts(submission, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(queue, "judge", judge_as_the_database_restarts)
    with pytest.raises(OperationalError) as raised:
        grade_submission(s.pk)
    token = raised.value.lease_token

    # The retry (the task retries an OperationalError) resumes with the lease, still live.
    monkeypatch.setattr(queue, "judge", real_judge)
    assert queue.grade(s.pk, token=token) == "graded"
    s.refresh_from_db()
    assert (s.status, s.tries) == ("graded", 1)
    assert Grading.objects.filter(submission=s).count() == 1
    # A token that no longer holds the lease is no use.
    assert queue.grade(s.pk, token=token) == "skipped"


def test_it_sends_again_what_a_dead_holder_received_but_not_a_retry_waiting_for_it(
    alice, exercise, monkeypatch
):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    now = timezone.now()
    lapsed = {"status": "grading", "tries": 1, "lease_expires": now - timedelta(seconds=1)}
    taken = now - timedelta(seconds=20)
    dead = make_submission(alice, exercise, started=taken, **lapsed)
    waited_for = make_submission(alice, exercise, started=taken, **lapsed)
    # The dead holder received its message before it took the submission; the retry
    # that waits for the lease to lapse was received after.
    received = {
        dead.pk: (taken - timedelta(seconds=1)).timestamp(),
        waited_for.pk: (taken + timedelta(seconds=5)).timestamp(),
    }
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: received)
    assert queue.sweep()["resent"] == 1
    assert sent == [dead.pk]


def test_it_never_drops_a_submission_whose_turn_came_just_after_its_claim(
    alice, exercise, broker, monkeypatch
):
    first = make_submission(alice, exercise)
    second = make_submission(alice, exercise)
    queue.claim(first.pk)
    real_claim = queue.claim

    def claim_as_the_first_is_graded(pk):
        token = real_claim(pk)
        Submission.objects.filter(pk=first.pk).update(status="graded")
        return token

    monkeypatch.setattr(queue, "claim", claim_as_the_first_is_graded)
    assert queue.grade(second.pk) == "deferred"
    assert broker == [((second.pk,), queue.BUSY_COUNTDOWN)]


def test_it_takes_turns_per_queue(alice, exercise, broker):
    code = make_submission(alice, make_code_exercise(), queue="code")
    assert queue.claim(code.pk) is not None  # a code worker runs it
    maths = make_submission(alice, exercise)
    assert queue.grade(maths.pk) == "graded"


def test_it_sends_again_a_queued_submission_once_no_live_worker_can_hold_its_message(
    alice, exercise, monkeypatch
):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    now = timezone.now()
    twenty_ago = now - timedelta(seconds=20)
    lost = make_submission(alice, exercise, last_sent=twenty_ago)
    # Received by a worker 20 s ago and never taken: that worker died with it.
    stranded = make_submission(alice, exercise, last_sent=twenty_ago)
    received_now = make_submission(alice, exercise, last_sent=twenty_ago)
    waiting = make_submission(alice, exercise, last_sent=twenty_ago)
    no_sandbox = make_submission(
        alice, exercise, last_sent=twenty_ago, message=queue.DELAYED_MESSAGE, problem="no bwrap"
    )
    received = {
        stranded.pk: twenty_ago.timestamp(),
        received_now.pk: now.timestamp(),
        waiting.pk: math.inf,
    }
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: received)
    assert queue.sweep()["resent"] == 2
    assert sorted(sent) == sorted([lost.pk, stranded.pk])

    # The broker cannot be read: only after GRADING_REQUEUE_AFTER.
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: None)
    sent.clear()
    assert queue.sweep()["resent"] == 0
    assert no_sandbox.pk not in sent


def randomised_submission(student):
    exercise = make_exercise(
        [{"key": "a", "kind": "expression", "expected": "{{k}}x", "variables": ["x"]}],
        parameters={"k": {"int": [2, 9]}},
    )
    variant = exercise.variant_for(student)
    return make_submission(
        student,
        exercise,
        variant=variant,
        answers={"a": variant.expected_answers()["a"]},
        exercise_version=exercise.version,
    )


def test_it_grades_a_submission_in_five_statements(alice, django_assert_num_queries):
    # Each statement of a verdict is paid for by every student: the claim, which reads
    # the submission with it where it can; the verdict stored with its history; one
    # look-up for an LTI account; and the transaction around the last two (a savepoint
    # here, inside the test's transaction).
    s = randomised_submission(alice)
    s.exercise.with_parts()  # parts read by an earlier grading, as in a running worker
    from django.db import connection

    if connection.vendor == "postgresql":
        expected = 5  # claim and read; SAVEPOINT; verdict and Grading; LTI account; RELEASE
    else:
        expected = 7  # claim; read; SAVEPOINT; verdict; Grading; LTI account; RELEASE
    with django_assert_num_queries(expected):
        assert queue.grade(s.pk) == "graded"
    s.refresh_from_db()
    assert (s.status, s.score, s.credit, s.tries, s.lease_token) == ("graded", 1.0, 1.0, 1, None)
    assert list(s.gradings.values_list("score", "exercise_version")) == [(1.0, 1)]


def test_it_reads_with_its_claim_what_the_orm_reads(alice):
    from django.db import connection
    from django.forms.models import model_to_dict

    if connection.vendor != "postgresql":
        pytest.skip("the claim reads the submission with its lease on PostgreSQL only")
    s = randomised_submission(alice)
    token = queue.claim(s.pk)
    claimed = queue._claimed_submission(s.pk, token)
    read = Submission.objects.select_related("exercise", "variant").get(pk=s.pk)
    assert model_to_dict(claimed) == model_to_dict(read)
    assert (claimed.lease_token, claimed.tries, claimed.status) == (token, 1, "grading")
    assert claimed.started == read.started and claimed.lease_expires == read.lease_expires
    assert model_to_dict(claimed.exercise) == model_to_dict(read.exercise)
    assert model_to_dict(claimed.variant) == model_to_dict(read.variant)
    assert claimed.variant.exercise is claimed.exercise
    # Kept for that lease only, and once.
    assert queue._claimed_submission(s.pk, token) is None


def test_it_keeps_what_a_claim_read_for_that_lease_only(alice, exercise):
    s = make_submission(alice, exercise)
    token = queue.claim(s.pk)
    assert queue._claimed_submission(s.pk, uuid.uuid4()) is None
    assert queue._claimed_submission(s.pk, token) is None  # dropped by the wrong look


def test_it_reads_an_exercises_parts_again_after_a_while(alice, exercise, monkeypatch):
    # A part changed without a bump of the exercise's version (by hand, say) is graded
    # as it is now within PARTS_MAX_AGE, however long the worker has run.
    from exercises import models

    exercise.with_parts()
    exercise.parts.update(expected="3x")  # no signal, no bump
    s = make_submission(alice, exercise, answers={"a": "3x"})
    now = time.monotonic()
    monkeypatch.setattr(models.time, "monotonic", lambda: now + queue.PARTS_MAX_AGE + 1)
    assert queue.grade(s.pk) == "graded"
    s.refresh_from_db()
    assert s.score == 1.0
