"""Item analysis: facility, discrimination, attempts to success, per parameter value and
wrong answers by cause, on small simulated classes whose figures are worked out by hand;
and the admin pages and CSV downloads."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from exercises import item_analysis, queue
from exercises.models import Exercise, Part, Placement, Submission, Variant
from tests.conftest import (
    FORWARD_DIFFERENCE,
    HALF_RIGHT_CODE,
    make_code_exercise,
    make_exercise,
    make_problem_set,
)

pytestmark = pytest.mark.django_db

STARTER = FORWARD_DIFFERENCE["starter"]
MISTAKE = {"answer": "[{{a}} x y, {{a}} x^2]", "message": "The derivative of x^2 is 2x."}


def students(n: int) -> list:
    users = get_user_model().objects
    return [users.create_user(f"student-{users.count() + 1}") for _ in range(n)]


def answer(student, exercise, answers: dict) -> Submission:
    submission = queue.submit(student, exercise, answers)
    assert queue.grade(submission.pk) == "graded"
    submission.refresh_from_db()
    return submission


def with_variant(student, exercise, **values) -> None:
    """The student's variant has these values (drawn by seed, it could be any)."""
    Variant.objects.create(
        student=student,
        exercise=exercise,
        seed=1,
        values=values,
        expected=exercise.expected_answers(values),
        expected_version=exercise.version,
    )


def part(**kwargs) -> Part:
    kwargs.setdefault("kind", Part.Kind.EXPRESSION)
    kwargs.setdefault("variables", ["x"])
    return Part(key="a", **kwargs)


def cause(p: Part, answer: str, expected: str) -> str:
    kind, _ = item_analysis.Classifier(p).cause(answer, {}, expected, {})
    return kind


# ---------------------------------------------------------------- a class of four


@pytest.fixture
def three_exercises():
    """Four students, three one-part exercises (d/dx x^2 = 2x). First attempts, 1 right:

    student  e1  e2  e3      e1's later attempts
    s1       1   1   0
    s2       1   1   1
    s3       0   0   1       wrong, right (right at the third)
    s4       0   0   1       right (at the second)
    """
    problem_set = make_problem_set()
    e1, e2, e3 = (make_exercise(problem_set=problem_set, order=n) for n in (1, 2, 3))
    s1, s2, s3, s4 = students(4)
    firsts = {s1: (1, 1, 0), s2: (1, 1, 1), s3: (0, 0, 1), s4: (0, 0, 1)}
    for student, rights in firsts.items():
        for exercise, right in zip((e1, e2, e3), rights, strict=True):
            answer(student, exercise, {"a": "2x" if right else "x^2"})
    answer(s3, e1, {"a": "x"})
    answer(s3, e1, {"a": "x + x"})
    answer(s4, e1, {"a": "2*x"})
    return problem_set, (e1, e2, e3)


def test_it_computes_facility_and_attempts_to_success(three_exercises):
    problem_set, (e1, _, e3) = three_exercises

    rows = {row["exercise"].pk: row for row in item_analysis.analyse_set(problem_set)}

    one = rows[e1.pk]
    assert (one["students"], one["first"], one["eventual"]) == (4, 0.5, 1.0)
    # s1 and s2 at their first attempt, s4 at the second, s3 at the third.
    assert one["attempts"] == {1: 2, 2: 1, 3: 1}
    assert (one["attempts_mean"], one["attempts_median"]) == (1.75, 1.5)
    three = rows[e3.pk]
    assert (three["first"], three["eventual"], three["attempts"]) == (0.75, 0.75, {1: 3})
    # The exercise's one part has the same figures.
    assert one["parts"][0]["first"] == 0.5
    assert one["parts"][0]["attempts"] == {1: 2, 2: 1, 3: 1}


