"""Randomised exercises: parameters, each student's stored variant, templates, and
grading against the variant a student was shown."""

from __future__ import annotations

import math

import pytest

from exercises import queue, variants
from exercises.models import Exercise, Part, Submission, Variant
from exercises.routines import call
from grading.reference import numeric
from tests.conftest import make_exercise

PARAMETERS = {"a": {"int": [2, 40]}, "b": {"int": [-5, 5], "exclude": [0]}}


def make_randomised(**kwargs) -> Exercise:
    kwargs.setdefault("parameters", PARAMETERS)
    kwargs.setdefault("prompt", "Differentiate \\( f(x) = {{a}}x^2 + {{b}}x \\).")
    kwargs.setdefault("solution", "The answer is \\( {{2*a}}x + {{b}} \\).")
    parts = kwargs.pop(
        "parts",
        [
            {
                "key": "a",
                "kind": "expression",
                "label": "\\( f'(x) \\) with a = {{a}}",
                "expected": "{{2*a}}x + {{b}}",
                "variables": ["x"],
                "mistakes": [{"answer": "{{a}}x + {{b}}", "message": "Bring down the {{2}}."}],
            }
        ],
    )
    return make_exercise(parts=parts, **kwargs)


# ---------------------------------------------------------------- draws


def test_it_draws_the_same_values_for_the_same_seed():
    assert variants.draw(PARAMETERS, [], 7) == variants.draw(PARAMETERS, [], 7)
    drawn = {tuple(variants.draw(PARAMETERS, [], seed).items()) for seed in range(30)}
    assert len(drawn) > 10


def test_it_keeps_to_ranges_steps_and_exclusions():
    spec = {
        "n": {"int": [-6, 6], "step": 2, "exclude": [0]},
        "h": {"decimal": [0.1, 0.5], "step": 0.1},
        "f": {"choice": ["sin", "cos"]},
    }
    for seed in range(50):
        values = variants.draw(spec, [], seed)
        assert values["n"] in {-6, -4, -2, 2, 4, 6}
        assert values["h"] in {0.1, 0.2, 0.3, 0.4, 0.5}
        assert values["f"] in {"sin", "cos"}


def test_it_redraws_until_the_constraints_hold():
    constraints = ["a != 2b", "1 <= a/abs(b) <= 3"]
    for seed in range(30):
        values = variants.draw(PARAMETERS, constraints, seed)
        assert values["a"] != 2 * values["b"]
        assert 1 <= values["a"] / abs(values["b"]) <= 3


def test_it_gives_up_on_constraints_no_values_meet():
    with pytest.raises(variants.VariantError, match="constraints"):
        variants.draw({"a": {"int": [1, 3]}}, ["a > 5"], 1)


@pytest.mark.parametrize(
    "parameters, constraints, message",
    [
        ({"a": {"int": [3, 1]}}, [], "low <= high"),
        ({"a": {"int": [1.5, 3]}}, [], "whole numbers"),
        ({"a": {"range": [1, 3]}}, [], "exactly one"),
        ({"pi": {"int": [1, 3]}}, [], "name"),
        ({"a": {"choice": [1], "exclude": [1]}}, [], "excluded"),
        ({"a": {"int": [1, 3]}}, ["a"], "no comparison"),
        ({"a": {"int": [1, 3]}}, ["a < (2"], "constraint"),
        ({"a": {"int": [1, 3]}}, ["__import__('os') < 1"], "constraint"),
    ],
)
def test_it_refuses_malformed_parameters(parameters, constraints, message):
    with pytest.raises(variants.VariantError, match=message):
        variants.check_parameters(parameters, constraints)


def test_it_derives_stable_seeds_that_differ_between_students_and_exercises():
    assert variants.seed_for("k", 1, "ex") == variants.seed_for("k", 1, "ex")
    assert variants.seed_for("k", 1, "ex") != variants.seed_for("k", 2, "ex")
    assert variants.seed_for("k", 1, "ex") != variants.seed_for("k", 1, "other")
    assert variants.seed_for("k", 1, "ex") != variants.seed_for("other", 1, "ex")


