"""Assignment and Grade Services against the emulated platform: the line item of a
placed problem set, made once and reused, and a score posted per verdict and regrade."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from exercises import queue, regrade
from exercises.models import Exercise, Submission
from exercises.models import Placement as BankPlacement
from lti.models import Placement, ScorePost
from lti.tool import username_for
from tests.conftest import make_exercise, make_problem_set
from tests.lti.conftest import launch

User = get_user_model()


@pytest.fixture
def problem_set(db):
    problem_set = make_problem_set()
    make_exercise(problem_set=problem_set)
    make_exercise(problem_set=problem_set)
    return problem_set


@pytest.fixture
def learner(client, platform, problem_set):
    launch(client, platform, custom={"problem_set": problem_set.slug})
    return User.objects.get(username=username_for(platform.issuer, "learner-1"))


@pytest.fixture
def retried_at_once(eager_celery):
    """A task's retries run at once, in the test, as Celery does for an eager task whose
    errors do not propagate (a worker waits the countdown between them)."""
    eager_celery.conf.task_eager_propagates = False


@pytest.fixture
def graded(eager_celery, django_capture_on_commit_callbacks):
    """Submit and grade an answer; what the grading sends after its commit runs."""

    def grade(student, exercise, answer: str) -> Submission:
        submission = queue.submit(student, exercise, {"a": answer})
        with django_capture_on_commit_callbacks(execute=True):
            queue.grade(submission.pk)
        submission.refresh_from_db()
        return submission

    return grade


def test_it_makes_one_line_item_for_the_placed_problem_set(learner, platform, problem_set):
    (item,) = platform.line_items.values()
    assert item["resourceId"] == f"problem-set:{problem_set.slug}"
    assert item["label"] == problem_set.title
    assert item["scoreMaximum"] == 2.0
    assert item["resourceLinkId"] == "link-1"
    placement = Placement.objects.get()
    assert placement.line_item.url == item["id"]


def test_it_reuses_the_line_item_on_later_launches(learner, platform, problem_set):
    launch(Client(), platform, sub="learner-2", custom={"problem_set": problem_set.slug})
    # Another link to the same problem set in the same course shares its column.
    launch(
        Client(),
        platform,
        sub="learner-3",
        resource_link_id="link-2",
        custom={"problem_set": problem_set.slug},
    )
    assert platform.created_line_items == 1
    assert len(platform.line_items) == 1
    assert {p.line_item_id for p in Placement.objects.all()} == {
        Placement.objects.first().line_item_id
    }


def test_it_reuses_the_copied_line_item_after_a_course_copy(learner, platform, problem_set):
    platform.copy_course("course-102")
    launch(Client(), platform, custom={"problem_set": problem_set.slug})
    assert platform.created_line_items == 1
    copied = Placement.objects.get(resource_link__context__id_on_platform="course-102")
    assert copied.line_item.url.startswith(platform.lineitems_url + "/")


def test_it_uses_the_line_item_the_platform_made_for_the_link(client, platform, problem_set):
    platform.line_items["x"] = {"id": f"{platform.lineitems_url}/made", "label": "Set"}
    platform.line_items[f"{platform.lineitems_url}/made"] = platform.line_items.pop("x")
    launch(
        client,
        platform,
        custom={"problem_set": problem_set.slug},
        lineitem=f"{platform.lineitems_url}/made",
    )
    assert platform.created_line_items == 0
    assert Placement.objects.get().line_item.url == f"{platform.lineitems_url}/made"


def test_it_makes_no_line_item_for_a_module(client, platform, problem_set):
    launch(client, platform, custom={"module": problem_set.module.slug})
    assert platform.line_items == {}
    assert Placement.objects.get().line_item is None


def test_it_posts_one_score_per_verdict(learner, platform, problem_set, graded):
    first, second = problem_set.exercises.order_by("order")
    graded(learner, first, "2x")
    assert len(platform.scores) == 1
    score = platform.scores[0]
    assert score["userId"] == "learner-1"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1.0, 2.0)
    assert score["gradingProgress"] == "FullyGraded"
    assert score["activityProgress"] == "InProgress"
    assert score["line_item"] == Placement.objects.get().line_item.url
    graded(learner, second, "x")
    graded(learner, second, "2*x")
    assert [s["scoreGiven"] for s in platform.scores] == [1.0, 1.0, 2.0]
    assert platform.scores[-1]["activityProgress"] == "Completed"
    assert ScorePost.objects.filter(status=ScorePost.Status.SENT).count() == 3


def test_it_posts_nothing_for_a_student_who_never_launched(
    learner, platform, problem_set, graded, alice
):
    graded(alice, problem_set.exercises.first(), "2x")
    assert platform.scores == []
    assert not ScorePost.objects.exists()


def test_it_posts_the_score_again_after_a_regrade(
    learner, platform, problem_set, graded, django_capture_on_commit_callbacks, monkeypatch
):
    exercise = problem_set.exercises.order_by("order").first()
    graded(learner, exercise, "x")
    assert [s["scoreGiven"] for s in platform.scores] == [0.0]
    exercise.parts.update(expected="x")
    exercise.version += 1
    exercise.save()
    monkeypatch.setattr(regrade, "send", lambda job_id: True)
    job = regrade.start(exercise=exercise)
    with django_capture_on_commit_callbacks(execute=True):
        while regrade.perform(job.pk) == "continued":
            pass
    assert [s["scoreGiven"] for s in platform.scores] == [0.0, 1.0]
    assert ScorePost.objects.order_by("created").last().cause.startswith("regrade of")
    # A regrade that changes nothing posts nothing.
    job = regrade.start(exercise=exercise)
    with django_capture_on_commit_callbacks(execute=True):
        while regrade.perform(job.pk) == "continued":
            pass
    assert len(platform.scores) == 2


def test_it_shows_staff_a_failed_post_and_sends_it_again(
    learner,
    platform,
    problem_set,
    graded,
    django_capture_on_commit_callbacks,
    settings,
    client,
    retried_at_once,
):
    settings.LTI_SCORE_TRIES = 3
    platform.fail_scores = 3
    graded(learner, problem_set.exercises.first(), "2x")
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.FAILED
    assert post.tries == 3
    assert "503" in post.reason and "gradebook down" in post.reason
    assert platform.scores == []
    instructor = User.objects.create_user("dana", is_staff=True)
    instructor.groups.add(Group.objects.get(name="Instructors"))
    client.force_login(instructor)
    page = client.get("/admin/lti/scorepost/?status=failed")
    assert "gradebook down" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/lti/scorepost/",
            {"action": "resend", "_selected_action": [post.pk]},
        )
    assert response.status_code == 302
    assert [s["scoreGiven"] for s in platform.scores] == [1.0]
    post.refresh_from_db()
    assert post.status == ScorePost.Status.FAILED  # kept for the record
    again = ScorePost.objects.exclude(pk=post.pk).get()
    assert again.status == ScorePost.Status.SENT and again.cause == f"sent again (post {post.pk})"


def test_it_retries_a_post_the_platform_refused_once(
    learner, platform, problem_set, graded, retried_at_once
):
    platform.fail_scores = 1
    graded(learner, problem_set.exercises.first(), "2x")
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.SENT and post.tries == 2
    assert len(platform.scores) == 1


def test_it_holds_back_a_quiz_score_until_its_feedback_is_released(
    client, platform, graded, django_capture_on_commit_callbacks
):
    from django.core.management import call_command
    from django.utils import timezone

    quiz = make_problem_set(kind="quiz")
    make_exercise(problem_set=quiz)
    launch(client, platform, custom={"problem_set": quiz.slug})
    learner = User.objects.get(username=username_for(platform.issuer, "learner-1"))
    graded(learner, quiz.exercises.get(), "2x")
    (pending,) = platform.scores
    assert "scoreGiven" not in pending
    assert (pending["gradingProgress"], pending["activityProgress"]) == ("Pending", "Submitted")
    quiz.feedback_released = timezone.now()
    quiz.save()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("lti_post_scores", quiz.slug)
    assert platform.scores[-1]["scoreGiven"] == 1.0
    assert platform.scores[-1]["gradingProgress"] == "FullyGraded"


def test_it_keeps_the_verdict_when_recording_the_post_fails(
    learner, platform, problem_set, graded, monkeypatch
):
    from django.db import OperationalError

    from lti import grades

    def broken(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(grades, "record", broken)
    submission = graded(learner, problem_set.exercises.first(), "2x")
    assert submission.status == Submission.Status.GRADED and submission.score == 1.0
    assert platform.scores == []


def test_it_marks_a_post_failed_when_the_platform_is_unreachable(
    learner, platform, problem_set, graded, settings, retried_at_once
):
    settings.LTI_SCORE_TRIES = 2
    platform.close()
    graded(learner, problem_set.exercises.first(), "2x")
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.FAILED and post.tries == 2
    assert "Connection refused" in post.reason or "connect" in post.reason.lower()


def test_it_posts_only_to_the_courses_the_student_learns_in(learner, platform, problem_set, graded):
    from tests.lti.emulator import INSTRUCTOR

    # The same problem set placed in another course of the platform, by its teacher.
    platform.context_id = "course-202"
    launch(
        Client(),
        platform,
        sub="teacher-9",
        roles=[INSTRUCTOR],
        custom={"problem_set": problem_set.slug},
    )
    assert Placement.objects.filter(line_item__isnull=False).count() == 2
    graded(learner, problem_set.exercises.first(), "2x")
    (score,) = platform.scores
    assert score["line_item"].startswith(f"{platform.url}/contexts/course-101/")
    # An instructor's own tries are not sent to the gradebook.
    teacher = User.objects.get(username=username_for(platform.issuer, "teacher-9"))
    graded(teacher, problem_set.exercises.first(), "2x")
    assert len(platform.scores) == 1


def test_it_sends_again_a_post_whose_task_the_broker_lost(
    learner, platform, problem_set, django_capture_on_commit_callbacks, eager_celery, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from lti import grades

    # The broker is down as the verdict is stored: the post waits in the database.
    monkeypatch.setattr(grades, "send_later", lambda post_id: None)
    submission = queue.submit(learner, problem_set.exercises.first(), {"a": "2x"})
    with django_capture_on_commit_callbacks(execute=True):
        queue.grade(submission.pk)
    monkeypatch.undo()
    post = ScorePost.objects.get()
    assert post.status == ScorePost.Status.PENDING and post.published is None
    assert grades.sweep() == 0  # not yet: its task may still be on its way
    ScorePost.objects.update(created=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert grades.sweep() == 1
    post.refresh_from_db()
    assert post.status == ScorePost.Status.SENT and post.published is not None
    assert [s["scoreGiven"] for s in platform.scores] == [1.0]
    assert grades.sweep() == 0


def test_it_leaves_the_line_item_to_the_launch_making_it(
    client, platform, problem_set, monkeypatch
):
    from django.core.cache import cache

    from lti import grades

    # Another first launch of the link holds the platform's attention.
    monkeypatch.setattr(grades, "LINE_ITEM_WAIT_SECONDS", 0)
    context_lock = "lti-line-item:{}:problem-set:" + problem_set.slug
    launch(client, platform, custom={"module": problem_set.module.slug})  # makes the context
    from lti_tool.models import LtiContext

    cache.add(context_lock.format(LtiContext.objects.get().pk), 1, 60)
    launch(Client(), platform, sub="learner-2", custom={"problem_set": problem_set.slug})
    assert platform.created_line_items == 0
    assert Placement.objects.get(problem_set=problem_set).line_item is None
    cache.clear()
    launch(Client(), platform, sub="learner-3", custom={"problem_set": problem_set.slug})
    assert platform.created_line_items == 1
    assert Placement.objects.get(problem_set=problem_set).line_item is not None


def test_it_finds_the_line_item_when_the_launch_could_not(
    client, platform, problem_set, graded, monkeypatch
):
    from lti import grades

    # The platform's gradebook is unreachable during the launch.
    monkeypatch.setattr(grades, "_find_or_make", lambda *args: None)
    launch(client, platform, custom={"problem_set": problem_set.slug})
    monkeypatch.undo()
    assert Placement.objects.get().line_item is None
    learner = User.objects.get(username=username_for(platform.issuer, "learner-1"))
    graded(learner, problem_set.exercises.first(), "2x")
    (score,) = platform.scores
    assert score["scoreGiven"] == 1.0
    assert platform.created_line_items == 1
    assert ScorePost.objects.get().line_item == Placement.objects.get().line_item


def test_it_scores_an_exercise_of_the_question_bank_in_the_set_it_was_answered_in(
    client, platform, problem_set, graded
):
    """A practice exercise placed in the linked quiz counts in the quiz's line item only
    for the work done in the quiz."""
    quiz = make_problem_set(module=problem_set.module, kind="practice")
    own = make_exercise(problem_set=quiz)
    banked = problem_set.exercises.order_by("order").first()
    BankPlacement.objects.create(problem_set=quiz, exercise=banked, order=2)
    launch(client, platform, custom={"problem_set": quiz.slug})
    learner = User.objects.get(username=username_for(platform.issuer, "learner-1"))

    graded(learner, banked, "2x")  # in the practice set: not the quiz's line item

    assert platform.scores == []
    graded(learner, Exercise.objects.get(pk=banked.pk).placed_in(quiz), "2x")
    assert [(s["scoreGiven"], s["scoreMaximum"]) for s in platform.scores] == [(1.0, 2.0)]
    graded(learner, own, "2x")
    assert [s["scoreGiven"] for s in platform.scores] == [1.0, 2.0]


def test_it_asks_one_question_of_a_verdict_for_a_student_who_never_launched(
    learner, problem_set, alice, django_assert_num_queries
):
    from exercises.signals import verdict_stored

    exercise = problem_set.exercises.first()
    submission = Submission.objects.create(
        student=alice, exercise=exercise, attempt=1, answers={"a": "2x"}, status="graded"
    )
    with django_assert_num_queries(1):  # is there an LTI account? no: nothing more
        verdict_stored.send(
            Submission,
            submission_id=submission.pk,
            regrade=False,
            student_id=alice.pk,
            exercise_id=exercise.pk,
            problem_set_id=problem_set.pk,
        )
    assert not ScorePost.objects.exists()


def test_it_records_a_post_for_a_learner_when_told_only_the_submission(
    learner, problem_set, eager_celery
):
    # A sender that names only the submission (as before the signal carried more).
    from exercises.signals import verdict_stored

    exercise = problem_set.exercises.first()
    submission = Submission.objects.create(
        student=learner, exercise=exercise, attempt=1, answers={"a": "2x"}, status="graded"
    )
    verdict_stored.send(Submission, submission_id=submission.pk, regrade=False)
    assert ScorePost.objects.filter(student=learner).count() == 1
