"""The course's calculus and optimisation routines, used to compute expected answers.

`symbolic` (SymPy), `numeric`, `networks` and `regression` (NumPy) compute; `text`
writes a result in the student answer syntax. See docs/reference.md.
"""
