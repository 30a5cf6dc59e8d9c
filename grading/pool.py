"""Pre-started helper processes that run a check under a deadline and a memory limit.

SymPy and mpmath cannot be interrupted from outside, so a check that may not finish
runs in a helper process that the deadline can kill. Helpers are started with
`subprocess` rather than `multiprocessing`, because a Celery prefork child is a
daemonic process and `multiprocessing` refuses to start children there. Each helper
imports SymPy, mpmath, NumPy and the engine once (about a second), then answers
requests over pipes; see `grading._worker` for the protocol.

    run_bounded("grading.engine:check_unbounded", case, timeout=2.0) -> dict

raises `TimedOut` (the helper was killed), `WorkerCrashed` (it died, typically at
its memory limit) or `RemoteError` (the function raised). The default pool is created
on first use in each process; a process forked after that (Celery forks its children
after import) starts its own.

Environment: `GRADING_POOL_SIZE` (concurrent checks per process, default 1),
`GRADING_POOL_SPARES` (warm helpers kept beyond that, default 1),
`GRADING_MEMORY_LIMIT_MB` (address-space limit of each helper, default 1024; 0 for
none), `GRADING_HELPER_MAX_CALLS` (calls before a helper is replaced, default 5000).
"""

import atexit
import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FUNC_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")

# The exit status of a helper that hit its memory limit.
EXIT_MEMORY = 70

# Generous: the first start of a helper on a busy machine loads SymPy from a cold disk.
START_TIMEOUT = 60.0


class TimedOut(Exception):
    """The call did not finish before its deadline; the helper was killed."""


class WorkerCrashed(Exception):
    """The helper died during the call (usually: it hit its memory limit)."""


