"""`shelfops connect shopify`: install the app on a shop and store its tokens, encrypted.

The install flow needs the whole callback query (its `hmac` signs every parameter), which the
provider-neutral callback server does not hand over, so it has its own loopback receiver: each
callback is checked for its signature, its shop, then its single-use `state`, and refused with
a 400 page naming the problem otherwise; refused callbacks do not end the wait, so a stray or
forged request cannot spoil a real install. The query (it carries the code) is never logged.
"""

import functools
import html
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from shelfops_pipeline.credentials.callback import (
    CALLBACK_PATH,
    MAX_QUERY_FIELDS,
    PAGE,
    POLL_SECONDS,
    SOCKET_TIMEOUT_SECONDS,
)
from shelfops_pipeline.credentials.errors import (
    AuthorizationTimedOut,
    CredentialError,
    InvalidOAuthState,
    OAuthError,
)
from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.shopify.oauth import SOURCE, ShopifyOAuth, verify_callback

logger = logging.getLogger(__name__)

REFUSAL_HEADER = "X-ShelfOps-Refusal"


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, judge: Callable[[dict[str, str]], Secret]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.judge = judge
        self.code: Secret | None = None
        self.received = threading.Event()
        self.lock = threading.Lock()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{CALLBACK_PATH}"

    def receive(self, params: dict[str, str]) -> tuple[int, str, str]:
        """Judge one callback: the HTTP status, title and message to answer with."""
        with self.lock:
            if self.code is not None:
                return 400, "Already received", "This installation was already completed."
            try:
                self.code = self.judge(params)
            except (OAuthError, InvalidOAuthState) as error:
                return 400, "Refused", str(error)
            self.received.set()
            return 200, "Installation received", "Return to the terminal."


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver
    timeout = SOCKET_TIMEOUT_SECONDS

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._answer(404, "Not found", "This server only receives OAuth callbacks.")
            return
        try:
            fields = parse_qs(parts.query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            self._answer(400, "Refused", "The callback query could not be read.")
            return
        self._answer(*self.server.receive({name: values[0] for name, values in fields.items()}))

    def _answer(self, status: int, title: str, message: str) -> None:
        body = PAGE.format(title=html.escape(title), message=html.escape(message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        if status >= 400:
            self.send_header(REFUSAL_HEADER, message.encode("ascii", "replace").decode())
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The request line holds the authorization code: log the method and path only.
        logger.debug("shopify callback server: %s %s", self.command, urlsplit(self.path).path)


def _judge(
    oauth: ShopifyOAuth, states: OAuthStates, customer_id: str
) -> Callable[[dict[str, str]], Secret]:
    def judge(params: dict[str, str]) -> Secret:
        verify_callback(params, oauth.app.client_secret, oauth.shop)
        states.consume(params.get("state", ""), customer_id, SOURCE)
        code = params.get("code")
        if not code:
            raise OAuthError("the callback carried no authorization code")
        return Secret(code)

    return judge


def connect_shop(
    oauth: ShopifyOAuth,
    store: CredentialStore,
    states: OAuthStates,
    customer_id: str,
    on_authorize_url: Callable[[str], None],
    port: int = 0,
    timeout_seconds: float = 300.0,
) -> Connection:
    """Install the app on `oauth.shop` for `customer_id` and store the connection.

    `on_authorize_url` receives the URL the merchant must open (print it, or drive an approval);
    the callback is then awaited on 127.0.0.1:`port` for at most `timeout_seconds`.
    """
    try:
        receiver = _Receiver(port, _judge(oauth, states, customer_id))
    except OSError as error:
        raise CredentialError(
            f"cannot listen for the OAuth callback on 127.0.0.1:{port} ({error.strerror}); "
            "choose another --port, or 0 for any free one"
        ) from error
    thread = threading.Thread(
        target=functools.partial(receiver.serve_forever, POLL_SECONDS),
        name="shopify-oauth-callback",
        daemon=True,
    )
    thread.start()
    try:
        on_authorize_url(
            oauth.authorize_url(states.issue(customer_id, SOURCE), receiver.redirect_uri)
        )
        receiver.received.wait(timeout_seconds)
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join()
    if receiver.code is None:
        raise AuthorizationTimedOut(
            f"no installation reached {receiver.redirect_uri} within {timeout_seconds:g} s; open "
            "the URL above and install, or rerun with a longer --timeout"
        )
    scopes, tokens = oauth.exchange_code(receiver.code)
    return store.upsert_connection(
        customer_id=customer_id, source=SOURCE, account=oauth.shop, scopes=scopes, tokens=tokens
    )


def connect_client_credentials(
    oauth: ShopifyOAuth,
    store: CredentialStore,
    customer_id: str,
    client_id: str | None = None,
    client_secret: Secret | None = None,
) -> Connection:
    """Connect a merchant's own app (default: `oauth.app`) with the client-credentials grant."""
    scopes, tokens = oauth.client_credentials(client_id, client_secret)
    return store.upsert_connection(
        customer_id=customer_id, source=SOURCE, account=oauth.shop, scopes=scopes, tokens=tokens
    )
