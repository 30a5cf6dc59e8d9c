"""The one definition of an exercise: every field of an exercise, its parts and its plot,
their defaults and their rules, in plain Python.

The YAML loader, the exporter, the admin's forms, the case handed to the engine and the
publish gate all go through these models, so a field is declared, defaulted and checked
in one place. The database (`exercises.models`) stores what is defined here; the
conversions both ways are `ExerciseDef.from_model` and `ExerciseDef.apply_to_model`.

Errors name the field: `parts[1].rtol: must be a number ≥ 0`. The loader puts the file
and the exercise in front (`course/05-optimisation/foo.yaml: exercises[2] (slug
gradient-descent-steps) → parts[1].rtol: ...`), the admin shows the message on the field.

This module does not import Django.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictBool,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from exercises import routines, variants
from exercises.routines import ROUTINES

KINDS = ("expression", "numeric", "vector", "matrix", "points", "choice", "code")
VERDICTS = ("correct", "incorrect", "invalid")
STATUSES = ("draft", "published")
PLOT_KINDS = ("function", "taylor", "contour", "fit")
MAX_TIME_LIMIT = 10
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEY = re.compile(r"[-a-zA-Z0-9_]+\Z")
_WHOLE_TEMPLATE = re.compile(r"\s*\{\{(?!\{)\s*([^{}]+?)\s*\}\}\s*\Z")


# ---------------------------------------------------------------- field types


def number(*, ge=None, gt=None, le=None, integer: bool = False):
    """A number from YAML or JSON (never a boolean, never text: YAML reads `5e-4` as text),
    with its bounds in the message."""
    bounds = []
    if ge is not None:
        bounds.append(f"≥ {ge}")
    if gt is not None:
        bounds.append(f"> {gt}")
    if le is not None:
        bounds.append(f"≤ {le}")
    what = "a whole number" if integer else "a number"
    message = f"must be {what}" + (f" {' and '.join(bounds)}" if bounds else "")

    def check(value):
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            if isinstance(value, str) and not integer:
                raise ValueError(f"{message} (write decimals such as 0.0005, not text {value!r})")
            raise ValueError(message)
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError(message)
        if (
            (ge is not None and value < ge)
            or (gt is not None and value <= gt)
            or (le is not None and value > le)
        ):
            raise ValueError(message)
        return value

    return Annotated[int | float, PlainValidator(check)]


Share = number(ge=0, le=1)
Tolerance = number(ge=0)


def _identifier(value):
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError("must be a name: a letter, then letters, digits or _")
    return value


Identifier = Annotated[str, PlainValidator(_identifier)]


def _text_or_number(value):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a number or an expression over the parameters")
    return value


# A number, or an expression in the answer syntax over the parameters (templates allowed).
Amount = Annotated[int | float | str, PlainValidator(_text_or_number)]


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    def to_data(self) -> dict:
        """The definition as YAML writes it: in field order, defaults left out."""
        return _strip(self)


def _strip(model: BaseModel) -> dict:
    out = {}
    for name, info in type(model).model_fields.items():
        if info.exclude:
            continue
        value = getattr(model, name)
        default = info.get_default(call_default_factory=True)
        if value == default and not info.is_required():
            continue
        out[name] = _plain(value)
    return out


def _plain(value):
    if isinstance(value, BaseModel):
        return _strip(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- parts


class RoutineCall(Definition):
    """An expected answer computed by a reference routine (`exercises.routines`)."""

    routine: str
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("routine")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ROUTINES:
            raise ValueError(f"unknown routine {value!r}; one of {', '.join(sorted(ROUTINES))}")
        return value


def _expected_tag(value) -> str:
    return "§call" if isinstance(value, dict | RoutineCall) else "§text"


Expected = Annotated[
    Annotated[str, Tag("§text")] | Annotated[RoutineCall, Tag("§call")],
    Discriminator(_expected_tag),
]


class Option(Definition):
    key: str
    text: str


class Mistake(Definition):
    answer: str
    message: str

    @field_validator("message")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must say what the student did wrong")
        return value


class QuestionTest(Definition):
    """A sample answer and the verdict it must get (for a code part, a source)."""

    answer: str
    expect: Literal["correct", "incorrect", "invalid"]
    message: str | None = None


class Compare(Definition):
    rtol: Tolerance = 1.0e-6
    atol: Tolerance = 1.0e-9


class CompareOverride(Definition):
    rtol: Tolerance | None = None
    atol: Tolerance | None = None


class CodeReference(Definition):
    routine: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CodeReference:
        if (self.routine is None) == (self.source is None):
            raise ValueError("give exactly one of routine and source")
        if self.routine is not None and not _IDENTIFIER.match(self.routine):
            raise ValueError(f"routine {self.routine!r} is not a name")
        return self


def check_argument(value, where: str = "") -> None:
    """An argument of a code test: numbers, booleans, null, text, lists, or one of
    {array: ...}, {fn: ..., of: [...]} and {random: {...}} (CODE_PART section 1)."""
    at = f"{where}: " if where else ""
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_argument(item, f"{where}[{i}]")
        return
    if not isinstance(value, dict):
        raise ValueError(f"{at}not an argument value")
    forms = [k for k in ("array", "fn", "random") if k in value]
    if len(forms) != 1:
        raise ValueError(f"{at}a mapping must be one of {{array}}, {{fn, of}} or {{random}}")
    form = forms[0]
    if form == "array":
        if set(value) != {"array"} or not isinstance(value["array"], list):
            raise ValueError(f"{at}array needs a list (of lists) of numbers")
        check_argument(value["array"], f"{where}.array")
    elif form == "fn":
        if set(value) - {"fn", "of", "vector"}:
            raise ValueError(f"{at}a function is {{fn, of, vector}}")
        fn = value["fn"]
        if not (
            isinstance(fn, str)
            or (isinstance(fn, list) and fn and all(isinstance(f, str) for f in fn))
        ):
            raise ValueError(f"{at}fn must be an expression or a list of expressions")
        of = value.get("of")
        if (
            not isinstance(of, list)
            or not of
            or not all(isinstance(n, str) and _IDENTIFIER.match(n) for n in of)
        ):
            raise ValueError(f"{at}of must list the function's variables")
        if not isinstance(value.get("vector", False), bool):
            raise ValueError(f"{at}vector must be true or false")
    else:
        spec = value["random"]
        if set(value) != {"random"} or not isinstance(spec, dict):
            raise ValueError(f"{at}random is {{random: {{low, high, shape, integer}}}}")
        if set(spec) - {"low", "high", "shape", "integer"} or not {"low", "high"} <= set(spec):
            raise ValueError(f"{at}random needs low and high (and optional shape, integer)")
        for bound in ("low", "high"):
            if isinstance(spec[bound], bool) or not isinstance(spec[bound], int | float | str):
                raise ValueError(f"{at}random {bound} must be a number")
        shape = spec.get("shape", [])
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape
        ):
            raise ValueError(f"{at}random shape must be a list of positive whole numbers")
        if not isinstance(spec.get("integer", False), bool):
            raise ValueError(f"{at}random integer must be true or false")


class ChiSquared(Definition):
    x: number(ge=0, integer=True)
    y: number(ge=0, integer=True)
    sigma: number(ge=0, integer=True) | None = None
    model: Literal["line", "gaussian"]
    within: number(ge=0) = 0.01


class PropertyCheck(Definition):
    chi_squared: ChiSquared


class CodeTest(Definition):
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    visible: bool = True
    weight: number(gt=0) = 1
    name: str = ""
    compare: CompareOverride | None = None
    check: PropertyCheck | None = None

    @field_validator("args")
    @classmethod
    def _args(cls, value: list) -> list:
        for i, item in enumerate(value):
            check_argument(item, f"[{i}]")
        return value

    @field_validator("kwargs")
    @classmethod
    def _kwargs(cls, value: dict) -> dict:
        for name, item in value.items():
            if not _IDENTIFIER.match(name):
                raise ValueError(f"{name!r} is not an argument name")
            check_argument(item, name)
        return value

    @model_validator(mode="after")
    def _indices(self) -> CodeTest:
        if self.check is not None:
            chi = self.check.chi_squared
            for name in ("x", "y", "sigma"):
                index = getattr(chi, name)
                if index is not None and index >= len(self.args):
                    raise ValueError(f"check: {name} names argument {index}, which is not given")
        return self


class CodeDef(Definition):
    """What a code part asks for: one Python function, checked against a reference."""

    function: Identifier
    signature: str = ""
    starter: str = ""
    reference: CodeReference
    compare: Compare = Field(default_factory=Compare)
    time_limit: number(gt=0, le=MAX_TIME_LIMIT) = 2
    tests: Annotated[list[CodeTest], Field(min_length=1)]


def takes_several(multiple: bool | None, expected: str, routine: dict) -> bool:
    """Whether a choice part takes several keys: as its author says, else when its
    expected answer names several, or may (a template or a routine: then check boxes,
    which take one key as well as several)."""
    if multiple is not None:
        return multiple
    if routine or "{{" in expected:
        return True
    return len([key for key in expected.split(",") if key.strip()]) > 1


class PartDef(Definition):
    key: str
    label: str = ""
    kind: Literal["expression", "numeric", "vector", "matrix", "points", "choice", "code"]
    expected: Expected = Field(default="", validate_default=True)
    hint: str = ""
    variables: list[Identifier] = Field(default_factory=list)
    domain: dict[str, list[number()]] = Field(default_factory=dict)
    functions: list[str] = Field(default_factory=list)
    options: list[Option] = Field(default_factory=list, validate_default=True)
    # Choice parts: several options may be chosen (check boxes) or exactly one (radio
    # buttons; empty: several when the expected answer may name several, see
    # `takes_several`); all or nothing, or each right pick earns its share and each
    # wrong pick loses `penalty` of the part (empty: as much as a right pick earns).
    multiple: StrictBool | None = None
    scoring: Literal["all-or-nothing", "partial"] = "all-or-nothing"
    penalty: Share | None = None
    mistakes: list[Mistake] = Field(default_factory=list)
    rtol: Tolerance | None = None
    atol: Tolerance | None = None
    weight: number(gt=0) = 1.0
    code: CodeDef | None = Field(default=None, validate_default=True)
    tests: list[QuestionTest] = Field(default_factory=list)

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, value):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _KEY.match(value) or len(value) > 20:
            raise ValueError("must be a short name: letters, digits, - or _, at most 20")
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        if len(value) > 300:
            raise ValueError("must be at most 300 characters")
        return value

    @field_validator("expected")
    @classmethod
    def _expected(cls, value, info: ValidationInfo):
        kind = info.data.get("kind")
        given = bool(value) if isinstance(value, str) else True
        if kind == "code" and given:
            raise ValueError("a code part has no expected answer: its code block gives a reference")
        if kind is not None and kind != "code" and not given:
            raise ValueError("give the expected answer, or a routine that computes it")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: dict) -> dict:
        for name, box in value.items():
            if len(box) != 2 or not box[0] < box[1]:
                raise ValueError(f"{name}: give [low, high] with low < high")
        return value

    @field_validator("options")
    @classmethod
    def _options(cls, value: list, info: ValidationInfo) -> list:
        kind = info.data.get("kind")
        if kind == "choice":
            keys = [o.key for o in value]
            if len(keys) < 2 or len(set(keys)) != len(keys):
                raise ValueError("a choice part needs at least two options with different keys")
        elif value and kind is not None:
            raise ValueError("only a choice part has options")
        return value

    @model_validator(mode="after")
    def _choice_rules(self) -> PartDef:
        if self.kind != "choice":
            if (
                self.multiple is not None
                or self.scoring != "all-or-nothing"
                or self.penalty is not None
            ):
                raise ValueError("only a choice part has multiple, scoring or penalty")
            return self
        if self.scoring == "partial" and not self.takes_several:
            raise ValueError("partial credit is for a part with several answers: multiple: true")
        if self.penalty is not None and self.scoring != "partial":
            raise ValueError("a penalty per wrong pick needs scoring: partial")
        if self.multiple is False and takes_several(None, self.expected_text, self.routine):
            raise ValueError(
                "the expected answer names several options: say multiple: true "
                "(check boxes), or expect one option (radio buttons)"
            )
        return self

    @field_validator("code")
    @classmethod
    def _code(cls, value, info: ValidationInfo):
        kind = info.data.get("kind")
        if kind == "code" and value is None:
            raise ValueError("a code part needs a code block (function, reference, tests)")
        if kind not in (None, "code") and value is not None:
            raise ValueError("only a code part has a code block")
        return value

    # ------------------------------------------------------------ the engine's view

    @property
    def routine(self) -> dict:
        return self.expected.to_data() if isinstance(self.expected, RoutineCall) else {}

    @property
    def takes_several(self) -> bool:
        """A choice part answered with check boxes (several keys), not radio buttons."""
        return takes_several(self.multiple, self.expected_text, self.routine)

    @property
    def expected_text(self) -> str:
        return self.expected if isinstance(self.expected, str) else ""

    def expected_answer(self, values: dict) -> str:
        """The expected answer for these parameter values ("" for a code part)."""
        if self.kind == "code":
            return ""
        return routines.expected_answer(self.expected_text, self.routine, values)

    def case_for(
        self, answer: str, expected: str, values: dict, seed: int = 0, mistakes: bool = True
    ) -> dict:
        """The case handed to the engine for an answer, for a variant's values (and, for a
        code part, its seed, from which `random` arguments are drawn); with the known
        mistakes filled in unless `mistakes` is False."""
        if self.kind == "code":
            return code_case(self.code, answer, values, seed)
        case: dict = {"kind": self.kind, "expected": expected, "answer": answer}
        if self.variables:
            case["variables"] = list(self.variables)
        if self.domain:
            case["domain"] = {name: list(box) for name, box in self.domain.items()}
        if self.functions:
            case["functions"] = list(self.functions)
        if self.kind == "choice":
            case["options"] = [option.key for option in self.options]
            case["multiple"] = self.takes_several
            if self.scoring != "all-or-nothing":
                case["scoring"] = self.scoring
            if self.penalty is not None:
                case["penalty"] = float(self.penalty)
        if self.mistakes and mistakes:
            case["mistakes"] = variants.mistakes_for([m.to_data() for m in self.mistakes], values)
        if self.rtol is not None:
            case["rtol"] = self.rtol
        if self.atol is not None:
            case["atol"] = self.atol
        return case


# ---------------------------------------------------------------- plots


Range = Annotated[list[Amount], Field(min_length=2, max_length=2)]


class MarkedPoint(Definition):
    x: Amount
    y: Amount | None = None  # on the curve when left out
    label: str = ""


class NewtonSteps(Definition):
    x0: Amount
    steps: number(ge=1, le=8, integer=True) = 2


class PlotBase(Definition):
    title: str
    description: str
    solved_description: str = ""
    x: Range
    y: Range
    xlabel: str = "x"
    ylabel: str = "y"


class FunctionPlot(PlotBase):
    """The graph of f; once solved, the tangent at a point or Newton-Raphson's steps."""

    kind: Literal["function"]
    f: str
    label: str = "f(x)"
    points: list[MarkedPoint] = Field(default_factory=list)
    tangent_at: Amount | None = None
    newton: NewtonSteps | None = None


