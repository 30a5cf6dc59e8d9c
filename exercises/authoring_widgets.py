"""The exercise admin's inputs for the definition's structured fields, without JSON.

Each JSON field of an exercise or a part (parameters, constraints, variables and their
domain, functions, options, known mistakes, sample answers, the plot, a routine call,
a code part) is edited as rows of small inputs, or as a few named inputs, and the form
still receives the field's value as JSON text under the field's own name, so the model
fields and the definition's checks (`exercises.definition`) are unchanged.

What is posted, for a field named `parameters` (in a part, `parts-0-mistakes` etc.):

- rows: `parameters-<row>-<column>`, one input per cell; a row whose cells are all
  empty is left out, so the form works without JavaScript with the blank rows it
  renders; `authoring-rows.js` adds and removes rows;
- named inputs: `plot-<input>` (`plot-kind`, `plot-x`, `plot-newton__x0`...), and for a
  code part `code-<input>` and its tests as rows `code-tests-<row>-<column>`;
- `parameters` itself, JSON text, if posted, wins over the inputs: scripts and tests
  that post JSON keep working, and a value the inputs cannot show is edited as JSON.

Cells read numbers as numbers and lists or mappings in YAML's flow style, as the course
files do (`[1, 2]`, `{fn: x^2, of: [x]}`): single or double quotes, or none.

`json_post(request.POST)` gives the post with each of these fields as JSON text under
its own name, for code that reads the post without the admin's forms.

The definition's error paths (`mistakes[1].message`, `code.tests[0].args`, a message
naming a parameter) are mapped back by `locate` to the row or input they concern, where
the widget shows the message beside it; `messages_of(form)` gives them as JSON for the
checks made while the author types (`ExerciseAdmin.check_view`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml
from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from exercises.routines import ROUTINES

BLANK_ROWS = 2
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")


# ---------------------------------------------------------------- cells


def read_value(text: str):
    """A cell as a value: empty → None, a number, a YAML flow list or mapping, or text."""
    text = (text or "").strip()
    if not text:
        return None
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and not re.search(r"[.eE]", text) else number
    if text[0] in "[{":
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            return text
        return value if _json_safe(value) else text
    if text in ("true", "false"):
        return text == "true"
    return text


def read_items(text: str) -> list | None:
    """A comma-separated list (`2, 9`, `[2, 9]`, `1, 'a, b', x`) as a list, else None."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.startswith("["):
        text = f"[{text}]"
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return [read_value(item) for item in text.strip("[]").split(",")]
    if not isinstance(value, list) or not _json_safe(value):
        return [text]
    return [read_value(v) if isinstance(v, str) else v for v in value]


def read_arguments(text: str) -> list | None:
    """A code test's arguments, separated by commas: `[1, 2]` is one argument, a list."""
    text = (text or "").strip()
    if not text:
        return None
    return read_items(f"[{text}]")


def read_mapping(text: str) -> dict | None:
    """`a: 1, b: 2` (or `{a: 1, b: 2}`) as a mapping, else the text (the check says why)."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = "{" + text + "}"
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(value, dict) or not _json_safe(value):
        return text
    return value


def _json_safe(value) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def show_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Text that would read back as something else is quoted.
        return json.dumps(value, ensure_ascii=False) if read_value(value) != value else value
    return json.dumps(value, ensure_ascii=False)


def show_items(values) -> str:
    if values is None:
        return ""
    if not isinstance(values, list):
        return show_value(values)
    out = []
    for v in values:
        text = show_value(v)
        if isinstance(v, str) and ("," in v or v.strip() != v or read_value(v) != v):
            text = json.dumps(v, ensure_ascii=False)
        out.append(text)
    return ", ".join(out)


def show_mapping(value) -> str:
    if not value:
        return ""
    return ", ".join(f"{k}: {show_value(v)}" for k, v in value.items())


# ---------------------------------------------------------------- the base


@dataclass
class Column:
    name: str
    label: str
    kind: str = "text"  # text, textarea, code, select, checkbox, number
    choices: tuple = ()
    size: int = 12
    placeholder: str = ""


class StructuredWidget(forms.Widget):
    """A JSON field edited through inputs: `to_inputs` and `from_inputs` convert, and
    a value the inputs cannot show faithfully is offered as JSON instead."""

    class Media:
        js = ["exercises/authoring-rows.js"]
        css = {"all": ["exercises/authoring.css"]}

    empty: object = None

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.messages: dict[str, list[str]] = {}
        self.full_messages: list[str] = []

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.messages = {}
        copy.full_messages = []
        return copy

    # Subclasses: the value as {input name: text} (rows as "<row>-<column>"), and back.
    def to_inputs(self, value) -> dict[str, str]:
        raise NotImplementedError

    def from_inputs(self, inputs: dict[str, str]):
        raise NotImplementedError

    def locate(self, rest: str, message: str) -> str | None:
        """The anchor (a row index, an input's name) that an error path inside the
        field concerns, or None for the field as a whole."""
        found = re.match(r"\[(\d+)\]", rest)
        return found.group(1) if found else None

    def id_for_label(self, id_):
        # The label leads to the first input (a row's first cell, or the first input).
        return None

    def note(self, anchor: str, message: str, full: str = "") -> None:
        """A message for a row or input (`full`, with the field's path, is shown when
        the value is edited as JSON)."""
        self.messages.setdefault(anchor, []).append(message)
        self.full_messages.append(full or message)

    # ------------------------------------------------------------ the form's side

    def posted_inputs(self, data, name: str) -> dict[str, str]:
        lead = f"{name}-"
        # Browsers post a text area's line breaks as CRLF; the definition keeps LF.
        return {
            key[len(lead) :]: data.get(key, "").replace("\r\n", "\n")
            for key in data
            if key.startswith(lead) and not key.startswith(f"{lead}-")
        }

    # The value last read from the post, for `locate`.
    current: object = None

    def value_from_datadict(self, data, files, name):
        if name in data:
            text = data.get(name)
            self.current, _ = self.decoded(text)
            return text
        inputs = self.posted_inputs(data, name)
        if not inputs:
            return None
        self.current = self.from_inputs(inputs)
        return json.dumps(self.current, ensure_ascii=False)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not self.posted_inputs(data, name)

    def decoded(self, value):
        """The value to show: (python value, None), or (None, raw text) if not JSON."""
        if value is None or value == "":
            return self.empty, None
        if not isinstance(value, str):
            return value, None
        try:
            return json.loads(value), None
        except ValueError:
            return None, value

    def faithful(self, value) -> bool:
        try:
            inputs = self.to_inputs(value)
            return _same(self.from_inputs(inputs), value) and self.choosable(inputs)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, StopIteration):
            return False

    # Each select's input and its values; a value not among them could not be shown.
    def selects(self) -> dict[str, tuple]:
        return {}

    def choosable(self, inputs: dict[str, str]) -> bool:
        selects = self.selects()
        for key, text in inputs.items():
            column = key.rpartition("-")[2]
            if column in selects and text not in [v for v, _ in selects[column]]:
                return False
        return True

    def render(self, name, value, attrs=None, renderer=None):
        value, raw = self.decoded(value)
        attrs = {**self.attrs, **(attrs or {})}
        if raw is not None or not self.faithful(value):
            text = raw if raw is not None else json.dumps(value, ensure_ascii=False, indent=1)
            return format_html(
                '<div class="authoring-json"><p class="help">These inputs cannot show this '
                "value: edit it as JSON, or empty it to use the inputs.</p>"
                '<textarea name="{}" id="{}" rows="4" cols="60">{}</textarea>{}</div>',
                name,
                attrs.get("id", f"id_{name}"),
                text,
                self.render_messages(None),
            )
        return format_html(
            '<div class="authoring" id="{}" data-authoring="{}">{}{}</div>',
            attrs.get("id", f"id_{name}"),
            name,
            self.render_inputs(name, self.to_inputs(value)),
            self.render_messages(""),
        )

    def render_messages(self, anchor: str | None):
        """The messages for an anchor ("": the field; None: every one)."""
        if anchor is None:
            found = self.full_messages
        else:
            found = self.messages.get(anchor)
        if not found:
            return ""
        return format_html(
            '<ul class="errorlist authoring-errors" data-for="{}">{}</ul>',
            anchor or "",
            format_html_join("", "<li>{}</li>", ((m,) for m in found)),
        )

    def render_inputs(self, name: str, inputs: dict[str, str]):
        raise NotImplementedError


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def render_input(column: Column, name: str, value: str, label: str, invalid: bool, described=""):
    """One cell's input, labelled for screen readers."""
    common = format_html(
        'name="{}" id="{}" aria-label="{}"{}{}',
        name,
        "id_" + name,
        label,
        mark_safe(' aria-invalid="true"') if invalid else "",
        format_html(' aria-describedby="{}"', described) if described else "",
    )
    if column.kind == "select":
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if v == value else "", text) for v, text in column.choices),
        )
        return format_html("<select {}>{}</select>", common, options)
    if column.kind == "checkbox":
        return format_html(
            '<input type="checkbox" value="on" {}{}>',
            common,
            mark_safe(" checked") if value else "",
        )
    if column.kind in ("textarea", "code"):
        editor = mark_safe(" data-code-editor") if column.kind == "code" else ""
        rows = 6 if column.kind == "code" else 1
        return format_html(
            '<textarea {} rows="{}" cols="{}"{} placeholder="{}">{}</textarea>',
            common,
            rows,
            column.size,
            editor,
            column.placeholder,
            value,
        )
    return format_html(
        '<input type="text" {} value="{}" size="{}" placeholder="{}">',
        common,
        value,
        column.size,
        column.placeholder,
    )


