"""The grading engine: reads what a student typed and judges it against the expected answer.

Plain Python (SymPy, NumPy, mpmath); nothing here imports Django. The contract it
implements is the project's answer specification: see README and docs.
"""

from grading.engine import ENGINE_VERSION, Unavailable, Verdict, check, validate

__all__ = ["ENGINE_VERSION", "Unavailable", "Verdict", "check", "validate"]
