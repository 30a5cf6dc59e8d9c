"""The live preview endpoint, maths rendering on the pages, and the vendored KaTeX."""

import re
from pathlib import Path

import pytest

from exercises import ratelimit
from tests.conftest import make_exercise, make_submission

pytestmark = pytest.mark.django_db

KATEX = Path(__file__).resolve().parents[2] / "exercises/static/vendor/katex-0.16.47"


def _preview(client, exercise, answer, part="a"):
    return client.get(f"/exercises/{exercise.slug}/preview/", {"part": part, "answer": answer})


def test_it_sends_anonymous_visitors_to_log_in(client, exercise):
    response = _preview(client, exercise, "2x")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_refuses_post(alice_client, exercise):
    response = alice_client.post(f"/exercises/{exercise.slug}/preview/", {"part": "a"})
    assert response.status_code == 405


def test_it_is_404_for_an_unknown_exercise(alice_client):
    response = alice_client.get("/exercises/no-such-thing/preview/", {"part": "a", "answer": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("part", ["b", "", "A", "\x00", "a\x00"])
def test_it_is_404_for_an_unknown_part(alice_client, exercise, part):
    response = _preview(alice_client, exercise, "2x", part=part)
    assert response.status_code == 404
    assert response.json()["message"] == f"This exercise has no part named {part!r}."


def test_it_is_404_for_a_nul_part_key_sent_raw(alice_client, exercise):
    response = alice_client.get(f"/exercises/{exercise.slug}/preview/?part=%00&answer=x")
    assert response.status_code == 404
    assert "no part named" in response.json()["message"]


def test_it_returns_the_latex_of_a_valid_answer(alice_client, exercise):
    response = _preview(alice_client, exercise, "2x sin(x)")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "latex": r"2x \, \sin\left(x\right)"}


def test_it_keeps_the_structure_the_parser_read(alice_client, exercise):
    assert _preview(alice_client, exercise, "1/2x").json()["latex"] == r"\frac{1}{2}x"


def make_two_variable_exercise():
    return make_exercise(
        parts=[{"key": "a", "kind": "expression", "expected": "2*x*y", "variables": ["x", "y"]}]
    )


def test_it_says_how_letters_typed_together_were_split(alice_client):
    exercise = make_two_variable_exercise()
    data = _preview(alice_client, exercise, "2xy^2 + xsin(x)").json()
    assert data["ok"] is True
    assert data["readings"] == [
        {"typed": "xy", "read": "x\u00b7y"},
        {"typed": "xsin", "read": "x\u00b7sin"},
    ]
    assert r"x \cdot y^{2}" in data["latex"]


def test_it_says_how_a_pasted_letter_beside_others_was_read(alice_client):
    exercise = make_two_variable_exercise()
    data = _preview(alice_client, exercise, "2\u03c0x \u22c5 y").json()
    assert data["readings"] == [{"typed": "\u03c0x", "read": "\u03c0\u00b7x"}]


def test_it_says_nothing_of_a_name_read_whole(alice_client):
    exercise = make_exercise(
        parts=[{"key": "a", "kind": "expression", "expected": "xy", "variables": ["x", "y", "xy"]}]
    )
    assert "readings" not in _preview(alice_client, exercise, "2xy").json()
    assert "readings" not in _preview(alice_client, exercise, "x y").json()


def test_it_renders_vectors_and_matrices_as_such(alice_client):
    exercise = make_exercise(
        parts=[
            {"key": "v", "kind": "vector", "expected": "[1, 2]"},
            {"key": "m", "kind": "matrix", "expected": "[[1, 2], [3, 4]]"},
        ]
    )
    vector = _preview(alice_client, exercise, "[4, 6]", part="v").json()
    matrix = _preview(alice_client, exercise, "[[1, 2], [3, 4]]", part="m").json()
    assert vector["ok"] and "pmatrix" in vector["latex"]
    assert matrix["ok"] and r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}" in matrix["latex"]


def test_it_reads_the_answer_as_the_grader_does(alice_client):
    exercise = make_exercise(parts=[{"key": "v", "kind": "vector", "expected": "[1, 2]"}])
    data = _preview(alice_client, exercise, "7", part="v").json()
    assert data["ok"] is False
    assert "vector" in data["message"].lower() or "list" in data["message"].lower()


def test_it_returns_the_message_and_column_of_an_unreadable_answer(alice_client, exercise):
    data = _preview(alice_client, exercise, "2x +").json()
    assert data == {"ok": False, "message": 'Missing something after "+" at column 4.', "column": 4}


def test_it_names_an_undeclared_variable(alice_client, exercise):
    data = _preview(alice_client, exercise, "2y").json()
    assert data["ok"] is False
    assert '"y"' in data["message"]
    assert data["column"] == 2


