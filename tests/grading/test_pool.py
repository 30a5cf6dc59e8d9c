import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from grading import pool as pool_module
from grading.pool import Pool, RemoteError, TimedOut, WorkerCrashed

TARGETS = "tests.grading.pool_targets"
PREFIXES = ("grading.", "tests.grading.")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_pool(**kwargs) -> Pool:
    kwargs.setdefault("size", 1)
    kwargs.setdefault("spares", 1)
    kwargs.setdefault("allowed_prefixes", PREFIXES)
    kwargs.setdefault("memory_limit_mb", 400)
    return Pool(**kwargs)


def is_running(pid: int) -> bool:
    """Alive and not a zombie, read from /proc (psutil is not a dependency)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except FileNotFoundError:
        return False
    return True


def wait_until_gone(pids: list[int], patience: float = 20.0) -> list[int]:
    """The pids still running after `patience` seconds (none, normally, much sooner)."""
    end = time.monotonic() + patience
    while time.monotonic() < end:
        alive = [pid for pid in pids if is_running(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if is_running(pid)]


@pytest.fixture(scope="module")
def pool():
    shared = make_pool()
    yield shared
    shared.shutdown()


def echo(pool: Pool, value: object = 1) -> dict:
    return pool.run(f"{TARGETS}:echo", {"value": value}, timeout=30)


def test_it_returns_what_the_function_returns(pool):
    result = echo(pool, [1, "two", {"three": 3.0}])

    assert result["echo"] == {"value": [1, "two", {"three": 3.0}]}
    assert result["pid"] in pool.helper_pids()
    assert result["pid"] != os.getpid()


def test_it_cuts_a_function_that_never_returns_at_the_deadline(pool):
    with pytest.raises(TimedOut):
        pool.run(f"{TARGETS}:spin_forever", {}, timeout=0.3)

    assert echo(pool, 2)["echo"] == {"value": 2}


def test_it_kills_the_helper_that_overran(pool):
    before = set(pool.helper_pids())

    with pytest.raises(TimedOut):
        pool.run(f"{TARGETS}:loop_forever", {}, timeout=0.3)

    killed = before - set(pool.helper_pids())
    assert len(killed) == 1
    assert wait_until_gone(list(killed)) == []
    assert len(pool.helper_pids()) == 2


def test_it_reports_a_helper_over_its_memory_limit_as_crashed(pool):
    with pytest.raises(WorkerCrashed):
        pool.run(f"{TARGETS}:allocate_without_bound", {}, timeout=60)

    assert echo(pool, 3)["echo"] == {"value": 3}


def test_it_sets_the_memory_limit_in_the_helper(pool):
    result = pool.run(f"{TARGETS}:memory_limit", {}, timeout=30)

    assert result["soft"] == 400 * 1024 * 1024


def test_it_reports_a_helper_that_dies_as_crashed(pool):
    with pytest.raises(WorkerCrashed, match="signal 9"):
        pool.run(f"{TARGETS}:die", {}, timeout=30)

    assert echo(pool, 4)["echo"] == {"value": 4}


def test_it_returns_an_exception_raised_in_the_helper_as_remote_error(pool):
    with pytest.raises(RemoteError) as raised:
        pool.run(f"{TARGETS}:raise_value_error", {"message": "no such thing"}, timeout=30)

    assert raised.value.type_name == "ValueError"
    assert raised.value.message == "no such thing"
    assert echo(pool, 5)["echo"] == {"value": 5}


def test_it_returns_a_result_that_is_not_json_as_remote_error(pool):
    with pytest.raises(RemoteError) as raised:
        pool.run(f"{TARGETS}:not_json", {}, timeout=30)

    assert raised.value.type_name == "TypeError"
    assert echo(pool, 7)["echo"] == {"value": 7}


def test_it_keeps_what_a_function_prints_out_of_the_replies(pool):
    assert pool.run(f"{TARGETS}:noisy", {}, timeout=30) == {"ok": True}
    assert echo(pool, 6)["echo"] == {"value": 6}


@pytest.mark.parametrize(
    "func",
    [
        "tests.grading.pool_targets:echo",
        "os:system",
        "subprocess:run",
        "gradingx.pool:run_bounded",
        "grading",
        "grading.pool",
        "grading.pool:Pool.run",
        "grading.pool:run_bounded; import os",
        "grading..pool:run_bounded",
        "",
    ],
)
def test_it_rejects_a_function_outside_the_grading_package(func):
    strict = Pool(allowed_prefixes=("grading.",), prestart=False)

    with pytest.raises(ValueError):
        strict.run(func, {}, timeout=1)

    assert strict.helper_pids() == []
    strict.shutdown()


def test_it_rejects_a_prefix_that_is_not_a_package():
    with pytest.raises(ValueError):
        Pool(allowed_prefixes=("grading",), prestart=False)


def test_it_has_the_helper_refuse_a_function_outside_its_prefixes():
    from grading.pool import allowed

    assert allowed("grading.engine:check", ("grading.",))
    assert not allowed("os:system", ("grading.",))
    assert not allowed("tests.grading.pool_targets:echo", ("grading.",))


def test_it_replaces_a_helper_after_its_maximum_number_of_calls():
    with make_pool(max_calls=2) as small:
        pids = [echo(small, n)["pid"] for n in range(3)]

    assert pids[0] == pids[1]
    assert pids[2] != pids[0]


def test_it_runs_calls_from_several_threads():
    results = {}

    def work(n: int) -> None:
        results[n] = echo(shared, n)["echo"]["value"]

    with make_pool(size=2) as shared:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert results == {n: n for n in range(8)}


def test_it_leaves_no_helper_process_after_shutdown():
    doomed = make_pool(size=2)
    echo(doomed)
    pids = doomed.helper_pids()

    doomed.shutdown()

    assert len(pids) == 3
    assert wait_until_gone(pids) == []
    with pytest.raises(RuntimeError):
        echo(doomed)


PARENT_SCRIPT = """
import json, sys, time
from grading.pool import Pool
pool = Pool(size=1, spares=1, allowed_prefixes=("grading.", "tests.grading."))
pool.run("tests.grading.pool_targets:echo", {}, timeout=30)
print(json.dumps(pool.helper_pids()), flush=True)
if sys.argv[1] == "exits":
    # Exits once the test has seen the helpers running.
    sys.stdin.readline()
    sys.exit(0)
