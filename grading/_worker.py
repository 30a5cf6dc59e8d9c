"""The helper process of `grading.pool`: `python -m grading._worker PREFIX...`.

It runs one call at a time for its parent. The protocol is line-delimited JSON on
stdin and on a private copy of stdout:

    parent -> helper   {"func": "grading.engine:check_unbounded", "payload": {...}}
    helper -> parent   {"ready": pid}                      once, after the imports
                       {"ok": {...}}                       the function's result
                       {"error": ["TypeName", "message"]}  it raised
                       {"crash": "MemoryError: ..."}       then the helper exits

It exits when its stdin closes, and on Linux when its parent dies (PR_SET_PDEATHSIG),
so that a parent killed in the middle of a long check leaves nothing behind.
"""

import importlib
import json
import os
import resource
import signal
import sys

from grading.pool import EXIT_MEMORY, allowed

PRELOAD = ("numpy", "mpmath", "sympy", "grading.engine")

# Checked once at start-up, before the helper reports ready: a first check otherwise
# pays for lazy imports and cold caches (tens of milliseconds instead of one or two).
WARM_UP = (
    (
        "grading.engine:check_unbounded",
        {
            "kind": "expression",
            "expected": "2x cos(x^2)",
            "answer": "2 x cos(x x) + 0.5",
            "variables": ["x"],
        },
    ),
    ("grading.engine:check_unbounded", {"kind": "numeric", "expected": "pi/4", "answer": "0.7854"}),
)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    # The parent may have died between fork and prctl: then we were re-parented.
    if os.getppid() != int(os.environ.get("GRADING_POOL_PARENT", os.getppid())):
        os._exit(0)


def _limit_memory() -> None:
    megabytes = int(os.environ.get("GRADING_MEMORY_LIMIT_MB", "1024"))
    if megabytes <= 0:
        return
    limit = megabytes * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def _call(func: str, payload: object, prefixes: tuple[str, ...]) -> bytes:
    """The reply line for one request."""
    if not allowed(func, prefixes):
        return _encode({"error": ["PermissionError", f"{func!r} is not an allowed function"]})
    module_name, _, name = func.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), name)
        return _encode({"ok": target(payload)})
    except MemoryError:
        raise
    except Exception as exc:  # the caller decides what a failure of the function means
        return _encode({"error": [type(exc).__name__, str(exc)]})


def _write(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def main(argv: list[str]) -> int:
    _die_with_parent()
    # Anything a called function prints must not corrupt the protocol: keep a private
    # copy of stdout for replies and point fd 1 at stderr.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    # Stop the parent's Ctrl-C from killing helpers in the middle of a reply; the
    # parent shuts them down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory()
    prefixes = tuple(argv) or ("grading.",)
    for module_name in PRELOAD:
        try:
            importlib.import_module(module_name)
        except ImportError as exc:
            print(f"grading helper: cannot preload {module_name}: {exc}", file=sys.stderr)
    for func, payload in WARM_UP:
        _call(func, payload, ("grading.",))
    _write(reply_fd, _encode({"ready": os.getpid()}))

    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return 0
        try:
            request = json.loads(line)
            func, payload = request["func"], request["payload"]
        except (ValueError, KeyError, TypeError) as exc:
            _write(reply_fd, _encode({"error": ["ProtocolError", str(exc)]}))
            continue
        try:
            reply = _call(func, payload, prefixes)
        except MemoryError as exc:
            # Whatever state SymPy's caches are in now is suspect: report and leave.
            try:
                _write(reply_fd, _encode({"crash": f"MemoryError: {exc}"}))
            finally:
                os._exit(EXIT_MEMORY)
        _write(reply_fd, reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