class RowsWidget(StructuredWidget):
    """A list of items as a table of rows, each with the same columns."""

    columns: list[Column] = []
    add_label = "Add a row"
    empty: object = []

    def selects(self):
        return {c.name: c.choices for c in self.columns if c.kind == "select"}

    def to_rows(self, value) -> list[dict[str, str]]:
        raise NotImplementedError

    def from_rows(self, rows: list[dict[str, str]]):
        raise NotImplementedError

    def to_inputs(self, value) -> dict[str, str]:
        return {
            f"{i}-{column}": text
            for i, row in enumerate(self.to_rows(value))
            for column, text in row.items()
        }

    def from_inputs(self, inputs: dict[str, str]):
        return self.from_rows(rows_of(inputs, self.columns))

    def render_inputs(self, name, inputs):
        rows = rows_of(inputs, self.columns)
        return self.render_table(name, rows)

    def render_table(self, name: str, rows: list[dict[str, str]]):
        count = len(rows) + BLANK_ROWS
        head = format_html_join("", '<th scope="col">{}</th>', ((c.label,) for c in self.columns))
        body = format_html_join(
            "",
            "{}",
            ((self.render_row(name, i, rows[i] if i < len(rows) else {}),) for i in range(count)),
        )
        template = self.render_row(name, "__row__", {})
        return format_html(
            '<div class="authoring-table" id="id_{}-rows">'
            '<table class="authoring-rows" data-rows="{}" data-next="{}"><thead><tr>{}'
            '<th><span class="visually-hidden">Remove</span></th></tr></thead>'
            "<tbody>{}</tbody></table>"
            '<template class="authoring-row-template">{}</template>'
            '<button type="button" class="button authoring-add" data-add-row hidden>{}</button>'
            '<p class="help authoring-nojs">Leave a row empty to remove it.</p></div>',
            name,
            name,
            count,
            head,
            body,
            template,
            self.add_label,
        )

    def render_row(self, name: str, index, row: dict[str, str]):
        anchor = str(index)
        # A template row's number is written in when a script adds it.
        number = index + 1 if isinstance(index, int) else index
        messages = self.messages.get(anchor, [])
        message_id = f"id_{name}-{index}-errors"
        cells = format_html_join(
            "",
            "<td>{}</td>",
            (
                (
                    render_input(
                        c,
                        f"{name}-{index}-{c.name}",
                        row.get(c.name, ""),
                        f"{c.label}, row {number}",
                        bool(messages),
                        message_id if messages else "",
                    ),
                )
                for c in self.columns
            ),
        )
        error = (
            format_html(
                '<tr class="authoring-row-error"><td colspan="{}"><ul class="errorlist" id="{}">'
                "{}</ul></td></tr>",
                len(self.columns) + 1,
                message_id,
                format_html_join("", "<li>{}</li>", ((m,) for m in messages)),
            )
            if messages
            else ""
        )
        return format_html(
            '<tr data-row{}>{}<td><button type="button" class="authoring-remove" '
            'data-remove-row hidden aria-label="Remove row {}">×</button></td></tr>{}',
            mark_safe(' class="authoring-invalid"') if messages else "",
            cells,
            number,
            error,
        )


