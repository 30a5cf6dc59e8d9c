"""The exercise admin without JSON: rows and inputs post the same fields as JSON, each
problem is shown beside its row and on its own part, new exercises start as drafts,
and "save as new" copies an exercise."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.http import QueryDict

from exercises import authoring_widgets as w
from exercises.definition import ExerciseDef
from exercises.models import Exercise, Part
from tests.conftest import make_code_exercise, make_exercise, make_problem_set

pytestmark = pytest.mark.django_db

RANDOMISED_PART = {
    "key": "a",
    "kind": "expression",
    "expected": "{{2*a}}x",
    "variables": ["x"],
    "domain": {"x": [-2, 2]},
    "mistakes": [{"answer": "{{a}}x^2", "message": "Differentiate, do not integrate."}],
    "tests": [
        {"answer": "{{2*a}}x", "expect": "correct"},
        {"answer": "{{a}}x", "expect": "incorrect"},
    ],
}


class FormReader(HTMLParser):
    """What a browser without JavaScript posts for a form: each named input, select and
    text area with its value (checked boxes only, the selected option)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._in_template = 0
        self.buttons: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self._in_template += 1
        if self._in_template or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.data[name] = a.get("value", "")
            elif kind == "submit":
                self.buttons.append(name)
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.data.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and not self._in_template:
            # A text area's first newline is not part of its value.
            text = self.data[self._textarea] + data
            self.data[self._textarea] = text

    @classmethod
    def read(cls, html: str) -> dict[str, str]:
        reader = cls()
        reader.feed(html)
        data = {k: (v[1:] if v.startswith("\n") else v) for k, v in reader.data.items()}
        return data


def change_url(exercise: Exercise) -> str:
    return f"/admin/exercises/exercise/{exercise.pk}/change/"


def posted_form(client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    form = FormReader.read(response.content.decode())
    form.pop("csrfmiddlewaretoken", None)
    form.pop("action", None)
    form.pop("reason", None)
    return form


def stored(exercise: Exercise) -> dict:
    """The definition, with the Markdown texts as the admin keeps them (Django's text
    fields strip surrounding spaces)."""
    exercise.refresh_from_db()
    data = ExerciseDef.from_model(exercise).to_data()
    for texts in [data, *data["parts"]]:
        for name in ("prompt", "solution", "label", "hint", "expected"):
            if isinstance(texts.get(name), str):
                texts[name] = texts[name].strip()
    return data


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "widget, value",
    [
        (
            w.ParametersWidget(),
            {
                "a": {"int": [2, 9]},
                "b": {"int": [-6, 6], "step": 2, "exclude": [0]},
                "c": {"choice": [1, 2, 5]},
                "h": {"decimal": [0.1, 0.5], "step": 0.1},
                "s": {"choice": ["sin", "cos", "a, b"]},
            },
        ),
        (w.ConstraintsWidget(), ["a != b", "1 <= a/b <= 3"]),
        (w.FunctionsWidget(), ["sigma(z) = 1/(1+e^(-z))", "f"]),
        (w.OptionsWidget(), [{"key": "a", "text": "It is 2"}, {"key": "b", "text": "3, or 4"}]),
        (w.MistakesWidget(), [{"answer": "{{a}}x^2", "message": "Integrated."}]),
        (
            w.SampleAnswersWidget(),
            [
                {"answer": "def f(x):\n    return 2*x\n", "expect": "correct"},
                {"answer": "2x +", "expect": "invalid", "message": "cannot be read"},
            ],
        ),
        (
            w.RoutineWidget(),
            {"routine": "newton_raphson_steps", "args": {"f": "x^3 - {{a}}x - 5", "x0": 2}},
        ),
        (
            w.PlotWidget(),
            {
                "kind": "function",
                "title": "The square root",
                "description": "The graph of sqrt(x) from 0 to 9.",
                "f": "sqrt(x)",
                "x": [0, 9],
                "y": [0, "{{a}}"],
                "tangent_at": 4,
                "newton": {"x0": 1.5, "steps": 3},
                "points": [{"x": 4, "label": "P"}, {"x": 1, "y": 1}],
            },
        ),
        (
            w.PlotWidget(),
            {
                "kind": "fit",
                "title": "Fit",
                "description": "Points and a curve.",
                "x": [0, 4],
                "y": [0, 10],
                "data": {"x": [0, 1, 2], "y": [1, 2.5, 5]},
                "model": {"f": "a e^(b x)", "start": {"a": 1, "b": 0.5}},
            },
        ),
        (
            w.PlotWidget(),
            {
                "kind": "contour",
                "title": "Descent",
                "description": "Level curves.",
                "x": [-2, 2],
                "y": [-2, 2],
                "f": "x^2 + 3y^2",
                "levels": [1, 2, 4],
                "start": [1.5, 1],
                "path": {"method": "newton_raphson", "steps": 3},
            },
        ),
        (
            w.CodeWidget(),
            {
                "function": "derivative",
                "signature": "derivative(f, x, h)",
                "starter": "def derivative(f, x, h):\n    pass\n",
                "reference": {"source": "def derivative(f, x, h):\n    return 0\n"},
                "time_limit": 3,
                "tests": [
                    {"args": [{"fn": "x^2", "of": ["x"]}, 1, 0.001], "name": "square"},
                    {"args": [[1, 2]], "kwargs": {"tol": 0.1}, "visible": False, "weight": 2},
                    {"args": [], "compare": {"rtol": 0.01}},
                ],
            },
        ),
    ],
)
def test_it_rounds_a_value_trip_through_its_inputs(widget, value):
    html = str(widget.render("field", json.dumps(value)))
    posted = FormReader.read(html)
    assert "field" not in posted  # the inputs, not JSON
    assert json.loads(widget.value_from_datadict(posted, {}, "field")) == value


