"""Wrong-answer statistics: the most frequent wrong answers to each part, equivalent
answers counted together, computed in the background and shown in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exercises import answer_stats, queue
from exercises.models import AnswerStats, Part, Submission
from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db


def part(**kwargs) -> Part:
    kwargs.setdefault("kind", Part.Kind.EXPRESSION)
    kwargs.setdefault("variables", ["x"])
    return Part(key="a", **kwargs)


def counts(groups: list[dict]) -> dict[str, int]:
    return {g["answer"]: g["count"] for g in groups}


def test_it_counts_equivalent_answers_together():
    groups = answer_stats.group(part(), ["x*2", "2x", "x+x", "x^2", "x^2", "x^2"])

    # A group is named by its most typed form; among equals, the shortest.
    assert counts(groups) == {"x^2": 3, "2x": 3}
    assert next(g for g in groups if g["answer"] == "2x")["also"] == ["x*2", "x+x"]
    assert {g["by"] for g in groups} == {"value"}


def test_it_tells_apart_answers_that_differ_only_somewhere_in_the_domain():
    groups = answer_stats.group(part(domain={"x": [-3, 3]}), ["abs(x)", "x", "sqrt(x^2)"])

    assert counts(groups) == {"abs(x)": 2, "x": 1}


def test_it_groups_by_text_what_it_cannot_evaluate():
    groups = answer_stats.group(part(), ["1/0", "1 / 0", "2x +"])

    assert counts(groups) == {"1/0": 2, "2x +": 1}
    assert {g["by"] for g in groups} == {"text"}


def test_it_counts_points_in_any_order_but_not_their_coordinates_swapped():
    points = part(kind=Part.Kind.POINTS, variables=[])

    groups = answer_stats.group(points, ["{(1,2),(3,4)}", "{(3,4),(1,2)}", "{(1,4),(3,2)}"])

    assert counts(groups) == {"{(1,2),(3,4)}": 2, "{(1,4),(3,2)}": 1}


def test_it_reads_choices_and_exercise_functions():
    choice = part(kind=Part.Kind.CHOICE, variables=[], options=[{"key": "a"}, {"key": "b"}])
    sigma = part(variables=["z"], functions=["sigma(z) = 1/(1+e^(-z))"])

    assert counts(answer_stats.group(choice, ["a, b", "b,a", "a"])) == {"b,a": 2, "a": 1}
    assert counts(answer_stats.group(sigma, ["sigma(z)", "1/(1+e^(-z))"])) == {"sigma(z)": 2}


def test_it_counts_only_wrong_current_verdicts(alice, bob):
    exercise = make_exercise()
    for student, answer in [(alice, "x"), (alice, "2x"), (bob, "x*1"), (bob, "x^2")]:
        queue.grade(queue.submit(student, exercise, {"a": answer}).pk)
    queue.submit(bob, exercise, {"a": "x"})  # not graded yet

    stats, read = answer_stats.compute(exercise)

    assert read == 4
    assert stats["a"]["wrong"] == 3
    assert counts(stats["a"]["groups"]) == {"x": 2, "x^2": 1}


def test_it_computes_in_the_background_and_stores_the_result(
    alice, eager_celery, django_capture_on_commit_callbacks
):
    exercise = make_exercise()
    queue.grade(queue.submit(alice, exercise, {"a": "x"}).pk)

    with django_capture_on_commit_callbacks(execute=True):
        answer_stats.start(exercise)

    stats = AnswerStats.objects.get(exercise=exercise)
    assert stats.status == AnswerStats.Status.DONE and stats.computed is not None
    assert stats.parts["a"]["groups"][0]["answer"] == "x"
    # Computing again stores the same thing, in the same row.
    answer_stats.perform(exercise.pk)
    assert AnswerStats.objects.get(exercise=exercise).parts == stats.parts


def test_it_skips_an_exercise_that_is_gone():
    assert answer_stats.perform(987654) == "skipped"


# ---------------------------------------------------------------- the admin


def test_it_recomputes_from_the_admin_and_shows_the_groups(
    client, charlie, alice, bob, eager_celery, django_capture_on_commit_callbacks
):
    exercise = make_exercise()
    for student, answer in [(alice, "x"), (bob, "1*x"), (bob, "x^2")]:
        queue.grade(queue.submit(student, exercise, {"a": answer}).pk)
    client.force_login(charlie)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:exercises_exercise_changelist"),
            {"action": "recompute_wrong_answers", "_selected_action": [exercise.pk]},
        )
    page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))

    html = page.content.decode()
    assert "3 wrong answer(s)" in html
    assert "<code>x</code>: 2 (also typed as <code>1*x</code>)" in html
    assert "<code>x^2</code>: 1" in html


def test_it_says_when_the_statistics_were_never_computed(client, charlie, exercise):
    client.force_login(charlie)

    page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))

    assert "Not computed yet" in page.content.decode()


def test_it_says_that_a_randomised_exercise_is_counted_across_variants(client, charlie, alice):
    exercise = make_exercise(parameters={"a": {"int": [2, 3]}})
    answer_stats.perform(exercise.pk)
    client.force_login(charlie)

    page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))

    assert "across every student&#x27;s variant" in page.content.decode()


def test_it_keeps_students_and_strangers_from_the_statistics(client, alice, exercise):
    data = {"action": "recompute_wrong_answers", "_selected_action": [exercise.pk]}

    anonymous = client.post(reverse("admin:exercises_exercise_changelist"), data)
    client.force_login(alice)
    student = client.post(reverse("admin:exercises_exercise_changelist"), data)
    page = client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))

    assert anonymous.status_code == 302 and student.status_code == 302
    assert page.status_code == 302 and "/login/" in page["Location"]
    assert not AnswerStats.objects.exists()
    assert not Submission.objects.exists()