if sys.argv[1] == "busy":
    pool.run("tests.grading.pool_targets:spin_forever", {}, timeout=3600)
time.sleep(3600)
"""


@pytest.mark.parametrize("state", ["idle", "busy", "exits"])
def test_it_leaves_no_helper_process_when_the_parent_is_killed_or_exits(state):
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT_SCRIPT), state],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    try:
        pids = json.loads(parent.stdout.readline())
        assert len(pids) == 2
        assert all(is_running(pid) for pid in pids)
        if state == "exits":
            parent.stdin.write(b"exit\n")
            parent.stdin.flush()
            assert parent.wait(timeout=60) == 0
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()

    assert wait_until_gone(pids) == []


def _echo_in_child(queue) -> None:
    try:
        with make_pool(spares=0) as child_pool:
            queue.put(("ok", echo(child_pool, "from a daemon")["echo"]["value"]))
    except BaseException as exc:
        queue.put(("failed", repr(exc)))


def test_it_works_inside_a_daemonic_process():
    # Celery's prefork children are daemonic: multiprocessing may not start children there.
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_echo_in_child, args=(queue,), daemon=True)
    child.start()
    outcome = queue.get(timeout=120)
    child.join(timeout=30)

    assert outcome == ("ok", "from a daemon")


def _use_inherited_pool(pool: Pool, queue) -> None:
    try:
        queue.put(("ok", echo(pool)["pid"], pool.helper_pids()))
        pool.shutdown()
    except BaseException as exc:
        queue.put(("failed", repr(exc), []))


def test_it_starts_its_own_helpers_in_a_forked_process():
    with make_pool(spares=0) as inherited:
        parent_pids = inherited.helper_pids()
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_use_inherited_pool, args=(inherited, queue), daemon=True)
        child.start()
        status, child_pid, child_helpers = queue.get(timeout=120)
        child.join(timeout=30)

        assert status == "ok"
        assert child_pid not in parent_pids
        assert child_helpers and not set(child_helpers) & set(parent_pids)
        # The child's exit closed its copies of the parent's pipes without harm.
        assert echo(inherited)["pid"] in parent_pids
        assert wait_until_gone(child_helpers) == []


def test_it_starts_the_default_pool_lazily_and_shuts_it_down(monkeypatch):
    monkeypatch.setenv("GRADING_POOL_SIZE", "1")
    monkeypatch.setenv("GRADING_POOL_SPARES", "0")
    pool_module.shutdown()

    with pytest.raises(ValueError):
        pool_module.run_bounded(f"{TARGETS}:echo", {}, timeout=1)
    pids = pool_module.default_pool().helper_pids()
    pool_module.shutdown()

    assert len(pids) == 1
    assert wait_until_gone(pids) == []


def test_it_refuses_a_bad_pool_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADING_POOL_SIZE", "many")

    with pytest.raises(ValueError, match="GRADING_POOL_SIZE"):
        Pool(prestart=False)
