"""The load driver's private servers and process accounting (`loadtest.services`)."""

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from loadtest import services


def test_it_reads_a_proc_stat_line_with_spaces_in_the_name():
    fields = ["S", "41"] + ["0"] * 9 + ["100", "20", "3", "4"] + ["0"] * 10
    line = f"1234 (celery worker (x)) {' '.join(fields)}"
    assert services.parse_stat(line) == (1234, 41, 127)


def test_it_sums_a_process_tree():
    processes = {1: (0, 5), 10: (1, 100), 11: (10, 20), 12: (10, 30), 20: (1, 7), 13: (11, 1)}
    assert services.tree_ticks(processes, 10) == 151
    assert services.tree_ticks(processes, 20) == 7
    assert services.tree_ticks(processes, 99) == 0
    assert services.tree_ticks(processes, None) == 0


def test_it_counts_its_own_cpu():
    ticks = services.read_processes()[os.getpid()][1]
    assert ticks >= 0
    assert services.cpu_seconds({"me": [os.getpid()]})["me"] >= ticks / services.CLOCK_TICKS


def test_it_runs_the_images_web_command_here():
    command = services.image_web_command()
    assert command[0] == "gunicorn"
    local = services.local_command(command, bind="127.0.0.1:9")
    assert local[:3] == [sys.executable, "-m", "gunicorn"]
    assert local[local.index("--bind") + 1] == "127.0.0.1:9"
    assert local[3:] == [
        w if w != command[command.index("--bind") + 1] else "127.0.0.1:9" for w in command[1:]
    ]


def test_it_runs_composes_worker_and_scheduler_commands_here(tmp_path):
    worker = services.local_command(services.compose_command("worker"))
    assert worker[:3] == [sys.executable, "-m", "celery"]
    assert "worker" in worker
    schedule = tmp_path / "schedule"
    scheduler = services.local_command(services.compose_command("scheduler"), schedule=schedule)
    assert "--beat" in scheduler
    assert scheduler[scheduler.index("--schedule") + 1] == str(schedule)


def test_it_keeps_a_nice_prefix():
    assert services.local_command(["nice", "-n", "10", "celery", "-A", "x"]) == [
        "nice", "-n", "10", sys.executable, "-m", "celery", "-A", "x",
    ]  # fmt: skip


def test_it_signals_a_whole_tree():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"],
        start_new_session=True,
    )  # fmt: skip
    try:
        services.wait_until(lambda: services.children_of(proc.pid), "the child", timeout=20)
        (child,) = services.children_of(proc.pid)
        signalled = services.signal_tree(proc.pid, 9)
        assert set(signalled) == {proc.pid, child}
        proc.wait(timeout=10)
        services.wait_until(
            lambda: not os.path.exists(f"/proc/{child}") or _zombie(child),
            "the child's end",
            timeout=20,
        )
    finally:
        services.stop_group(proc, grace=1)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server on this machine")
def test_it_starts_kills_and_restarts_a_private_redis_on_a_free_port(tmp_path):
    server = services.RedisServer(tmp_path).start()
    try:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert _ping(server.port)
        pid = server.pid
        server.kill()
        assert server.pid is None
        assert not os.path.exists(f"/proc/{pid}")
        assert not _ping(server.port)
        server.start()
        assert _ping(server.port)
    finally:
        server.stop()
    assert server.pid is None
    assert not services.port_answers(server.port)


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            deadline = time.monotonic() + 5
            data = b""
            while b"\r\n" not in data and time.monotonic() < deadline:
                data += s.recv(16)
            return data.startswith(b"+PONG")
    except OSError:
        return False


def test_it_times_a_fixed_loop_for_the_machines_speed():
    speed = services.machine_speed()
    assert 0 < speed < 60


def test_it_reads_the_hypervisors_share_of_the_cores(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    real = services.Path

    def fake_path(p):
        return stat if p == "/proc/stat" else real(p)

    monkeypatch.setattr(services, "Path", fake_path)
    stat.write_text("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n")
    since = services.steal_share()
    assert since == (1000, 40)
    stat.write_text("cpu  200 0 100 1560 20 0 0 120 0 0\n")
    assert services.steal_share(since) == pytest.approx(80 / 1000)
    stat.write_text("no numbers here\n")
    assert services.steal_share() is None
