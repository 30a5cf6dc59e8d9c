"""Regrading every submission of an exercise or a problem set after a fix, in the
background, keeping the earlier verdicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exercises import queue, regrade
from exercises.models import Exercise, Grading, RegradeJob, Submission
from tests.conftest import make_exercise, make_problem_set

pytestmark = pytest.mark.django_db


def graded(student, exercise: Exercise, answer: str) -> Submission:
    submission = queue.submit(student, exercise, {"a": answer})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def fix_expected(exercise: Exercise, expected: str) -> None:
    exercise.parts.update(expected=expected)
    exercise.version += 1
    exercise.save()


def run(job: RegradeJob) -> RegradeJob:
    while regrade.perform(job.pk) == "continued":
        pass
    job.refresh_from_db()
    return job


@pytest.fixture
def no_publish(monkeypatch):
    sent = []
    monkeypatch.setattr(regrade, "send", lambda job_id: sent.append(job_id) or True)
    return sent


def test_it_replaces_the_verdict_and_keeps_the_earlier_one(alice, no_publish):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    assert submission.score == 0.0
    fix_expected(exercise, "x")

    job = run(regrade.start(exercise=exercise, requested_by=alice))

    submission.refresh_from_db()
    assert (submission.score, submission.credit) == (1.0, 1.0)
    assert submission.results["a"]["status"] == "correct"
    assert submission.exercise_version == exercise.version
    history = list(submission.gradings.all())
    assert [(g.score, g.exercise_version, g.job_id) for g in history] == [
        (0.0, 1, None),
        (1.0, 2, job.pk),
    ]
    assert all(g.engine_version for g in history)
    assert (job.status, job.total, job.done, job.changed) == ("done", 1, 1, 1)
    assert job.started is not None and job.finished is not None


def test_it_keeps_a_verdict_given_before_the_history_was_kept(alice, no_publish):
    exercise = make_exercise()
    submission = graded(alice, exercise, "2x")
    Grading.objects.all().delete()

    run(regrade.start(exercise=exercise))

    assert submission.gradings.count() == 2
    assert submission.gradings.first().job is None


def test_it_regrades_once_when_the_message_comes_twice(alice, bob, no_publish):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    graded(bob, exercise, "2x")
    job = regrade.start(exercise=exercise)

    assert run(job).done == 2
    assert regrade.perform(job.pk) == "skipped"
    RegradeJob.objects.filter(pk=job.pk).update(status=RegradeJob.Status.RUNNING, cursor=0)
    regrade.perform(job.pk)

    assert Grading.objects.filter(job=job).count() == 2


def test_it_counts_only_the_verdicts_that_changed(alice, bob, no_publish):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    graded(bob, exercise, "2x")

    job = run(regrade.start(exercise=exercise))

    assert (job.done, job.changed) == (2, 0)


def test_it_works_in_batches_that_hand_on_to_the_next(
    alice, bob, monkeypatch, eager_celery, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(regrade, "BATCH", 1)
    exercise = make_exercise()
    for student in (alice, bob):
        graded(student, exercise, "x")
    fix_expected(exercise, "x")

    with django_capture_on_commit_callbacks(execute=True):
        job = regrade.start(exercise=exercise)

    job.refresh_from_db()
    assert (job.status, job.done, job.cursor) == ("done", 2, job.until)
    assert set(Submission.objects.values_list("score", flat=True)) == {1.0}


def test_it_regrades_a_whole_problem_set_and_nothing_else(alice, no_publish):
    problem_set = make_problem_set()
    first = make_exercise(problem_set=problem_set)
    second = make_exercise(problem_set=problem_set)
    elsewhere = make_exercise()
    for exercise in (first, second, elsewhere):
        graded(alice, exercise, "2x")

    job = run(regrade.start(problem_set=problem_set))

    assert job.total == 2
    regraded = set(Grading.objects.filter(job=job).values_list("submission__exercise", flat=True))
    assert regraded == {first.pk, second.pk}


def test_it_leaves_alone_what_is_not_graded_or_came_later(alice, bob, no_publish):
    exercise = make_exercise()
    waiting = queue.submit(alice, exercise, {"a": "x"})
    job = regrade.start(exercise=exercise)
    later = graded(bob, exercise, "x")

    run(job)

    assert job.total == 0
    assert not Grading.objects.filter(job=job).exists()
    waiting.refresh_from_db()
    assert waiting.status == Submission.Status.QUEUED
    assert later.gradings.count() == 1


def test_it_sends_again_a_job_its_worker_abandoned(alice, no_publish):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    job = regrade.start(exercise=exercise)
    done = regrade.start(exercise=exercise)
    run(done)
    stale = timezone.now() - regrade.ABANDONED_AFTER - timedelta(seconds=1)
    RegradeJob.objects.filter(pk=job.pk).update(status=RegradeJob.Status.RUNNING, heartbeat=stale)
    no_publish.clear()

    assert regrade.sweep() == {"regrades_resent": 1}
    assert no_publish == [job.pk]


def test_it_marks_the_job_failed_when_grading_breaks(alice, no_publish, monkeypatch):
    exercise = make_exercise()
    graded(alice, exercise, "x")

    def broken(submission):
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(queue, "judge", broken)
    job = run(regrade.start(exercise=exercise))

    assert job.status == RegradeJob.Status.FAILED
    assert "the engine broke" in job.message


def test_it_shows_the_student_the_current_verdict(alice, alice_client, no_publish):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    fix_expected(exercise, "x")
    run(regrade.start(exercise=exercise))

    body = alice_client.get(f"/api/submissions/{submission.pk}/").json()

    assert body["score"] == 1.0
    assert body["parts"]["a"]["status"] == "correct"


# ---------------------------------------------------------------- the admin


def changelist(model: str) -> str:
    return reverse(f"admin:exercises_{model}_changelist")


def test_it_starts_a_regrade_from_the_exercise_list(
    client, charlie, alice, no_publish, django_capture_on_commit_callbacks
):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    client.force_login(charlie)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist("exercise"),
            {"action": "regrade_all", "_selected_action": [exercise.pk]},
            follow=True,
        )

    job = RegradeJob.objects.get()
    assert (job.exercise, job.requested_by, job.total) == (exercise, charlie, 1)
    assert no_publish == [job.pk]
    assert "Regrade started for 1 submission" in response.content.decode()


def test_it_starts_a_regrade_from_the_problem_set_list(client, charlie, no_publish):
    exercise = make_exercise()
    client.force_login(charlie)

    client.post(
        changelist("problemset"),
        {"action": "regrade_all", "_selected_action": [exercise.problem_set.pk]},
    )

    assert RegradeJob.objects.get().problem_set == exercise.problem_set


def test_it_keeps_students_and_strangers_away_from_regrades(client, alice, no_publish):
    exercise = make_exercise()
    data = {"action": "regrade_all", "_selected_action": [exercise.pk]}

    anonymous = client.post(changelist("exercise"), data)
    client.force_login(alice)
    student = client.post(changelist("exercise"), data)

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert student.status_code == 302 and "/login/" in student["Location"]
    assert not RegradeJob.objects.exists()


def test_it_offers_the_action_only_to_staff_allowed_to_regrade(client, no_publish):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_exercise"),
        Permission.objects.get(codename="change_exercise"),
    )
    exercise = make_exercise()
    client.force_login(viewer)

    client.post(
        changelist("exercise"), {"action": "regrade_all", "_selected_action": [exercise.pk]}
    )

    assert not RegradeJob.objects.exists()


def test_it_shows_a_running_jobs_progress_and_refreshes(client, charlie, alice, no_publish):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    job = regrade.start(exercise=exercise)
    client.force_login(charlie)
    url = reverse("admin:exercises_regradejob_change", args=[job.pk])

    queued = client.get(url).content.decode()
    run(job)
    finished = client.get(url).content.decode()
    page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))

    assert "queued: 1 submission(s)" in queued and 'http-equiv="refresh"' in queued
    assert "done: 1 of 1" in finished and 'http-equiv="refresh"' not in finished
    assert "Latest regrade" in page.content.decode()


def test_it_answers_a_bad_job_id_without_an_error(client, charlie):
    client.force_login(charlie)

    response = client.get(reverse("admin:exercises_regradejob_change", args=["nope"]))

    assert response.status_code == 302


def test_it_refuses_the_job_pages_wrong_method(client, charlie, alice, no_publish):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    job = regrade.start(exercise=exercise)
    client.force_login(charlie)

    response = client.post(reverse("admin:exercises_regradejob_change", args=[job.pk]), {})

    job.refresh_from_db()
    assert response.status_code == 403
    assert job.status == RegradeJob.Status.QUEUED


def test_it_shows_the_verdict_history_on_the_submission(client, charlie, alice, no_publish):
    exercise = make_exercise()
    submission = graded(alice, exercise, "x")
    fix_expected(exercise, "x")
    run(regrade.start(exercise=exercise))
    client.force_login(charlie)

    page = client.get(reverse("admin:exercises_submission_change", args=[submission.pk]))

    html = page.content.decode()
    assert 'name="gradings-TOTAL_FORMS" value="2"' in html


# ---------------------------------------------------------------- the button


def regrade_url(model: str, pk) -> str:
    return reverse(f"admin:exercises_{model}_regrade", args=[pk])


def test_it_offers_a_regrade_button_on_the_change_pages(client, charlie):
    exercise = make_exercise()
    client.force_login(charlie)

    exercise_page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))
    set_page = client.get(
        reverse("admin:exercises_problemset_change", args=[exercise.problem_set.pk])
    )

    assert regrade_url("exercise", exercise.pk) in exercise_page.content.decode()
    assert regrade_url("problemset", exercise.problem_set.pk) in set_page.content.decode()


@pytest.mark.parametrize("model", ["exercise", "problemset"])
def test_it_starts_a_regrade_with_the_button_and_shows_its_progress(
    client, charlie, alice, no_publish, django_capture_on_commit_callbacks, model
):
    exercise = make_exercise()
    graded(alice, exercise, "x")
    target = exercise if model == "exercise" else exercise.problem_set
    client.force_login(charlie)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(regrade_url(model, target.pk))

    job = RegradeJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:exercises_regradejob_change", args=[job.pk])
    assert job.target == target and job.requested_by == charlie and job.total == 1
    assert no_publish == [job.pk]


def test_it_refuses_the_button_to_anonymous_visitors_and_students(client, alice, no_publish):
    exercise = make_exercise()

    anonymous = client.post(regrade_url("exercise", exercise.pk))
    client.force_login(alice)
    student = client.post(regrade_url("exercise", exercise.pk))

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert student.status_code == 302 and "/login/" in student["Location"]
    assert not RegradeJob.objects.exists()


def test_it_refuses_the_button_to_staff_not_allowed_to_regrade(client, no_publish):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_exercise"))
    exercise = make_exercise()
    client.force_login(viewer)

    page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))
    response = client.post(regrade_url("exercise", exercise.pk))

    assert regrade_url("exercise", exercise.pk) not in page.content.decode()
    assert response.status_code == 403
    assert not RegradeJob.objects.exists()


def test_it_refuses_a_get_on_the_button(client, charlie, no_publish):
    exercise = make_exercise()
    client.force_login(charlie)

    response = client.get(regrade_url("exercise", exercise.pk))

    assert response.status_code == 405
    assert not RegradeJob.objects.exists()


@pytest.mark.parametrize("bad_id", ["987654", "nope"])
def test_it_answers_a_bad_id_on_the_button_with_404(client, charlie, no_publish, bad_id):
    client.force_login(charlie)

    response = client.post(regrade_url("exercise", bad_id))

    assert response.status_code == 404
    assert not RegradeJob.objects.exists()


def test_it_lists_regrade_jobs_with_their_progress(client, charlie, alice, no_publish):
    exercise = make_exercise(title="Power rule")
    graded(alice, exercise, "x")
    run(regrade.start(exercise=exercise, requested_by=charlie))
    client.force_login(charlie)

    page = client.get(changelist("regradejob")).content.decode()

    assert "Power rule" in page and "done: 1 of 1, 0 verdict(s) changed" in page
