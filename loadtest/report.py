"""The arithmetic of a load run's report: percentiles, per-endpoint figures, CPU per
verdict, and the fault drill's phases. Plain Python on plain values, so that it is
tested without a server or Locust."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) by the nearest-rank method: a value that occurred.
    None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(value: float | None) -> str:
    """Milliseconds, readably: "88 ms", "2.9 s", "—"."""
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


@dataclass(frozen=True)
class Request:
    """One request as the client saw it: when it was sent (epoch seconds), its endpoint,
    its time in milliseconds, its status (0: no response) and whether it had Retry-After."""

    t: float
    name: str
    ms: float
    status: int
    retry_after: bool = False

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 500


@dataclass
class Endpoint:
    name: str
    count: int
    failures: int
    p50: float | None
    p95: float | None
    p99: float | None
    statuses: dict[int, int]


def endpoints(requests: Sequence[Request]) -> list[Endpoint]:
    """Per endpoint, and "all" last: counts, 5xx and connection failures, percentiles."""
    by_name: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        by_name[r.name].append(r)
    rows = []
    for name in sorted(by_name):
        rows.append(_endpoint(name, by_name[name]))
    if requests:
        rows.append(_endpoint("all", requests))
    return rows


def _endpoint(name: str, requests: Sequence[Request]) -> Endpoint:
    times = [r.ms for r in requests]
    statuses: dict[int, int] = defaultdict(int)
    for r in requests:
        statuses[r.status] += 1
    return Endpoint(
        name=name,
        count=len(requests),
        failures=sum(r.failed for r in requests),
        p50=percentile(times, 50),
        p95=percentile(times, 95),
        p99=percentile(times, 99),
        statuses=dict(sorted(statuses.items())),
    )


def cpu_per_verdict(
    before: dict[str, float], after: dict[str, float], verdicts: int
) -> dict[str, float | None]:
    """Milliseconds of CPU per verdict in each group of processes, and in all together."""
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    used["all"] = sum(used.values())
    if verdicts <= 0:
        return {name: None for name in used}
    return {name: 1000 * seconds / verdicts for name, seconds in used.items()}


@dataclass(frozen=True)
class Phase:
    """A span of a fault drill: from `start` (the fault, or the run's start) to `end`,
    and, while a service is down, from `down` to `up`."""

    name: str
    start: float
    end: float
    down: float | None = None
    up: float | None = None
    # 503 with Retry-After while this was down is the answer the app promises.
    database_down: bool = False


@dataclass
class PhaseResult:
    name: str
    requests: int
    failures: int
    allowed: int
    submits_ok_after: float | None
    submit_p50: float | None
    submit_p95: float | None
    # "endpoint status" → count, for the failures that are not allowed.
    failed_by: dict[str, int] = field(default_factory=dict)


def phase_of(t: float, phases: Sequence[Phase]) -> Phase | None:
    for phase in phases:
        if phase.start <= t < phase.end:
            return phase
    return None


def allowed_failure(r: Request, phase: Phase) -> bool:
    """A 503 with Retry-After while the database is down (within a few seconds around
    the outage, as connections notice it) is the promised answer; nothing else is."""
    if not phase.database_down or phase.down is None:
        return False
    up = phase.up if phase.up is not None else phase.end
    return r.status == 503 and r.retry_after and phase.down - 1 <= r.t <= up + 5


def phases_report(
    requests: Sequence[Request], phases: Sequence[Phase], submit: str
) -> list[PhaseResult]:
    """Per phase (requests by when they were answered): requests, failures (5xx or no
    answer) not allowed, those allowed, when submits succeeded again after the fault
    (seconds from its start to the first 202 sent after the last failed submit), and
    submit latency while the service was down."""
    results = []
    for phase in phases:
        # By when the answer came: a request sent just before a fault and answered after
        # it (a 500 as the database goes down) belongs to the fault.
        inside = [r for r in requests if phase.start <= r.t + r.ms / 1000 < phase.end]
        allowed = [r for r in inside if r.failed and allowed_failure(r, phase)]
        failed = [r for r in inside if r.failed and not allowed_failure(r, phase)]
        submits = [r for r in inside if r.name == submit]
        bad = [r.t for r in submits if r.failed]
        ok_after = None
        if bad:
            later = [r.t for r in submits if r.status == 202 and r.t > max(bad)]
            ok_after = min(later) - phase.start if later else None
        elif submits:
            ok_after = 0.0
        down_submits = [
            r.ms
            for r in submits
            if phase.down is not None and phase.down <= r.t < (phase.up or phase.end)
        ]
        results.append(
            PhaseResult(
                name=phase.name,
                requests=len(inside),
                failures=len(failed),
                allowed=len(allowed),
                submits_ok_after=ok_after,
                submit_p50=percentile(down_submits, 50),
                submit_p95=percentile(down_submits, 95),
                failed_by=dict(sorted(Counter(f"{r.name} {r.status}" for r in failed).items())),
            )
        )
    return results


def verdict_times(sent: dict[int, float], seen: dict[int, float]) -> list[float]:
    """Milliseconds from each submit sent to the first answer showing its verdict."""
    return [1000 * (seen[i] - sent[i]) for i in sent if i in seen]


def format_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table, columns padded to line up in a terminal too."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [line([str(h) for h in header]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        + [line(r) for r in rows]
    )