def test_it_correlates_each_exercise_with_the_rest_of_the_set(three_exercises):
    problem_set, (e1, e2, e3) = three_exercises

    rows = {row["exercise"].pk: row for row in item_analysis.analyse_set(problem_set)}

    # e1: item (1, 1, 0, 0), rest e2 + e3 = (1, 2, 1, 1): deviations (.5, .5, -.5, -.5)
    # and (-.25, .75, -.25, -.25); r = .5 / sqrt(1 × .75) = 1/√3.
    assert rows[e1.pk]["discrimination"] == round(1 / math.sqrt(3), 4)
    # e3: item (0, 1, 1, 1), rest e1 + e2 = (2, 2, 0, 0): r = -1 / sqrt(.75 × 4) = -1/√3.
    assert rows[e3.pk]["discrimination"] == round(-1 / math.sqrt(3), 4)
    # The part is set against the other exercises too.
    assert rows[e3.pk]["parts"][0]["discrimination"] == round(-1 / math.sqrt(3), 4)
    # The exercise's own page gives the same figure.
    assert item_analysis.analyse_exercise(e3, problem_set)["summary"]["discrimination"] == (
        round(-1 / math.sqrt(3), 4)
    )


def test_it_says_nothing_of_discrimination_without_spread():
    problem_set = make_problem_set()
    e1, _ = (make_exercise(problem_set=problem_set, order=n) for n in (1, 2))
    for student in students(4):
        answer(student, e1, {"a": "2x"})

    (row, _) = item_analysis.analyse_set(problem_set)

    assert row["first"] == 1.0
    assert row["discrimination"] is None


def test_it_leaves_blank_parts_out():
    exercise = make_exercise(
        [
            {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]},
            {"key": "b", "kind": "numeric", "expected": "4"},
        ]
    )
    s1, s2 = students(2)
    answer(s1, exercise, {"a": "2x", "b": ""})
    answer(s2, exercise, {"a": "x", "b": "4"})

    (row,) = item_analysis.analyse_set(exercise.problem_set)

    a, b = row["parts"]
    assert (a["students"], a["first"]) == (2, 0.5)
    assert (b["students"], b["first"]) == (1, 1.0)
    assert (row["students"], row["first"]) == (2, 0.0)


# ---------------------------------------------------------------- randomised variants


@pytest.fixture
def gradient():
    """The gradient of a x^2 y (a is 3 or 4), with a known mistake, and a number 2a."""
    exercise = make_exercise(
        [
            {
                "key": "g",
                "kind": "vector",
                "expected": "[2{{a}} x y, {{a}} x^2]",
                "variables": ["x", "y"],
                "mistakes": [MISTAKE],
            },
            {"key": "n", "kind": "numeric", "expected": "2{{a}}"},
        ],
        parameters={"a": {"choice": [3, 4]}},
    )
    s1, s2, s3, s4 = students(4)
    for student, a in [(s1, 3), (s2, 3), (s3, 4), (s4, 4)]:
        with_variant(student, exercise, a=a)
    answer(s1, exercise, {"g": "[6x y, 3x^2]", "n": "6"})
    answer(s2, exercise, {"g": "[3x y, 3x^2]", "n": "6"})
    answer(s2, exercise, {"g": "[6 x y, 3 x^2]", "n": "6"})
    answer(s3, exercise, {"g": "[4x y, 4x^2]", "n": "8"})
    answer(s4, exercise, {"g": "[-8x y, -4x^2]", "n": "16"})
    return exercise


def test_it_gives_facility_per_parameter_value(gradient):
    rows = item_analysis.analyse_exercise(gradient, gradient.problem_set)["parameters"]

    three, four = rows
    assert (three["parameter"], three["value"], four["value"]) == ("a", "3", "4")
    assert three["g"] == {"students": 2, "first": 0.5, "eventual": 1.0}
    assert four["g"] == {"students": 2, "first": 0.0, "eventual": 0.0}
    assert three["n"]["first"] == 1.0 and four["n"]["first"] == 0.5
    assert three["exercise"] == {"students": 2, "first": 0.5, "eventual": 1.0}


def test_it_groups_a_known_mistake_across_variants(gradient):
    wrong = item_analysis.analyse_exercise(gradient, gradient.problem_set)["wrong"]["g"]

    assert wrong["wrong"] == 3
    causes = {c["kind"]: c for c in wrong["causes"]}
    assert causes["mistake"]["count"] == 2
    assert causes["mistake"]["cause"] == (
        "known mistake 1: [{{a}} x y, {{a}} x^2] (The derivative of x^2 is 2x.)"
    )
    assert sorted(causes["mistake"]["examples"]) == ["[3x y, 3x^2]", "[4x y, 4x^2]"]
    assert causes["sign"]["count"] == 1
    # By value the two variants' answers stay apart.
    assert sorted(g["count"] for g in wrong["values"]) == [1, 1, 1]