class TaylorPlot(PlotBase):
    """The graph of f; once solved, its Taylor polynomial(s) about the centre."""

    kind: Literal["taylor"]
    f: str
    label: str = "f(x)"
    centre: Amount = 0
    degree: number(ge=0, le=12, integer=True) | list[number(ge=0, le=12, integer=True)]


class DescentPath(Definition):
    method: Literal["gradient_descent", "newton_raphson"] = "gradient_descent"
    gamma: number(gt=0) = 0.1
    steps: number(ge=1, le=50, integer=True) = 8


class ContourPlot(PlotBase):
    """Level curves of f(x, y) and a start; once solved, the path of the iterates."""

    kind: Literal["contour"]
    f: str
    variables: Annotated[list[Identifier], Field(min_length=2, max_length=2)] = ["x", "y"]
    levels: list[Amount] = Field(default_factory=list)
    start: Annotated[list[Amount], Field(min_length=2, max_length=2)]
    path: DescentPath = Field(default_factory=DescentPath)


class FitModel(Definition):
    f: str
    start: dict[Identifier, Amount]
    show_start: bool = True


class FitData(Definition):
    x: Annotated[list[Amount], Field(min_length=2)]
    y: Annotated[list[Amount], Field(min_length=2)]

    @model_validator(mode="after")
    def _same_length(self) -> FitData:
        if len(self.x) != len(self.y):
            raise ValueError("x and y need the same number of values")
        return self