# ---------------------------------------------------------------- templates


def test_it_writes_values_in_parentheses_in_answers_only():
    values = {"a": 3, "b": -4, "h": 0.5, "f": "sin"}
    assert variants.render_expression("x^3 - {{b}}x + {{ 2*a }}", values) == "x^3 - (-4)x + (6)"
    assert variants.render_expression("{{f}}(x)", values) == "sin(x)"
    assert variants.render_text("x^{{a}} + {{b}}x, h = {{h}}, {{a/b}}, {{a/9}}", values) == (
        "x^3 + -4x, h = 0.5, -0.75, 1/3"
    )


def test_it_remembers_a_filled_in_template_for_the_same_values(monkeypatch):
    variants._fill_remembered.cache_clear()
    computed = []
    value = variants._value
    monkeypatch.setattr(
        variants, "_value", lambda text, vals: computed.append(text) or value(text, vals)
    )
    values = {"a": 3, "b": -4}
    for _ in range(3):
        assert variants.render_expression("{{a*b}}x + {{b}}", values) == "(-12)x + (-4)"
        assert variants.render_text("{{a*b}} and {{b}}", values) == "-12 and -4"
    # Computed once for each kind of template, not again for the same values.
    assert computed == ["a*b", "b", "a*b", "b"]
    # Other values, or the same number of another type, are filled in afresh.
    assert variants.render_text("{{a}}", {"a": 1.5, "b": -4}) == "1.5"
    assert variants.render_text("{{a}}", {"a": 2, "b": -4}) == "2"
    assert variants.render_text("{{a}}", {"a": 2.0, "b": -4}) == "2"
    assert variants.render_text("{{a}}", {"a": True, "b": -4}) == "True"
    assert len(computed) == 8
    # Values that cannot be a key are filled in each time, the same way.
    listed = {"a": 3, "v": [1, 2]}
    assert variants.render_text("{{a}}", listed) == variants.render_text("{{a}}", listed) == "3"
    assert len(computed) == 10


def test_it_never_remembers_a_template_it_refused():
    variants._fill_remembered.cache_clear()
    for _ in range(2):
        with pytest.raises(variants.VariantError):
            variants.render_expression("{{1/(a-1)}}", {"a": 1})


def test_it_leaves_latex_braces_alone():
    values = {"a": 3}
    assert variants.render_text("\\frac{{{a}}}{2} + x^{2}", values) == "\\frac{3}{2} + x^{2}"


def test_it_leaves_exercises_without_parameters_untouched():
    assert variants.render_text("{{a}} and {{", {}) == "{{a}} and {{"


def test_it_refuses_a_template_that_is_not_an_expression_of_the_parameters():
    with pytest.raises(variants.VariantError, match="unknown name"):
        variants.render_text("{{c}}", {"a": 1})
    with pytest.raises(variants.VariantError, match="undefined"):
        variants.render_expression("{{1/(a-1)}}", {"a": 1})


def test_it_computes_expected_answers_with_reference_routines():
    spec = {
        "routine": "newton_raphson_steps",
        "args": {"f": "x^3 - {{a}}x - 5", "x0": 2, "steps": 2},
    }
    assert call(spec, {"a": 2}) == "11761/5615"  # 2.094568..., the course's x2
    hessian = {"routine": "hessian", "args": {"f": "{{a}}x^2 y", "variables": ["x", "y"]}}
    assert call(hessian, {"a": 5}) == "[[10*y, 10*x], [10*x, 0]]"


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"routine": "system", "args": {}}, "unknown routine"),
        ({"routine": "derivative", "args": {}}, "missing argument"),
        ({"routine": "derivative", "args": {"f": "x", "g": 1}}, "unknown argument"),
        ({"routine": "derivative", "args": {"f": "__import__('os')"}}, "derivative"),
        ({"routine": "newton_raphson_steps", "args": {"f": "x^2", "x0": 0, "steps": 1}}, "zero"),
    ],
)
def test_it_refuses_bad_routine_calls(spec, message):
    with pytest.raises(variants.VariantError, match=message):
        call(spec, {})