def test_it_reads_cells_as_yaml_does():
    assert w.read_items("2, 9") == [2, 9]
    assert w.read_items("['x', \"y\"]") == ["x", "y"]
    assert w.read_value("0.0005") == 0.0005
    assert w.read_value("{fn: 'x^2', of: [x]}") == {"fn": "x^2", "of": ["x"]}
    assert w.read_value("2x + 1") == "2x + 1"
    assert w.read_mapping("a: 1, b: 0.5") == {"a": 1, "b": 0.5}


@pytest.mark.parametrize(
    "widget, odd",
    [
        (w.ParametersWidget(), {"a": {"int": [1, 3], "colour": "red"}}),
        # A select could not show it, and would post another value.
        (w.SampleAnswersWidget(), [{"answer": "2x", "expect": "right"}]),
        (w.PlotWidget(), {"kind": "pie", "title": "t"}),
        (w.RoutineWidget(), {"routine": "no_such_routine", "args": {}}),
    ],
)
def test_it_offers_json_for_a_value_the_inputs_cannot_show(widget, odd):
    html = str(widget.render("field", json.dumps(odd)))
    posted = FormReader.read(html)
    assert json.loads(posted["field"]) == odd


def test_the_whole_course_survives_a_save_without_javascript(client, charlie):
    from exercises.management.commands.load_course import load_course

    load_course(Path(settings.BASE_DIR) / "course", seeds=1)
    client.force_login(charlie)
    exercises = list(Exercise.objects.all())
    assert len(exercises) > 5
    for exercise in exercises:
        before = stored(exercise)
        form = posted_form(client, change_url(exercise))
        # Rows and inputs, never JSON, for the JSON fields shown as such.
        assert "parameters" not in form and "parts-0-mistakes" not in form
        response = client.post(change_url(exercise), {**form, "_continue": "Save"})
        assert response.status_code == 302, (exercise.slug, _errors(response))
        assert stored(exercise) == before, exercise.slug
        # Saved again (the texts now stripped as the admin keeps them): nothing changed,
        # so no new version either.
        version = exercise.version
        form = posted_form(client, change_url(exercise))
        client.post(change_url(exercise), {**form, "_continue": "Save"})
        exercise.refresh_from_db()
        assert exercise.version == version, exercise.slug


