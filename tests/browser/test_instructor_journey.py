"""A new instructor's journey in Chromium, as issue "The instructor's side" is checked:
a randomised two-part exercise with a plot, a known mistake, sample answers and a code
part, previewed for several seeds with answers tried, published, placed in a practice
set and a quiz, the quiz exported and imported again, then read in the item analysis,
the course gradebook and "view as a student" once a class has answered.

Each step is a test of its own, starting from the state the steps before it leave (made
here directly), so that one can be run alone.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
import yaml
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exercises import queue, variants
from exercises.definition import ExerciseDef
from exercises.management.commands.demo_accounts import instructors_group
from exercises.models import Exercise, Placement, ProblemSet, Submission
from tests.browser.conftest import field, screenshot, sign_up, type_code
from tests.conftest import make_exercise, make_problem_set
from tests.integration.conftest import (
    _publish_to_the_test_queue,  # noqa: F401 (the test process publishes to the worker's queue)
    wait_for,
)

pytestmark = pytest.mark.browser

MISTAKE = "Bring down the 2 as a factor."
SLUG = "tangent-slope"
TITLE = "The slope of a parabola"
RIGHT_CODE = "def double(x):\n    return x + x\n"
WRONG_CODE = "def double(x):\n    return x * x\n"

# The exercise as the instructor writes it in the admin's form (the first step), here
# for the steps after it.
DEFINITION = {
    "title": TITLE,
    "prompt": "Differentiate \\( f(x) = {{a}}x^2 \\), then write `double`.",
    "solution": "The power rule: \\( f'(x) = {{2*a}}x \\).",
    "parameters": {"a": {"int": [2, 9]}},
    "constraints": ["a != 5"],
    "plot": {
        "kind": "function",
        "title": "The parabola",
        "description": "The graph of f, with its tangent at 1.",
        "x": [-2, 2],
        "y": [0, 40],
        "f": "{{a}}x^2",
        "tangent_at": 1,
    },
}
PARTS = [
    {
        "key": "a",
        "kind": "expression",
        "expected": "{{2*a}}x",
        "variables": ["x"],
        "mistakes": [{"answer": "{{a}}x", "message": MISTAKE}],
        "tests": [
            {"answer": "{{2*a}}x", "expect": "correct"},
            {"answer": "{{a}}x", "expect": "incorrect", "message": MISTAKE},
        ],
    },
    {
        "key": "b",
        "kind": "code",
        "code": {
            "function": "double",
            "signature": "double(x)",
            "starter": "def double(x):\n    pass",
            "reference": {"source": "def double(x):\n    return 2 * x"},
            "tests": [
                {"args": [3], "name": "three"},
                {"args": ["{{a}}"], "visible": False, "weight": 2},
            ],
        },
        "tests": [{"answer": RIGHT_CODE, "expect": "correct"}],
    },
]


# ---------------------------------------------------------------- the state of each step


@pytest.fixture
def home_set(course) -> ProblemSet:
    return ProblemSet.objects.get(slug="quick-checks")


@pytest.fixture
def authored(home_set) -> Exercise:
    """The exercise as the first step leaves it: a draft in the instructor's set."""
    return make_exercise(
        problem_set=home_set,
        slug=SLUG,
        status=Exercise.Status.DRAFT,
        parts=PARTS,
        **DEFINITION,
    )


@pytest.fixture
def practice(home_set) -> ProblemSet:
    return make_problem_set(
        module=home_set.module, slug="practice-derivatives", title="Practice: derivatives"
    )


@pytest.fixture
def quiz(home_set) -> ProblemSet:
    """An untimed quiz with an exercise of its own, besides what is placed in it."""
    quiz = make_problem_set(module=home_set.module, slug="quiz-one", title="Quiz one", kind="quiz")
    make_exercise(problem_set=quiz, slug="quiz-power-rule", title="Quiz: power rule", order=1)
    return quiz


@pytest.fixture
def placed(authored, practice, quiz) -> Exercise:
    """The exercise as the third step leaves it: published, placed in both sets."""
    authored.status = Exercise.Status.PUBLISHED
    authored.save()
    Placement.objects.create(problem_set=practice, exercise=authored, order=1)
    Placement.objects.create(problem_set=quiz, exercise=authored, order=2)
    return authored