# ---------------------------------------------------------------- stored variants


@pytest.mark.django_db
def test_it_stores_a_students_variant_when_first_shown(alice_client, alice):
    exercise = make_randomised()
    assert not Variant.objects.exists()

    response = alice_client.get(exercise.get_absolute_url())

    variant = Variant.objects.get(student=alice, exercise=exercise)
    a, b = variant.values["a"], variant.values["b"]
    assert f"{a}x^2 + {b}x" in response.content.decode()
    assert f"with a = {a}" in response.content.decode()
    assert variant.expected == {"a": f"({2 * a})x + ({b})"}
    # The solution only once solved.
    assert f"{2 * a}x + {b}" not in response.content.decode()


@pytest.mark.django_db
def test_a_variant_drawn_meanwhile_by_another_request_is_the_one_kept(alice):
    exercise = make_randomised()
    # The exercise was read with "no variant yet" (`student_reads.published_exercise`);
    # another request of the student's draws it before this one stores its own.
    theirs = exercise.variant_for(alice)
    exercise._variant_read = (alice.pk, exercise.problem_set_id, None)

    mine = exercise.variant_for(alice)

    assert mine.pk == theirs.pk and mine.values == theirs.values
    assert mine.exercise is exercise
    assert Variant.objects.count() == 1


@pytest.mark.django_db
def test_a_first_sight_reads_the_variant_once(alice, django_assert_max_num_queries):
    exercise = make_randomised()
    exercise._variant_read = (alice.pk, exercise.problem_set_id, None)
    # The parts (for the expected answers), then the insert in a transaction of its own
    # (a savepoint or BEGIN, and its end): the variant is not looked for again.
    with django_assert_max_num_queries(4):
        variant = exercise.variant_for(alice)
    assert Variant.objects.get().pk == variant.pk


@pytest.mark.django_db
def test_it_never_reshuffles_a_variant_when_the_exercise_is_edited(alice_client, alice):
    exercise = make_randomised()
    alice_client.get(exercise.get_absolute_url())
    before = Variant.objects.get(student=alice).values

    Exercise.objects.filter(pk=exercise.pk).update(
        parameters={"a": {"int": [100, 200]}, "b": {"int": [1, 2]}}, version=2
    )
    alice_client.get(exercise.get_absolute_url())

    variant = Variant.objects.get(student=alice)
    assert variant.values == before
    assert Variant.objects.count() == 1


@pytest.mark.django_db
def test_it_gives_students_their_own_variants(alice, bob, settings):
    exercise = make_randomised(parameters={"a": {"int": [2, 100000]}, "b": {"int": [1, 3]}})
    mine = exercise.variant_for(alice)
    assert mine.values != exercise.variant_for(bob).values
    assert mine.seed == variants.seed_for(settings.SECRET_KEY, alice.pk, exercise.slug)
    assert mine.values == variants.draw(exercise.parameters, [], mine.seed)


@pytest.mark.django_db
def test_it_grades_against_the_students_own_variant(alice, bob):
    exercise = make_randomised(parameters={"a": {"int": [2, 100000]}, "b": {"int": [1, 3]}})
    mine = exercise.variant_for(alice)
    theirs = exercise.variant_for(bob)

    right = queue.submit(alice, exercise, {"a": mine.expected["a"]})
    wrong = queue.submit(alice, exercise, {"a": theirs.expected["a"]})
    queue.grade(right.pk)
    queue.grade(wrong.pk)

    right.refresh_from_db()
    wrong.refresh_from_db()
    assert right.variant == mine
    assert (right.status, right.score) == (Submission.Status.GRADED, 1.0)
    assert wrong.results["a"]["status"] == "incorrect"


@pytest.mark.django_db
def test_it_answers_a_variants_mistake_with_its_message(alice):
    exercise = make_randomised()
    variant = exercise.variant_for(alice)
    a, b = variant.values["a"], variant.values["b"]
    submission = queue.submit(alice, exercise, {"a": f"{a}x + {b}"})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    assert submission.results["a"] == {
        "status": "incorrect",
        "message": "Bring down the 2.",
        "mistake": 0,
    }