def test_it_knows_the_exercises_functions(alice_client):
    exercise = make_exercise(
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "expected": "sigma(x)(1 - sigma(x))",
                "variables": ["x"],
                "functions": ["sigma(z) = 1/(1+e^(-z))"],
            }
        ]
    )
    data = _preview(alice_client, exercise, "sigma(x)^2").json()
    assert data["ok"] is True
    assert r"\sigma" in data["latex"]


def test_it_shows_the_chosen_keys_of_a_choice(alice_client):
    exercise = make_exercise(
        parts=[
            {
                "key": "a",
                "kind": "choice",
                "expected": "a, c",
                "options": [{"key": k, "text": k} for k in "abc"],
            }
        ]
    )
    assert _preview(alice_client, exercise, "c, a").json() == {"ok": True, "latex": r"\text{a, c}"}
    data = _preview(alice_client, exercise, "a, d").json()
    assert data["ok"] is False
    assert data["column"] == 4


def test_it_answers_an_empty_answer_with_nothing_to_show(alice_client, exercise):
    data = _preview(alice_client, exercise, "   ").json()
    assert data["ok"] is False
    assert data["empty"] is True


@pytest.mark.parametrize(
    "answer",
    [
        "__import__('os')",
        "9^9^9^9",
        "10^10^10",
        "x" * 5000,
        "(" * 3000 + "x" + ")" * 3000,
        "-" * 999 + "x",
        r"\href{javascript:alert(1)}{x}",
        "<script>alert(1)</script>",
        "x\x00",
        "sin(" * 200 + "x" + ")" * 200,
    ],
)
def test_it_answers_a_hostile_answer_with_clean_json(alice_client, exercise, answer):
    response = _preview(alice_client, exercise, answer)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) <= {"ok", "latex", "message", "column"}
    if data["ok"]:
        # Only what the parser accepted reaches the LaTeX: no markup, no commands of the student's.
        assert "<" not in data["latex"] and "href" not in data["latex"]
    else:
        assert isinstance(data["message"], str) and data["message"]
        assert "Traceback" not in data["message"]


def test_it_caps_the_answer_length(alice_client, exercise):
    data = _preview(alice_client, exercise, "x+" * 600 + "x").json()
    assert data["ok"] is False
    assert "too long" in data["message"]


def test_it_rate_limits_each_student(alice_client, exercise, bob, client, settings, monkeypatch):
    settings.PREVIEWS_PER_MINUTE = 3
    monkeypatch.setattr(ratelimit, "clock", lambda: 60_000.0)
    for _ in range(3):
        assert _preview(alice_client, exercise, "2x").status_code == 200
    refused = _preview(alice_client, exercise, "2x")
    assert refused.status_code == 429
    assert refused.json()["ok"] is False
    assert "minute" in refused.json()["message"]

    client.force_login(bob)
    assert _preview(client, exercise, "2x").status_code == 200
    monkeypatch.setattr(ratelimit, "clock", lambda: 60_000.0 + int(refused["Retry-After"]))
    assert _preview(alice_client, exercise, "2x").status_code == 200


def test_it_never_reveals_the_expected_answer(alice_client, alice):
    exercise = make_exercise(
        parts=[{"key": "a", "kind": "expression", "expected": "271828 x^3", "variables": ["x"]}]
    )
    for answer in ["x", "2x +", "271828", "[1, 2]", "y"]:
        assert b"271828 x" not in _preview(alice_client, exercise, answer).content
    assert b"271828" not in _preview(alice_client, exercise, "x^3").content
    make_submission(alice, exercise, answers={"a": "3x"}, status="graded", score=0.0)
    page = alice_client.get(f"/exercises/{exercise.slug}/").content.decode()
    assert "271828" not in page


def test_the_exercise_page_has_a_preview_under_each_input(alice_client):
    exercise = make_exercise(
        parts=[
            {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]},
            {"key": "b", "kind": "numeric", "expected": "1"},
        ]
    )
    page = alice_client.get(f"/exercises/{exercise.slug}/").content.decode()
    assert f'data-preview-url="/exercises/{exercise.slug}/preview/"' in page
    for key in "ab":
        region = re.search(rf'<div class="preview" id="preview-{key}"[^>]*>', page).group(0)
        assert 'aria-live="polite"' in region
        assert f'id="answer-{key}" name="answer-{key}"' in page
    # Without JavaScript the form still posts to the exercise itself.
    assert '<form method="post" class="answers"' in page
    assert "action=" not in re.search(r'<form method="post" class="answers"[^>]*>', page).group(0)


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html)


