"""Auth, re-login, rate limits, timeouts, TLS and quota headroom, through simple-salesforce."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import responses
import structlog

from syncd.connectors import FatalSyncError, RetriableError
from syncd.testing.httpfake import Fault, FaultKind
from syncd_salesforce.errors import CONCURRENCY_RETRY_S, DAILY_LIMIT_RETRY_S
from syncd_salesforce.fake import sf_error
from syncd_salesforce.sandbox import key_pair, write_secret
from syncd_salesforce.testkit import CONSUMER_SECRET, LocalOrg, Sleeps, StepClock, read_all
from syncd_salesforce.transport import SalesforceAdapter, UsageWatcher, build_session


def test_jwt_bearer_login_is_verified_with_the_apps_certificate(org: LocalOrg) -> None:
    """The fake checks the assertion's signature: the configured key logs in."""
    org.closed_lost()
    events, _ = read_all(org.connector())
    assert len(events) == 1
    assert org.fake.count(path="/oauth2/token") == 1


def test_a_key_the_app_does_not_know_is_fatal(org: LocalOrg, tmp_path: Path) -> None:
    """An assertion signed with another key is refused (invalid_grant): the shard stops."""
    stranger = tmp_path / "other.key"
    write_secret(stranger, key_pair()[0])
    with pytest.raises(FatalSyncError, match="invalid_grant"):
        read_all(org.connector(private_key=f"file:{stranger}"))


def test_client_credentials_login(org: LocalOrg, tmp_path: Path) -> None:
    """Client credentials work on a My Domain; a wrong secret is fatal."""
    good, bad = tmp_path / "secret", tmp_path / "wrong"
    write_secret(good, CONSUMER_SECRET)
    write_secret(bad, "not-the-secret")
    org.closed_lost()
    conn = org.connector(
        auth="client_credentials", consumer_secret=f"file:{good}", my_domain="acme.my"
    )
    assert len(read_all(conn)[0]) == 1
    with pytest.raises(FatalSyncError, match="invalid_client"):
        read_all(
            org.connector(
                auth="client_credentials", consumer_secret=f"file:{bad}", my_domain="acme.my"
            )
        )


def test_expired_session_logs_in_again_and_carries_on(org: LocalOrg) -> None:
    """After the org ends the session, the next call logs in again instead of failing."""
    org.closed_lost()
    conn = org.connector()
    events, cursor = read_all(conn)
    org.closed_lost()
    org.fake.expire_sessions()
    events, _ = read_all(conn, cursor)
    assert len(events) == 1
    assert org.fake.count(path="/oauth2/token") == 2


def test_bulk_jobs_get_a_fresh_login_after_expiry(org: LocalOrg) -> None:
    """Bulk API 2.0 never re-logs in by itself: the client does, and reads the same page of
    the same job again (no job is started twice)."""
    org.closed_lost_many(150)
    org.fake.inject(
        Fault(
            FaultKind.STATUS,
            sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"),
            method="GET",
            path=r"/jobs/query/\w+/results",
        )
    )
    events, _ = read_all(org.connector(bulk_threshold=100))
    assert len({e.event_id for e in events}) == 150
    assert org.fake.count(path="/oauth2/token") == 2
    assert org.fake.count("POST", "/jobs/query") == 3  # one job each, none restarted


def test_revoked_credentials_are_fatal(org: LocalOrg) -> None:
    """A session ended and the login refused is FatalSyncError, not a retry loop."""
    org.closed_lost()
    conn = org.connector()
    read_all(conn)
    org.fake.revoke_credentials()
    with pytest.raises(FatalSyncError):
        read_all(conn)
    assert org.fake.count(path="/oauth2/token") == 2


def test_concurrency_limits_back_off_and_retry(org: LocalOrg, sleeps: Sleeps) -> None:
    """REQUEST_LIMIT_EXCEEDED for concurrency waits a few seconds in the call, then succeeds."""
    org.closed_lost()
    org.fake.fail_with(
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentPerOrgLongTxn Limit exceeded.",
        times=2,
        path="/query",
    )
    events, _ = read_all(org.connector(sleep=sleeps))
    assert len(events) == 1
    assert len(sleeps) == 2 and min(sleeps) >= CONCURRENCY_RETRY_S


def test_the_daily_limit_pauses_the_shard_instead_of_sleeping(
    org: LocalOrg, sleeps: Sleeps
) -> None:
    """TotalRequests exceeded is raised at once, retriable after a long wait."""
    org.closed_lost()
    conn = org.connector(sleep=sleeps)
    read_all(conn)
    org.fake.api_limit = org.fake.api_used
    with pytest.raises(RetriableError) as raised:
        read_all(conn)
    assert raised.value.retry_after_s == DAILY_LIMIT_RETRY_S and sleeps == []


