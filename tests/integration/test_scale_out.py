"""Two workers on two hosts, as `docker compose up --scale worker=2` runs them: one queue,
one database, one broker. Every submission is graded once, by one of them, even when
its message is sent twice, and both take a share."""

import re

import pytest
from django.contrib.auth import get_user_model

from exercises.models import Grading, Submission
from exercises.tasks import grade_submission
from tests.conftest import make_submission
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SUBMISSIONS = 40
# Every fourth submission's message is sent twice, as after a publish the broker took
# but did not confirm, or a sweep that sent it again.
SENT_TWICE = range(0, SUBMISSIONS, 4)


def outcomes(log: str) -> list[str]:
    """What each grading task a worker ran returned: graded, skipped, ..."""
    return re.findall(r"grade_submission\[[^\]]+\] succeeded in \S+: '([a-z-]+)'", log)


@pytest.fixture
def two_hosts(start_worker):
    # A lease longer than any grading here (the tests' default is 5 s), so that a second
    # message always finds its submission taken or graded, on a busy machine too.
    return [
        start_worker("host1", node="a@host1", GRADING_LEASE_SECONDS="120"),
        start_worker("host2", node="b@host2", GRADING_LEASE_SECONDS="120"),
    ]


def test_it_grades_each_submission_once_across_two_hosts(two_hosts, exercise):
    # A student each: what is measured is the workers sharing a queue, not one student's
    # submissions waiting for each other.
    User = get_user_model()
    students = User.objects.bulk_create(
        [User(username=f"student-{i}", password="!") for i in range(SUBMISSIONS)]
    )
    submissions = [
        make_submission(student, exercise, answers={"a": "2x" if i % 3 else "3x"})
        for i, student in enumerate(students)
    ]
    messages = [s.pk for s in submissions] + [submissions[i].pk for i in SENT_TWICE]
    for pk in messages:
        grade_submission.apply_async(args=[pk])
    ids = [s.pk for s in submissions]

    def all_run() -> bool:
        ran = sum(len(outcomes(w.log())) for w in two_hosts)
        graded = Submission.objects.filter(pk__in=ids, status="graded").count()
        return ran >= len(messages) and graded == SUBMISSIONS

    wait_for(all_run, f"the two workers to run {len(messages)} tasks")

    gradings = Grading.objects.filter(submission__in=ids)
    assert gradings.count() == SUBMISSIONS
    assert set(gradings.values_list("submission", flat=True)) == set(ids)
    for s in Submission.objects.filter(pk__in=ids):
        assert s.status == "graded"
        assert s.score == (1 if s.answers["a"] == "2x" else 0)
    # Each worker graded some; between them every submission once, and every second
    # message found its submission graded or being graded by the other.
    ran = [outcomes(w.log()) for w in two_hosts]
    graded = [r.count("graded") for r in ran]
    assert all(n > 0 for n in graded), graded
    assert sum(graded) == SUBMISSIONS
    others = [outcome for r in ran for outcome in r if outcome != "graded"]
    assert len(others) == len(SENT_TWICE)
    assert set(others) <= {"skipped", "held"}
    for worker, node in zip(two_hosts, ("a@host1", "b@host2"), strict=True):
        assert f"{node} ready." in worker.log()
