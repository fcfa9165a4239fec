"""The OAuth connect flow, provider-neutral: state, authorize URL, loopback callback, exchange,
encrypted storage. A provider plugs in through the OAuthProvider protocol."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shelfops_pipeline.credentials.callback import CallbackServer
from shelfops_pipeline.credentials.errors import (
    AuthorizationDenied,
    AuthorizationTimedOut,
    CredentialError,
)
from shelfops_pipeline.credentials.models import Connection, Source, TokenSet
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorize URL handed to the seller, and the PKCE verifier that goes with it, if any."""

    url: str
    code_verifier: Secret | None = None


@dataclass(frozen=True)
class Authorization:
    """A completed authorization: which account, which scopes, which tokens."""

    account: str
    scopes: tuple[str, ...]
    tokens: TokenSet


class OAuthProvider(Protocol):
    """One provider's side of the connect flow."""

    @property
    def source(self) -> Source: ...

    def begin(self, state: str, redirect_uri: str) -> PendingAuthorization: ...

    def complete(
        self, code: Secret, redirect_uri: str, pending: PendingAuthorization
    ) -> Authorization: ...


def connect(
    provider: OAuthProvider,
    store: CredentialStore,
    states: OAuthStates,
    customer_id: str,
    on_authorize_url: Callable[[str], None],
    port: int = 0,
    timeout_seconds: float = 300.0,
) -> Connection:
    """Authorize `provider` for `customer_id` and store the connection.

    `on_authorize_url` receives the URL the seller must open (print it, or drive an approval);
    the callback is then awaited on 127.0.0.1:`port` for at most `timeout_seconds`.
    """
    source = provider.source
    try:
        server = CallbackServer(lambda state: states.consume(state, customer_id, source), port)
    except OSError as error:
        raise CredentialError(
            f"cannot listen for the OAuth callback on 127.0.0.1:{port} ({error.strerror}); "
            "choose another --port, or 0 for any free one"
        ) from error
    with server:
        pending = provider.begin(states.issue(customer_id, source), server.redirect_uri)
        on_authorize_url(pending.url)
        result = server.wait(timeout_seconds)
    if result is None:
        raise AuthorizationTimedOut(
            f"no authorization reached {server.redirect_uri} within {timeout_seconds:g} s; open "
            "the URL above and approve, or rerun with a longer --timeout"
        )
    if result.code is None:
        raise AuthorizationDenied(
            f"{source} did not authorize customer {customer_id}: {result.error}"
            + (f" ({result.error_description})" if result.error_description else "")
        )
    authorization = provider.complete(result.code, server.redirect_uri, pending)
    return store.upsert_connection(
        customer_id=customer_id,
        source=source,
        account=authorization.account,
        scopes=authorization.scopes,
        tokens=authorization.tokens,
    )
