"""Shopify's error replies outside GraphQL: the Admin API's `{"errors": ...}` and OAuth's
`{"error", "error_description"}`.

The Admin API's `errors` is a string (`"Not Found"`, the invalid-token sentence) or an object of
field -> message(s) (api-notes section 7). The OAuth endpoint's shape follows RFC 6749 section
5.2, which Shopify's token endpoint answers in (`{"error": "invalid_request"}`, api-notes 6).
"""

import json
from typing import Any

from starlette.responses import JSONResponse

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
NOT_FOUND = "Not Found"


class AdminApiError(Exception):
    """Raised inside an Admin API handler; the app turns it into Shopify's error reply."""

    def __init__(
        self, status: int, errors: str | dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(errors if isinstance(errors, str) else json.dumps(errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def invalid_token() -> AdminApiError:
    """The 401 Shopify gives a missing, unknown, expired or revoked access token."""
    return AdminApiError(401, INVALID_TOKEN)


def not_found() -> AdminApiError:
    return AdminApiError(404, NOT_FOUND)


def missing_scope(scope: str) -> AdminApiError:
    return AdminApiError(403, f"[API] This action requires merchant approval for {scope} scope.")


def admin_error_response(
    error: AdminApiError, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"errors": error.errors},
        status_code=error.status,
        headers={**error.headers, **(headers or {})},
    )


class OAuthError(Exception):
    """A refused OAuth request: `error` is an RFC 6749 code, `description` says why."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status)
