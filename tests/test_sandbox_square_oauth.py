"""Square OAuth in the sandbox, driven over real loopback HTTP.

The sandbox app approves a seller on an HTML page (or at once for scripts), trades the code for
tokens, refreshes them (the code flow keeps one multi-use refresh token, PKCE rotates single-use
ones), reports token status and revokes. A stepping clock moves time past each expiry.
"""

import base64
import hashlib
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.oauth import oauth_routes
from shelfops_pipeline.sandbox.square.tokens import TokenRegistry

MERCHANTS = ("MLQW2MYBY81PZ", "ML7Q2ZX8K4P1R")
START = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
REDIRECT_URI = "https://app.example/square/callback"
CATALOG_SCOPES = "ITEMS_READ INVENTORY_READ MERCHANT_PROFILE_READ"
DEFAULT_SCOPES = [
    "MERCHANT_PROFILE_READ",
    "PAYMENTS_READ",
    "SETTLEMENTS_READ",
    "BANK_ACCOUNTS_READ",
]
CATEGORY_BY_STATUS = {
    400: "INVALID_REQUEST_ERROR",
    401: "AUTHENTICATION_ERROR",
    403: "AUTHENTICATION_ERROR",
    404: "INVALID_REQUEST_ERROR",
}


class SteppingClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Sandbox:
    registry: TokenRegistry
    clock: SteppingClock
    http: httpx.Client

    @property
    def client_id(self) -> str:
        return self.registry.application.client_id

    @property
    def client_secret(self) -> str:
        return self.registry.application.client_secret


class CurrentApp:
    """Forwards to whichever app the running test plugged in, so one server serves the module."""

    def __init__(self) -> None:
        self.app: ASGIApp = Starlette()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[CurrentApp, str]]:
    current = CurrentApp()
    with serve_in_thread(current) as base_url:
        yield current, base_url


@pytest.fixture
def sandbox(server: tuple[CurrentApp, str]) -> Iterator[Sandbox]:
    current, base_url = server
    clock = SteppingClock(START)
    registry = TokenRegistry(seed=7, merchant_ids=MERCHANTS, now=clock.now)
    current.app = Starlette(routes=[Mount("/square", routes=oauth_routes(registry))])
    with httpx.Client(base_url=f"{base_url}/square", timeout=5) as http:
        yield Sandbox(registry, clock, http)


def authorize(sandbox: Sandbox, **params: str) -> httpx.Response:
    query = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT_URI, **params}
    return sandbox.http.get("/oauth2/authorize", params=query)


def approved_code(sandbox: Sandbox, merchant_id: str = MERCHANTS[0], **params: str) -> str:
    response = authorize(sandbox, merchant_id=merchant_id, approve="true", **params)
    assert response.status_code == 302
    return redirect_query(response)["code"]


def redirect_query(response: httpx.Response) -> dict[str, str]:
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def exchange(sandbox: Sandbox, code: str, /, **overrides: Any) -> httpx.Response:
    body = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        **overrides,
    }
    return sandbox.http.post("/oauth2/token", json={k: v for k, v in body.items() if v is not ...})


def refresh(sandbox: Sandbox, refresh_token: str, **overrides: Any) -> httpx.Response:
    body = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        **overrides,
    }
    return sandbox.http.post("/oauth2/token", json={k: v for k, v in body.items() if v is not ...})


def code_flow_tokens(sandbox: Sandbox, merchant_id: str = MERCHANTS[0]) -> dict[str, Any]:
    response = exchange(sandbox, approved_code(sandbox, merchant_id, scope=CATALOG_SCOPES))
    assert response.status_code == 200
    return response.json()


def token_status(sandbox: Sandbox, token: str) -> httpx.Response:
    return sandbox.http.post("/oauth2/token/status", headers={"Authorization": f"Bearer {token}"})


def revoke(sandbox: Sandbox, body: dict[str, Any], secret: str | None = None) -> httpx.Response:
    header = {"Authorization": f"Client {secret or sandbox.client_secret}"}
    return sandbox.http.post(
        "/oauth2/revoke", json={"client_id": sandbox.client_id, **body}, headers=header
    )


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def assert_square_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["code"] == code
    assert error["category"] == CATEGORY_BY_STATUS[status]
    assert isinstance(error["detail"], str) and error["detail"]
    assert set(error) <= {"category", "code", "detail", "field"}
    return error


