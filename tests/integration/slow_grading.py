"""Loaded into a grading worker with `celery worker --include` by the integration tests.

Grading the exercise that STALLED_EXERCISE names hangs after the submission is
claimed, so that a test can kill the worker while it holds the lease, as an
out-of-memory kill or a lost machine would; with STALL_ONCE set, only its first take
hangs (the process that takes it again is of the same worker). Every other exercise is
graded as usual.
"""

import os
import time

from exercises import queue

STALLED_EXERCISE = os.environ.get("STALLED_EXERCISE", "")
STALL_ONCE = bool(os.environ.get("STALL_ONCE"))
_judge = queue.judge


def judge(submission, **kwargs):
    if submission.exercise.slug == STALLED_EXERCISE and not (STALL_ONCE and submission.tries > 1):
        time.sleep(3600)
    return _judge(submission, **kwargs)


if STALLED_EXERCISE:
    queue.judge = judge