def rows_of(inputs: dict[str, str], columns: list[Column]) -> list[dict[str, str]]:
    """The posted rows in order of their index, without the empty ones."""
    by_index: dict[int, dict[str, str]] = {}
    names = {c.name for c in columns}
    for key, text in inputs.items():
        index, _, column = key.partition("-")
        if index.isdigit() and column in names:
            by_index.setdefault(int(index), {})[column] = text
    rows = []
    for index in sorted(by_index):
        row = by_index[index]
        kept = {
            c.name: row.get(c.name, "")
            for c in columns
            if c.kind not in ("select", "checkbox") or row.get(c.name)
        }
        filled = any(
            (row.get(c.name) or "").strip() for c in columns if c.kind not in ("select", "checkbox")
        )
        if filled:
            rows.append(kept)
    return rows


# ---------------------------------------------------------------- the exercise's fields


class ParametersWidget(RowsWidget):
    """`{name: {int|decimal|choice: [...], step, exclude}}`, one parameter a row."""

    KINDS = (("int", "whole number"), ("decimal", "decimal"), ("choice", "one of a list"))
    columns = [
        Column("name", "Name", size=6),
        Column("kind", "Kind", "select", KINDS),
        Column("values", "From, to (or the values)", size=14),
        Column("step", "Step", size=5),
        Column("exclude", "Except", size=8),
    ]
    add_label = "Add a parameter"
    empty: object = {}

    def to_rows(self, value):
        rows = []
        for name, spec in (value or {}).items():
            kind = next(k for k in ("int", "decimal", "choice") if k in spec)
            rows.append(
                {
                    "name": name,
                    "kind": kind,
                    "values": show_items(spec[kind]),
                    "step": show_value(spec.get("step")),
                    "exclude": show_items(spec.get("exclude")),
                }
            )
        return rows

    def from_rows(self, rows):
        out = {}
        for row in rows:
            kind = row.get("kind") or "int"
            spec = {kind: read_items(row.get("values", "")) or []}
            if read_value(row.get("step", "")) is not None:
                spec["step"] = read_value(row["step"])
            if read_items(row.get("exclude", "")):
                spec["exclude"] = read_items(row["exclude"])
            out[row.get("name", "").strip()] = spec
        return out

    def locate(self, rest, message):
        # variants: "parameter b: ..."
        found = re.match(r"parameter (\S*):", message)
        if found is None:
            return None
        names = list(self.current or {}) if isinstance(self.current, dict) else []
        return str(names.index(found.group(1))) if found.group(1) in names else None


