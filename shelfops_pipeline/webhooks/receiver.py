"""The webhook receiver: `/webhooks/square` and `/webhooks/shopify` on Starlette.

Thin on purpose: read the raw body (refusing more than the limit), check the signature over
those bytes in constant time, only then parse, resolve the customer, commit the event to the
durable queue, and answer 200. Nothing touches Dagster here; the sensor picks events up.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shelfops_pipeline.webhooks.accounts import AccountDirectory
from shelfops_pipeline.webhooks.envelopes import (
    Envelope,
    Rejected,
    parse_json_object,
    shopify_envelope,
    square_envelope,
)
from shelfops_pipeline.webhooks.keyring import SquareKeyring
from shelfops_pipeline.webhooks.queue import queue_path
from shelfops_pipeline.webhooks.settings import ReceiverSettings
from shelfops_pipeline.webhooks.signatures import shopify_signature_valid
from shelfops_pipeline.webhooks.writer import QueueWriter

logger = logging.getLogger(__name__)

Verify = Callable[[bytes, Mapping[str, str]], bool]
ReadEnvelope = Callable[[Mapping[str, Any], Mapping[str, str]], Envelope]


@dataclass(frozen=True)
class ProviderRoute:
    """A provider plugs in with a signature check and an envelope reader (its topic map)."""

    name: str
    verify: Verify
    envelope: ReadEnvelope


def provider_routes(settings: ReceiverSettings) -> list[ProviderRoute]:
    keyring = SquareKeyring(settings.square, settings.home)

    def square(body: bytes, headers: Mapping[str, str]) -> bool:
        return keyring.valid(body, headers.get("x-square-hmacsha256-signature"))

    def shopify(body: bytes, headers: Mapping[str, str]) -> bool:
        signature = headers.get("x-shopify-hmac-sha256")
        return shopify_signature_valid(settings.shopify_secrets, body, signature)

    return [
        ProviderRoute("square", square, square_envelope),
        ProviderRoute("shopify", shopify, shopify_envelope),
    ]


async def _limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, "body_too_large", f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "body_too_large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(provider: str, request: Request, error: Rejected) -> Response:
    client = request.client.host if request.client else "?"
    logger.warning(
        "webhook %s from %s refused: %d %s (%s)",
        provider,
        client,
        error.status,
        error.code,
        error.reason,
    )
    return JSONResponse({"error": error.code, "reason": error.reason}, status_code=error.status)


def _endpoint(
    route: ProviderRoute,
    settings: ReceiverSettings,
    writer: QueueWriter,
    accounts: AccountDirectory,
) -> Callable[[Request], Any]:
    async def receive(request: Request) -> Response:
        try:
            body = await _limited_body(request, settings.max_body_bytes)
            headers = {k.lower(): v for k, v in request.headers.items()}
            if not route.verify(body, headers):
                raise Rejected(401, "bad_signature", "the signature is missing or does not match")
            envelope = route.envelope(parse_json_object(body), headers)
        except Rejected as error:
            return _refusal(route.name, request, error)
        except ClientDisconnect:
            return Response(status_code=400)
        customer = accounts.customer(envelope.provider, envelope.account)
        stored = await writer.append(envelope, customer, body)
        if not stored:
            logger.info("webhook %s %s already queued", route.name, envelope.event_id)
        return JSONResponse({"status": "queued" if stored else "duplicate"})

    return receive


def build_receiver(settings: ReceiverSettings) -> Starlette:
    """The receiver app; its queue writer runs while the app is served (the lifespan)."""
    writer = QueueWriter(queue_path(settings.home))
    accounts = AccountDirectory(settings.home)
    routes = [
        Route(f"/webhooks/{r.name}", _endpoint(r, settings, writer, accounts), methods=["POST"])
        for r in provider_routes(settings)
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        writer.start()
        try:
            yield
        finally:
            writer.stop()

    return Starlette(routes=routes, lifespan=lifespan)