def test_it_matches_known_mistakes_again_in_answers_graded_before_they_were_named(gradient):
    for submission in Submission.objects.filter(exercise=gradient):
        submission.results["g"].pop("mistake", None)
        submission.save(update_fields=["results"])

    wrong = item_analysis.analyse_exercise(gradient, gradient.problem_set)["wrong"]["g"]

    assert {c["kind"]: c["count"] for c in wrong["causes"]} == {"mistake": 2, "sign": 1}


def test_it_matches_again_the_answers_graded_before_the_mistakes_changed(gradient):
    sign = {"answer": "[-2{{a}} x y, -{{a}} x^2]", "message": "Check the sign."}
    gradient.parts.filter(key="g").update(mistakes=[sign, MISTAKE])
    gradient.version += 1
    gradient.save()

    wrong = item_analysis.analyse_exercise(gradient, gradient.problem_set)["wrong"]["g"]

    assert {c["cause"]: c["count"] for c in wrong["causes"]} == {
        "known mistake 2: [{{a}} x y, {{a}} x^2] (The derivative of x^2 is 2x.)": 2,
        "known mistake 1: [-2{{a}} x y, -{{a}} x^2] (Check the sign.)": 1,
    }


def test_it_matches_again_only_so_many_older_answers(gradient, monkeypatch):
    monkeypatch.setattr(item_analysis, "REMATCH_LIMIT", 1)
    for submission in Submission.objects.filter(exercise=gradient):
        submission.results["g"].pop("mistake", None)
        submission.save(update_fields=["results"])

    wrong = item_analysis.analyse_exercise(gradient, gradient.problem_set)["wrong"]["g"]

    assert wrong["unmatched"] == 2
    # The first, s2's [3x y, 3x^2], was matched; s3's [4x y, 4x^2] could not be.
    assert {c["kind"]: c["count"] for c in wrong["causes"]} == {"mistake": 1, "other": 1, "sign": 1}


def test_it_keeps_which_mistake_matched_with_the_verdict(gradient):
    submission = Submission.objects.get(exercise=gradient, answers__g="[4x y, 4x^2]")

    assert submission.results["g"]["mistake"] == 0
    assert submission.results["g"]["message"] == MISTAKE["message"]
    # None: no known mistake matched (the analysis need not match them again).
    other = Submission.objects.get(exercise=gradient, answers__g="[-8x y, -4x^2]")
    assert other.results["g"]["mistake"] is None
    right = Submission.objects.get(exercise=gradient, answers__g="[6x y, 3x^2]")
    assert "mistake" not in right.results["g"]


def test_it_finds_a_factor_in_a_number(gradient):
    wrong = item_analysis.analyse_exercise(gradient, gradient.problem_set)["wrong"]["n"]

    assert [(c["kind"], c["count"], c["examples"]) for c in wrong["causes"]] == [
        ("factor", 1, ["16"])
    ]


# ---------------------------------------------------------------- automatic causes


@pytest.mark.parametrize(
    "answer, expected, kind",
    [
        ("-3x^2", "3x^2", "sign"),
        ("6x^2", "3x^2", "factor"),
        ("x^2", "3x^2", "factor"),
        ("3x^2 + 1", "3x^2", "offset"),
        ("x^3", "3x^2", "other"),
        ("3x^2", "3x^2", "other"),
    ],
)
def test_it_names_the_automatic_cause_of_an_expression(answer, expected, kind):
    assert cause(part(), answer, expected) == kind


