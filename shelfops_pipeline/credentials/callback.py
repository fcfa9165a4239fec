"""A one-shot loopback HTTP server that receives a provider's OAuth redirect.

It answers GET /callback and accepts the first request whose `state` the given check passes;
requests with a missing, forged, replayed or expired state get a 400 page and the server keeps
waiting, so a stray request cannot end a real authorization. The query (which carries the
authorization code) is never logged.
"""

import functools
import html
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from shelfops_pipeline.credentials.errors import InvalidOAuthState
from shelfops_pipeline.credentials.secret import Secret

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
MAX_QUERY_FIELDS = 16
SOCKET_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.05
PAGE = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>ShelfOps</title></head>'
    "<body><h1>{title}</h1><p>{message}</p></body></html>\n"
)


@dataclass(frozen=True)
class CallbackResult:
    """What the provider sent back with a valid state: a code, or an error such as a denial."""

    code: Secret | None
    error: str | None = None
    error_description: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, check_state: Callable[[str], None]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.check_state = check_state
        self.result: CallbackResult | None = None
        self.received = threading.Event()
        self.lock = threading.Lock()

    def receive(self, params: dict[str, str]) -> tuple[int, str, str]:
        """Judge one callback; the HTTP status, title and message to answer with."""
        with self.lock:
            if self.result is not None:
                return 400, "Already received", "This authorization was already completed."
            state = params.get("state")
            if not state:
                logger.warning("refused an OAuth callback without state")
                return 400, "Refused", "The authorization response carried no state."
            try:
                self.check_state(state)
            except InvalidOAuthState as error:
                return 400, "Refused", str(error)
            code = params.get("code")
            error = params.get("error")
            if error or not code:
                self.result = CallbackResult(
                    None, error or "no_code", params.get("error_description")
                )
                title, message = "Not authorized", "Return to the terminal for details."
            else:
                self.result = CallbackResult(Secret(code))
                title, message = "Authorization received", "Return to the terminal."
            self.received.set()
            return 200, title, message


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = SOCKET_TIMEOUT_SECONDS

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._answer(404, "Not found", "This server only receives OAuth callbacks.")
            return
        try:
            fields = parse_qs(parts.query, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            self._answer(400, "Refused", "The callback query could not be read.")
            return
        params = {name: values[0] for name, values in fields.items()}
        self._answer(*self.server.receive(params))

    def _answer(self, status: int, title: str, message: str) -> None:
        body = PAGE.format(title=html.escape(title), message=html.escape(message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The request line holds the authorization code: log the method and path only.
        logger.debug("callback server: %s %s", self.command, urlsplit(self.path or "").path)


class CallbackServer:
    """Serve the callback on 127.0.0.1:`port` (0 picks a free port) while the block runs."""

    def __init__(self, check_state: Callable[[str], None], port: int = 0) -> None:
        self._server = _Server(port, check_state)
        self._thread = threading.Thread(
            target=functools.partial(self._server.serve_forever, POLL_SECONDS),
            name="oauth-callback",
            daemon=True,
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def wait(self, timeout: float) -> CallbackResult | None:
        """The accepted callback, or None when none arrived within `timeout` seconds."""
        self._server.received.wait(timeout)
        return self._server.result

    def __enter__(self) -> "CallbackServer":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