class ConstraintsWidget(RowsWidget):
    columns = [Column("comparison", "Comparison", size=30)]
    add_label = "Add a constraint"

    def to_rows(self, value):
        return [{"comparison": text} for text in value or []]

    def from_rows(self, rows):
        return [row["comparison"].strip() for row in rows]

    def locate(self, rest, message):
        if rest:
            return super().locate(rest, message)
        found = re.match(r"constraint (['\"])(.*?)\1:", message)
        if found is None:
            return None
        texts = self.current if isinstance(self.current, list) else []
        return str(texts.index(found.group(2))) if found.group(2) in texts else None


class PlotWidget(StructuredWidget):
    """The plot: its kind and the inputs of that kind (PlotBase and its subclasses)."""

    KINDS = (
        ("", "no plot"),
        ("function", "function (tangent, Newton's steps)"),
        ("taylor", "Taylor polynomials"),
        ("contour", "contour and descent path"),
        ("fit", "data and least-squares fit"),
    )
    # (input, label, reader, kinds; None: every kind)
    INPUTS = [
        ("title", "Title", "text", None),
        ("description", "Description (for screen readers)", "text", None),
        ("solved_description", "Description once solved", "text", None),
        ("x", "x from, to", "items", None),
        ("y", "y from, to", "items", None),
        ("xlabel", "x label", "text", None),
        ("ylabel", "y label", "text", None),
        ("f", "f", "text", ("function", "taylor", "contour")),
        ("label", "Label of f", "text", ("function", "taylor")),
        ("tangent_at", "Tangent at x =", "value", ("function",)),
        ("newton__x0", "Newton's steps from x0 =", "value", ("function",)),
        ("newton__steps", "Newton's steps: how many", "value", ("function",)),
        ("points", "Marked points (x, y, label; one per line)", "points", ("function",)),
        ("centre", "Centre", "value", ("taylor",)),
        ("degree", "Degree(s)", "items", ("taylor",)),
        ("variables", "Variables", "items", ("contour",)),
        ("levels", "Levels", "items", ("contour",)),
        ("start", "Start (x, y)", "items", ("contour",)),
        ("path__method", "Path", "select", ("contour",)),
        ("path__gamma", "Step size γ", "value", ("contour",)),
        ("path__steps", "Steps", "value", ("contour",)),
        ("data__x", "Data x", "items", ("fit",)),
        ("data__y", "Data y", "items", ("fit",)),
        ("model__f", "Model (empty: a line)", "text", ("fit",)),
        ("model__start", "Model's start (a: 1, b: 2)", "mapping", ("fit",)),
        ("fit_label", "Label of the fit", "text", ("fit",)),
    ]
    METHODS = (
        ("", "default"),
        ("gradient_descent", "gradient descent"),
        ("newton_raphson", "Newton-Raphson"),
    )

    def selects(self):
        return {"kind": self.KINDS, "path__method": self.METHODS}

    empty: object = {}

    def to_inputs(self, value):
        if not value:
            return {"kind": ""}
        value = dict(value)
        out = {"kind": value.pop("kind")}
        model = value.pop("model", None)
        if isinstance(model, dict):
            out["model__f"] = model.get("f", "")
            out["model__start"] = show_mapping(model.get("start"))
            if set(model) - {"f", "start"}:
                raise ValueError("more than the inputs show")
        elif model not in (None, "line"):
            raise ValueError("an unknown model")
        for key, item in value.items():
            if key == "points":
                out["points"] = "\n".join(
                    ", ".join(
                        [show_value(p.get("x")), show_value(p.get("y")), p.get("label", "")]
                    ).rstrip(", ")
                    for p in item
                )
            elif isinstance(item, dict):
                for sub, v in item.items():
                    out[f"{key}__{sub}"] = show_value(v)
            else:
                reader = next((r for k, _, r, _ in self.INPUTS if k == key), None)
                if reader is None:
                    raise ValueError(f"no input for {key}")
                out[key] = show_items(item) if reader == "items" else show_value(item)
        return out

    def from_inputs(self, inputs):
        kind = (inputs.get("kind") or "").strip()
        if not kind:
            return {}
        out: dict = {"kind": kind}
        for key, _, reader, kinds in self.INPUTS:
            if kinds is not None and kind not in kinds:
                continue
            text = inputs.get(key, "")
            if not text.strip():
                continue
            if reader == "text" or reader == "select":
                value = text.strip()
            elif reader == "items":
                value = read_items(text)
            elif reader == "mapping":
                value = read_mapping(text)
            elif reader == "points":
                value = [_point(line) for line in text.splitlines() if line.strip()]
            else:
                value = read_value(text)
            if key == "degree" and isinstance(value, list) and len(value) == 1:
                value = value[0]
            outer, _, inner = key.partition("__")
            if inner:
                out.setdefault(outer, {})[inner] = value
            else:
                out[key] = value
        return out

    def locate(self, rest, message):
        found = re.match(r"\.(\w+)(?:\.(\w+))?", rest)
        if found is None:
            return None
        outer, inner = found.groups()
        key = f"{outer}__{inner}" if inner and f"{outer}__{inner}" in self._keys else outer
        if key not in self._keys:
            key = next((k for k in self._keys if k.startswith(f"{outer}__")), None)
        return key

    _keys = {k for k, _, _, _ in INPUTS}

    def render_inputs(self, name, inputs):
        kind = inputs.get("kind", "")
        kind_input = render_input(
            Column("kind", "Kind of plot", "select", self.KINDS),
            f"{name}-kind",
            kind,
            "Kind of plot",
            bool(self.messages.get("kind")),
        )
        fields = []
        for key, label, reader, kinds in self.INPUTS:
            input_name = f"{name}-{key}"
            messages = self.messages.get(key, [])
            if reader == "select":
                column = Column(key, label, "select", self.METHODS)
            elif reader == "points":
                column = Column(key, label, "textarea", size=30)
            else:
                column = Column(key, label, size=30 if reader == "text" else 14)
            widget = render_input(
                column,
                input_name,
                inputs.get(key, ""),
                label,
                bool(messages),
                f"id_{input_name}-errors" if messages else "",
            )
            fields.append(
                format_html(
                    '<div class="authoring-field"{}><label for="id_{}">{}</label>{}{}</div>',
                    format_html(' data-kinds="{}"', " ".join(kinds)) if kinds else "",
                    input_name,
                    label,
                    widget,
                    _messages(f"id_{input_name}-errors", messages),
                )
            )
        return format_html(
            '<div class="authoring-field"><label for="id_{}-kind">Kind of plot</label>{}</div>'
            '<div class="authoring-plot" data-kind="{}">{}</div>',
            name,
            kind_input,
            kind,
            format_html_join("", "{}", ((f,) for f in fields)),
        )