def test_it_names_the_automatic_cause_of_vectors_matrices_and_points():
    vector = part(kind=Part.Kind.VECTOR, variables=["x", "y"])
    matrix = part(kind=Part.Kind.MATRIX, variables=[])
    points = part(kind=Part.Kind.POINTS, variables=[])
    numeric = part(kind=Part.Kind.NUMERIC, variables=[])

    assert cause(vector, "[-2x, -y]", "[2x, y]") == "sign"
    assert cause(vector, "[2x + 1, y - 3]", "[2x, y]") == "offset"
    # Between numbers, a wrong answer is no offset, and a factor only a simple one.
    assert cause(vector, "[2x, 3]", "[2x, 2]") == "other"
    assert cause(numeric, "5", "4") == "other"
    assert cause(numeric, "40", "4") == "factor"
    assert cause(numeric, "4000", "4") == "factor"
    assert cause(numeric, "3", "4") == "other"
    assert cause(matrix, "[[1, 3], [2, 4]]", "[[1, 2], [3, 4]]") == "transposed"
    assert cause(matrix, "[[1, 2, 3]]", "[[1], [2], [3]]") == "transposed"
    assert cause(matrix, "[[1, 2], [3, 5]]", "[[1, 2], [3, 4]]") == "other"
    assert cause(points, "{(0, 0)}", "{(0, 0), (1, 1)}") == "missing"
    assert cause(points, "(1, 1)", "{(0, 0), (1, 1)}") == "missing"
    assert cause(points, "{(0, 0), (2, 2)}", "{(0, 0), (1, 1)}") == "other"


def test_it_names_the_failing_tests_of_a_code_part():
    exercise = make_code_exercise()
    s1, s2 = students(2)
    answer(s1, exercise, {"code": HALF_RIGHT_CODE})
    answer(s2, exercise, {"code": STARTER})

    wrong = item_analysis.analyse_exercise(exercise, exercise.problem_set)["wrong"]["code"]

    # The starter fails every test: it counts under each.
    assert wrong["wrong"] == 2
    assert {c["cause"]: c["count"] for c in wrong["causes"]} == {
        "failing test: x^3 at -1": 2,
        "failing test: x^2 at 3": 1,
        "failing hidden test(s)": 1,
    }
    assert sorted(wrong["causes"][0]["examples"]) == sorted([HALF_RIGHT_CODE, STARTER])


def test_it_says_when_code_could_not_run():
    exercise = make_code_exercise()
    (student,) = students(1)
    answer(
        student,
        exercise,
        {"code": 'def forward_difference(f, x, h):\n    return 0.0\n\n\nraise ValueError("no")\n'},
    )

    wrong = item_analysis.analyse_exercise(exercise, exercise.problem_set)["wrong"]["code"]

    assert [c["kind"] for c in wrong["causes"]] == ["not-run"]


# ---------------------------------------------------------------- admin pages and CSV


def set_url(problem_set, suffix=""):
    return reverse(f"admin:exercises_problemset_item_analysis{suffix}", args=[problem_set.pk])


def exercise_url(problem_set, exercise, suffix=""):
    name = f"admin:exercises_problemset_item_analysis_exercise{suffix}"
    return reverse(name, args=[problem_set.pk, exercise.pk])


def test_it_shows_the_set_to_instructors_and_links_it(client, charlie, three_exercises):
    problem_set, (e1, _, _) = three_exercises
    client.force_login(charlie)

    change = client.get(reverse("admin:exercises_problemset_change", args=[problem_set.pk]))
    page = client.get(set_url(problem_set))

    assert set_url(problem_set) in change.content.decode()
    assert page.status_code == 200
    text = page.content.decode()
    assert exercise_url(problem_set, e1) in text
    assert "point-biserial" in text
    row = next(r for r in page.context["rows"] if r["exercise"].pk == e1.pk)
    assert (row["first"], row["eventual"]) == (0.5, 1.0)
    assert f'data-exercise="{e1.slug}"' in text and "50%" in text
    # e3 (r = -0.58) is marked low, e1 (0.58) is not.
    assert "-0.58 (low)" in text and "0.58 (low)" not in text.replace("-0.58 (low)", "")


def test_it_downloads_the_set_as_csv(client, charlie, three_exercises):
    problem_set, (e1, e2, e3) = three_exercises
    client.force_login(charlie)

    response = client.get(set_url(problem_set, "_csv"))

    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == [
        "exercise",
        "part",
        "students",
        "right at first attempt",
        "right eventually",
    ]
    by = {(r[0], r[1]): r for r in rows[1:]}
    assert set(by) == {(e.slug, key) for e in (e1, e2, e3) for key in ("", "a")}
    assert by[(e1.slug, "")][2:5] == ["4", "0.5", "1.0"]
    assert by[(e1.slug, "")][6:9] == ["1.75", "1.5", "1: 2 2: 1 3: 1"]
    assert by[(e3.slug, "")][5] == str(round(-1 / math.sqrt(3), 4))