def test_server_errors_are_retried_then_surface_as_retriable(org: LocalOrg, sleeps: Sleeps) -> None:
    """5xx is retried with back-off inside the call; a lasting outage raises RetriableError."""
    org.closed_lost()
    unavailable = sf_error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
    org.fake.inject(Fault(FaultKind.STATUS, unavailable, path="/query", times=2))
    assert len(read_all(org.connector(sleep=sleeps))[0]) == 1
    assert len(sleeps) == 2
    org.fake.inject(Fault(FaultKind.STATUS, unavailable, path="/query", times=10))
    with pytest.raises(RetriableError):
        read_all(org.connector(sleep=sleeps, retry_attempts=3))


def test_every_call_has_a_timeout(org: LocalOrg, sleeps: Sleeps) -> None:
    """A stalled response ends after timeout_s as a retriable error, never a hang."""
    org.closed_lost()
    conn = org.connector(sleep=sleeps, timeout_s=0.2, retry_attempts=1)
    read_all(conn)  # logged in, profile loaded
    org.fake.inject(Fault(FaultKind.TIMEOUT, hold_s=2.0, path="/query"))
    with pytest.raises(RetriableError, match="timed out"):
        read_all(conn)


def test_the_governor_keeps_to_syncds_share_of_the_daily_budget(
    org: LocalOrg, sleeps: Sleeps
) -> None:
    """Once the org's usage passes api_share of its limit, calls stop with a long retry."""
    org.closed_lost()
    org.fake.api_limit = 1000
    org.fake.api_used = 596
    conn = org.connector(sleep=sleeps, api_share=0.6)
    read_all(conn)
    remaining = conn.quota_remaining()
    assert remaining is not None and remaining < 0.41
    with pytest.raises(RetriableError, match="budget"):
        read_all(conn)
    assert sleeps == []


def test_quota_headroom_is_logged_when_it_moves(org: LocalOrg) -> None:
    """Sforce-Limit-Info after every call becomes `quota.headroom` log lines with ids only."""
    org.closed_lost_many(30)
    org.fake.api_limit = 100
    org.fake.api_used = 0
    before = org.fake.count(path="/services/data/")
    with structlog.testing.capture_logs() as logs:
        read_all(org.connector(api_share=0.5, page_size=200))
        calls = org.fake.count(path="/services/data/") - before
    headroom = [e for e in logs if e["event"] == "quota.headroom"]
    assert 2 <= len(headroom) < calls  # every 5 % of the share, not every call
    assert [e["headroom"] for e in headroom] == sorted(
        (e["headroom"] for e in headroom), reverse=True
    )
    assert set(headroom[0]) == {
        "event",
        "log_level",
        "budget",
        "used",
        "limit",
        "share",
        "headroom",
    }


@responses.activate
def test_tls_verification_cannot_be_switched_off() -> None:
    """Real hosts keep their https URL and verification, even if a caller passes verify=False."""
    responses.add(
        responses.GET, "https://acme.my.salesforce.com/services/data/v59.0/limits/", json={}
    )
    adapter = SalesforceAdapter(timeout_s=7.0, verify="/etc/corp-ca.pem", base_url=None)
    session = requests.Session()
    session.mount("https://", adapter)
    session.get("https://acme.my.salesforce.com/services/data/v59.0/limits/", verify=False)
    [call] = responses.calls
    assert call.request.url == "https://acme.my.salesforce.com/services/data/v59.0/limits/"
    assert call.request.req_kwargs["verify"] == "/etc/corp-ca.pem"
    assert call.request.req_kwargs["timeout"] == 7.0


def test_sessions_use_the_configured_ca_bundle(org: LocalOrg) -> None:
    """build_session mounts the adapter with the CA bundle and the timeout from the settings."""
    settings = org.settings(ca_bundle="/etc/corp-ca.pem", timeout_s=12.0)
    session = build_session(settings, UsageWatcher(lambda *_: None, 0.5))
    adapter = session.get_adapter("https://acme.my.salesforce.com/")
    assert isinstance(adapter, SalesforceAdapter)
    assert (adapter.verify, adapter.timeout_s) == ("/etc/corp-ca.pem", 12.0)


def test_no_request_follows_a_429_or_503_sooner_than_its_retry_after(org: LocalOrg) -> None:
    """A 429 asking for 12 s and a 503 asking for 9 s (both above syncd's own back-off): the
    fake, on the client's clock, sees each retry come no sooner than the answer asked."""
    org.closed_lost()
    clock = StepClock()
    org.fake.request_clock = clock
    busy = sf_error(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests")
    busy.headers["Retry-After"] = "12"
    down = sf_error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
    down.headers["Retry-After"] = "9"
    org.fake.inject(Fault(FaultKind.STATUS, busy, path="/query"))
    org.fake.inject(Fault(FaultKind.STATUS, down, path="/query"))
    assert len(read_all(org.connector(sleep=clock.sleep))[0]) == 1
    served = org.fake.calls(path=r"/query/?$")
    assert [r.status for r in served][:3] == [429, 503, 200]
    assert served[1].at - served[0].at >= 12.0
    assert served[2].at - served[1].at >= 9.0