class FitPlot(PlotBase):
    """Data points (and the model at its start); once solved, the least-squares fit."""

    kind: Literal["fit"]
    data: FitData
    model: Literal["line"] | FitModel = "line"
    fit_label: str = ""


def _plot_tag(value) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return f"§{kind}" if kind in PLOT_KINDS else None


PlotDef = Annotated[
    Annotated[FunctionPlot, Tag("§function")]
    | Annotated[TaylorPlot, Tag("§taylor")]
    | Annotated[ContourPlot, Tag("§contour")]
    | Annotated[FitPlot, Tag("§fit")],
    Discriminator(
        _plot_tag,
        custom_error_type="plot_kind",
        custom_error_message=f"kind must be one of {', '.join(PLOT_KINDS)}",
    ),
]
_PLOT_ADAPTER = TypeAdapter(PlotDef)


# ---------------------------------------------------------------- exercises


class ExerciseDef(Definition):
    slug: str
    title: str
    status: Literal["draft", "published"] = "published"
    parameters: dict[str, Any] = Field(default_factory=dict)
    constraints: list[str] = Field(default_factory=list)
    max_attempts: number(ge=1, integer=True) | None = None
    retry_penalty: Share = 0.0
    prompt: str
    solution: str = ""
    plot: PlotDef | None = None
    parts: Annotated[list[PartDef], Field(min_length=1)]
    # The position in the problem set: the order of the list in YAML, not written there.
    order: int = Field(default=0, exclude=True)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("must be a slug: letters, digits, - or _")
        return value

    @field_validator("title", "prompt")
    @classmethod
    def _given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict) -> dict:
        try:
            variants.check_parameters(value, [])
        except variants.VariantError as e:
            raise ValueError(str(e)) from None
        return value

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, value: list, info: ValidationInfo) -> list:
        try:
            variants.check_parameters(info.data.get("parameters") or {}, value)
        except variants.VariantError as e:
            raise ValueError(str(e)) from None
        return value

    @field_validator("parts", mode="before")
    @classmethod
    def _part_keys(cls, value):
        # A part's key defaults to its position, 1, 2, ...
        if isinstance(value, list):
            value = [
                {"key": str(i), **part} if isinstance(part, dict) and "key" not in part else part
                for i, part in enumerate(value, start=1)
            ]
        return value

    @field_validator("parts")
    @classmethod
    def _unique_keys(cls, value: list[PartDef]) -> list[PartDef]:
        keys = [p.key for p in value]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"part keys must differ: {', '.join(repeated)} repeated")
        return value

    # ------------------------------------------------------------ variants

    def values_for_seed(self, seed: int) -> dict:
        return variants.draw(self.parameters, self.constraints, seed)

    def expected_answers(self, values: dict) -> dict[str, str]:
        return {p.key: p.expected_answer(values) for p in self.parts}

    def part(self, key: str) -> PartDef:
        return next(p for p in self.parts if p.key == key)

    # ------------------------------------------------------------ the database

    @classmethod
    def from_model(cls, exercise, parts=None) -> ExerciseDef:
        """The definition of a stored exercise (or of an unsaved one and its parts, as the
        admin has them before saving). Raises DefinitionError if it does not validate."""
        parts = list(exercise.parts.all()) if parts is None else list(parts)
        data = {
            "slug": exercise.slug,
            "title": exercise.title,
            "status": exercise.status,
            "parameters": exercise.parameters if exercise.parameters is not None else {},
            "constraints": exercise.constraints if exercise.constraints is not None else [],
            "max_attempts": exercise.max_attempts,
            "retry_penalty": exercise.retry_penalty,
            "prompt": exercise.prompt,
            "solution": exercise.solution,
            "plot": exercise.plot or None,
            "parts": [part_data(p) for p in sorted(parts, key=lambda p: (p.order, p.pk or 0))],
            "order": exercise.order,
        }
        return parse(cls, data)

    def exercise_fields(self) -> dict:
        """The exercise's columns in the database."""
        return {
            "slug": self.slug,
            "title": self.title,
            "status": self.status,
            "parameters": self.parameters,
            "constraints": self.constraints,
            "max_attempts": self.max_attempts,
            "retry_penalty": float(self.retry_penalty),
            "prompt": self.prompt,
            "solution": self.solution,
            "plot": self.plot.to_data() if self.plot is not None else {},
            "order": self.order,
        }

    def apply_to_model(self, exercise) -> bool:
        """Set the exercise's own columns (not its parts); True if any changed."""
        return assign(exercise, self.exercise_fields())


