"""Budgets, 429 policies, timeouts and OAuth token refresh against the fake portal."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from syncd.connectors import FatalSyncError, RetriableError
from syncd.model import ProspectRef
from syncd_hubspot.client import HubSpotApi
from syncd_hubspot.fake import DAILY, SECONDLY
from syncd_hubspot.limits import SearchLimiter, WindowPacer

if TYPE_CHECKING:
    from conftest import FakeTime, Portal

PIPELINES = ("pipelines", "crm.pipelines.pipelines_api", "get_all", "deals")


def api(portal: Portal, **settings: Any) -> HubSpotApi:
    return HubSpotApi(portal.settings(**settings), sleep=portal.time.sleep, clock=portal.time)


def test_own_calls_keep_under_the_share_of_the_ten_second_budget(
    make_portal: Callable[..., Portal],
) -> None:
    """With a 20-call budget and a 50 % share, nine calls go at once and the tenth waits for
    the first to leave the 10-second window (plus a margin): HubSpot never answers 429."""
    portal = make_portal(ten_second_limit=20)
    calls_before_wait: list[int] = []
    original = portal.time.sleep

    def sleep(seconds: float) -> None:
        calls_before_wait.append(len(portal.fake.served))
        original(seconds)

    client = HubSpotApi(portal.settings(rate_share=0.5), sleep=sleep, clock=portal.time)
    for _ in range(14):
        client.read(*PIPELINES)

    assert calls_before_wait[0] == 9
    assert portal.time.sleeps[0] == pytest.approx(10.25)
    assert {r.status for r in portal.fake.served} == {200}
    assert client.remaining_ratio() is not None


def test_governor_waits_when_other_integrations_spent_the_share(
    make_portal: Callable[..., Portal],
) -> None:
    """The portal's other integrations count too: once the headers show half of a 20-call
    budget used, syncd's next call waits the window out."""
    portal = make_portal(ten_second_limit=20)
    other = portal.client().crm.pipelines.pipelines_api
    for _ in range(10):
        other.get_all("deals")
    client = api(portal, rate_share=0.5)
    client.read(*PIPELINES)
    assert portal.time.sleeps == []
    client.read(*PIPELINES)
    assert len(portal.time.sleeps) == 1 and 9.0 <= portal.time.sleeps[0] <= 10.0
    assert {r.status for r in portal.fake.served} == {200}


def test_pacer_spends_the_share_and_never_more(fake_time: FakeTime) -> None:
    """300 back-to-back calls against 190 / 10 s at share 0.5: nothing is paced before the
    limit is known, no rolling 10 s holds more than 94 calls (one under the share), and the
    next call goes as soon as an old one leaves the window, not a whole window later."""
    pacer = WindowPacer(0.5, sleep=fake_time.sleep, clock=fake_time)
    for _ in range(3):
        pacer.wait()
    pacer.learn(190, 10.0)
    sent = []
    for _ in range(300):
        pacer.wait()
        sent.append(fake_time.now)
    assert sent[:91] == [sent[0]] * 91
    assert max(sum(1 for t in sent if s <= t < s + 10.0) for s in sent) <= 94
    assert sent[-1] - sent[0] <= 10.25 * (300 / 94)


def test_a_429_storm_is_waited_out_by_policy(portal: Portal, fake_time: FakeTime) -> None:
    """Three TEN_SECONDLY_ROLLING 429s in a row: each is waited out for the 10-second window,
    then the read succeeds; a storm longer than the retries surfaces as RetriableError with
    the window to wait."""
    client = api(portal)
    portal.fake.storm(3)
    assert client.read(*PIPELINES)["results"]
    assert [r.status for r in portal.fake.served] == [429, 429, 429, 200]
    assert fake_time.sleeps == [10.0, 10.0, 10.0]

    portal.fake.storm(10)
    with pytest.raises(RetriableError) as storm:
        client.read(*PIPELINES)
    assert storm.value.retry_after_s == 10.0 and not storm.value.in_doubt


def test_search_secondly_limit_is_waited_about_a_second(
    portal: Portal, fake_time: FakeTime
) -> None:
    """The search limit's 429 (SECONDLY) is retried after about a second, not ten."""
    client = api(portal, search_rate_per_s=5)
    portal.fake.storm(2, policy=SECONDLY, path="/search$")
    assert client.search("deals.search", "crm.deals.search_api", {"limit": 1})["total"] == 0
    backoffs = [s for s in fake_time.sleeps if s >= 0.5]
    assert len(backoffs) == 2 and all(1.0 <= s <= 1.5 for s in backoffs)


def test_a_daily_limit_is_not_slept_out_in_the_call(portal: Portal, fake_time: FakeTime) -> None:
    """The daily budget is gone until midnight: the read fails at once with that wait, so the
    engine pauses the shard rather than a thread sleeping for hours."""
    portal.fake.storm(1, policy=DAILY)
    with pytest.raises(RetriableError) as daily:
        api(portal).read(*PIPELINES)
    assert (daily.value.retry_after_s or 0) >= 60 and fake_time.sleeps == []


def test_a_daily_limit_a_minute_before_midnight_still_goes_to_the_engine(
    portal: Portal, fake_time: FakeTime
) -> None:
    """Just before midnight the daily wait is its one-minute floor: still no in-call sleep."""
    portal.fake.storm(1, policy=DAILY, retry_after="60")
    with pytest.raises(RetriableError) as daily:
        api(portal).read(*PIPELINES)
    assert daily.value.retry_after_s == 60 and fake_time.sleeps == []


def test_search_limiter_spaces_calls_under_five_a_second(fake_time: FakeTime) -> None:
    """Twenty back-to-back searches never put more than four in any rolling second."""
    limiter = SearchLimiter(4.0, sleep=fake_time.sleep, clock=fake_time)
    sent = []
    for _ in range(20):
        limiter.wait()
        sent.append(fake_time.now)
    assert all(sum(1 for t in sent if s <= t < s + 1.0) <= 4 for s in sent)