def _point(line: str) -> dict:
    items = [s.strip() for s in line.split(",", 2)]
    point: dict = {"x": read_value(items[0])}
    if len(items) > 1 and items[1]:
        point["y"] = read_value(items[1])
    if len(items) > 2 and items[2]:
        point["label"] = items[2]
    return point


def _messages(element_id: str, messages: list[str]):
    if not messages:
        return ""
    return format_html(
        '<ul class="errorlist" id="{}">{}</ul>',
        element_id,
        format_html_join("", "<li>{}</li>", ((m,) for m in messages)),
    )


# ---------------------------------------------------------------- a part's fields


class VariablesWidget(RowsWidget):
    """The part's variables with their domains, one a row: feeds `variables` (the names)
    and, through DomainWidget, `domain` (the rows with a range)."""

    columns = [
        Column("name", "Variable", size=6),
        Column("low", "From", size=6),
        Column("high", "To", size=6),
    ]
    add_label = "Add a variable"
    domain: dict = {}

    def to_rows(self, value):
        domain = self.domain or {}
        names = list(value or [])
        rows = []
        for name in names:
            box = domain.get(name) or [None, None]
            rows.append({"name": name, "low": show_value(box[0]), "high": show_value(box[1])})
        return rows

    def faithful(self, value) -> bool:
        # Every range must belong to a variable, or it would be lost.
        return super().faithful(value) and set(self.domain or {}) <= set(value or [])

    def from_rows(self, rows):
        return [row["name"].strip() for row in rows]