def assert_token_reply(body: dict[str, Any], merchant_id: str, expires_at: datetime) -> None:
    assert set(body) <= {
        "access_token",
        "token_type",
        "expires_at",
        "merchant_id",
        "refresh_token",
        "short_lived",
        "refresh_token_expires_at",
    }
    assert re.fullmatch(r"EAAA[A-Za-z0-9_-]{60}", body["access_token"])
    assert re.fullmatch(r"EQAA[A-Za-z0-9_-]{60}", body["refresh_token"])
    assert body["token_type"] == "bearer"
    assert body["merchant_id"] == merchant_id
    assert body["expires_at"] == expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert isinstance(body["short_lived"], bool)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Application credentials and personal access tokens.


def test_application_credentials_look_like_squares_and_follow_the_seed() -> None:
    registry = TokenRegistry(seed=7, merchant_ids=MERCHANTS, now=lambda: START)
    again = TokenRegistry(seed=7, merchant_ids=MERCHANTS, now=lambda: START)
    other = TokenRegistry(seed=8, merchant_ids=MERCHANTS, now=lambda: START)

    app = registry.application
    assert re.fullmatch(r"sandbox-sq0idb-[A-Za-z0-9_-]{22}", app.client_id)
    assert re.fullmatch(r"sandbox-sq0csb-[A-Za-z0-9_-]{43}", app.client_secret)
    assert again.application == app
    assert other.application.client_id != app.client_id
    assert other.application.client_secret != app.client_secret
    assert app.client_secret not in repr(app)


def test_personal_tokens_are_deterministic_per_seed_and_differ_across_seeds() -> None:
    tokens = TokenRegistry(7, MERCHANTS, lambda: START).personal_tokens()
    assert tokens == TokenRegistry(7, MERCHANTS, lambda: START).personal_tokens()
    assert set(tokens) == set(MERCHANTS)
    assert len(set(tokens.values())) == len(MERCHANTS)
    assert all(re.fullmatch(r"EAAA[A-Za-z0-9_-]{60}", token) for token in tokens.values())

    other = TokenRegistry(8, MERCHANTS, lambda: START).personal_tokens()
    assert not set(other.values()) & set(tokens.values())


def test_personal_token_grants_every_scope_for_ever(sandbox: Sandbox) -> None:
    token = sandbox.registry.personal_tokens()[MERCHANTS[1]]
    sandbox.clock.advance(days=3650)

    grant = sandbox.registry.authenticate(f"Bearer {token}", required_scope="ORDERS_READ")
    assert (grant.merchant_id, grant.kind, grant.expires_at) == (MERCHANTS[1], "personal", None)
    assert {"ITEMS_READ", "INVENTORY_READ", "PAYMENTS_READ", "VENDOR_WRITE"} <= set(grant.scopes)

    status = token_status(sandbox, token)
    assert status.status_code == 200
    body = status.json()
    assert set(body) == {"scopes", "client_id", "merchant_id"}  # no expiry: none is given
    assert body["merchant_id"] == MERCHANTS[1]
    assert body["client_id"] == sandbox.client_id
    assert "MERCHANT_PROFILE_READ" in body["scopes"]


# The authorize step: the approve page and the scripted shortcut.


