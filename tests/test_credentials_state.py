"""OAuth `state`: random, bound to customer and source, single use, expiring after 10 minutes,
and shared through the store file between whoever issues it and whoever checks it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from credential_helpers import isolate, store_bytes

from shelfops_pipeline.credentials.errors import InvalidOAuthState
from shelfops_pipeline.credentials.models import Source
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.state import OAuthStates


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate(monkeypatch, tmp_path / "home")
    return tmp_path / "home"


def test_issued_state_is_accepted_once_by_another_instance() -> None:
    state = OAuthStates().issue("cust-001", "square")
    assert len(state) >= 43
    OAuthStates(store_path()).consume(state, "cust-001", "square")
    with pytest.raises(InvalidOAuthState, match="already used"):
        OAuthStates().consume(state, "cust-001", "square")


def test_states_are_random() -> None:
    states = OAuthStates()
    assert len({states.issue("cust-001", "square") for _ in range(50)}) == 50


def test_forged_state_is_refused() -> None:
    states = OAuthStates()
    states.issue("cust-001", "square")
    with pytest.raises(InvalidOAuthState, match="forged or replayed"):
        states.consume("made-up-by-an-attacker", "cust-001", "square")


def test_state_expires_after_ten_minutes() -> None:
    clock = Clock()
    states = OAuthStates(now=clock.now)
    fresh, stale = states.issue("cust-001", "square"), states.issue("cust-001", "square")
    clock.moment += timedelta(minutes=9, seconds=59)
    states.consume(fresh, "cust-001", "square")
    clock.moment += timedelta(seconds=1)
    with pytest.raises(InvalidOAuthState, match="expired"):
        states.consume(stale, "cust-001", "square")


@pytest.mark.parametrize(("customer", "source"), [("cust-002", "square"), ("cust-001", "shopify")])
def test_state_for_another_customer_or_source_is_refused_and_burnt(
    customer: str, source: Source
) -> None:
    states = OAuthStates()
    state = states.issue("cust-001", "square")
    with pytest.raises(InvalidOAuthState, match="another customer or source"):
        states.consume(state, customer, source)
    with pytest.raises(InvalidOAuthState, match="already used"):
        states.consume(state, "cust-001", "square")


def test_only_a_digest_of_the_state_is_stored() -> None:
    states = OAuthStates()
    state = states.issue("cust-001", "square")
    raw = store_bytes(states.database.path)
    assert b"cust-001" in raw, "the check reads the right file"
    assert state.encode() not in raw