def part_data(part) -> dict:
    """A stored part (a `Part` row, saved or not) as the data of its definition."""
    data = {
        "key": part.key,
        "label": part.label,
        "kind": part.kind,
        "expected": dict(part.expected_routine) if part.expected_routine else part.expected,
        "hint": part.hint,
        "variables": part.variables if part.variables is not None else [],
        "domain": part.domain if part.domain is not None else {},
        "functions": part.functions if part.functions is not None else [],
        "options": part.options if part.options is not None else [],
        "multiple": part.multiple,
        "scoring": part.scoring,
        "penalty": part.penalty,
        "mistakes": part.mistakes if part.mistakes is not None else [],
        "rtol": part.rtol,
        "atol": part.atol,
        "weight": part.weight,
        "code": part.code or None,
        "tests": part.tests if part.tests is not None else [],
    }
    return data


def part_fields(part: PartDef, order: int) -> dict:
    """A part's columns in the database."""
    return {
        "key": part.key,
        "label": part.label,
        "hint": part.hint,
        "order": order,
        "kind": part.kind,
        "expected": part.expected_text,
        "expected_routine": part.routine,
        "variables": list(part.variables),
        "domain": {name: list(box) for name, box in part.domain.items()},
        "functions": list(part.functions),
        "options": [o.to_data() for o in part.options],
        "multiple": part.multiple,
        "scoring": part.scoring,
        "penalty": float(part.penalty) if part.penalty is not None else None,
        "mistakes": [m.to_data() for m in part.mistakes],
        "rtol": part.rtol,
        "atol": part.atol,
        "weight": float(part.weight),
        "code": part.code.to_data() if part.code is not None else {},
        "tests": [t.to_data() for t in part.tests],
    }