class FormReader(HTMLParser):
    """Collects the page's form action, hidden fields, merchant choices and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.merchants: list[str] = []
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes["action"]
        elif tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"]] = attributes["value"]
        elif tag == "input" and attributes.get("name") == "merchant_id":
            self.merchants.append(attributes["value"])
        elif tag == "button":
            self.buttons.append((attributes["name"], attributes["value"]))


def read_approve_page(sandbox: Sandbox, **params: str) -> tuple[httpx.Response, FormReader]:
    page = authorize(sandbox, **params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    form = FormReader()
    form.feed(page.text)
    return page, form


def test_approve_page_lists_the_merchants_and_its_form_redirects_with_a_code(
    sandbox: Sandbox,
) -> None:
    page, form = read_approve_page(sandbox, scope=CATALOG_SCOPES, state="csrf-42")
    assert form.merchants == list(MERCHANTS)
    assert ("decision", "approve") in form.buttons and ("decision", "deny") in form.buttons
    assert all(scope in page.text for scope in CATALOG_SCOPES.split())

    fields = {**form.hidden, "merchant_id": MERCHANTS[1], "decision": "approve"}
    decision = sandbox.http.post(urljoin(str(page.url), form.action), data=fields)

    assert decision.status_code == 302
    query = redirect_query(decision)
    assert query["response_type"] == "code" and query["state"] == "csrf-42"
    assert re.fullmatch(r"sq0cgb-[A-Za-z0-9_-]{22}", query["code"])
    tokens = exchange(sandbox, query["code"]).json()
    assert tokens["merchant_id"] == MERCHANTS[1]
    assert sorted(token_status(sandbox, tokens["access_token"]).json()["scopes"]) == sorted(
        CATALOG_SCOPES.split()
    )


def test_deny_on_the_page_redirects_with_access_denied(sandbox: Sandbox) -> None:
    page, form = read_approve_page(sandbox, state="s1")
    fields = {**form.hidden, "merchant_id": MERCHANTS[0], "decision": "deny"}
    decision = sandbox.http.post(urljoin(str(page.url), form.action), data=fields)

    assert decision.status_code == 302
    assert redirect_query(decision) == {
        "error": "access_denied",
        "error_description": "user_denied",
        "state": "s1",
    }


def test_scripts_approve_or_deny_without_the_page(sandbox: Sandbox) -> None:
    approved = authorize(sandbox, merchant_id=MERCHANTS[0], approve="true", state="x")
    assert approved.status_code == 302
    assert set(redirect_query(approved)) == {"code", "response_type", "state"}

    denied = authorize(sandbox, approve="false")
    assert redirect_query(denied)["error"] == "access_denied"


def test_default_scopes_apply_and_plus_separates_scopes(sandbox: Sandbox) -> None:
    default = exchange(sandbox, approved_code(sandbox)).json()
    assert token_status(sandbox, default["access_token"]).json()["scopes"] == DEFAULT_SCOPES

    raw = (
        f"/oauth2/authorize?client_id={sandbox.client_id}&redirect_uri={REDIRECT_URI}"
        f"&scope=ITEMS_READ+ORDERS_READ&merchant_id={MERCHANTS[0]}&approve=true"
    )
    code = redirect_query(sandbox.http.get(raw))["code"]
    narrow = exchange(sandbox, code).json()
    assert token_status(sandbox, narrow["access_token"]).json()["scopes"] == [
        "ITEMS_READ",
        "ORDERS_READ",
    ]


def test_redirect_keeps_the_redirect_uris_own_query(sandbox: Sandbox) -> None:
    uri = REDIRECT_URI + "?tenant=a%20b"
    response = sandbox.http.get(
        "/oauth2/authorize",
        params={
            "client_id": sandbox.client_id,
            "redirect_uri": uri,
            "merchant_id": MERCHANTS[0],
            "approve": "true",
        },
    )
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["tenant"] == ["a b"] and "code" in query


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"client_id": "sandbox-sq0idb-unknown"}, 400, "INVALID_VALUE", "client_id"),
        ({"client_id": ""}, 400, "MISSING_REQUIRED_PARAMETER", "client_id"),
        ({"scope": "ITEMS_READ LAUNCH_ROCKETS"}, 400, "INVALID_VALUE", "scope"),
        ({"redirect_uri": "javascript:alert(1)"}, 400, "INVALID_VALUE", "redirect_uri"),
        ({"redirect_uri": ""}, 400, "MISSING_REQUIRED_PARAMETER", "redirect_uri"),
        ({"code_challenge": "short"}, 400, "INVALID_VALUE", "code_challenge"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "MD5"}, 400, "INVALID_VALUE", None),
        ({"approve": "maybe"}, 400, "INVALID_VALUE", "approve"),
        ({"approve": "true"}, 400, "MISSING_REQUIRED_PARAMETER", "merchant_id"),
        ({"approve": "true", "merchant_id": "MLNOBODY0000"}, 404, "NOT_FOUND", "merchant_id"),
    ],
)
def test_bad_authorize_requests_get_a_square_error_not_a_redirect(
    sandbox: Sandbox, params: dict[str, str], status: int, code: str, field: str | None
) -> None:
    response = authorize(sandbox, **params)
    error = assert_square_error(response, status, code)
    if field:
        assert error["field"] == field


def test_browsers_get_bad_authorize_requests_as_an_html_page(sandbox: Sandbox) -> None:
    response = sandbox.http.get(
        "/oauth2/authorize",
        params={"client_id": "nope", "redirect_uri": REDIRECT_URI},
        headers={"Accept": "text/html,application/xhtml+xml"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "INVALID_VALUE" in response.text


def test_a_tampered_decision_form_is_refused(sandbox: Sandbox) -> None:
    page, form = read_approve_page(sandbox)
    action = urljoin(str(page.url), form.action)

    forged = {
        **form.hidden,
        "client_id": "other",
        "merchant_id": MERCHANTS[0],
        "decision": "approve",
    }
    assert_square_error(sandbox.http.post(action, data=forged), 400, "INVALID_VALUE")
    odd = {**form.hidden, "merchant_id": MERCHANTS[0], "decision": "perhaps"}
    assert_square_error(sandbox.http.post(action, data=odd), 400, "INVALID_VALUE")
    as_json = sandbox.http.post(action, json=form.hidden)
    assert_square_error(as_json, 400, "INVALID_CONTENT_TYPE")


# ObtainToken: the code flow.


def test_code_exchange_returns_a_30_day_token_and_a_refresh_token(sandbox: Sandbox) -> None:
    response = exchange(sandbox, approved_code(sandbox, MERCHANTS[1]))

    assert response.status_code == 200
    body = response.json()
    assert_token_reply(body, MERCHANTS[1], START + timedelta(days=30))
    assert body["short_lived"] is False
    assert "refresh_token_expires_at" not in body
    grant = sandbox.registry.authenticate(f"Bearer {body['access_token']}")
    assert (grant.merchant_id, grant.kind) == (MERCHANTS[1], "oauth")


def test_short_lived_tokens_last_24_hours(sandbox: Sandbox) -> None:
    body = exchange(sandbox, approved_code(sandbox), short_lived=True).json()
    assert_token_reply(body, MERCHANTS[0], START + timedelta(hours=24))
    assert body["short_lived"] is True


def test_code_flow_refresh_returns_the_same_refresh_token_each_time(sandbox: Sandbox) -> None:
    first = code_flow_tokens(sandbox)
    sandbox.clock.advance(days=40)

    renewals = [refresh(sandbox, first["refresh_token"]) for _ in range(3)]

    assert [r.status_code for r in renewals] == [200, 200, 200]
    bodies = [r.json() for r in renewals]
    assert {b["refresh_token"] for b in bodies} == {first["refresh_token"]}
    assert len({b["access_token"] for b in bodies} | {first["access_token"]}) == 4
    assert_token_reply(bodies[0], MERCHANTS[0], START + timedelta(days=70))
    assert token_status(sandbox, bodies[-1]["access_token"]).status_code == 200


def test_refresh_can_narrow_scopes_without_shrinking_the_authorization(sandbox: Sandbox) -> None:
    first = code_flow_tokens(sandbox)

    narrow = refresh(sandbox, first["refresh_token"], scopes=["ITEMS_READ", "ORDERS_READ"]).json()
    wide = refresh(sandbox, first["refresh_token"]).json()

    assert token_status(sandbox, narrow["access_token"]).json()["scopes"] == ["ITEMS_READ"]
    assert sorted(token_status(sandbox, wide["access_token"]).json()["scopes"]) == sorted(
        CATALOG_SCOPES.split()
    )
    with pytest.raises(SquareError) as refused:
        sandbox.registry.authenticate(f"Bearer {narrow['access_token']}", "INVENTORY_READ")
    assert (refused.value.code, refused.value.status) == ("INSUFFICIENT_SCOPES", 403)
    assert_square_error(
        refresh(sandbox, first["refresh_token"], scopes=["ORDERS_READ"]), 400, "INVALID_VALUE"
    )


def test_a_code_works_once(sandbox: Sandbox) -> None:
    code = approved_code(sandbox)
    assert exchange(sandbox, code).status_code == 200

    error = assert_square_error(exchange(sandbox, code), 401, "UNAUTHORIZED")
    assert "redeemed" in error["detail"]


def test_a_code_expires_after_five_minutes(sandbox: Sandbox) -> None:
    fresh, stale = approved_code(sandbox), approved_code(sandbox)
    sandbox.clock.advance(minutes=4, seconds=59)
    assert exchange(sandbox, fresh).status_code == 200

    sandbox.clock.advance(seconds=1)
    error = assert_square_error(exchange(sandbox, stale), 401, "UNAUTHORIZED")
    assert "expired" in error["detail"]


def test_failed_attempts_leave_the_code_usable(sandbox: Sandbox) -> None:
    code = approved_code(sandbox)
    assert_square_error(
        exchange(sandbox, code, client_secret="sandbox-sq0csb-wrong"), 401, "UNAUTHORIZED"
    )
    assert exchange(sandbox, code).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"code": "sq0cgb-neverissuedxxxxxxxxx"}, 401, "UNAUTHORIZED", "code"),
        ({"client_secret": "sandbox-sq0csb-wrong"}, 401, "UNAUTHORIZED", None),
        ({"client_secret": ...}, 400, "MISSING_REQUIRED_PARAMETER", "client_secret"),
        ({"client_id": "sandbox-sq0idb-other"}, 401, "UNAUTHORIZED", "client_id"),
        ({"client_id": ...}, 400, "MISSING_REQUIRED_PARAMETER", "client_id"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "INVALID_VALUE", "redirect_uri"),
        ({"redirect_uri": ...}, 400, "MISSING_REQUIRED_PARAMETER", "redirect_uri"),
        ({"grant_type": "password"}, 400, "INVALID_VALUE", "grant_type"),
        ({"grant_type": ...}, 400, "MISSING_REQUIRED_PARAMETER", "grant_type"),
        ({"code": ...}, 400, "MISSING_REQUIRED_PARAMETER", "code"),
        ({"short_lived": "yes"}, 400, "EXPECTED_BOOLEAN", "short_lived"),
        ({"client_secret": 42}, 400, "EXPECTED_STRING", "client_secret"),
    ],
)
def test_bad_token_requests_are_refused_in_squares_shape(
    sandbox: Sandbox, overrides: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    response = exchange(sandbox, approved_code(sandbox), **overrides)
    error = assert_square_error(response, status, code)
    assert error.get("field") == field
    assert sandbox.client_secret not in response.text


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"", b"[" * 100_000, b"\xff\xfe"])
def test_a_token_request_that_is_not_a_json_object_is_refused(
    sandbox: Sandbox, content: bytes
) -> None:
    response = sandbox.http.post(
        "/oauth2/token", content=content, headers={"Content-Type": "application/json"}
    )
    assert_square_error(response, 400, "EXPECTED_JSON_BODY")


@pytest.mark.parametrize("scopes", ["ITEMS_READ", [{"a": 1}], ["NOT_A_SCOPE"]])
def test_refresh_scopes_must_be_a_list_of_square_scopes(sandbox: Sandbox, scopes: Any) -> None:
    first = code_flow_tokens(sandbox)
    response = refresh(sandbox, first["refresh_token"], scopes=scopes)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "scopes"


def test_code_flow_refresh_needs_the_secret_and_a_known_token(sandbox: Sandbox) -> None:
    first = code_flow_tokens(sandbox)
    without_secret = refresh(sandbox, first["refresh_token"], client_secret=...)
    assert_square_error(without_secret, 400, "MISSING_REQUIRED_PARAMETER")
    assert_square_error(refresh(sandbox, "EQAAforged"), 401, "UNAUTHORIZED")


# ObtainToken: the PKCE flow.


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_exchange_needs_the_verifier_not_the_secret(sandbox: Sandbox, method: str) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = s256(verifier) if method == "S256" else verifier
    params = {"code_challenge": challenge, "code_challenge_method": method}
    wrong = exchange(
        sandbox, approved_code(sandbox, **params), client_secret=..., code_verifier="x" * 50
    )
    missing = exchange(sandbox, approved_code(sandbox, **params), client_secret=...)
    right = exchange(
        sandbox, approved_code(sandbox, **params), client_secret=..., code_verifier=verifier
    )

    assert assert_square_error(wrong, 401, "UNAUTHORIZED")["field"] == "code_verifier"
    assert_square_error(missing, 400, "MISSING_REQUIRED_PARAMETER")
    assert right.status_code == 200
    body = right.json()
    assert_token_reply(body, MERCHANTS[0], START + timedelta(days=30))
    assert body["refresh_token_expires_at"] == rfc3339(START + timedelta(days=90))


def test_s256_is_the_default_challenge_method(sandbox: Sandbox) -> None:
    verifier = secrets.token_urlsafe(48)
    code = approved_code(sandbox, code_challenge=s256(verifier))
    assert exchange(sandbox, code, client_secret=..., code_verifier=verifier).status_code == 200


def pkce_tokens(sandbox: Sandbox) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    code = approved_code(sandbox, code_challenge=s256(verifier), scope=CATALOG_SCOPES)
    return exchange(sandbox, code, client_secret=..., code_verifier=verifier).json()


def test_pkce_refresh_tokens_rotate_and_are_single_use(sandbox: Sandbox) -> None:
    first = pkce_tokens(sandbox)
    sandbox.clock.advance(days=10)

    second = refresh(sandbox, first["refresh_token"], client_secret=...)
    assert second.status_code == 200
    renewed = second.json()
    assert renewed["refresh_token"] != first["refresh_token"]
    assert renewed["refresh_token_expires_at"] == rfc3339(START + timedelta(days=100))

    reused = refresh(sandbox, first["refresh_token"], client_secret=...)
    assert "already been used" in assert_square_error(reused, 401, "UNAUTHORIZED")["detail"]
    third = refresh(sandbox, renewed["refresh_token"], client_secret=...)
    assert third.status_code == 200


def test_pkce_refresh_tokens_expire_after_90_days(sandbox: Sandbox) -> None:
    first = pkce_tokens(sandbox)
    sandbox.clock.advance(days=90)
    response = refresh(sandbox, first["refresh_token"], client_secret=...)
    assert "expired" in assert_square_error(response, 401, "UNAUTHORIZED")["detail"]


# RetrieveTokenStatus and authenticate().


def test_token_status_reports_scopes_expiry_client_and_merchant(sandbox: Sandbox) -> None:
    tokens = code_flow_tokens(sandbox, MERCHANTS[1])
    response = token_status(sandbox, tokens["access_token"])

    assert response.status_code == 200
    assert response.json() == {
        "scopes": CATALOG_SCOPES.split(),
        "expires_at": rfc3339(START + timedelta(days=30)),
        "client_id": sandbox.client_id,
        "merchant_id": MERCHANTS[1],
    }


def test_token_status_answers_unauthorized_for_bad_and_expired_tokens(sandbox: Sandbox) -> None:
    tokens = code_flow_tokens(sandbox)
    assert_square_error(token_status(sandbox, "EAAAnotatoken"), 401, "UNAUTHORIZED")
    missing = sandbox.http.post("/oauth2/token/status")
    assert_square_error(missing, 401, "UNAUTHORIZED")

    sandbox.clock.advance(days=30)
    assert_square_error(token_status(sandbox, tokens["access_token"]), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer EAAAunknown", "Bearer a b"],
)
def test_authenticate_refuses_missing_malformed_and_unknown_tokens(header: str | None) -> None:
    registry = TokenRegistry(7, MERCHANTS, lambda: START)
    with pytest.raises(SquareError) as refused:
        registry.authenticate(header)
    assert (refused.value.code, refused.value.status) == ("UNAUTHORIZED", 401)
    assert registry.merchant_for(header) is None


def test_authenticate_reports_expiry_and_scopes_without_leaking_the_token(sandbox: Sandbox) -> None:
    token = code_flow_tokens(sandbox)["access_token"]
    header = f"Bearer {token}"
    assert sandbox.registry.authenticate(header, "ITEMS_READ").merchant_id == MERCHANTS[0]
    assert sandbox.registry.merchant_for(header) == MERCHANTS[0]

    with pytest.raises(SquareError) as insufficient:
        sandbox.registry.authenticate(header, "ORDERS_WRITE")
    assert (insufficient.value.code, insufficient.value.status) == ("INSUFFICIENT_SCOPES", 403)

    sandbox.clock.advance(days=30)
    with pytest.raises(SquareError) as expired:
        sandbox.registry.authenticate(header)
    assert (expired.value.code, expired.value.status) == ("ACCESS_TOKEN_EXPIRED", 401)
    assert sandbox.registry.merchant_for(header) == MERCHANTS[0]
    for error in (insufficient.value, expired.value):
        assert token not in str(error) and token not in error.detail


def test_merchant_for_knows_personal_tokens(sandbox: Sandbox) -> None:
    for merchant, token in sandbox.registry.personal_tokens().items():
        assert sandbox.registry.merchant_for(f"Bearer {token}") == merchant


# RevokeToken.


def test_revoke_ends_the_whole_authorization(sandbox: Sandbox) -> None:
    tokens = code_flow_tokens(sandbox)
    renewed = refresh(sandbox, tokens["refresh_token"]).json()
    other_merchant = code_flow_tokens(sandbox, MERCHANTS[1])

    response = revoke(sandbox, {"access_token": tokens["access_token"]})

    assert response.status_code == 200 and response.json() == {"success": True}
    for token in (tokens["access_token"], renewed["access_token"]):
        with pytest.raises(SquareError) as refused:
            sandbox.registry.authenticate(f"Bearer {token}")
        assert refused.value.code == "ACCESS_TOKEN_REVOKED"
        assert_square_error(token_status(sandbox, token), 401, "UNAUTHORIZED")
    assert_square_error(refresh(sandbox, tokens["refresh_token"]), 401, "UNAUTHORIZED")
    assert token_status(sandbox, other_merchant["access_token"]).status_code == 200
    assert code_flow_tokens(sandbox)["merchant_id"] == MERCHANTS[0]  # the seller may return


def test_revoke_only_access_token_keeps_the_refresh_token(sandbox: Sandbox) -> None:
    tokens = code_flow_tokens(sandbox)
    body = {"access_token": tokens["access_token"], "revoke_only_access_token": True}
    assert revoke(sandbox, body).json() == {"success": True}

    assert_square_error(token_status(sandbox, tokens["access_token"]), 401, "UNAUTHORIZED")
    renewed = refresh(sandbox, tokens["refresh_token"])
    assert renewed.status_code == 200
    assert token_status(sandbox, renewed.json()["access_token"]).status_code == 200


def test_revoke_by_merchant_spares_personal_tokens(sandbox: Sandbox) -> None:
    tokens = code_flow_tokens(sandbox, MERCHANTS[1])
    assert revoke(sandbox, {"merchant_id": MERCHANTS[1]}).json() == {"success": True}

    assert_square_error(token_status(sandbox, tokens["access_token"]), 401, "UNAUTHORIZED")
    personal = sandbox.registry.personal_tokens()[MERCHANTS[1]]
    assert token_status(sandbox, personal).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "UNAUTHORIZED"),
        ({"Authorization": "Client sandbox-sq0csb-wrong"}, 401, "UNAUTHORIZED"),
        ({"Authorization": "Bearer whatever"}, 401, "UNAUTHORIZED"),
    ],
)
def test_revoke_needs_the_application_secret(
    sandbox: Sandbox, headers: dict[str, str], status: int, code: str
) -> None:
    tokens = code_flow_tokens(sandbox)
    body = {"client_id": sandbox.client_id, "access_token": tokens["access_token"]}
    response = sandbox.http.post("/oauth2/revoke", json=body, headers=headers)
    assert_square_error(response, status, code)
    assert token_status(sandbox, tokens["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "MISSING_REQUIRED_PARAMETER"),
        ({"access_token": "A", "merchant_id": MERCHANTS[0]}, 400, "CONFLICTING_PARAMETERS"),
        (
            {"merchant_id": MERCHANTS[0], "revoke_only_access_token": True},
            400,
            "MISSING_REQUIRED_PARAMETER",
        ),
        ({"merchant_id": "MLNOBODY0000"}, 404, "NOT_FOUND"),
        ({"access_token": "EAAAneverissued"}, 404, "NOT_FOUND"),
        ({"client_id": "sandbox-sq0idb-other", "merchant_id": MERCHANTS[0]}, 401, "UNAUTHORIZED"),
        ({"merchant_id": 12}, 400, "EXPECTED_STRING"),
    ],
)
def test_bad_revoke_requests_are_refused_in_squares_shape(
    sandbox: Sandbox, body: dict[str, Any], status: int, code: str
) -> None:
    assert_square_error(revoke(sandbox, body), status, code)


# Secrets stay out of the logs.


def test_no_token_or_secret_reaches_the_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = approved_code(sandbox)
    tokens = exchange(sandbox, code).json()
    exchange(sandbox, code)
    renewed = refresh(sandbox, tokens["refresh_token"]).json()
    token_status(sandbox, tokens["access_token"])
    revoke(sandbox, {"access_token": renewed["access_token"]})
    revoke(sandbox, {"merchant_id": MERCHANTS[0]}, secret="sandbox-sq0csb-guess")
    token_status(sandbox, tokens["access_token"])

    # httpx and httpcore log for the test's own client (httpcore shows the Location header).
    server_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in server_records)
    assert "shelfops_pipeline.sandbox.square.tokens" in {r.name for r in server_records}
    secrets_seen = [
        code,
        tokens["access_token"],
        tokens["refresh_token"],
        renewed["access_token"],
        sandbox.client_secret,
        *sandbox.registry.personal_tokens().values(),
    ]
    assert not [secret for secret in secrets_seen if secret in logged]
