"""The question bank: one exercise placed in several problem sets (a practice set and a
quiz), with the students' attempts, variants, dates, extensions, quiz time and scores
kept per set."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from exercises import gradebook, queue, quiz, regrade, variants
from exercises.bank_admin import placements_of
from exercises.management.commands import load_course as loader
from exercises.management.commands.export_course import export_course
from exercises.models import (
    Extension,
    Placement,
    ProblemSet,
    QuizDraft,
    QuizStart,
    RegradeJob,
    Submission,
    Variant,
)
from tests.conftest import make_exercise, make_problem_set

pytestmark = pytest.mark.django_db

RANDOMISED = [
    {"key": "a", "kind": "expression", "expected": "{{k}}x^2", "variables": ["x"]},
]


@pytest.fixture
def practice():
    return make_problem_set(slug="practice", title="Practice")


@pytest.fixture
def quiz_set():
    return make_problem_set(slug="quiz", title="Quiz", kind=ProblemSet.Kind.QUIZ)


@pytest.fixture
def banked(practice, quiz_set):
    """An exercise of the practice set, placed in the quiz."""
    exercise = make_exercise(problem_set=practice, slug="derivative", title="A derivative")
    Placement.objects.create(problem_set=quiz_set, exercise=exercise, order=1)
    return exercise


def in_quiz(exercise, quiz_set):
    return quiz_set.exercise_shown(exercise.slug).with_parts()


def answer(student, exercise, text: str) -> Submission:
    submission = queue.submit(student, exercise.with_parts(), {"a": text})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def test_it_records_the_set_each_attempt_was_made_in(alice, banked, quiz_set, practice):
    first = answer(alice, banked, "3x")
    second = answer(alice, banked, "2x")
    placed = answer(alice, in_quiz(banked, quiz_set), "2x")

    assert [(s.problem_set, s.attempt) for s in (first, second, placed)] == [
        (practice, 1),
        (practice, 2),
        (quiz_set, 1),
    ]
    assert placed.exercise == banked and placed.score == 1
    banked.refresh_from_db()
    assert banked.problem_set == practice


def test_it_gives_the_quiz_its_own_attempt_limit(alice, banked, quiz_set):
    placed = in_quiz(banked, quiz_set)
    answer(alice, placed, "3x")

    with pytest.raises(queue.SubmissionRefused, match="all 1 attempts"):
        queue.submit(alice, in_quiz(banked, quiz_set), {"a": "2x"})
    # The practice set still takes as many as the student likes.
    assert answer(alice, banked, "2x").attempt == 1
    assert answer(alice, banked, "2x").attempt == 2


def test_it_keeps_due_dates_and_extensions_per_set(alice, banked, quiz_set):
    quiz_set.due = timezone.now() - timedelta(days=1)
    quiz_set.late_policy = ProblemSet.LatePolicy.REFUSE
    quiz_set.save()

    with pytest.raises(queue.SubmissionRefused, match="due date"):
        queue.submit(alice, in_quiz(banked, quiz_set), {"a": "2x"})
    assert answer(alice, banked, "2x").late is False

    Extension.objects.create(
        student=alice, problem_set=quiz_set, due=timezone.now() + timedelta(days=1)
    )
    # A fresh copy of the set, as each request reads it.
    fresh = ProblemSet.objects.get(pk=quiz_set.pk)
    assert answer(alice, in_quiz(banked, fresh), "2x").problem_set == quiz_set


def test_it_applies_the_late_penalty_of_the_set_answered_in(alice, banked, quiz_set):
    quiz_set.due = timezone.now() - timedelta(days=1)
    quiz_set.late_policy = ProblemSet.LatePolicy.PENALTY
    quiz_set.late_penalty = 0.5
    quiz_set.save()

    late = answer(alice, in_quiz(banked, quiz_set), "2x")
    on_time = answer(alice, banked, "2x")

    assert (late.late, late.credit) == (True, 0.5)
    assert (on_time.late, on_time.credit) == (False, 1.0)


def test_it_draws_a_variant_of_its_own_for_a_placement(alice, practice, quiz_set):
    exercise = make_exercise(RANDOMISED, problem_set=practice, parameters={"k": {"int": [2, 999]}})
    Placement.objects.create(problem_set=quiz_set, exercise=exercise)

    own = exercise.variant_for(alice)
    placed = in_quiz(exercise, quiz_set).variant_for(alice)

    # The exercise's own set keeps the seed it always had, so no variant seen changes.
    assert own.seed == variants.seed_for(settings.SECRET_KEY, alice.pk, exercise.slug)
    assert placed.seed != own.seed
    assert (own.problem_set, placed.problem_set) == (practice, quiz_set)
    assert Variant.objects.filter(student=alice, exercise=exercise).count() == 2
    assert in_quiz(exercise, quiz_set).variant_for(alice).pk == placed.pk


def test_it_grades_a_placed_attempt_against_the_placements_variant(alice, practice, quiz_set):
    exercise = make_exercise(RANDOMISED, problem_set=practice, parameters={"k": {"int": [2, 999]}})
    Placement.objects.create(problem_set=quiz_set, exercise=exercise)
    k = in_quiz(exercise, quiz_set).variant_for(alice).values["k"]

    submission = answer(alice, in_quiz(exercise, quiz_set), f"{k}x^2")

    assert submission.variant.problem_set == quiz_set and submission.score == 1


def test_it_counts_a_placed_exercise_in_its_sets_module_and_course_rows(
    alice_client, alice, banked, quiz_set
):
    answer(alice, banked, "2x")

    module = alice_client.get(quiz_set.module.get_absolute_url())
    course = alice_client.get("/")

    ((row,),) = [module.context["rows"]]
    assert (row["solved"], row["total"]) == (0, 1)
    totals = {r["module"].slug: (r["solved"], r["total"]) for r in course.context["rows"]}
    assert totals[quiz_set.module.slug] == (0, 1)
    assert totals[banked.problem_set.module.slug] == (1, 1)


def test_it_lists_placed_exercises_on_the_set_page_with_their_own_links(
    alice_client, alice, banked, quiz_set, practice
):
    own = make_exercise(problem_set=quiz_set, order=2, title="The quiz's own")
    answer(alice, banked, "2x")

    page = alice_client.get(quiz_set.get_absolute_url()).content.decode()

    placed_url = f"/sets/quiz/exercises/{banked.slug}/"
    assert placed_url in page and own.get_absolute_url() in page
    assert page.index(placed_url) < page.index(own.get_absolute_url())
    # The practice attempt is no attempt in the quiz.
    assert "state-new" in page and "state-solved" not in page
    practice_page = alice_client.get(practice.get_absolute_url()).content.decode()
    assert f'href="/exercises/{banked.slug}/"' in practice_page
    assert "state-solved" in practice_page


def test_it_shows_only_the_sets_own_attempts_on_a_placed_exercise_page(
    alice_client, alice, banked, quiz_set
):
    answer(alice, banked, "3x")
    answer(alice, banked, "2x")

    response = alice_client.get(f"/sets/quiz/exercises/{banked.slug}/")

    assert response.status_code == 200
    view = response.context["view"]
    assert view.attempts_used == 0 and view.history == []
    assert response.context["problem_set"] == quiz_set
    assert view.attempt_limit == 1


def test_it_submits_a_placed_exercise_from_its_page(alice_client, alice, banked, quiz_set):
    url = f"/sets/quiz/exercises/{banked.slug}/"

    response = alice_client.post(url, {"answer-a": "2x"})

    assert response.status_code == 302
    assert response["Location"] == f"{url}#latest-attempt"
    submission = Submission.objects.get(student=alice)
    assert submission.problem_set == quiz_set
    refused = alice_client.post(url, {"answer-a": "2x"})
    assert refused.status_code == 403
    assert Submission.objects.filter(student=alice).count() == 1
    # The feedback fragment reads the quiz's attempts: held back, as in any quiz.
    fragment = alice_client.get(f"{url}?fragment=feedback")
    assert fragment.status_code == 200 and fragment.context["view"].feedback is False


def test_it_leads_from_one_exercise_to_the_next_of_the_set_shown_in(
    alice_client, banked, quiz_set, practice
):
    own = make_exercise(problem_set=quiz_set, order=2)
    after_banked = make_exercise(problem_set=practice, order=5)

    placed_page = alice_client.get(f"/sets/quiz/exercises/{banked.slug}/")
    own_page = alice_client.get(own.get_absolute_url())
    practice_page = alice_client.get(banked.get_absolute_url())

    assert placed_page.context["view"].next_exercise == own
    assert own_page.context["view"].next_exercise is None
    assert practice_page.context["view"].next_exercise == after_banked
    assert f'href="{own.get_absolute_url()}" rel="next"' in placed_page.content.decode()


def test_it_answers_an_exercise_not_shown_in_a_set_with_404(alice_client, banked, practice):
    other = make_problem_set(slug="other")

    assert alice_client.get(f"/sets/other/exercises/{banked.slug}/").status_code == 404
    assert alice_client.get(f"/sets/nowhere/exercises/{banked.slug}/").status_code == 404
    assert alice_client.get("/sets/quiz/exercises/nothing/").status_code == 404
    assert other.pk  # a set that exists, with nothing placed in it
    # Its own set serves it under the set's path too.
    assert alice_client.get(f"/sets/practice/exercises/{banked.slug}/").status_code == 200


def test_it_hides_a_placed_exercise_until_the_set_opens(alice_client, banked, quiz_set):
    quiz_set.opens = timezone.now() + timedelta(days=1)
    quiz_set.save()

    assert alice_client.get(f"/sets/quiz/exercises/{banked.slug}/").status_code == 404
    assert banked.slug not in alice_client.get(quiz_set.get_absolute_url()).content.decode()
    assert alice_client.get(banked.get_absolute_url()).status_code == 200


def test_it_runs_the_quiz_clock_only_in_the_quiz(alice_client, alice, banked, quiz_set):
    quiz_set.time_limit = 20
    quiz_set.save()

    assert alice_client.get(banked.get_absolute_url()).status_code == 200
    assert not QuizStart.objects.exists()
    waiting = alice_client.get(f"/sets/quiz/exercises/{banked.slug}/")
    assert waiting.status_code == 302 and waiting["Location"] == "/sets/quiz/#quiz"

    started = alice_client.post("/sets/quiz/start/", {"confirm": "yes"})
    assert started["Location"] == f"/sets/quiz/exercises/{banked.slug}/"
    page = alice_client.get(started["Location"])
    assert page.context["draft_url"] == f"/sets/quiz/exercises/{banked.slug}/draft/"
    saved = alice_client.post(
        page.context["draft_url"], json.dumps({"answers": {"a": "2x"}}), "application/json"
    )
    assert saved.status_code == 200
    assert QuizDraft.objects.get(student=alice).problem_set == quiz_set
    # The practice page has no draft and no clock.
    practice_page = alice_client.get(banked.get_absolute_url())
    assert (
        practice_page.context["draft_url"] == "" and practice_page.context["view"].quiz_ends is None
    )


def test_it_submits_a_placed_draft_in_the_quiz_at_time_up(alice, banked, quiz_set):
    quiz_set.time_limit = 20
    quiz_set.save()
    started = timezone.now() - timedelta(minutes=10)
    start = QuizStart.objects.create(student=alice, problem_set=quiz_set, started=started)
    answer(alice, banked, "3x")  # in practice: not the quiz's last attempt
    quiz.save_draft(alice, in_quiz(banked, quiz_set), {"a": "2x"}, now=started)

    assert quiz.finish(start, now=timezone.now()) == 1

    submitted = Submission.objects.get(student=alice, problem_set=quiz_set)
    assert (submitted.attempt, submitted.answers) == (1, {"a": "2x"})


def test_it_keeps_each_sets_gradebook_to_the_work_done_there(
    alice, bob, banked, quiz_set, practice
):
    answer(alice, banked, "2x")
    answer(bob, in_quiz(banked, quiz_set), "2x")

    practice_rows = {row[0]: row for row in gradebook.rows(practice)[1:]}
    quiz_rows = gradebook.rows(quiz_set)

    assert banked.slug in quiz_rows[0]
    column = quiz_rows[0].index(banked.slug)
    quiz_by_name = {row[0]: row for row in quiz_rows[1:]}
    assert (quiz_by_name["alice"][column], quiz_by_name["bob"][column]) == ("", 1.0)
    column = gradebook.rows(practice)[0].index(banked.slug)
    assert (practice_rows["alice"][column], practice_rows["bob"][column]) == (1.0, "")


def test_it_regrades_the_placed_exercises_of_a_set(alice, banked, quiz_set):
    answer(alice, banked, "2x")
    placed = answer(alice, in_quiz(banked, quiz_set), "2x")

    job = regrade.start(problem_set=quiz_set)

    assert list(RegradeJob.objects.get(pk=job.pk).submissions()) == [placed]


def test_it_links_a_placed_submission_back_to_its_set(alice_client, alice, banked, quiz_set):
    submission = answer(alice, in_quiz(banked, quiz_set), "2x")

    page = alice_client.get(submission.get_absolute_url())

    assert page.status_code == 200
    assert f'href="/sets/quiz/exercises/{banked.slug}/"' in page.content.decode()
    assert page.context["verdict"].feedback is False  # the quiz's feedback is held


def test_it_refuses_a_placement_in_the_exercises_own_set(banked, practice):
    with pytest.raises(ValidationError, match="own problem set"):
        Placement(problem_set=practice, exercise=banked).full_clean()


def test_it_never_saves_an_exercise_shown_in_another_set(banked, quiz_set):
    with pytest.raises(ValueError, match="placed"):
        in_quiz(banked, quiz_set).save()


@pytest.fixture
def api(client, alice):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=alice).key}"
    return client


def test_it_serves_a_placed_exercise_in_the_api(api, alice, banked, quiz_set):
    answer(alice, banked, "2x")
    url = f"/api/sets/quiz/exercises/{banked.slug}/"

    shown = api.get(url).json()
    assert (shown["kind"], shown["attempts_used"], shown["max_attempts"]) == ("quiz", 0, 1)

    accepted = api.post(f"{url}submissions/", {"answers": {"a": "2x"}}, "application/json")
    assert accepted.status_code == 202
    assert Submission.objects.get(pk=accepted.json()["id"]).problem_set == quiz_set
    again = api.post(f"{url}submissions/", {"answers": {"a": "2x"}}, "application/json")
    assert again.status_code == 403
    # The exercise's own URL is its own set's, as before.
    assert api.get(f"/api/exercises/{banked.slug}/").json()["attempts_used"] == 1
    assert api.get("/api/sets/quiz/exercises/nothing/").status_code == 404
    assert api.get(f"/api/sets/nowhere/exercises/{banked.slug}/").status_code == 404


def test_it_lists_the_exercises_placed_in_each_set_in_the_outline(api, banked, quiz_set):
    (module,) = [m for m in api.get("/api/modules/").json() if m["slug"] == quiz_set.module.slug]

    (listed,) = module["problem_sets"]
    assert (listed["exercises"], listed["placed"]) == (
        [],
        [{"slug": banked.slug, "title": banked.title}],
    )


# ---------------------------------------------------------------- the admin


def test_it_lets_an_instructor_place_an_exercise_in_a_set(client, charlie, banked, practice):
    other = make_problem_set(slug="revision")
    client.force_login(charlie)
    url = f"/admin/exercises/problemset/{other.pk}/change/"
    page = client.get(url)
    assert "Exercises placed from the question bank" in page.content.decode()

    response = client.post(
        url,
        {
            "module": other.module_id,
            "slug": other.slug,
            "title": other.title,
            "summary": "",
            "order": 0,
            "late_policy": other.late_policy,
            "late_penalty": 0,
            "kind": other.kind,
            "exercises-TOTAL_FORMS": 0,
            "exercises-INITIAL_FORMS": 0,
            "placements-TOTAL_FORMS": 1,
            "placements-INITIAL_FORMS": 0,
            "placements-0-exercise": banked.pk,
            "placements-0-order": 3,
            "extensions-TOTAL_FORMS": 0,
            "extensions-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302
    placement = Placement.objects.get(problem_set=other)
    assert (placement.exercise, placement.order) == (banked, 3)
    exercise_page = client.get(f"/admin/exercises/exercise/{banked.pk}/change/").content.decode()
    assert f"/admin/exercises/problemset/{other.pk}/change/" in exercise_page
    listed = placements_of(banked)
    assert f"/admin/exercises/problemset/{other.pk}/change/" in listed
    assert f"/admin/exercises/problemset/{practice.pk}/change/" not in listed


def test_it_refuses_to_place_an_exercise_in_its_own_set_from_the_admin(client, charlie, banked):
    practice = banked.problem_set
    client.force_login(charlie)

    response = client.post(
        f"/admin/exercises/problemset/{practice.pk}/change/",
        {
            "module": practice.module_id,
            "slug": practice.slug,
            "title": practice.title,
            "summary": "",
            "order": 0,
            "late_policy": practice.late_policy,
            "late_penalty": 0,
            "kind": practice.kind,
            "exercises-TOTAL_FORMS": 0,
            "exercises-INITIAL_FORMS": 0,
            "placements-TOTAL_FORMS": 1,
            "placements-INITIAL_FORMS": 0,
            "placements-0-exercise": banked.pk,
            "placements-0-order": 0,
            "extensions-TOTAL_FORMS": 0,
            "extensions-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    assert "own problem set" in response.content.decode()
    assert not Placement.objects.filter(problem_set=practice).exists()


def test_it_keeps_students_from_placing_exercises(alice_client, banked):
    response = alice_client.get(f"/admin/exercises/problemset/{banked.problem_set_id}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# ---------------------------------------------------------------- the course's YAML


def write_course_files(folder, quiz_place) -> None:
    """A practice set of two exercises and a quiz that places exercises from it."""
    (folder / "01-m").mkdir(parents=True)
    (folder / "course.yaml").write_text("modules:\n- slug: m\n  title: M\n")
    exercise = (
        "- slug: {slug}\n  title: {slug}\n  prompt: Differentiate x^2.\n"
        "  parts:\n  - key: a\n    kind: expression\n    expected: 2x\n    variables: [x]\n"
        "    tests:\n    - answer: 2x\n      expect: correct\n"
    )
    (folder / "01-m" / "practice.yaml").write_text(
        "module: m\nslug: practice\ntitle: Practice\nexercises:\n"
        + exercise.format(slug="first")
        + exercise.format(slug="second")
    )
    (folder / "01-m" / "quiz.yaml").write_text(
        "module: m\nslug: quiz\ntitle: Quiz\nkind: quiz\nexercises:\n"
        + exercise.format(slug="own")
        + yaml.safe_dump({"place": quiz_place})
    )


def placements() -> list[tuple[str, str, int]]:
    return list(
        Placement.objects.order_by("problem_set__slug", "order").values_list(
            "problem_set__slug", "exercise__slug", "order"
        )
    )


def test_it_loads_and_exports_the_placements_of_a_set(tmp_path):
    write_course_files(tmp_path / "in", ["second", {"exercise": "first", "order": 0}])

    loader.load_course(tmp_path / "in", seeds=1)

    assert placements() == [("quiz", "first", 0), ("quiz", "second", 2)]
    export_course(tmp_path / "out")
    written = yaml.safe_load((tmp_path / "out" / "01-m" / "quiz.yaml").read_text())
    assert written["place"] == [{"exercise": "first", "order": 0}, "second"]
    assert "place" not in yaml.safe_load((tmp_path / "out" / "01-m" / "practice.yaml").read_text())
    Placement.objects.all().delete()
    loader.load_course(tmp_path / "out", seeds=1)
    assert placements() == [("quiz", "first", 0), ("quiz", "second", 2)]


def test_it_removes_a_placement_the_file_no_longer_lists(tmp_path):
    write_course_files(tmp_path, ["first", "second"])
    loader.load_course(tmp_path, seeds=1)
    (tmp_path / "01-m" / "quiz.yaml").write_text(
        (tmp_path / "01-m" / "quiz.yaml").read_text().replace("- first\n", "")
    )

    loader.load_course(tmp_path, seeds=1)

    assert placements() == [("quiz", "second", 2)]


def test_it_refuses_placements_of_unknown_or_own_exercises(tmp_path):
    write_course_files(tmp_path, ["nowhere", "own", "first", "first"])

    with pytest.raises(loader.CourseError) as refused:
        loader.load_course(tmp_path, seeds=1)

    assert refused.value.messages == [
        f"{tmp_path / '01-m' / 'quiz.yaml'}: place[0] (nowhere): no exercise has this slug",
        f"{tmp_path / '01-m' / 'quiz.yaml'}: place[1] (own): is an exercise of this set already",
        f"{tmp_path / '01-m' / 'quiz.yaml'}: place[3] (first): is placed twice in this set",
    ]
    assert not ProblemSet.objects.exists()


def test_it_moves_the_students_work_with_an_exercise_moved_to_another_set(alice, banked):
    answer(alice, banked, "2x")
    revision = make_problem_set(slug="revision")

    banked.problem_set = revision
    banked.save()

    assert Submission.objects.get(student=alice).problem_set == revision


def test_it_keeps_each_sets_work_when_an_exercise_moves_to_a_set_it_was_placed_in(
    alice, banked, quiz_set, practice
):
    answer(alice, banked, "2x")
    answer(alice, in_quiz(banked, quiz_set), "2x")

    banked.problem_set = quiz_set
    banked.save()

    assert sorted(
        Submission.objects.filter(student=alice).values_list("problem_set__slug", flat=True)
    ) == ["practice", "quiz"]
    assert not Placement.objects.filter(exercise=banked).exists()
    assert [e.pk for e in quiz_set.shown_exercises()] == [banked.pk]