def test_real_search_pacing_stays_clear_of_hubspots_limit(
    make_portal: Callable[..., Portal],
) -> None:
    """Against the real 5/s search limit and real time, paging stays clear of 429s."""
    portal = make_portal(search_per_second=5)
    contact = portal.contact()
    for _ in range(40):
        portal.lost_deal([contact])
    conn_api = HubSpotApi(portal.settings(search_rate_per_s=4, page_size=5))
    body = {
        "limit": 5,
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
    }
    for after in range(0, 40, 5):
        conn_api.search("deals.search", "crm.deals.search_api", {**body, "after": str(after)})
    assert {r.status for r in portal.fake.served if r.path.endswith("/search")} == {200}


def test_every_call_has_a_timeout(portal: Portal) -> None:
    """A portal that never answers costs a few timeouts, then a RetriableError; no hang."""
    portal.fake.hang(4, hold_s=1.5)
    with pytest.raises(RetriableError, match="no answer"):
        api(portal, timeout_s=0.2).read(*PIPELINES)


@pytest.fixture
def oauth(portal: Portal, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An OAuth app installed on the portal, with the fake's clock following fake_time."""
    refresh = portal.fake.add_oauth_app("syncd-app", "app-secret")
    monkeypatch.setenv("HS_CLIENT_SECRET", "app-secret")
    monkeypatch.setenv("HS_REFRESH", refresh)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    portal.fake.clock = lambda: start + timedelta(seconds=fake_time.now)
    return {
        "access_token": None,
        "client_id": "syncd-app",
        "client_secret": "env:HS_CLIENT_SECRET",
        "refresh_token": "env:HS_REFRESH",
    }


def paths(portal: Portal) -> list[tuple[str, int]]:
    return [(r.path.rsplit("/", 1)[-1], r.status) for r in portal.fake.served]


def test_oauth_token_is_refreshed_ahead_of_expiry(
    portal: Portal, fake_time: FakeTime, oauth: dict[str, Any]
) -> None:
    """A 30-minute token is used until shortly before it expires, then renewed before the
    call: the portal never has to refuse an expired token."""
    client = api(portal, **oauth)
    client.read(*PIPELINES)
    fake_time.advance(1000)
    client.read(*PIPELINES)
    fake_time.advance(700)  # 1,700 s after issue: inside the renewal margin, not yet expired
    client.read(*PIPELINES)
    assert paths(portal) == [
        ("token", 200),
        ("deals", 200),
        ("deals", 200),
        ("token", 200),
        ("deals", 200),
    ]


def test_a_token_refused_early_is_refreshed_once(portal: Portal, oauth: dict[str, Any]) -> None:
    """A token the portal expired early (rotation) is refreshed once and the call repeated."""
    client = api(portal, **oauth)
    client.read(*PIPELINES)
    portal.fake.expire_tokens()
    client.read(*PIPELINES)
    assert paths(portal)[2:] == [("deals", 401), ("token", 200), ("deals", 200)]


def test_a_refused_refresh_is_fatal(portal: Portal, oauth: dict[str, Any]) -> None:
    """An uninstalled app: the refresh is refused, which stops the shard (FatalSyncError)."""
    client = api(portal, **oauth)
    client.read(*PIPELINES)
    portal.fake.revoke()
    with pytest.raises(FatalSyncError, match="re-authorise"):
        client.read(*PIPELINES)
    assert paths(portal)[-2:] == [("deals", 401), ("token", 400)]


def test_quota_headroom_follows_the_usage_headers(make_portal: Callable[..., Portal]) -> None:
    """The connector's quota_remaining reports the share of the 10-second budget left."""
    portal = make_portal(ten_second_limit=100)
    conn = portal.connect()
    assert conn.quota_remaining() is None and conn.directory is not None  # nothing learnt yet
    refs = [ProspectRef("hubspot", "contact", portal.contact()) for _ in range(3)]
    for _ in range(4):
        conn.directory.prospects(refs)  # one batch read each
    assert conn.quota_remaining() == pytest.approx(0.96)


def _too_early(served: list[Any]) -> list[tuple[str, float]]:
    """Requests that came sooner after a 429 than the Retry-After it carried (3 s here)."""
    early = []
    for before, after in itertools.pairwise(served):
        if before.status == 429 and after.at - before.at < 3.0:
            early.append((after.path, after.at - before.at))
    return early


def test_no_request_follows_a_429_sooner_than_its_retry_after(
    portal: Portal, fake_time: FakeTime
) -> None:
    """A 429 with `Retry-After: 3` on a GET, a search and a batch read: the fake, stamping
    requests with the connector's clock, sees every retry come 3 s or more after the 429.
    (urllib3 used to swallow a GET's 429 into MaxRetryError, and the header with it.)"""
    portal.fake.request_clock = fake_time
    client = api(portal)
    portal.fake.storm(2, retry_after="3")
    client.read(*PIPELINES)
    portal.fake.storm(2, policy=SECONDLY, path="/search$", retry_after="3")
    client.search("deals.search", "crm.deals.search_api", {"limit": 1})
    portal.fake.storm(2, path="/batch/read$", retry_after="3")
    client.read(
        "contacts.read",
        "crm.contacts.batch_api",
        "read",
        {"inputs": [{"id": "1"}], "properties": ["email"]},
    )
    statuses = [r.status for r in portal.fake.served]
    assert statuses[::3] == [429] * 3 and statuses[1::3] == [429] * 3
    assert len(statuses) == 9 and 429 not in statuses[2::3]
    assert _too_early(portal.fake.served) == []
