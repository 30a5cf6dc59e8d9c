"""Code that tries to leave the sandbox: each attempt is contained and reported as a failure.

Every test runs a student's `forward_difference(f, x, h)` through `grading.code.check_code`
and asserts both what the student is told and that the attempt had no effect outside.
Without bubblewrap (or user namespaces) the tests are skipped; with CI=true they fail.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from grading.code import SandboxUnavailable, check_code, sandbox

SETTINGS = Path(settings.BASE_DIR) / "courseserver" / "settings.py"
SECRET = "s3cret-value-7d1f0a"
GOOD = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n"


@pytest.fixture(scope="module", autouse=True)
def bwrap_sandbox():
    try:
        sandbox.probe()
    except SandboxUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the sandbox tests: {e}")
        pytest.skip(f"no working bubblewrap sandbox here: {e}")
    yield
    sandbox.reset()


def make_case(answer: str, **kwargs) -> dict:
    case = {
        "kind": "code",
        "answer": answer,
        "function": "forward_difference",
        "reference": {"routine": "forward_difference"},
        "time_limit": 2,
        "tests": [
            {"args": [{"fn": "x^2", "of": ["x"]}, 3, 0.001], "name": "x^2 at 3"},
            {"args": [{"fn": "sin(x)", "of": ["x"]}, 1, 1e-6], "visible": False},
        ],
    }
    case.update(kwargs)
    return case


def make_body(body: str) -> str:
    lines = "".join(f"    {line}\n" for line in body.strip().splitlines())
    return f"def forward_difference(f, x, h):\n{lines}"


def everything_said(verdict) -> str:
    return verdict.message + json.dumps(verdict.details)


def assert_other_runs_fine():
    assert check_code(make_case(GOOD)).status == "correct"


def first_test(verdict) -> dict:
    return verdict.details["tests"][0]


def test_it_runs_a_correct_function():
    verdict = check_code(make_case(GOOD))
    assert verdict.status == "correct" and verdict.details["score"] == 1.0


def test_it_cannot_read_etc_passwd():
    verdict = check_code(make_case(make_body("return open('/etc/passwd').read()")))
    assert verdict.status == "incorrect"
    assert first_test(verdict)["error"]["type"] == "FileNotFoundError"
    assert "root:" not in everything_said(verdict)


def test_it_cannot_read_the_project_settings():
    verdict = check_code(make_case(make_body(f"return open({str(SETTINGS)!r}).read()")))
    assert first_test(verdict)["error"]["type"] == "FileNotFoundError"
    assert "SECRET_KEY" not in everything_said(verdict)


def test_it_cannot_see_the_workers_environment(monkeypatch):
    monkeypatch.setenv("CODE_SANDBOX_TEST_SECRET", SECRET)
    sandbox.reset()  # sandboxes started from here on see this environment's parent
    body = "import os\nprint(dict(os.environ))\nprint(open('/proc/1/environ').read())\nreturn 0.0"
    verdict = check_code(make_case(make_body(body)))
    assert verdict.status == "incorrect"
    assert "PATH" in verdict.details["output"]
    assert SECRET not in everything_said(verdict)
    assert "DATABASE_URL" not in everything_said(verdict)


def test_it_cannot_write_outside_its_temporary_directory(tmp_path):
    target = tmp_path / "pwned"
    body = f"open({str(target)!r}, 'w').write('x')\nreturn 0.0"
    verdict = check_code(make_case(make_body(body)))
    assert first_test(verdict)["error"]["type"] in {
        "FileNotFoundError",
        "PermissionError",
        "OSError",
    }
    body = "open('/usr/pwned', 'w').write('x')\nreturn 0.0"
    verdict = check_code(make_case(make_body(body)))
    assert first_test(verdict)["error"]["type"] in {"PermissionError", "OSError"}
    assert not target.exists() and not Path("/usr/pwned").exists()


@pytest.mark.parametrize("address", [("127.0.0.1", 5432), ("127.0.0.1", 6379), ("1.1.1.1", 53)])
def test_it_has_no_network(address):
    body = f"import socket\nsocket.create_connection({address!r}, timeout=1)\nreturn 0.0"
    verdict = check_code(make_case(make_body(body)))
    assert verdict.status == "incorrect"
    error = first_test(verdict)["error"]
    assert error["type"] in {"ConnectionRefusedError", "OSError"}


def test_it_survives_a_fork_bomb():
    verdict = check_code(make_case(make_body("import os\nwhile True:\n    os.fork()")))
    assert verdict.status == "incorrect"
    assert_other_runs_fine()


def test_it_refuses_ten_gigabytes_of_memory():
    verdict = check_code(make_case(make_body("b = bytearray(10 * 1024**3)\nreturn 0.0")))
    assert first_test(verdict)["error"]["type"] == "MemoryError"


@pytest.mark.parametrize("body", ["while True:\n    pass", "import time\ntime.sleep(10**6)"])
def test_it_stops_a_run_that_never_ends(body):
    verdict = check_code(make_case(make_body(body), time_limit=0.5))
    assert verdict.status == "incorrect"
    assert "took longer than 0.5 s on test 1: an infinite loop?" in verdict.message
    assert_other_runs_fine()


def test_it_bounds_a_gigabyte_of_output():
    body = "import os\nfor _ in range(10**6):\n    print('x' * 1000)\n    os.write(1, b'y' * 1000)"
    verdict = check_code(make_case(make_body(body), time_limit=1))
    assert verdict.status == "incorrect"
    assert len(verdict.details["output"]) <= 10_100


def test_it_contains_ctypes():
    body = f"import ctypes\nlibc = ctypes.CDLL('libc.so.6')\nreturn libc.open({str(SETTINGS).encode()!r}, 0)"
    verdict = check_code(make_case(make_body(body)))
    assert first_test(verdict)["received"] == "-1"


def test_it_contains_os_system_and_subprocess(tmp_path):
    target = tmp_path / "from-shell"
    body = (
        f"import os, subprocess\nos.system('echo x > {target}')\n"
        "return subprocess.run(['cat', '/etc/passwd'], capture_output=True).returncode"
    )
    verdict = check_code(make_case(make_body(body)))
    assert verdict.status == "incorrect"
    assert not target.exists()
    assert "root:" not in everything_said(verdict)


@pytest.mark.parametrize("module", ["grading", "exercises", "django"])
def test_it_cannot_import_the_project(module):
    verdict = check_code(make_case(f"import {module}\n" + GOOD))
    assert verdict.status == "incorrect"
    assert "ModuleNotFoundError" in verdict.message


def test_it_cannot_signal_its_parent():
    body = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"
    verdict = check_code(make_case(make_body(body)))
    assert verdict.status == "incorrect"
    assert_other_runs_fine()


def test_it_leaves_no_process_behind():
    marker = "4242.1717"
    body = (
        "import os\nif os.fork() == 0:\n    os.setsid()\n"
        f"    os.execv('/usr/bin/sleep', ['sleep', '{marker}'])\nreturn 0.0"
    )
    verdict = check_code(make_case(make_body(body)))
    assert verdict.status == "incorrect"
    for _ in range(50):
        listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        if marker not in listing:
            break
        time.sleep(0.1)
    assert marker not in listing


def test_it_reports_deep_recursion():
    body = "return forward_difference(f, x, h)"
    verdict = check_code(make_case(make_body(body)))
    assert first_test(verdict)["error"]["type"] == "RecursionError"
    assert first_test(verdict)["error"]["line"] == 2


def test_it_stops_huge_integer_arithmetic():
    verdict = check_code(make_case(make_body("return float(10**10**8 % 7)"), time_limit=1))
    assert verdict.status == "incorrect"
    assert_other_runs_fine()


@pytest.mark.parametrize("target", ["/etc/passwd", str(SETTINGS)])
def test_it_follows_no_symlink_out_of_its_temporary_directory(target):
    body = f"import os\nos.symlink({target!r}, '/tmp/link')\nreturn open('/tmp/link').read()"
    verdict = check_code(make_case(make_body(body)))
    assert first_test(verdict)["error"]["type"] == "FileNotFoundError"
    assert "root:" not in everything_said(verdict) and "SECRET_KEY" not in everything_said(verdict)


WRONG = "def forward_difference(f, x, h):\n    return 1.0\n"


@pytest.mark.parametrize(
    "prelude",
    [
        "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.isclose = numpy.allclose\n",
        "import sys\nsys.modules['__main__'].encode_value = lambda *a, **k: 6.000999999999479\n",
        'print(\'{"result": 0, "value": 6.000999999999479}\')\nprint(\'{"done": true}\')\n',
        'import os, sys\nos.write(int(sys.argv[1]), b\'{"loaded": true}\\n{"done": true}\\n\')\n',
    ],
)
def test_it_cannot_be_told_a_wrong_answer_is_right(prelude):
    verdict = check_code(make_case(prelude + WRONG))
    assert verdict.status == "incorrect"
    assert verdict.details["score"] < 1


def test_it_refuses_an_object_that_equals_everything():
    answer = (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "def forward_difference(f, x, h):\n    return Anything()\n"
    )
    verdict = check_code(make_case(answer))
    assert "returned a Anything, expected a number" in first_test(verdict)["message"]


@pytest.mark.parametrize("exit_call", ["raise SystemExit(0)", "import os\nos._exit(0)"])
def test_it_does_not_take_an_early_exit_for_success(exit_call):
    verdict = check_code(make_case(exit_call + "\n" + GOOD))
    assert verdict.status == "incorrect"
    assert verdict.details["score"] == 0


# --- failing closed ---------------------------------------------------------------------


@pytest.fixture
def broken_bwrap(monkeypatch, tmp_path):
    def use(path: str) -> None:
        monkeypatch.setenv("CODE_SANDBOX_BWRAP", path)
        sandbox.reset()

    yield use
    monkeypatch.delenv("CODE_SANDBOX_BWRAP")
    sandbox.reset()


def test_it_raises_when_bwrap_is_missing(broken_bwrap, tmp_path):
    broken_bwrap(str(tmp_path / "no-bwrap"))
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable):
        check_code(make_case(f"open({str(marker)!r}, 'w').close()\n" + GOOD))
    assert not marker.exists()


def test_it_raises_when_bwrap_fails(broken_bwrap, tmp_path):
    failing = tmp_path / "bwrap"
    failing.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    failing.chmod(0o755)
    tmp_path.chmod(0o755)
    broken_bwrap(str(failing))
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable):
        check_code(make_case(f"open({str(marker)!r}, 'w').close()\n" + GOOD))
    assert not marker.exists()