def test_it_shows_an_exercise_and_downloads_it(client, charlie, gradient):
    problem_set = gradient.problem_set
    client.force_login(charlie)

    page = client.get(exercise_url(problem_set, gradient))
    download = client.get(exercise_url(problem_set, gradient, "_csv"))

    text = page.content.decode()
    assert page.status_code == 200
    assert "known mistake 1: [{{a}} x y, {{a}} x^2]" in text
    assert 'data-parameter="a" data-value="4"' in text
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert ["cause", "g", "sign: −expected", "1", "", "", "[-8x y, -4x^2]"] in rows
    causes = [r for r in rows if r[0] == "cause" and r[1] == "g"]
    assert causes[0][2].startswith("known mistake 1") and causes[0][3] == "2"
    assert ["parameter", "g", "a = 3", "2", "0.5", "1.0", ""] in rows
    assert sum(1 for r in rows if r[0] == "value" and r[1] == "g") == 3


def test_it_refuses_students_and_anonymous_visitors(client, alice, three_exercises):
    problem_set, (e1, _, _) = three_exercises
    urls = [
        set_url(problem_set),
        set_url(problem_set, "_csv"),
        exercise_url(problem_set, e1),
        exercise_url(problem_set, e1, "_csv"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(alice)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_refuses_staff_who_may_not_see_submissions(client, three_exercises):
    problem_set, _ = three_exercises
    staff = get_user_model().objects.create_user("dora", is_staff=True)
    client.force_login(staff)

    assert client.get(set_url(problem_set)).status_code == 403
    assert client.get(set_url(problem_set, "_csv")).status_code == 403


def test_it_answers_404_for_a_bad_id_or_an_exercise_of_another_set(
    client, charlie, three_exercises
):
    problem_set, _ = three_exercises
    elsewhere = make_exercise()
    client.force_login(charlie)

    assert client.get(exercise_url(problem_set, elsewhere)).status_code == 404
    assert client.get(exercise_url(problem_set, elsewhere, "_csv")).status_code == 404
    missing = reverse("admin:exercises_problemset_item_analysis", args=["999999"])
    assert client.get(missing).status_code == 404
    assert client.get(missing.replace("999999", "abc")).status_code == 404


def test_it_is_linked_from_the_wrong_answers_of_an_exercise(client, charlie, gradient):
    from exercises import answer_stats

    answer_stats.perform(gradient.pk)
    client.force_login(charlie)

    page = client.get(reverse("admin:exercises_exercise_change", args=[gradient.pk]))

    assert exercise_url(gradient.problem_set, gradient) in page.content.decode()


def test_it_analyses_a_placed_exercise_with_the_work_done_in_each_set(client, charlie):
    practice = make_problem_set()
    quiz = make_problem_set(module=practice.module, kind="quiz")
    exercise = make_exercise(problem_set=practice)
    Placement.objects.create(problem_set=quiz, exercise=exercise, order=1)
    s1, s2 = students(2)
    answer(s1, exercise, {"a": "2x"})
    answer(s2, exercise, {"a": "3x"})
    answer(s1, Exercise.objects.get(pk=exercise.pk).placed_in(quiz), {"a": "x"})

    in_practice = item_analysis.analyse_exercise(exercise, practice)
    in_quiz = item_analysis.analyse_exercise(
        Exercise.objects.get(pk=exercise.pk).placed_in(quiz), quiz
    )
    assert (in_practice["summary"]["students"], in_practice["summary"]["first"]) == (2, 0.5)
    assert (in_quiz["summary"]["students"], in_quiz["summary"]["first"]) == (1, 0.0)
    assert [e.pk for e in item_analysis.set_exercises(quiz)] == [exercise.pk]

    client.force_login(charlie)
    url = reverse("admin:exercises_problemset_item_analysis_exercise", args=[quiz.pk, exercise.pk])
    assert client.get(url).status_code == 200