@pytest.mark.django_db
def test_it_recomputes_a_variants_expected_answers_after_an_edit(alice):
    exercise = make_randomised()
    variant = exercise.variant_for(alice)
    exercise.parts.update(expected="{{2*a}}x + {{b}} + 1")
    Exercise.objects.filter(pk=exercise.pk).update(version=exercise.version + 1)

    variant = Variant.objects.get(pk=variant.pk)
    a, b = variant.values["a"], variant.values["b"]
    assert variant.expected_answers() == {"a": f"({2 * a})x + ({b}) + 1"}
    variant.refresh_from_db()
    assert variant.expected_version == exercise.version + 1


@pytest.mark.django_db
def test_it_shows_the_solution_of_the_variant_once_solved(alice_client, alice):
    exercise = make_randomised()
    variant = exercise.variant_for(alice)
    submission = queue.submit(alice, exercise, {"a": variant.expected["a"]})
    queue.grade(submission.pk)

    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    verdict = alice_client.get(submission.get_absolute_url()).content.decode()

    a, b = variant.values["a"], variant.values["b"]
    assert f"The answer is \\( {2 * a}x + {b} \\)" in page
    assert f"with a = {a}" in verdict


@pytest.mark.django_db
def test_it_shows_the_callers_variant_in_the_api(client, alice, bob):
    exercise = make_randomised()
    client.force_login(alice)
    body = client.get(f"/api/exercises/{exercise.slug}/").json()
    variant = Variant.objects.get(student=alice, exercise=exercise)
    a, b = variant.values["a"], variant.values["b"]
    assert body["prompt"] == f"Differentiate \\( f(x) = {a}x^2 + {b}x \\)."
    assert body["parts"][0]["label"] == f"\\( f'(x) \\) with a = {a}"
    assert "expected" not in str(body) and variant.expected["a"] not in str(body)
    assert not Variant.objects.filter(student=bob).exists()


@pytest.mark.django_db
def test_it_keeps_fixed_exercises_without_variants(alice_client, alice, exercise):
    response = alice_client.get(exercise.get_absolute_url())
    submission = queue.submit(alice, exercise, {"a": "2x"})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    assert "Differentiate \\(x^2\\)." in response.content.decode()
    assert submission.variant is None and submission.score == 1.0
    assert not Variant.objects.exists()


@pytest.mark.django_db
def test_it_grades_a_fixed_exercise_whose_answer_a_routine_computes(alice):
    exercise = make_exercise(
        parts=[
            {
                "key": "a",
                "kind": "numeric",
                "expected": "",
                "expected_routine": {
                    "routine": "newton_raphson_steps",
                    "args": {"f": "x^3 - 2x - 5", "x0": 2, "steps": 1},
                },
            }
        ]
    )
    submission = queue.submit(alice, exercise, {"a": "2.1"})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    assert submission.score == 1.0
    assert submission.variant.expected == {"a": "21/10"}


# ---------------------------------------------------------------- drafts