def sign_in_as_instructor(page) -> None:
    charlie = get_user_model().objects.create_user(
        "charlie", password="charlie-pass-phrase", is_staff=True
    )
    charlie.groups.add(instructors_group())
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("charlie")
    page.get_by_label("Password").fill("charlie-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_contain_text("charlie")


def values_in(exercise: Exercise, problem_set: ProblemSet, student) -> dict:
    """The student's variant's values where the exercise is shown in `problem_set`."""
    exercise = Exercise.objects.get(pk=exercise.pk).placed_in(problem_set)
    return exercise.variant_for(student).values


# ---------------------------------------------------------------- 1. written without JSON


def test_it_writes_the_exercise_in_the_admin_form_without_json(page, home_set):
    # The form of rows and inputs (exercises/authoring_widgets.py).
    pytest.importorskip("exercises.authoring_widgets")
    sign_in_as_instructor(page)
    page.goto("/admin/exercises/exercise/add/")
    # Not one JSON text box: each value has inputs of its own.
    expect(page.locator("textarea.vLargeTextField[name$='parameters']")).to_have_count(0)
    expect(field(page, "status")).to_have_value("draft")
    field(page, "problem_set").select_option(str(home_set.pk))
    field(page, "title").press_sequentially(TITLE)
    expect(field(page, "slug")).to_have_value("the-slope-of-a-parabola")
    field(page, "slug").fill(SLUG)
    field(page, "prompt").fill(DEFINITION["prompt"])
    page.get_by_text("Solution and attempts", exact=True).click()
    field(page, "solution").fill(DEFINITION["solution"])

    page.get_by_text("Randomised values", exact=True).click()
    field(page, "parameters-0-name").fill("a")
    field(page, "parameters-0-kind").select_option("int")
    field(page, "parameters-0-values").fill("2, 9")
    field(page, "constraints-0-comparison").fill("a != 5")

    page.get_by_text("Plot", exact=True).click()
    plot = DEFINITION["plot"]
    field(page, "plot-kind").select_option("function")
    field(page, "plot-title").fill(plot["title"])
    field(page, "plot-description").fill(plot["description"])
    field(page, "plot-f").fill(plot["f"])
    field(page, "plot-x").fill("-2, 2")
    field(page, "plot-y").fill("0, 40")
    field(page, "plot-tangent_at").fill("1")

    # Part a, in the empty part the page shows: the expression, its variable, the known
    # mistake, sample answers.
    first = page.locator("#parts-0")
    field(first, "parts-0-key").fill("a")
    field(first, "parts-0-order").fill("1")
    field(first, "parts-0-kind").select_option("expression")
    field(first, "parts-0-expected").fill("{{2*a}}x")
    first.get_by_text("Variables, tolerances and known mistakes").click()
    field(first, "parts-0-variables-0-name").fill("x")
    field(first, "parts-0-mistakes-0-answer").fill("{{a}}x")
    field(first, "parts-0-mistakes-0-message").fill(MISTAKE)
    # The known mistake as the engine reads it, while typing.
    expect(page.locator(".field-mistakes .authoring-reading").first).to_contain_text(MISTAKE)
    first.get_by_text("Sample answers (question tests)").click()
    field(first, "parts-0-tests-0-answer").fill("{{2*a}}x")
    field(first, "parts-0-tests-1-answer").fill("{{a}}x")
    field(first, "parts-0-tests-1-expect").select_option("incorrect")
    field(first, "parts-0-tests-1-message").fill(MISTAKE)

    # Part b: code, in the code editor, its tests as rows.
    page.get_by_text("Add another Part").click()
    second = page.locator("#parts-1")
    field(second, "parts-1-key").fill("b")
    expect(field(second, "parts-1-order")).to_have_value("2")
    field(second, "parts-1-kind").select_option("code")
    second.get_by_role("heading", name="Code", exact=True).click()
    field(second, "parts-1-code-function").fill("double")
    field(second, "parts-1-code-signature").fill("double(x)")
    type_code(page, "id_parts-1-code-starter", ["def double(x):", "pass"])
    type_code(page, "id_parts-1-code-reference__source", ["def double(x):", "return 2 * x"])
    field(second, "parts-1-code-tests-0-args").fill("3")
    field(second, "parts-1-code-tests-0-name").fill("three")
    field(second, "parts-1-code-tests-1-args").fill("{{a}}")
    field(second, "parts-1-code-tests-1-hidden").check()
    field(second, "parts-1-code-tests-1-weight").fill("2")
    second.get_by_text("Sample answers (question tests)").click()
    field(second, "parts-1-tests-0-answer").fill(RIGHT_CODE)
    screenshot(page, "journey-authoring-form")

    page.get_by_role("button", name="Save and continue editing").click()
    page.wait_for_load_state()
    errors = page.locator(".errornote, .errorlist li").evaluate_all(
        "els => els.map(e => (e.closest('.inline-related')?.id || '') + ' '"
        " + (e.closest('.form-row')?.className || '') + ': ' + e.innerText)"
    )
    assert not errors, "\n".join(errors)
    expect(page.locator(".messagelist .success")).to_be_visible()
    written = Exercise.objects.get(slug=SLUG)
    assert written.status == Exercise.Status.DRAFT
    # What the later steps start from, written in the form.
    model = make_exercise(
        problem_set=home_set, slug="as-the-steps-have-it", parts=PARTS, **DEFINITION
    )
    mine, theirs = (ExerciseDef.from_model(e).to_data() for e in (written, model))
    for data in (mine, theirs):
        data.pop("slug")
        data.pop("status", None)
        data.pop("order", None)
    assert mine == theirs
    assert page.js_errors == []


# ---------------------------------------------------------------- 2. previews and answers tried


def test_it_previews_several_seeds_and_grades_answers_tried(page, authored, browser_worker):
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{authored.pk}/change/")
    panel = page.locator("#authoring-preview")
    expect(panel).to_have_attribute("data-state", "ok")

    # Three seeds with different values: each shows its own, the plot, its expected answer.
    seeds: dict[int, int] = {}
    for seed in range(1, 100):
        a = authored.values_for_seed(seed)["a"]
        if a not in seeds.values():
            seeds[seed] = a
        if len(seeds) == 3:
            break
    for seed, a in seeds.items():
        page.locator("#authoring-seed").fill(str(seed))
        page.get_by_role("button", name="Show this seed").click()
        variant = panel.locator(".authoring-variant")
        expect(variant).to_have_attribute("data-seed", str(seed))
        expect(panel.locator(".authoring-values")).to_have_text(f"Values: a = {a}")
        expect(panel.locator("code.expected")).to_have_text(
            variants.render_expression("{{2*a}}x", {"a": a})
        )
        expect(panel.locator(".prompt .katex").first).to_be_visible()
        expect(panel.locator("figure.plot-figure svg")).to_be_visible()
        screenshot(page, f"journey-preview-seed-{seed}")

    # Answers tried against the last seed's variant: right, wrong, the known mistake.
    answer, verdict = panel.locator("#try-a"), panel.locator("#try-verdict-a")
    try_them = panel.get_by_role("button", name="Try these answers")
    answer.fill(f"x*{2 * a}")
    try_them.click()
    expect(verdict).to_have_attribute("data-state", "correct")
    expect(verdict).to_contain_text("Correct")
    answer.fill(f"{2 * a + 1}x")
    try_them.click()
    expect(verdict).to_have_attribute("data-state", "incorrect")
    expect(verdict).not_to_contain_text(MISTAKE)
    answer.fill(f"{a}x")
    try_them.click()
    expect(verdict).to_have_attribute("data-state", "incorrect")
    expect(verdict).to_contain_text(MISTAKE)

    # Code tried, run in the sandbox of the worker: a wrong function, then a right one.
    answer.fill("")
    code, code_verdict = panel.locator("#try-b"), panel.locator("#try-verdict-b")
    code.fill(WRONG_CODE)
    try_them.click()
    expect(code_verdict).to_have_attribute("data-state", "incorrect")
    expect(code_verdict.locator(".authoring-tests .failed").first).to_contain_text(
        "three: expected 6"
    )
    code.fill(RIGHT_CODE)
    try_them.click()
    expect(code_verdict).to_have_attribute("data-state", "correct")
    expect(code_verdict).to_contain_text("Hidden tests: 1 of 1 passed")
    screenshot(page, "journey-preview-tried")

    # The staff preview of the saved exercise grades a code answer in the sandbox too.
    page.goto(f"/admin/exercises/exercise/{authored.pk}/preview/?seed={seed}")
    page.locator("#answer-a").fill(f"{a}x")
    page.locator(".code-editor .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("def double(x):")
    page.keyboard.press("Enter")
    page.keyboard.type("return x * x")  # the editor indents after the colon
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#verdict-a")).to_contain_text(MISTAKE)
    expect(page.locator("#verdict-b")).to_contain_text("three")
    expect(page.locator("#verdict-b")).to_contain_text("Hidden tests: 0 of 1 passed")

    # Nothing was saved or submitted: still the draft written.
    authored.refresh_from_db()
    assert (authored.status, authored.version) == (Exercise.Status.DRAFT, 1)
    assert not Submission.objects.filter(exercise=authored).exists()
    assert page.js_errors == []


# ---------------------------------------------------------------- 3. published and placed


def place(page, problem_set: ProblemSet, order: int) -> None:
    """On the set's admin page: the exercise placed from the question bank."""
    page.goto(f"/admin/exercises/problemset/{problem_set.pk}/change/")
    inline = page.locator("#placements-group")
    expect(inline).to_contain_text("Exercises placed from the question bank")
    inline.locator(".add-row a").click()
    row = inline.locator("tr.form-row.dynamic-placements").last
    row.locator(".select2-selection").click()
    page.locator(".select2-search__field").fill("parabola")
    page.locator(".select2-results__option", has_text=TITLE).click()
    row.locator("input[name$='-order']").fill(str(order))
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(inline.locator("tr.has_original")).to_contain_text(TITLE)


def answer_part_a(page, answer: str) -> None:
    page.locator("#answer-a").fill(answer)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"#latest-attempt$"))