def test_the_pages_load_katex_from_static_and_nothing_from_elsewhere(alice_client, alice):
    exercise = make_exercise()
    submission = make_submission(alice, exercise, status="queued")
    for url in ["/", "/help/", f"/exercises/{exercise.slug}/", f"/submissions/{submission.pk}/"]:
        html = alice_client.get(url).content.decode()
        assets = _asset_urls(html)
        assert any(re.search(r"/static/vendor/katex-[\d.]+/katex\.min\.js$", a) for a in assets)
        assert any(a.endswith("contrib/auto-render.min.js") for a in assets)
        assert any(a.endswith("katex.min.css") for a in assets)
        assert all(a.startswith("/static/") for a in assets), assets
        assert "//cdn" not in html
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


def test_the_vendored_stylesheet_names_only_fonts_that_are_shipped():
    css = (KATEX / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\(([^)]+)\)", css))
    assert fonts
    assert all((KATEX / font).is_file() for font in fonts)


def test_the_site_script_renders_maths_safely():
    script = (KATEX.parents[1] / "exercises/site.js").read_text()
    assert "trust: false" in script
    assert "maxExpand: 200" in script
    assert "throwOnError: false" in script
    assert 'strict: "ignore"' in script


def test_the_help_page_shows_what_the_parser_reads(client):
    html = client.get("/help/").content.decode()
    assert "<code>1/2x</code>" in html
    assert r"\(\frac{1}{2}x\)" in html
    assert r"\begin{pmatrix} 1 &amp; 2 \\ 3 &amp; 4 \end{pmatrix}" in html
    # Letters typed together show how they were split.
    assert "<code>xy</code>" in html
    assert r"\(x \cdot y\)" in html
    assert r"\(x \, \sin\left(x\right)\)" in html
    assert r"\(2\pi \, x\)" in html
    # An example that cannot be read shows the parser's own message.
    assert "did you mean theta*x?" in html
    assert "write sin(x)" in html


def test_the_help_page_says_how_letters_and_pasted_symbols_are_read(client):
    html = client.get("/help/").content.decode()
    # The longest function name is split off: a·asin(x).
    assert r"\(a \, \arcsin\left(x\right)\)" in html
    assert "did you mean pi*x?" in html
    assert "did you mean x1*y?" in html
    assert "Letters typed together: <code>xy</code> reads as x·y" in html
    # The pasted-character table, each read as the grader reads it.
    for pasted in ["−", "×", "·", "⋅", "÷", "π", "²", "³", "√", "θ"]:
        assert f"<code>{pasted}</code>" in html
    assert r'<code>2⋅x</code> <span class="reads">reads as <span class="maths">\(2x\)' in html
    assert "no-break space" in html
    assert "type x^4" in html.replace("<code>", "").replace("</code>", "")
    assert "sin^-1" in html and "asin(x)" in html


def test_the_verdict_carries_a_summary_for_screen_readers(alice_client, alice, exercise):
    s = make_submission(
        alice,
        exercise,
        status="graded",
        score=1.0,
        results={"a": {"status": "correct", "message": "Correct."}},
    )
    fragment = alice_client.get(f"/submissions/{s.pk}/?fragment=1").content.decode()
    assert 'data-summary="Graded: score 100%, all correct."' in fragment
    page = alice_client.get(f"/submissions/{s.pk}/").content.decode()
    assert 'id="verdict-announcer"' in page
    assert 'aria-busy="false"' in page


def test_a_pending_verdict_is_busy_and_says_it_is_saved_when_slow(alice_client, alice, exercise):
    from datetime import timedelta

    from django.utils import timezone

    s = make_submission(
        alice, exercise, status="queued", created=timezone.now() - timedelta(minutes=1)
    )
    page = alice_client.get(f"/submissions/{s.pk}/").content.decode()
    assert 'aria-busy="true"' in page
    assert "Your answer is saved and will be graded" in page
    assert "data-summary" not in page


def test_a_refused_answer_takes_the_focus_and_keeps_the_typing(alice_client, exercise):
    response = alice_client.post(f"/exercises/{exercise.slug}/", {"answer-a": "2x +"})
    assert response.status_code != 302
    page = response.content.decode()
    field = re.search(r'<input type="text" id="answer-a"[^>]*>', page, re.DOTALL).group(0)
    assert 'value="2x +"' in field
    assert 'aria-invalid="true"' in field
    assert "autofocus" in field
    assert 'id="error-a"' in page


def test_it_is_404_for_a_draft_exercise(alice_client):
    exercise = make_exercise(status="draft")
    assert _preview(alice_client, exercise, "2x").status_code == 404


def test_it_reads_the_answer_against_the_students_variant(alice_client):
    exercise = make_exercise(
        parameters={"a": {"int": [2, 2]}},
        parts=[{"key": "a", "kind": "points", "expected": "[({{a}}, 1, 2)]"}],
    )
    alice_client.get(f"/exercises/{exercise.slug}/")
    flat = _preview(alice_client, exercise, "[(1, 2)]").json()
    assert flat["ok"] is False
    assert _preview(alice_client, exercise, "[(2, 1, 2)]").json()["ok"] is True
