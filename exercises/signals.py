"""Signals other apps listen to, sent by the grading path.

`verdict_stored`: a submission's verdict was saved, first graded (`regrade=False`) or
changed by a regrade (`regrade=True`); sent with `submission_id`, inside the transaction
that saved it (a receiver that publishes a task does so once it commits). Also sent with
the submission's `student_id`, `exercise_id` and `problem_set_id`, so that a receiver with
nothing to do for this student or exercise can tell without reading the submission again.
"""

from django.dispatch import Signal

verdict_stored = Signal()