def test_it_publishes_the_exercise_and_places_it_in_a_practice_set_and_a_quiz(
    page, browser, server_url, authored, practice, quiz, browser_worker
):
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{authored.pk}/change/")
    expect(page.locator("[name=status]")).to_have_value("draft")
    page.locator("[name=status]").select_option("published")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    authored.refresh_from_db()
    assert authored.status == Exercise.Status.PUBLISHED

    place(page, practice, order=1)
    place(page, quiz, order=2)
    assert sorted(
        Placement.objects.filter(exercise=authored).values_list("problem_set__slug", "order")
    ) == [(practice.slug, 1), (quiz.slug, 2)]
    page.goto(f"/admin/exercises/exercise/{authored.pk}/change/")
    expect(page.locator(".field-placed_in")).to_contain_text(practice.title)
    expect(page.locator(".field-placed_in")).to_contain_text(quiz.title)
    assert page.js_errors == []

    # A student sees it in both sets, each with its own attempts and variant.
    context = browser.new_context(base_url=server_url)
    student_page = context.new_page()
    try:
        username = sign_up(student_page)
        student = get_user_model().objects.get(username=username)
        student_page.goto(f"/sets/{practice.slug}/")
        student_page.get_by_role("link", name=TITLE).click()
        student_page.wait_for_url(re.compile(rf"/sets/{practice.slug}/exercises/{SLUG}/$"))
        expect(student_page.locator("figure.plot-figure svg")).to_be_visible()
        a = values_in(authored, practice, student)["a"]
        answer_part_a(student_page, f"{a}x")
        latest = student_page.locator("#latest-attempt")
        verdict = student_page.locator("#verdict-a")
        expect(latest).to_contain_text("Attempt 1: Graded: score 0%")
        expect(verdict).to_contain_text(MISTAKE)
        answer_part_a(student_page, f"{2 * a}x")
        # Part a right, the code part not answered: half the exercise.
        expect(latest).to_contain_text("Attempt 2: Graded: score 50%")
        expect(verdict).not_to_contain_text(MISTAKE)

        student_page.goto(f"/sets/{quiz.slug}/")
        student_page.get_by_role("link", name=TITLE).click()
        student_page.wait_for_url(re.compile(rf"/sets/{quiz.slug}/exercises/{SLUG}/$"))
        expect(student_page.locator("#latest-attempt")).to_be_empty()
        expect(student_page.locator(".attempts")).to_contain_text("1 of 1 attempt left")
        expect(student_page.locator("#answer-a")).to_have_value("")
        a = values_in(authored, quiz, student)["a"]
        answer_part_a(student_page, f"{2 * a}x")
        expect(student_page.locator("#latest-attempt")).to_contain_text("Submitted")
        expect(student_page.get_by_role("button", name="Submit")).to_be_disabled()
        screenshot(student_page, "journey-quiz-answered")
    finally:
        context.close()

    work = Submission.objects.filter(student=student, exercise=authored).order_by("pk")
    assert [(s.problem_set.slug, s.attempt) for s in work] == [
        (practice.slug, 1),
        (practice.slug, 2),
        (quiz.slug, 1),
    ]
    assert [s.variant.problem_set_id for s in work] == [practice.pk, practice.pk, quiz.pk]