class DomainWidget(StructuredWidget):
    """`domain`, read from the rows of the variables' table (no inputs of its own)."""

    shown_by = "variables"
    empty: object = {}

    @property
    def is_hidden(self):
        return True

    def source(self, name: str) -> str:
        return name[: -len("domain")] + self.shown_by

    def value_from_datadict(self, data, files, name):
        if name in data:
            return data.get(name)
        inputs = self.posted_inputs(data, self.source(name))
        if not inputs:
            return None
        rows = rows_of(inputs, VariablesWidget.columns)
        domain = {}
        for row in rows:
            low, high = read_value(row.get("low", "")), read_value(row.get("high", ""))
            if low is not None or high is not None:
                domain[row["name"].strip()] = [low, high]
        return json.dumps(domain, ensure_ascii=False)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not self.posted_inputs(data, self.source(name))

    def locate(self, rest, message):
        # "domain.x[0]: must be a number", or "domain: x: give [low, high] ..."
        names = list(self.variable_names)
        found = re.match(r"\.(\w+)", rest) or re.match(r"(\w+):", message)
        if found and found.group(1) in names:
            return str(names.index(found.group(1)))
        return None

    variable_names: tuple = ()

    def render(self, name, value, attrs=None, renderer=None):
        # Shown as the variables' table; posted as JSON only if it cannot be.
        value, raw = self.decoded(value)
        if raw is None and set(value or {}) <= set(self.variable_names):
            return mark_safe("")
        text = raw if raw is not None else json.dumps(value, ensure_ascii=False)
        return format_html('<input type="hidden" name="{}" value="{}">', name, text)


class FunctionsWidget(RowsWidget):
    columns = [Column("function", "Function", size=30)]
    add_label = "Add a function"

    def to_rows(self, value):
        return [{"function": text} for text in value or []]

    def from_rows(self, rows):
        return [row["function"].strip() for row in rows]


class OptionsWidget(RowsWidget):
    columns = [
        Column("key", "Key", size=4),
        Column("text", "Text (Markdown)", size=40),
    ]
    add_label = "Add an option"

    def to_rows(self, value):
        return [{"key": o["key"], "text": o["text"]} for o in value or []]

    def from_rows(self, rows):
        return [{"key": row["key"].strip(), "text": row["text"]} for row in rows]


class MistakesWidget(RowsWidget):
    columns = [
        Column("answer", "Wrong answer", size=18),
        Column("message", "Message to the student", size=40),
    ]
    add_label = "Add a known mistake"

    def to_rows(self, value):
        return [{"answer": m["answer"], "message": m["message"]} for m in value or []]

    def from_rows(self, rows):
        return [{"answer": row["answer"].strip(), "message": row["message"]} for row in rows]


class SampleAnswersWidget(RowsWidget):
    """The part's question tests: a sample answer (a source, for a code part), the
    verdict it must get and, optionally, the message."""

    VERDICTS = (("correct", "correct"), ("incorrect", "incorrect"), ("invalid", "invalid"))
    columns = [
        Column("answer", "Sample answer", "textarea", size=30),
        Column("expect", "Must be", "select", VERDICTS),
        Column("message", "Message (optional)", size=20),
    ]
    add_label = "Add a sample answer"

    def to_rows(self, value):
        rows = []
        for t in value or []:
            if set(t) - {"answer", "expect", "message"}:
                raise ValueError("more than the inputs show")
            rows.append(
                {"answer": t["answer"], "expect": t["expect"], "message": t.get("message") or ""}
            )
        return rows

    def from_rows(self, rows):
        out = []
        for row in rows:
            test = {"answer": row["answer"], "expect": row.get("expect") or "correct"}
            if row.get("message", "").strip():
                test["message"] = row["message"].strip()
            out.append(test)
        return out