def _errors(response) -> list:
    context = response.context
    if context is None:
        return []
    out = [context["adminform"].form.errors]
    for inline in context["inline_admin_formsets"]:
        out.append(inline.formset.errors)
        out.append(inline.formset.non_form_errors())
    return out


# ---------------------------------------------------------------- messages beside rows


def row_error_after(html: str, input_name: str) -> str:
    """The text of the message row that follows the row holding this input ("" if the
    next row is another row of inputs)."""
    start = html.index(f'name="{input_name}"')
    row_end = html.index("</tr>", start)
    following = html[row_end + len("</tr>") :]
    if not following.lstrip().startswith('<tr class="authoring-row-error">'):
        return ""
    return following[: following.index("</tr>")]


def randomised(**kwargs) -> Exercise:
    kwargs.setdefault("parameters", {"a": {"int": [2, 9]}})
    kwargs.setdefault("prompt", "Differentiate \\( {{a}}x^2 \\).")
    kwargs.setdefault("status", Exercise.Status.DRAFT)
    return make_exercise(parts=[dict(RANDOMISED_PART)], **kwargs)


def test_it_says_beside_a_known_mistake_what_is_wrong_with_it(client, charlie):
    exercise = randomised()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    # The first blank row of known mistakes, with no message for the student.
    form["parts-0-mistakes-1-answer"] = "{{a}}"
    response = client.post(change_url(exercise), form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "must say what the student did wrong" in row_error_after(
        html, "parts-0-mistakes-1-answer"
    )
    assert row_error_after(html, "parts-0-mistakes-0-answer") == ""
    assert 'name="parts-0-mistakes-1-message" id="id_parts-0-mistakes-1-message"' in html
    assert html.count('aria-invalid="true"') == 2  # the bad row's two cells
    exercise.refresh_from_db()
    assert len(exercise.parts.get().mistakes) == 1


def test_it_says_beside_a_parameter_what_is_wrong_with_it(client, charlie):
    exercise = randomised()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    form.update({"parameters-1-name": "b", "parameters-1-values": "9, 2"})
    response = client.post(change_url(exercise), form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "parameter b: needs low &lt;= high" in row_error_after(html, "parameters-1-name")
    assert row_error_after(html, "parameters-0-name") == ""
    # What was typed is shown again, to be corrected.
    assert FormReader.read(html)["parameters-1-values"] == "9, 2"
    exercise.refresh_from_db()
    assert exercise.parameters == {"a": {"int": [2, 9]}}


def test_it_says_beside_a_code_test_what_is_wrong_with_it(client, charlie):
    exercise = make_code_exercise(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    form["parts-0-code-tests-1-weight"] = "-1"
    response = client.post(change_url(exercise), form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "must be a number &gt; 0" in row_error_after(html, "parts-0-code-tests-1-args")
    assert row_error_after(html, "parts-0-code-tests-0-args") == ""
    assert exercise.parts.get().code["tests"][1].get("weight", 1) == 1


def test_one_bad_part_leaves_the_others_unmarked(client, charlie):
    second = {**RANDOMISED_PART, "key": "b", "expected": "{{a}}", "mistakes": [], "tests": []}
    exercise = make_exercise(
        parts=[dict(RANDOMISED_PART), second],
        parameters={"a": {"int": [2, 9]}},
        status=Exercise.Status.DRAFT,
    )
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    # Part b's domain the wrong way round.
    form.update({"parts-1-variables-0-low": "5", "parts-1-variables-0-high": "1"})
    response = client.post(change_url(exercise), form)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors == {}
    assert list(formset.forms[1].errors) == ["variables"]
    assert not formset.non_form_errors()
    assert "x: give [low, high] with low &lt; high" in row_error_after(
        response.content.decode(), "parts-1-variables-0-name"
    )


def test_an_expected_answer_that_cannot_be_graded_is_reported_on_its_part(client, charlie):
    second = {**RANDOMISED_PART, "key": "b", "mistakes": [], "tests": []}
    exercise = make_exercise(
        parts=[dict(RANDOMISED_PART), second],
        parameters={"a": {"int": [2, 9]}},
        status=Exercise.Status.DRAFT,
    )
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    form["parts-1-expected"] = "{{2*a}}x +"
    response = client.post(change_url(exercise), form)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors == {}
    assert "part b" in str(formset.forms[1].non_field_errors())
    assert not formset.non_form_errors()
    assert exercise.parts.get(key="b").expected == "{{2*a}}x"


def test_json_posted_under_the_fields_name_still_wins(client, charlie):
    exercise = randomised()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    form["parameters"] = json.dumps({"a": {"int": [3, 4]}})
    response = client.post(change_url(exercise), form)
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.parameters == {"a": {"int": [3, 4]}}


# ---------------------------------------------------------------- drafts, save as new


def test_a_new_exercise_starts_as_a_draft(client, charlie):
    problem_set = make_problem_set()
    client.force_login(charlie)
    form = posted_form(client, "/admin/exercises/exercise/add/")
    assert form["status"] == "draft"
    # Its first part is offered, for a browser without JavaScript to fill in.
    assert form["parts-TOTAL_FORMS"] == "1" and "parts-0-mistakes-0-answer" in form
    form.update(
        {
            "problem_set": str(problem_set.pk),
            "slug": "new-one",
            "title": "New",
            "prompt": "Differentiate \\( x^3 \\).",
            "parts-0-key": "a",
            "parts-0-kind": "expression",
            "parts-0-order": "1",
            "parts-0-weight": "1",
            "parts-0-expected": "3x^2",
            "parts-0-variables-0-name": "x",
        }
    )
    response = client.post("/admin/exercises/exercise/add/", form)
    assert response.status_code == 302, _errors(response)
    created = Exercise.objects.get(slug="new-one")
    assert created.status == Exercise.Status.DRAFT
    assert created.parts.get().variables == ["x"]


def test_a_part_added_and_left_untouched_is_not_saved(client, charlie):
    """The page fills in the order of each part added: that alone is no part."""
    exercise = make_exercise()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    extra = int(form["parts-TOTAL_FORMS"])
    html = client.get(change_url(exercise)).content.decode()
    # "Add another Part" copies the empty form, its hidden initial values included.
    for name, value in re.findall(
        r'name="((?:initial-)?parts-__prefix__-[^"]*)"[^>]*?value="([^"]*)"', html
    ):
        if "__row__" not in name:
            form[name.replace("__prefix__", str(extra))] = unescape(value)
    form[f"parts-{extra}-kind"] = "expression"  # the select's first choice
    form[f"parts-{extra}-scoring"] = "all-or-nothing"
    form[f"parts-{extra}-order"] = "2"
    form["parts-TOTAL_FORMS"] = str(extra + 1)

    response = client.post(change_url(exercise), form)

    assert response.status_code == 302, _errors(response)
    assert exercise.parts.count() == 1


def test_a_course_file_without_a_status_still_publishes():
    data = {
        "slug": "s",
        "title": "T",
        "prompt": "P",
        "parts": [{"kind": "numeric", "expected": "1"}],
    }
    assert ExerciseDef.model_validate(data).status == "published"


def test_save_as_new_copies_the_exercise_and_its_parts_as_a_draft(client, charlie):
    exercise = randomised(status=Exercise.Status.DRAFT)
    Exercise.objects.filter(pk=exercise.pk).update(status=Exercise.Status.PUBLISHED)
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    assert form["status"] == "published"
    response = client.post(change_url(exercise), {**form, "_saveasnew": "Save as new"})

    assert response.status_code == 302, _errors(response)
    copy = Exercise.objects.exclude(pk=exercise.pk).get()
    assert copy.slug == f"{exercise.slug}-copy"
    assert copy.status == Exercise.Status.DRAFT
    exercise.refresh_from_db()
    assert exercise.status == Exercise.Status.PUBLISHED
    original, copied = stored(exercise), stored(copy)
    assert copied["parts"] == original["parts"]
    assert copied["parameters"] == original["parameters"]
    assert set(Part.objects.values_list("exercise_id", flat=True)) == {exercise.pk, copy.pk}

    # Saved as new again, from the copy: another slug.
    form = posted_form(client, change_url(copy))
    response = client.post(change_url(copy), {**form, "_saveasnew": "Save as new"})
    assert response.status_code == 302
    assert Exercise.objects.filter(slug=f"{exercise.slug}-copy-2").exists()


def test_the_post_reads_as_json_for_code_that_reads_it_directly(client, charlie):
    exercise = randomised()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    form.update({"parameters-1-name": "b", "parameters-1-kind": "choice"})
    form["parameters-1-values"] = "1, 'two', 3"
    data = w.json_post(QueryDict(urlencode(form)))
    assert json.loads(data["parameters"]) == {
        "a": {"int": [2, 9]},
        "b": {"choice": [1, "two", 3]},
    }
    assert json.loads(data["parts-0-mistakes"]) == RANDOMISED_PART["mistakes"]
    assert json.loads(data["parts-0-domain"]) == {"x": [-2, 2]}
    assert json.loads(data["parts-0-variables"]) == ["x"]
    assert json.loads(data["plot"]) == {}


@pytest.mark.parametrize("garbage", ["[", "{a: [1,", "1e999", "'", "&x: *y", "-", "[1, [2, [3]]]"])
def test_garbage_in_every_input_gets_messages_not_an_error_page(client, charlie, garbage):
    exercise = make_code_exercise(with_maths=True, status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    structured = ("parameters-", "constraints-", "plot-", "-variables-", "-mistakes-")
    structured += ("-tests-", "-code-", "-options-", "-functions-", "-expected_routine-")
    filled = {k: garbage for k in form if any(s in k for s in structured)}
    response = client.post(change_url(exercise), {**form, **filled})
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.version == 1


# ---------------------------------------------------------------- checks as one types


def test_it_checks_the_form_as_it_stands_without_saving(client, charlie):
    exercise = randomised()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    form.update({"parts-0-mistakes-1-answer": "{{a}}", "parameters-0-values": "9, 2"})
    response = client.post(change_url(exercise), {**form, "_authoring_check": "1"})

    assert response.status_code == 200
    fields = response.json()["fields"]
    assert fields["parts-0-mistakes"]["anchors"] == {
        "1": ["message: must say what the student did wrong"]
    }
    assert fields["parameters"]["anchors"] == {
        "0": ["parameter a: needs low <= high and a positive step"]
    }
    exercise.refresh_from_db()
    assert exercise.parameters == {"a": {"int": [2, 9]}} and exercise.version == 1


def test_a_form_without_problems_checks_clean(client, charlie):
    exercise = randomised()
    client.force_login(charlie)
    form = posted_form(client, change_url(exercise))
    response = client.post(change_url(exercise), {**form, "_authoring_check": "1"})
    assert response.json() == {"fields": {}, "problems": []}


def test_checking_is_for_those_who_may_change_exercises(client, alice, charlie):
    exercise = randomised()
    url = change_url(exercise)
    response = client.post(url, {"_authoring_check": "1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    response = client.post(url, {"_authoring_check": "1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(charlie)
    response = client.post("/admin/exercises/exercise/nope/change/", {"_authoring_check": "1"})
    assert response.status_code == 404
    response = client.post("/admin/exercises/exercise/999999/change/", {"_authoring_check": "1"})
    assert response.status_code == 404