# ---------------------------------------------------------------- 4. exported and imported again


def test_it_exports_the_quiz_as_yaml_and_imports_it_again_unchanged(page, placed, quiz):
    own = quiz.exercises.get()
    before = {
        e.slug: (e.version, e.status, ExerciseDef.from_model(e).to_data()) for e in (own, placed)
    }
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/problemset/{quiz.pk}/change/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export as YAML").click()
    assert download.value.suggested_filename == f"{quiz.slug}.yaml"
    exported = download.value.path().read_bytes()
    data = yaml.safe_load(exported)
    assert (data["slug"], data["kind"]) == (quiz.slug, "quiz")
    assert [e["slug"] for e in data["exercises"]] == [own.slug]
    assert data["place"] == [SLUG]

    page.goto("/admin/exercises/problemset/")
    page.get_by_role("link", name="Import YAML").click()
    page.get_by_label("Problem set file (YAML)").set_input_files(
        {"name": f"{quiz.slug}.yaml", "mimeType": "text/yaml", "buffer": exported}
    )
    page.get_by_role("button", name="Check the file").click()
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text(
        f"Problem set '{quiz.slug}' is updated: its own fields stay the same."
    )
    rows = summary.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(own.slug)
    expect(rows.first.locator("td").last).to_have_text("unchanged")
    expect(page.locator("#import-problems")).to_have_count(0)
    screenshot(page, "journey-import-confirmation")
    page.get_by_role("button", name="Confirm: save this problem set").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Imported problem set")

    after = {
        e.slug: (e.version, e.status, ExerciseDef.from_model(e).to_data())
        for e in Exercise.objects.filter(slug__in=before)
    }
    assert after == before
    assert list(quiz.placements.values_list("exercise__slug", "order")) == [(SLUG, 2)]
    # The file it exports now is the one imported.
    again = page.request.get(f"/admin/exercises/problemset/{quiz.pk}/export.yaml")
    assert again.ok
    assert again.body() == exported
    assert page.js_errors == []