class RoutineWidget(StructuredWidget):
    """`expected_routine`: a reference routine and its arguments, one a row."""

    columns = [
        Column("name", "Argument", size=8),
        Column("value", "Value", size=30),
    ]
    empty: object = {}

    def selects(self):
        return {"routine": (("", ""),) + tuple((r, r) for r in ROUTINES)}

    def to_inputs(self, value):
        if not value:
            return {"routine": ""}
        out = {"routine": value["routine"]}
        for i, (name, arg) in enumerate((value.get("args") or {}).items()):
            out[f"{i}-name"] = name
            out[f"{i}-value"] = show_items(arg) if isinstance(arg, list) else show_value(arg)
        return out

    def from_inputs(self, inputs):
        routine = (inputs.get("routine") or "").strip()
        if not routine:
            return {}
        args = {}
        for row in rows_of(inputs, self.columns):
            args[row["name"].strip()] = read_value(row["value"])
        return {"routine": routine, "args": args}

    def locate(self, rest, message):
        return "routine" if rest.startswith(".routine") else None

    def render_inputs(self, name, inputs):
        choices = (("", "none: the expected answer above"),) + tuple(
            (r, r) for r in sorted(ROUTINES)
        )
        select = render_input(
            Column("routine", "Routine", "select", choices),
            f"{name}-routine",
            inputs.get("routine", ""),
            "Routine",
            bool(self.messages.get("routine")),
        )
        rows = RowsWidget()
        rows.columns = self.columns
        rows.add_label = "Add an argument"
        rows.messages = {}
        return format_html(
            '<div class="authoring-field"><label for="id_{}-routine">Routine</label>{}{}</div>{}',
            name,
            select,
            _messages(f"id_{name}-routine-errors", self.messages.get("routine", [])),
            rows.render_table(name, rows_of(inputs, self.columns)),
        )


class CodeWidget(StructuredWidget):
    """A code part's block (CodeDef): the function, the starter and the reference in
    the code editor, and the tests (CodeTest) as rows."""

    TEST_COLUMNS = [
        Column("args", "Arguments", size=18),
        Column("kwargs", "Named arguments", size=10),
        Column("name", "Name", size=10),
        Column("hidden", "Hidden", "checkbox"),
        Column("weight", "Weight", size=4),
        Column("more", "More (rtol, atol, check)", size=12),
    ]
    INPUTS = [
        ("function", "Function name", "text"),
        ("signature", "Signature", "text"),
        ("starter", "Starter code", "code"),
        ("reference__source", "Reference solution", "code"),
        ("reference__routine", "Or a reference routine (instead of the solution)", "text"),
        ("time_limit", "Time limit (s)", "value"),
        ("compare__rtol", "rtol", "value"),
        ("compare__atol", "atol", "value"),
    ]
    empty: object = {}

    class Media:
        js = ["vendor/codemirror-6.0.2/codemirror.min.js", "exercises/code-editor.js"]

    def to_inputs(self, value):
        if not value:
            return {}
        out = {}
        value = dict(value)
        tests = value.pop("tests", [])
        for key, item in value.items():
            if isinstance(item, dict):
                for sub, v in item.items():
                    out[f"{key}__{sub}"] = v if isinstance(v, str) else show_value(v)
            else:
                out[key] = item if isinstance(item, str) else show_value(item)
        known = {k for k, _, _ in self.INPUTS}
        if set(out) - known:
            raise ValueError("more than the inputs show")
        for i, test in enumerate(tests):
            test = dict(test)
            out[f"tests-{i}-args"] = show_items(test.pop("args", []))
            out[f"tests-{i}-kwargs"] = show_mapping(test.pop("kwargs", {}))
            out[f"tests-{i}-name"] = test.pop("name", "")
            out[f"tests-{i}-hidden"] = "" if test.pop("visible", True) else "on"
            out[f"tests-{i}-weight"] = show_value(test.pop("weight", None))
            out[f"tests-{i}-more"] = show_mapping(test)
        return out

    def from_inputs(self, inputs):
        out: dict = {}
        for key, _, reader in self.INPUTS:
            text = inputs.get(key, "")
            if not text.strip():
                continue
            value = read_value(text) if reader == "value" else text
            if reader == "text":
                value = text.strip()
            outer, _, inner = key.partition("__")
            if inner:
                out.setdefault(outer, {})[inner] = value
            else:
                out[key] = value
        tests = []
        test_inputs = {k[len("tests-") :]: v for k, v in inputs.items() if k.startswith("tests-")}
        for row in rows_of(test_inputs, self.TEST_COLUMNS):
            test: dict = {"args": read_arguments(row.get("args", "")) or []}
            kwargs = read_mapping(row.get("kwargs", ""))
            if kwargs:
                test["kwargs"] = kwargs
            if row.get("name", "").strip():
                test["name"] = row["name"].strip()
            if row.get("hidden"):
                test["visible"] = False
            weight = read_value(row.get("weight", ""))
            if weight is not None:
                test["weight"] = weight
            more = read_mapping(row.get("more", ""))
            if isinstance(more, dict):
                test.update(more)
            elif more:
                test["more"] = more  # the check names the field that is not one
            tests.append(test)
        if not out and not tests:
            return {}
        out["tests"] = tests
        return out

    def locate(self, rest, message):
        test = re.match(r"\.tests\[(\d+)\]", rest)
        if test:
            return f"tests-{test.group(1)}"
        found = re.match(r"\.(\w+)(?:\.(\w+))?", rest)
        if not found:
            return None
        outer, inner = found.groups()
        keys = {k for k, _, _ in self.INPUTS}
        if inner and f"{outer}__{inner}" in keys:
            return f"{outer}__{inner}"
        if outer in keys:
            return outer
        return next((k for k in keys if k.startswith(f"{outer}__")), None)

    def render_inputs(self, name, inputs):
        fields = []
        for key, label, reader in self.INPUTS:
            input_name = f"{name}-{key}"
            messages = self.messages.get(key, [])
            column = Column(key, label, "code" if reader == "code" else "text", size=30)
            fields.append(
                format_html(
                    '<div class="authoring-field authoring-{}"><label for="id_{}">{}</label>{}{}</div>',
                    reader,
                    input_name,
                    label,
                    render_input(
                        column,
                        input_name,
                        inputs.get(key, ""),
                        label,
                        bool(messages),
                        f"id_{input_name}-errors" if messages else "",
                    ),
                    _messages(f"id_{input_name}-errors", messages),
                )
            )
        tests = RowsWidget()
        tests.columns = self.TEST_COLUMNS
        tests.add_label = "Add a test"
        tests.messages = {
            anchor[len("tests-") :]: m
            for anchor, m in self.messages.items()
            if anchor.startswith("tests-")
        }
        test_inputs = {k[len("tests-") :]: v for k, v in inputs.items() if k.startswith("tests-")}
        return format_html(
            '{}<div class="authoring-field"><span class="authoring-caption">Tests '
            "(arguments as in YAML: numbers, [lists], {{array: ...}}, {{fn: ..., of: [...]}}, "
            "{{random: {{low: 0, high: 1}}}})</span>{}</div>",
            format_html_join("", "{}", ((f,) for f in fields)),
            tests.render_table(f"{name}-tests", rows_of(test_inputs, self.TEST_COLUMNS)),
        )


