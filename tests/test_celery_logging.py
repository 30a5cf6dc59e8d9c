"""The worker's log: the sweep, sent every few seconds, does not drown the grading."""

import logging

import courseserver.celery  # noqa: F401  (installs the filters)


def test_it_leaves_the_sweeps_routine_lines_out_of_the_log(caplog):
    trace = logging.getLogger("celery.app.trace")
    with caplog.at_level(logging.INFO):
        trace.info("Task exercises.tasks.sweep_submissions[1] succeeded in 0.01s: {}")
        trace.info("Task exercises.tasks.grade_submission[2] succeeded in 0.02s: 'graded'")
        trace.error("Task exercises.tasks.sweep_submissions[3] raised unexpected: OperationalError")
        logging.getLogger("celery.beat").info("Scheduler: Sending due task sweep-submissions")
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "Task exercises.tasks.grade_submission[2] succeeded in 0.02s: 'graded'",
        "Task exercises.tasks.sweep_submissions[3] raised unexpected: OperationalError",
    ]
