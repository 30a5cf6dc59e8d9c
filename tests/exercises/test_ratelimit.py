"""Rate limits (exercises/ratelimit.py): budgets, refusals, recovery, a cache that is down,
and the client's address behind proxies."""

import ipaddress
import json
import logging

import pytest
from rest_framework.authtoken.models import Token

from exercises import ratelimit
from exercises.models import Submission
from tests.conftest import make_submission

pytestmark = pytest.mark.django_db

LIMITS = [
    ratelimit.LOGIN,
    ratelimit.PREVIEW,
    ratelimit.SUBMISSION,
    ratelimit.API_TOKEN,
    ratelimit.API_SUBMISSION,
]

# A closed port: every cache operation fails as it does when Redis is down.
REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    # The start of a window, far from any real time.
    fake = FakeClock(3600.0 * 24 * 1000)
    monkeypatch.setattr(ratelimit, "clock", fake)
    return fake


def budget_of(settings, limit: ratelimit.Limit, budget: int) -> None:
    setattr(settings, limit.setting, budget)


def post_json(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def api(client, alice):
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


# ---------------------------------------------------------------- the mechanism


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
def test_it_refuses_past_the_budget_and_recovers_after_the_window(limit, settings, clock):
    budget_of(settings, limit, 3)
    assert [limit.hit("alice") for _ in range(3)] == [None, None, None]
    refusal = limit.hit("alice")
    assert refusal == ratelimit.Refusal(limit.message, refusal.retry_after)
    assert 0 < refusal.retry_after <= 2 * limit.window
    start = clock.now

    clock.now = start + refusal.retry_after - 1
    assert limit.hit("alice") is not None
    clock.now = start + refusal.retry_after
    assert limit.hit("alice") is None


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
def test_it_counts_each_client_apart(limit, settings, clock):
    budget_of(settings, limit, 1)
    assert limit.hit("alice") is None
    assert limit.hit("alice") is not None
    assert limit.hit("bob") is None


def test_it_counts_the_previous_window_for_the_part_still_covered(settings, clock):
    limit = ratelimit.PREVIEW
    budget_of(settings, limit, 4)
    clock.now += 59
    assert [limit.hit("alice") for _ in range(4)] == [None] * 4
    # A second into the next window: most of those four still count.
    clock.now += 2
    assert limit.hit("alice") is not None
    # Halfway through it, half of them do.
    clock.now += 29
    assert [limit.hit("alice") for _ in range(2)] == [None, None]
    assert limit.hit("alice") is not None


def test_it_does_not_count_refused_actions(settings, clock):
    limit = ratelimit.LOGIN
    budget_of(settings, limit, 2)
    limit.hit("10.0.0.1")
    limit.hit("10.0.0.1")
    first = limit.hit("10.0.0.1")
    for _ in range(50):
        assert limit.hit("10.0.0.1") == first
    clock.now += first.retry_after
    assert limit.hit("10.0.0.1") is None


def test_it_refuses_a_student_with_answers_waiting_for_their_verdict(alice, exercise, settings):
    settings.SUBMISSIONS_IN_FLIGHT = 2
    make_submission(alice, exercise, status="queued")
    assert ratelimit.submission(alice) is None
    make_submission(alice, exercise, status="grading")
    refusal = ratelimit.submission(alice)
    assert "still being graded" in refusal.message
    assert refusal.retry_after > 0


# ---------------------------------------------------------------- the pages and the API


def test_it_tells_the_api_client_when_to_try_again(api, exercise, settings, clock):
    settings.API_SUBMISSIONS_PER_MINUTE = 1
    url = f"/api/exercises/{exercise.slug}/submissions/"
    assert post_json(api, url, {"answers": {"a": "x"}}).status_code == 202
    refused = post_json(api, url, {"answers": {"a": "2x"}})
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(ratelimit.API_SUBMISSION.message)
    assert int(refused["Retry-After"]) > 0
    assert Submission.objects.count() == 1


def test_it_answers_a_refused_api_submission_with_retry_after(api, exercise, settings, clock):
    settings.SUBMISSIONS_PER_MINUTE = 1
    url = f"/api/exercises/{exercise.slug}/submissions/"
    assert post_json(api, url, {"answers": {"a": "x"}}).status_code == 202
    refused = post_json(api, url, {"answers": {"a": "2x"}})
    assert refused.status_code == 429
    assert refused.json()["detail"] == ratelimit.SUBMISSION.message
    assert int(refused["Retry-After"]) > 0
    assert Submission.objects.count() == 1


def test_it_says_when_to_sign_in_again(client, alice, settings, clock):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 1
    client.post("/login/", {"username": "alice", "password": "wrong"})
    refused = client.post("/login/", {"username": "alice", "password": "alice-password"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert ratelimit.LOGIN.message in refused.content.decode()
    assert "_auth_user_id" not in client.session


# ---------------------------------------------------------------- the cache is down


def test_it_lets_everything_through_when_the_cache_is_down(settings, caplog):
    settings.CACHES = REDIS_DOWN
    for limit in LIMITS:
        budget_of(settings, limit, 1)
    with caplog.at_level(logging.WARNING, logger="exercises.ratelimit"):
        for limit in LIMITS:
            assert [limit.hit("alice") for _ in range(3)] == [None] * 3
    assert "the cache is unreachable" in caplog.text


def test_it_accepts_api_submissions_when_the_cache_is_down(api, exercise, settings):
    settings.CACHES = REDIS_DOWN
    response = post_json(
        api, f"/api/exercises/{exercise.slug}/submissions/", {"answers": {"a": "2x"}}
    )
    assert response.status_code == 202
    assert Submission.objects.get().answers == {"a": "2x"}


def test_it_still_limits_submissions_in_flight_when_the_cache_is_down(
    alice_client, alice, exercise, settings
):
    settings.CACHES = REDIS_DOWN
    settings.SUBMISSIONS_IN_FLIGHT = 1
    make_submission(alice, exercise, status="queued")
    response = alice_client.post(f"/exercises/{exercise.slug}/", {"answer-a": "2x"})
    assert response.status_code == 429
    assert Submission.objects.count() == 1


def test_it_signs_in_and_previews_when_the_cache_is_down(client, alice, exercise, settings):
    settings.CACHES = REDIS_DOWN
    response = client.post("/login/", {"username": "alice", "password": "alice-password"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    preview = client.get(f"/exercises/{exercise.slug}/preview/", {"part": "a", "answer": "2x"})
    assert preview.json()["ok"] is True


def test_it_stops_asking_a_cache_that_is_down_for_a_few_seconds(settings, monkeypatch):
    settings.CACHES = REDIS_DOWN
    budget_of(settings, ratelimit.SUBMISSION, 1)
    now = [1000.0]
    monkeypatch.setattr(ratelimit.cache_outage, "clock", lambda: now[0])
    from django.core.cache.backends.redis import RedisCache

    asked = []
    real_add = RedisCache.add

    def add(self, *args, **kwargs):
        asked.append(args[0])
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(RedisCache, "add", add)
    assert [ratelimit.SUBMISSION.hit("alice") for _ in range(5)] == [None] * 5
    assert len(asked) == 1  # one request paid for finding it down

    now[0] += ratelimit.cache_outage.seconds
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ratelimit.SUBMISSION.hit("alice") is None
    assert ratelimit.SUBMISSION.hit("alice") is not None  # counted again: over its budget of 1
    assert not ratelimit.cache_outage


# ---------------------------------------------------------------- the client's address


def make_request(rf, forwarded: str = "", remote: str = "192.0.2.9"):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return rf.get("/", REMOTE_ADDR=remote, **extra)


def test_it_ignores_x_forwarded_for_without_trusted_proxies(rf, settings):
    settings.TRUSTED_PROXIES = 0
    assert ratelimit.client_address(make_request(rf, "10.0.0.1")) == "192.0.2.9"


def test_it_reads_the_address_the_trusted_proxy_saw(rf, settings):
    settings.TRUSTED_PROXIES = 1
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("192.0.2.0/24")]
    # The client wrote "10.6.6.6" itself; the proxy appended the address it saw.
    assert ratelimit.client_address(make_request(rf, "10.6.6.6, 10.0.0.1")) == "10.0.0.1"
    assert ratelimit.client_address(make_request(rf, "")) == "192.0.2.9"


def test_it_ignores_x_forwarded_for_from_a_client_that_is_no_proxy(rf, settings):
    settings.TRUSTED_PROXIES = 1
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    # 192.0.2.9 reached the app directly: what it says it is counts for nothing.
    assert ratelimit.client_address(make_request(rf, "10.6.6.6")) == "192.0.2.9"
    assert ratelimit.client_address(make_request(rf, "10.6.6.6", remote="10.0.0.1")) == "10.6.6.6"


def test_it_believes_each_hop_only_while_it_is_a_trusted_proxy(rf, settings):
    settings.TRUSTED_PROXIES = 2
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    inner = make_request(rf, "198.51.100.7, 10.0.0.2", remote="10.0.0.1")
    assert ratelimit.client_address(inner) == "198.51.100.7"
    # The second hop is no proxy of ours: it is the client, whatever it forwarded.
    spoofed = make_request(rf, "198.51.100.7, 203.0.113.9", remote="10.0.0.1")
    assert ratelimit.client_address(spoofed) == "203.0.113.9"


def test_it_throttles_token_requests_whatever_x_forwarded_for_says(client, alice, settings, clock):
    settings.API_TOKEN_REQUESTS_PER_MINUTE = 2
    codes = [
        post_json(
            client,
            "/api/auth/token/",
            {"username": "alice", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]


def test_it_throttles_token_requests_by_the_address_behind_the_proxy(
    client, alice, settings, clock
):
    settings.API_TOKEN_REQUESTS_PER_MINUTE = 2
    settings.TRUSTED_PROXIES = 1

    def ask(forwarded: str) -> int:
        body = {"username": "alice", "password": "x"}
        return post_json(
            client, "/api/auth/token/", body, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [ask(f"10.6.6.{n}, 10.0.0.1") for n in range(3)] == [400, 400, 429]
    assert ask("10.0.0.2") == 400


def test_it_throttles_token_requests_from_outside_the_proxies_networks_by_their_address(
    client, alice, settings, clock
):
    settings.API_TOKEN_REQUESTS_PER_MINUTE = 2
    settings.TRUSTED_PROXIES = 1
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]

    def ask(forwarded: str) -> int:
        body = {"username": "alice", "password": "x"}
        return post_json(
            client, "/api/auth/token/", body, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # The test client connects from 127.0.0.1, which is no proxy here.
    assert [ask(f"10.6.6.{n}") for n in range(3)] == [400, 400, 429]


def test_it_throttles_the_admin_log_in_like_the_sites(client, charlie, settings, clock):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 3
    wrong = [
        client.post("/admin/login/", {"username": "charlie", "password": "wrong"}) for _ in range(3)
    ]
    assert [r.status_code for r in wrong] == [200, 200, 200]
    refused = client.post("/admin/login/", {"username": "charlie", "password": "charlie-password"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert ratelimit.LOGIN.message in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # The site's log-in and the admin's share one budget per address.
    assert client.post("/login/", {"username": "charlie", "password": "x"}).status_code == 429


def test_it_lets_the_admin_log_in_within_the_budget(client, charlie, settings, clock):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 3
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "charlie", "password": "charlie-password"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(charlie.pk)
    assert client.get("/admin/login/").status_code in {200, 302}
