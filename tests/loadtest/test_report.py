"""The load driver's arithmetic (`loadtest.report`): no server, no Locust."""

import pytest

from loadtest import report
from loadtest.report import Phase, Request

SUBMIT = "/api/exercises/[slug]/submissions/"


def test_it_takes_percentiles_by_nearest_rank():
    values = list(range(1, 101))
    assert report.percentile(values, 50) == 50
    assert report.percentile(values, 95) == 95
    assert report.percentile(values, 99) == 99
    assert report.percentile(values, 100) == 100
    assert report.percentile([7.0], 95) == 7.0
    assert report.percentile([3, 1, 2], 50) == 2


def test_it_has_no_percentile_of_nothing():
    assert report.percentile([], 95) is None
    assert report.ms(None) == "—"


def test_it_writes_milliseconds_and_seconds():
    assert report.ms(88.4) == "88 ms"
    assert report.ms(2900) == "2.9 s"


def test_it_counts_per_endpoint_and_all():
    requests = [
        Request(1.0, "/a", 10, 200),
        Request(1.1, "/a", 30, 500),
        Request(1.2, "/b", 20, 202),
        Request(1.3, "/b", 40, 0),
        Request(1.4, "/b", 5, 429),
    ]
    rows = {e.name: e for e in report.endpoints(requests)}
    assert list(rows) == ["/a", "/b", "all"]
    assert rows["/a"].count == 2 and rows["/a"].failures == 1
    assert rows["/b"].failures == 1  # no answer is a failure, a 429 is not
    assert rows["/b"].statuses == {0: 1, 202: 1, 429: 1}
    assert rows["all"].count == 5 and rows["all"].failures == 2
    assert rows["all"].p50 == 20


def test_it_splits_cpu_per_verdict():
    before = {"web": 10.0, "worker": 5.0, "database": 2.0}
    after = {"web": 12.0, "worker": 6.5, "database": 2.5}
    cpu = report.cpu_per_verdict(before, after, 100)
    assert cpu["web"] == pytest.approx(20.0)
    assert cpu["worker"] == pytest.approx(15.0)
    assert cpu["database"] == pytest.approx(5.0)
    assert cpu["all"] == pytest.approx(40.0)


def test_it_has_no_cpu_per_verdict_without_verdicts():
    assert report.cpu_per_verdict({"web": 1.0}, {"web": 2.0}, 0) == {"web": None, "all": None}


def test_it_times_verdicts_from_submit_to_first_sight():
    sent = {1: 100.0, 2: 100.5, 3: 101.0}
    seen = {1: 100.6, 2: 101.5}
    assert sorted(report.verdict_times(sent, seen)) == pytest.approx([600.0, 1000.0])


def test_it_allows_503_with_retry_after_only_while_the_database_is_down():
    db = Phase("postgresql", 100, 200, down=110, up=120, database_down=True)
    redis = Phase("redis", 100, 200, down=110, up=120)
    assert report.allowed_failure(Request(115, SUBMIT, 5, 503, True), db)
    assert not report.allowed_failure(Request(115, SUBMIT, 5, 503, False), db)
    assert not report.allowed_failure(Request(115, SUBMIT, 5, 500, True), db)
    assert not report.allowed_failure(Request(160, SUBMIT, 5, 503, True), db)
    assert not report.allowed_failure(Request(115, SUBMIT, 5, 503, True), redis)


def test_it_reports_each_phase():
    phases = [
        Phase("before", 0, 100),
        Phase("redis", 100, 200, down=100, up=110),
    ]
    requests = [
        Request(50, SUBMIT, 30, 202),
        Request(101, SUBMIT, 40, 500),
        Request(105, SUBMIT, 60, 500),
        Request(106, "/api/submissions/[id]/", 10, 200),
        Request(112, SUBMIT, 20, 202),
        Request(130, SUBMIT, 25, 202),
    ]
    before, redis = report.phases_report(requests, phases, SUBMIT)
    assert (before.requests, before.failures, before.submits_ok_after) == (1, 0, 0.0)
    assert (redis.requests, redis.failures, redis.allowed) == (5, 2, 0)
    assert redis.failed_by == {f"{SUBMIT} 500": 2}
    assert redis.submits_ok_after == pytest.approx(12.0)
    # Submits sent while Redis was down: 40 and 60 ms.
    assert (redis.submit_p50, redis.submit_p95) == (40, 60)


def test_it_puts_a_request_in_the_phase_it_was_answered_in():
    phases = [Phase("before", 0, 100), Phase("postgresql", 100, 200, down=100, up=110)]
    late = Request(99.5, SUBMIT, 1500, 500)
    before, db = report.phases_report([late], phases, SUBMIT)
    assert (before.requests, db.requests, db.failures) == (0, 1, 1)


def test_it_counts_only_failures_against_recovery():
    phases = [Phase("redis", 0, 100, down=0, up=10)]
    requests = [Request(1, SUBMIT, 5, 500), Request(5, SUBMIT, 5, 202), Request(8, SUBMIT, 5, 429)]
    (result,) = report.phases_report(requests, phases, SUBMIT)
    assert result.submits_ok_after == 5


def test_it_says_when_submits_never_succeeded_again():
    phases = [Phase("postgresql", 0, 100, down=0, up=10, database_down=True)]
    (result,) = report.phases_report([Request(1, SUBMIT, 5, 503, True)], phases, SUBMIT)
    assert result.submits_ok_after is None
    assert (result.failures, result.allowed) == (0, 1)


def test_it_lines_up_a_table():
    text = report.format_table(["a", "bb"], [["xyz", 1]])
    assert text.splitlines() == ["| a   | bb |", "|-----|----|", "| xyz | 1  |"]