# ---------------------------------------------------------------- the post as JSON

EXERCISE_WIDGETS = {
    "parameters": ParametersWidget,
    "constraints": ConstraintsWidget,
    "plot": PlotWidget,
}
PART_WIDGETS = {
    "expected_routine": RoutineWidget,
    "variables": VariablesWidget,
    "domain": DomainWidget,
    "functions": FunctionsWidget,
    "options": OptionsWidget,
    "mistakes": MistakesWidget,
    "code": CodeWidget,
    "tests": SampleAnswersWidget,
}


def json_post(data, parts_prefix: str = "parts"):
    """The exercise form's post with each structured field as JSON text under its own
    name (`parameters`, `parts-0-mistakes`, ...), as the form's fields read it: for code
    that reads the post itself rather than through the admin's forms."""
    out = data.copy()
    names = [(name, widget) for name, widget in EXERCISE_WIDGETS.items()]
    try:
        count = int(data.get(f"{parts_prefix}-TOTAL_FORMS", 0))
    except ValueError:
        count = 0
    for i in range(max(0, min(count, 1000))):
        names += [(f"{parts_prefix}-{i}-{name}", widget) for name, widget in PART_WIDGETS.items()]
    for name, widget in names:
        value = widget().value_from_datadict(data, {}, name)
        if value is not None:
            out[name] = value
    return out


def messages_of(form) -> dict:
    """A bound form's problems by input name: for each field, the messages beside its
    rows or inputs (by anchor: a row's index among the rows filled in, or an input's
    name) and the field's own errors."""
    out = {}
    for name, field in form.fields.items():
        widget = field.widget
        anchors = widget.messages if isinstance(widget, StructuredWidget) else {}
        errors = [str(e) for e in form.errors.get(name, []) if str(e)]
        if anchors or errors:
            out[form.add_prefix(name)] = {"anchors": anchors, "errors": errors}
    non_field = [str(e) for e in form.non_field_errors()]
    if non_field:
        out[form.prefix or ""] = {"anchors": {}, "errors": non_field}
    return out