@pytest.mark.django_db
def test_it_hides_drafts_from_students(alice_client, alice):
    draft = make_exercise(status=Exercise.Status.DRAFT)
    shown = make_exercise(problem_set=draft.problem_set)

    listing = alice_client.get(draft.problem_set.get_absolute_url()).content.decode()
    outline = alice_client.get("/api/modules/").json()

    assert alice_client.get(draft.get_absolute_url()).status_code == 404
    assert alice_client.get(f"/api/exercises/{draft.slug}/").status_code == 404
    response = alice_client.post(
        f"/api/exercises/{draft.slug}/submissions/",
        {"answers": {"a": "2x"}},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Submission.objects.filter(student=alice).exists()
    assert draft.title not in listing and shown.title in listing
    slugs = [e["slug"] for m in outline for ps in m["problem_sets"] for e in ps["exercises"]]
    assert slugs == [shown.slug]


# ---------------------------------------------------------------- edits and broken exercises


@pytest.mark.django_db
def test_it_gives_a_parameter_added_later_a_value_and_keeps_the_others(alice):
    exercise = make_randomised()
    before = exercise.variant_for(alice).values
    exercise.parameters = {**PARAMETERS, "c": {"int": [7, 7]}}
    exercise.save()
    Part.objects.filter(exercise=exercise).update(expected="{{2*a}}x + {{b}} + {{c}}")

    variant = exercise.variant_for(alice)

    assert variant.values == {**before, "c": 7}
    assert Variant.objects.get(pk=variant.pk).values == {**before, "c": 7}
    assert variant.expected_answers()["a"].endswith("+ (7)")


@pytest.mark.django_db
def test_it_grades_a_submission_made_before_the_exercise_was_randomised(alice, exercise):
    submission = queue.submit(alice, exercise, {"a": "2x"})
    exercise.parameters = {"a": {"int": [3, 3]}}
    exercise.version += 1
    exercise.save()
    Part.objects.filter(exercise=exercise).update(expected="{{a}}x")

    queue.grade(submission.pk)

    submission.refresh_from_db()
    assert submission.variant is None
    assert submission.results["a"]["status"] == "incorrect"  # judged as 3x, the new question


def broken_exercise() -> Exercise:
    # No value of a meets the constraint: no variant can be drawn.
    return make_randomised(
        parameters={"a": {"int": [1, 2]}, "b": {"int": [1, 2]}}, constraints=["a > 5"]
    )


@pytest.mark.django_db
def test_it_tells_the_student_when_an_exercise_cannot_be_shown(alice_client, alice):
    exercise = broken_exercise()
    page = alice_client.get(exercise.get_absolute_url())
    api = alice_client.get(f"/api/exercises/{exercise.slug}/")
    assert page.status_code == 503 and queue.UNAVAILABLE_MESSAGE in page.content.decode()
    assert "{{a}}" not in page.content.decode()
    assert api.status_code == 503 and api.json()["detail"] == queue.UNAVAILABLE_MESSAGE
    with pytest.raises(queue.SubmissionRefused) as refused:
        queue.submit(alice, exercise, {"a": "2x"})
    assert refused.value.http_status == 503
    assert not Submission.objects.exists() and not Variant.objects.exists()


def test_it_refuses_values_too_large_to_compute():
    with pytest.raises(variants.VariantError, match="too large"):
        variants.render_text("{{a^b}}", {"a": 9, "b": 100000000})
    with pytest.raises(variants.VariantError, match="constraints"):
        variants.draw({"a": {"int": [90000, 90001]}}, ["a^a^a > 1"], 0)


def test_it_keeps_irrational_iterates_as_floats():
    spec = {"routine": "newton_raphson_steps", "args": {"f": "cos(x) - x", "x0": 1, "steps": 3}}
    expected = numeric.newton_raphson(
        lambda x: math.cos(x) - x, lambda x: -math.sin(x) - 1, 1.0, steps=3
    ).iterates[-1]
    assert float(call(spec, {})) == pytest.approx(expected, rel=1e-12)


@pytest.mark.django_db
def test_it_draws_no_variant_for_strangers_or_for_wrong_methods(client, alice):
    exercise = make_randomised()
    response = client.get(exercise.get_absolute_url())
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(f"/api/exercises/{exercise.slug}/").status_code in (401, 403)
    client.force_login(alice)
    assert client.put(exercise.get_absolute_url()).status_code == 405
    assert client.get("/exercises/no-such-exercise/").status_code == 404
    assert not Variant.objects.exists()


@pytest.mark.django_db
def test_it_never_shows_a_student_another_students_variant(client, alice, bob):
    exercise = make_randomised(parameters={"a": {"int": [2, 100000]}, "b": {"int": [1, 3]}})
    theirs = exercise.variant_for(bob)
    client.force_login(alice)
    body = client.get(exercise.get_absolute_url()).content.decode()
    mine = Variant.objects.get(student=alice)
    assert f"{mine.values['a']}x^2" in body
    assert f"{theirs.values['a']}x^2" not in body
