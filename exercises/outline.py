"""The course outline of the JSON API (`GET /api/modules/`), built once for everyone.

Every student's client asks for it when an exam starts: a thousand students within
seconds, each answer the same (it depends on the content and on which problem sets
have opened, never on the student) and each costing several milliseconds of queries
and serialising. A web process keeps the last outline it built for
`API_OUTLINE_CACHE_SECONDS` (default 10; 0 turns this off). A change to a module,
problem set, exercise or placement is seen at once by the process that made it (the
signals below forget the outline) and by every other process within those seconds; a
problem set that opens is listed within them too.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import F, Prefetch
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from exercises.models import Exercise, Module, Placement, ProblemSet

_kept: list = [0.0, None]  # when it expires (time.monotonic), the outline
_lock = threading.Lock()


def outline() -> list[dict]:
    """The modules in order, each with its problem sets and their exercises."""
    seconds = settings.API_OUTLINE_CACHE_SECONDS
    if seconds > 0:
        expires, kept = _kept
        if kept is not None and time.monotonic() < expires:
            return kept
    built = _build()
    if seconds > 0:
        with _lock:
            _kept[:] = [time.monotonic() + seconds, built]
    return built


def forget(*args, **kwargs) -> None:
    with _lock:
        _kept[:] = [0.0, None]


for _model in (Module, ProblemSet, Exercise, Placement):
    receiver(post_save, sender=_model, dispatch_uid=f"outline-save-{_model.__name__}")(forget)
    receiver(post_delete, sender=_model, dispatch_uid=f"outline-delete-{_model.__name__}")(forget)


def _build() -> list[dict]:
    modules = Module.objects.prefetch_related(
        Prefetch(
            "problem_sets",
            queryset=ProblemSet.objects.prefetch_related(
                Prefetch("exercises", queryset=Exercise.published.all()),
                Prefetch(
                    "placements",
                    queryset=Placement.objects.filter(exercise__status=Exercise.Status.PUBLISHED)
                    .exclude(exercise__problem_set=F("problem_set"))
                    .select_related("exercise"),
                ),
            ),
        )
    )
    return [
        {
            "slug": m.slug,
            "title": m.title,
            "problem_sets": [
                {
                    "slug": ps.slug,
                    "title": ps.title,
                    "exercises": [{"slug": e.slug, "title": e.title} for e in ps.exercises.all()],
                    "placed": [
                        {"slug": p.exercise.slug, "title": p.exercise.title}
                        for p in ps.placements.all()
                        if ps.is_open()
                    ],
                }
                for ps in m.problem_sets.all()
            ],
        }
        for m in modules
    ]