def assign(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


# ---------------------------------------------------------------- problem sets and modules


class PlacementDef(Definition):
    """An exercise of another problem set shown in this one too (the question bank):
    its slug, or {exercise: slug, order: n} to place it among the set's own exercises
    (which are numbered 1, 2, ... in their file's order). By default it comes after
    them and after the entry before it."""

    exercise: str
    order: number(ge=0, integer=True) | None = None

    @model_validator(mode="before")
    @classmethod
    def _slug_alone(cls, value):
        return {"exercise": value} if isinstance(value, str) else value

    @field_validator("exercise")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("must be an exercise's slug: letters, digits, - or _")
        return value


class ProblemSetDef(Definition):
    module: str
    slug: str
    title: str
    order: number(ge=0, integer=True) = 0
    summary: str = ""
    opens: Any = None
    due: Any = None
    late_policy: Literal["accept", "penalty", "refuse"] = "accept"
    late_penalty: Share = 0.0
    kind: Literal["practice", "quiz"] = "practice"
    time_limit: number(ge=1, integer=True) | None = None
    feedback_released: Any = None
    exercises: list[dict] = Field(default_factory=list)
    place: list[PlacementDef] = Field(default_factory=list)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("must be a slug: letters, digits, - or _")
        return value


class ModuleDef(Definition):
    slug: str
    title: str
    summary: str = ""


class CourseDef(Definition):
    modules: list[ModuleDef] = Field(default_factory=list)


# ---------------------------------------------------------------- errors


class DefinitionError(ValueError):
    """A definition that does not validate: `problems` are (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(
            "; ".join(f"{path}: {message}" if path else message for path, message in problems)
        )

    def messages(self, prefix: str = "") -> list[str]:
        lead = f"{prefix} → " if prefix else ""
        return [
            f"{lead}{path}: {message}" if path else f"{prefix}: {message}"
            for path, message in self.problems
        ]


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field here",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "has more than {max_length} item(s)",
}


def field_path(loc: tuple) -> str:
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif isinstance(item, str) and item.startswith("§"):
            continue  # a union's tag, not a field
        else:
            out += f".{item}" if out else str(item)
    return out


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for e in error.errors(include_url=False):
        kind = e["type"]
        if kind == "literal_error":
            message = "must be one of " + e.get("ctx", {}).get("expected", "").replace("'", "")
        elif kind in ("value_error", "assertion_error"):
            message = str(e.get("ctx", {}).get("error", e["msg"]))
        elif kind in _MESSAGES:
            message = _MESSAGES[kind].format(**e.get("ctx", {}))
        else:
            message = e["msg"]
        path = field_path(e["loc"])
        if (path, message) not in problems:
            problems.append((path, message))
    return problems


def parse(model: type[Definition], data) -> Any:
    """Validate data into a definition, or raise DefinitionError naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise DefinitionError(problems_of(e)) from None


def parse_plot(data) -> FunctionPlot | TaylorPlot | ContourPlot | FitPlot:
    try:
        return _PLOT_ADAPTER.validate_python(data)
    except ValidationError as e:
        raise DefinitionError(problems_of(e)) from None


# ---------------------------------------------------------------- code parts


def _argument(value, values: dict, rng: np.random.Generator):
    """A test argument with templates rendered and random values drawn."""
    if isinstance(value, str):
        whole = _WHOLE_TEMPLATE.match(value)
        if whole and values:
            return _as_number(variants.render_text(value, values), value)
        return variants.render_text(value, values)
    if isinstance(value, list):
        return [_argument(v, values, rng) for v in value]
    if isinstance(value, dict):
        if "array" in value:
            return {"array": _argument(value["array"], values, rng)}
        if "fn" in value:
            fn = value["fn"]
            rendered = (
                [variants.render_expression(f, values) for f in fn]
                if isinstance(fn, list)
                else variants.render_expression(fn, values)
            )
            out = {"fn": rendered, "of": list(value["of"])}
            if value.get("vector"):
                out["vector"] = True
            return out
        if "random" in value:
            spec = value["random"]
            low = float(_argument(spec["low"], values, rng))
            high = float(_argument(spec["high"], values, rng))
            shape = tuple(spec.get("shape", []))
            if spec.get("integer"):
                drawn = rng.integers(int(low), int(high), size=shape, endpoint=True)
                return drawn.tolist() if shape else drawn.item()
            # With a shape, a float NumPy array, as `{array: ...}` gives.
            drawn = rng.uniform(low, high, size=shape)
            return {"array": drawn.tolist()} if shape else drawn.item()
    return value


def _as_number(text: str, template: str):
    try:
        number = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        try:
            number = float(variants.exact_value(text, {}, template))
        except variants.VariantError:
            raise variants.VariantError(f"{template}: {text!r} is not a number") from None
    return number


def code_case(code: CodeDef, answer: str, values: dict, seed: int = 0) -> dict:
    """The engine's case for a code part (CODE_PART section 2): templates rendered and
    `random` values drawn from the variant's seed and each test's index."""
    tests = []
    for index, test in enumerate(code.tests):
        rng = np.random.default_rng([seed % 2**63, index])
        concrete = {
            "args": [_argument(a, values, rng) for a in test.args],
            "kwargs": {k: _argument(v, values, rng) for k, v in test.kwargs.items()},
            "visible": test.visible,
            "weight": float(test.weight),
            "name": test.name,
        }
        if test.compare is not None:
            concrete["compare"] = {k: v for k, v in test.compare.to_data().items() if v is not None}
        if test.check is not None:
            concrete["check"] = test.check.to_data()
        tests.append(concrete)
    reference = {k: v for k, v in code.reference.to_data().items() if v is not None}
    return {
        "kind": "code",
        "answer": answer,
        "function": code.function,
        "reference": reference,
        "compare": {"rtol": code.compare.rtol, "atol": code.compare.atol},
        "time_limit": code.time_limit,
        "tests": tests,
        "only_visible": False,
    }


def starter_for(code: CodeDef, values: dict) -> str:
    return variants.render_text(code.starter, values)