# ---------------------------------------------------------------- 5. a class answers; the results read


def submit_and_wait(work: list[tuple]) -> None:
    """Each (student, exercise, answer of part a) submitted as the student pages do, and
    graded by the worker."""
    ids = [queue.submit(student, exercise, {"a": answer}).pk for student, exercise, answer in work]

    def graded() -> bool:
        statuses = set(Submission.objects.filter(pk__in=ids).values_list("status", flat=True))
        assert Submission.Status.FAILED not in statuses
        return statuses == {Submission.Status.GRADED}

    wait_for(graded, f"the worker to grade {len(ids)} submissions")


@pytest.fixture
def answered(placed, practice, browser_worker) -> dict:
    """Ten students, the practice set's class: by their variant's value of a (so that the
    known mistake is made in more than one variant), two make the known mistake and then
    answer right, two make it only, three are right at once, one answers nothing, one
    makes a sign error, one is off by x and then right; and they answer another exercise
    of the set."""
    User = get_user_model()
    students = []
    for n in range(10):
        user = User.objects.create_user(f"class-{n}", password="x", first_name=f"Student {n}")
        students.append((values_in(placed, practice, user)["a"], user.username, user))
    students.sort(key=lambda s: s[:2])
    a = [s[0] for s in students]
    user = [s[2] for s in students]
    assert a[0] != a[9], "every student of the class drew the same variant"
    shown = Exercise.objects.get(pk=placed.pk).placed_in(practice)
    submit_and_wait(
        [(user[i], shown, f"{a[i]}x") for i in (0, 9, 1, 8)]
        + [(user[i], shown, f"{2 * a[i]}x") for i in (2, 3, 4)]
        + [(user[6], shown, f"-{2 * a[6]}x"), (user[7], shown, f"{2 * a[7] + 1}x")]
    )
    submit_and_wait([(user[i], shown, f"{2 * a[i]}x") for i in (0, 9, 7)])
    # The rest of the set, which discrimination compares with: an exercise of its own.
    other = make_exercise(problem_set=practice, slug="practice-power-rule", order=2)
    submit_and_wait(
        [(user[i], other, "2x") for i in (0, 2, 3, 4)]
        + [(user[i], other, "3x") for i in (1, 6, 7, 8, 9)]
    )
    return {
        "a": a,
        "mistake only": user[1],
        "right at once": user[2],
        "not attempted": user[5],
        "mistaken variants": sorted({a[0], a[9], a[1], a[8]}),
    }


