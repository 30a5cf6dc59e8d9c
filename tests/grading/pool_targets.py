"""Functions that tests run in helper processes of `grading.pool`.

They live under `tests.` so that nothing of the kind ships in the grading package;
the tests use a pool that allows this prefix explicitly.
"""

import os
import signal
import time


def echo(payload: dict) -> dict:
    return {"echo": payload, "pid": os.getpid()}


def loop_forever(payload: dict) -> dict:
    while True:
        time.sleep(0.01)


def spin_forever(payload: dict) -> dict:
    # A pure-Python busy loop: nothing that a flag or signal handler could interrupt.
    n = 0
    while True:
        n += 1


def allocate_without_bound(payload: dict) -> dict:
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))


def raise_value_error(payload: dict) -> dict:
    raise ValueError(payload.get("message", "bad value"))


def die(payload: dict) -> dict:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def noisy(payload: dict) -> dict:
    print("something a careless function prints")
    return {"ok": True}


def memory_limit(payload: dict) -> dict:
    import resource

    return {"soft": resource.getrlimit(resource.RLIMIT_AS)[0]}


def not_json(payload: dict) -> dict:
    return {"value": {1, 2}}
