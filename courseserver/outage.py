"""Remembering, for a few seconds, that a service is down.

When Redis stops, every request that publishes a submission or counts a rate limit
would otherwise try to reach it again, and each try costs a connection attempt (a
refused one is quick; one to a host that vanished waits for the connect timeout). An
`Outage` notes the failure in the process and lets the callers skip the service until
it is time to try again: one request in each interval pays for the attempt.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Outage:
    """`name` failed; skip it for `seconds` after each failure."""

    # Monotonic time, in seconds; tests replace it with a fake clock.
    clock = staticmethod(time.monotonic)

    def __init__(self, name: str, seconds: float):
        self.name = name
        self.seconds = seconds
        self.until = 0.0

    def __bool__(self) -> bool:
        """Whether the service is to be skipped now."""
        return self.clock() < self.until

    def began(self) -> None:
        if not self.until:
            log.warning("%s is unreachable: skipped for %g s at a time", self.name, self.seconds)
        self.until = self.clock() + self.seconds

    def ended(self) -> None:
        if self.until:
            log.warning("%s is reachable again", self.name)
        self.until = 0.0