def test_it_reads_the_item_analysis_after_a_class_has_answered(page, answered, practice):
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/problemset/{practice.pk}/change/")
    page.get_by_role("link", name="Item analysis").click()
    expect(page.locator("h1")).to_contain_text("Item analysis")

    # Part a's facility: 9 students answered; 3 right at once, 6 in the end.
    row = page.locator(f'#item-analysis tr.part-row[data-exercise="{SLUG}"][data-part="a"]')
    cells = row.locator("td")
    expect(cells.nth(2)).to_have_text("9")
    expect(cells.nth(3)).to_have_text("33%")
    expect(cells.nth(4)).to_have_text("67%")
    expect(cells.nth(5)).to_have_text(re.compile(r"^-?[01]\.\d\d( \(low\))?$"))
    # 3 right at the first attempt, 3 at the second.
    expect(cells.nth(7)).to_have_text("1: 3, 2: 3")
    screenshot(page, "journey-item-analysis-set")

    page.get_by_role("link", name=TITLE).click()
    wrong = page.locator('section.wrong-by-part[data-part="a"]')
    expect(wrong.locator("h2")).to_have_text("Part a: 6 wrong answer(s)")
    # The known mistake named as the cause, counted once across its variants.
    mistake = wrong.locator('table.causes tr[data-kind="mistake"]')
    expect(mistake).to_have_count(1)
    expect(mistake.locator("th")).to_contain_text(f"known mistake 1: {{{{a}}}}x ({MISTAKE})")
    expect(mistake.locator("td").first).to_have_text("4")
    for a in answered["mistaken variants"]:
        expect(mistake.locator("td").last).to_contain_text(f"{a}x")
    expect(wrong.locator('table.causes tr[data-kind="sign"] td').first).to_have_text("1")
    # Results per value of a: one row for each value drawn by a student who answered
    # (the one who answered nothing is in none).
    answering = [a for i, a in enumerate(answered["a"]) if i != 5]
    for a in set(answering):
        expect(page.locator(f'#parameters tr[data-parameter="a"][data-value="{a}"]')).to_have_count(
            1
        )
    screenshot(page, "journey-item-analysis-exercise")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    causes = [r for r in rows if r[:2] == ["cause", "a"]]
    assert [r[3] for r in causes if MISTAKE in r[2]] == ["4"]
    figures = [r for r in rows if r[:2] == ["figures", "a"]]
    assert [r[3] for r in figures] == ["9"]
    assert page.js_errors == []


def gradebook_cell(page, username: str, column: str):
    """The course gradebook's cell of a student in the column of a problem set."""
    # The text as written, not as shown: the admin's headings are in capitals.
    headings = page.locator("#course-gradebook thead tr").nth(1).locator("th").all_text_contents()
    titles = [t.rsplit(" /", 1)[0].strip() for t in headings]
    assert column in titles, f"no column {column!r} in {titles}"
    index = titles.index(column)
    row = page.locator("#course-gradebook tbody tr", has=page.locator("th", has_text=username))
    return row.locator("td").nth(index)


def test_it_shows_the_class_in_the_gradebook_and_a_student_as_they_see_it(
    page, answered, practice, placed
):
    sign_in_as_instructor(page)
    page.goto("/admin/gradebook/")
    column = practice.title
    nothing = gradebook_cell(page, answered["not attempted"].username, column)
    expect(nothing).to_have_class(re.compile(r"\bnot-attempted\b"))
    expect(nothing).to_have_text("—not attempted")
    zero = gradebook_cell(page, answered["mistake only"].username, column)
    expect(zero).not_to_have_class(re.compile(r"\bnot-attempted\b"))
    expect(zero).to_have_text("0")
    # Part a right, the code part not answered: half the exercise; and the other one.
    expect(gradebook_cell(page, answered["right at once"].username, column)).to_have_text("1.5")
    screenshot(page, "journey-gradebook")

    student = answered["mistake only"]
    a = values_in(placed, practice, student)["a"]
    page.locator(
        "#course-gradebook tbody tr", has=page.locator("th", has_text=student.username)
    ).get_by_role("link", name=re.compile("view as")).click()
    page.get_by_role("button", name="View the course as this student").click()
    banner = page.get_by_role("complementary", name="Viewing as a student")
    expect(banner).to_contain_text(f"({student.username}) — read-only")
    page.goto(f"/sets/{practice.slug}/exercises/{SLUG}/")
    answer = page.locator("#answer-a")
    expect(answer).to_have_value(f"{a}x")
    expect(answer).to_be_disabled()
    expect(page.locator("#verdict-a")).to_contain_text(MISTAKE)
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    screenshot(page, "journey-view-as")
    # Nothing was submitted for them.
    assert Submission.objects.filter(student=student, exercise=placed).count() == 1
    assert page.js_errors == []