class RemoteError(Exception):
    """The called function raised; `type_name` and `message` describe what it raised."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


def allowed(func: str, prefixes: tuple[str, ...]) -> bool:
    """Is `func` a "package.module:function" name under one of `prefixes`?"""
    return bool(FUNC_RE.match(func)) and func.startswith(prefixes)


def envint(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


class _Helper:
    """One helper process and the parent's end of its pipes."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.pid = proc.pid
        self.wfd = proc.stdin.fileno()
        self.rfd = proc.stdout.fileno()
        self.buffer = bytearray()
        self.ready = False
        self.calls = 0

    def read_line(self, timeout: float | None) -> bytes | None:
        """The next line from the helper, None at the deadline; EOFError if it died."""
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = None
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                return line
            if poller is None:
                poller = select.poll()
                poller.register(self.rfd, select.POLLIN)
            if deadline is None:
                events = poller.poll()
            else:
                # poll() takes whole milliseconds; round up so that we never spin.
                remaining = deadline - time.monotonic()
                events = poller.poll(max(0, math.ceil(remaining * 1000)))
                if not events:
                    if time.monotonic() >= deadline:
                        return None
                    continue
            chunk = os.read(self.rfd, 65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
            if deadline is not None and time.monotonic() > deadline:
                # poll() counts whole milliseconds: a reply read after the deadline
                # is late, however close it came.
                return None

    def poll_ready(self) -> bool:
        """Without blocking: has the helper finished starting?"""
        if not self.ready:
            try:
                line = self.read_line(0)
            except EOFError:
                return False
            if line is not None:
                self.ready = _is_ready_line(line)
        return self.ready

    def kill(self) -> int:
        """SIGKILL and reap; returns the helper's peak RSS in kB."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.reap()

    def reap(self) -> int:
        peak = 0
        if self.proc.returncode is None:
            try:
                _, status, usage = os.wait4(self.pid, 0)
            except ChildProcessError:
                status, usage = 0, None
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            if usage is not None:
                peak = usage.ru_maxrss
        self.close_pipes()
        return peak

    def close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def peak_rss_kb(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0


def _is_ready_line(line: bytes) -> bool:
    try:
        return "ready" in json.loads(line)
    except ValueError:
        return False


_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()
_fork_lock = threading.Lock()


class Pool:
    """Helper processes for bounded calls; thread-safe, `size` calls at a time."""

    def __init__(
        self,
        size: int | None = None,
        *,
        spares: int | None = None,
        allowed_prefixes: tuple[str, ...] = ("grading.",),
        memory_limit_mb: int | None = None,
        max_calls: int | None = None,
        prestart: bool = True,
    ):
        self.size = envint("GRADING_POOL_SIZE", 1, minimum=1) if size is None else size
        self.spares = envint("GRADING_POOL_SPARES", 1) if spares is None else spares
        if memory_limit_mb is None:
            memory_limit_mb = envint("GRADING_MEMORY_LIMIT_MB", 1024)
        self.memory_limit_mb = memory_limit_mb
        if max_calls is None:
            max_calls = envint("GRADING_HELPER_MAX_CALLS", 5000, minimum=1)
        self.max_calls = max_calls
        if self.size < 1:
            raise ValueError("a pool needs at least one helper")
        for prefix in allowed_prefixes:
            if not prefix.endswith(".") or prefix == ".":
                raise ValueError(f"allowed prefix {prefix!r} must be a package name and a dot")
        self.allowed_prefixes = tuple(allowed_prefixes)
        self._prestart = prestart
        self._start()
        _pools.add(self)

    def _start(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.size)
        self._idle: list[_Helper] = []
        self._busy: set[_Helper] = set()
        self._closed = False
        self._retired_peak_kb = 0
        # PR_SET_PDEATHSIG fires when the *thread* that started a helper ends, so all
        # helpers are started from this one long-lived thread, not from callers' threads.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grading-pool")
        if self._prestart:
            with self._lock:
                self._fill()

    def _popen(self) -> subprocess.Popen:
        env = dict(os.environ)
        env["GRADING_POOL_PARENT"] = str(os.getpid())
        env["GRADING_MEMORY_LIMIT_MB"] = str(self.memory_limit_mb)
        # One BLAS thread: checks are small, the machine is shared, and every idle
        # thread reserves address space that counts against the memory limit.
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, "1")
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = _PROJECT_ROOT + (os.pathsep + path if path else "")
        return subprocess.Popen(
            [sys.executable, "-m", "grading._worker", *self.allowed_prefixes],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def _fill(self) -> None:
        """Start helpers until there are `size + spares`; call with the lock held."""
        missing = self.size + self.spares - len(self._idle) - len(self._busy)
        for _ in range(missing):
            self._idle.append(_Helper(self._spawner.submit(self._popen).result()))

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            with _fork_lock:
                if self._pid != os.getpid():
                    self._forget()
                    self._start()

    def _forget(self) -> None:
        """After a fork: the helpers belong to the parent; drop our copies of their pipes."""
        for helper in [*self._idle, *self._busy]:
            helper.close_pipes()
            # Stops Popen from waiting, in this process, for a child it does not have.
            helper.proc.returncode = -1
        self._idle, self._busy = [], set()

    def _checkout(self) -> _Helper:
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._fill()
            # The most recently used ready helper: its caches are warm, and the others
            # stay spare.
            helper = next((h for h in reversed(self._idle) if h.poll_ready()), None)
            if helper is None:
                helper = self._idle[0]  # the oldest, so the closest to ready
            self._idle.remove(helper)
            self._busy.add(helper)
        if not helper.ready:
            try:
                line = helper.read_line(START_TIMEOUT)
            except EOFError:
                line = b""
            if line is None or not _is_ready_line(line):
                self._discard(helper)
                raise WorkerCrashed(f"a helper process failed to start (pid {helper.pid})")
            helper.ready = True
        return helper

    def _checkin(self, helper: _Helper) -> None:
        with self._lock:
            self._busy.discard(helper)
            if self._closed:
                helper.kill()
            else:
                self._idle.append(helper)

    def _discard(self, helper: _Helper) -> None:
        """Kill a checked-out helper and start its replacement at once."""
        rss = helper.peak_rss_kb()
        rss = max(rss, helper.kill())
        with self._lock:
            self._busy.discard(helper)
            self._retired_peak_kb = max(self._retired_peak_kb, rss)
            if not self._closed:
                self._fill()

    def run(self, func: str, payload: dict, timeout: float) -> dict:
        """`function(payload)` in a helper, within `timeout` seconds; see the module doc."""
        if not allowed(func, self.allowed_prefixes):
            raise ValueError(f"{func!r} is not a function under {', '.join(self.allowed_prefixes)}")
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        request = json.dumps(
            {"func": func, "payload": payload}, separators=(",", ":"), allow_nan=False
        ).encode()
        if b"\n" in request:  # json.dumps escapes newlines in strings; this cannot happen
            raise ValueError("request is not one line")
        self._check_fork()
        with self._slots:
            helper = self._checkout()
            try:
                _write_all(helper.wfd, request + b"\n")
                line = helper.read_line(timeout)
            except (EOFError, BrokenPipeError):
                self._discard(helper)
                raise WorkerCrashed(_death(helper)) from None
            except BaseException:
                # KeyboardInterrupt or the like in the middle of a call: the helper's
                # reply would arrive out of step with the next request.
                self._discard(helper)
                raise
            if line is None:
                self._discard(helper)
                raise TimedOut(f"{func} did not finish within {timeout:g} s")
            reply = json.loads(line)
            if "crash" in reply:
                self._discard(helper)
                raise WorkerCrashed(reply["crash"])
            helper.calls += 1
            if helper.calls >= self.max_calls:
                # SymPy's caches only grow; a fresh helper is the simplest way to bound them.
                self._discard(helper)
            else:
                self._checkin(helper)
        if "error" in reply:
            raise RemoteError(*reply["error"])
        return reply["ok"]

    def helper_pids(self) -> list[int]:
        with self._lock:
            return [h.pid for h in [*self._idle, *self._busy]]

    def peak_rss_kb(self) -> int:
        """The largest peak resident set of any helper this pool has run, in kB."""
        with self._lock:
            live = [h.peak_rss_kb() for h in [*self._idle, *self._busy]]
            return max([self._retired_peak_kb, *live])

    def shutdown(self) -> None:
        """Stop every helper (busy ones when their call returns) and wait for them."""
        if self._pid != os.getpid():
            self._forget()
            return
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for helper in idle:
            # A helper holds nothing worth saving, so there is no polite exit to wait for.
            self._retired_peak_kb = max(self._retired_peak_kb, helper.kill())
        self._spawner.shutdown(wait=False)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _death(helper: _Helper) -> str:
    code = helper.proc.returncode
    if code == EXIT_MEMORY:
        return "the helper process ran out of memory"
    if code is not None and code < 0:
        return f"the helper process was killed by signal {-code}"
    return f"the helper process exited with status {code}"


_default: Pool | None = None
_default_lock = threading.Lock()


def default_pool() -> Pool:
    """This process's pool, started on first use."""
    global _default
    with _default_lock:
        if _default is None or _default._pid != os.getpid():
            _default = Pool()
        return _default


def run_bounded(func: str, payload: dict, timeout: float) -> dict:
    """`function(payload)` for `func` = "grading.module:function", in the default pool."""
    return default_pool().run(func, payload, timeout)


def shutdown() -> None:
    """Stop the default pool's helpers; the next call starts a new pool."""
    global _default
    with _default_lock:
        pool, _default = _default, None
    if pool is not None:
        pool.shutdown()


def _shutdown_all() -> None:
    for pool in list(_pools):
        pool.shutdown()


def _after_fork_in_child() -> None:
    global _default, _default_lock, _fork_lock
    _default_lock = threading.Lock()
    _fork_lock = threading.Lock()
    for pool in list(_pools):
        if pool._pid != os.getpid():
            pool._forget()
    _default = None


atexit.register(_shutdown_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
