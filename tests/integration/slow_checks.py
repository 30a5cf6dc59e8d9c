"""Loaded into a grading worker with `celery worker --include` by the integration tests.

Checking an answer that contains SLOW_ANSWER takes SLOW_SECONDS (2) longer, as a
costly answer would; every other answer is checked as usual.
"""

import json
import os
import time

import grading

SLOW_ANSWER = os.environ.get("SLOW_ANSWER", "")
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "2"))
_check = grading.check


def check(case, **kwargs):
    if SLOW_ANSWER in json.dumps(case):
        time.sleep(SLOW_SECONDS)
    return _check(case, **kwargs)


if SLOW_ANSWER:
    grading.check = check
