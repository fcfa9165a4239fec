"""Square's error envelope: `{"errors": [{"category", "code", "detail", "field"}]}`."""

from typing import Any

from starlette.responses import JSONResponse

STATUS_BY_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "INVALID_CURSOR": 400,
    "INVALID_VALUE": 400,
    "INVALID_ARRAY_VALUE": 400,
    "INVALID_REQUEST_ERROR": 400,
    "MISSING_REQUIRED_PARAMETER": 400,
    "INVALID_TIME_RANGE": 400,
    "VALUE_TOO_HIGH": 400,
    "VALUE_TOO_LOW": 400,
    "TOO_MANY_MAP_ENTRIES": 400,
    "INVALID_SQUARE_VERSION_FORMAT": 400,
    "API_VERSION_INCOMPATIBLE": 400,
    "EXPECTED_JSON_BODY": 400,
    "INVALID_CONTENT_TYPE": 400,
    "UNAUTHORIZED": 401,
    "ACCESS_TOKEN_EXPIRED": 401,
    "ACCESS_TOKEN_REVOKED": 401,
    "INSUFFICIENT_SCOPES": 403,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "REQUEST_ENTITY_TOO_LARGE": 413,
    "UNKNOWN_QUERY_PARAMETER": 400,
    "INVALID_ENUM_VALUE": 400,
    "RATE_LIMITED": 429,
    "INTERNAL_SERVER_ERROR": 500,
    "BAD_GATEWAY": 502,
    "SERVICE_UNAVAILABLE": 503,
    "GATEWAY_TIMEOUT": 504,
}

CATEGORY_BY_STATUS: dict[int, str] = {
    401: "AUTHENTICATION_ERROR",
    403: "AUTHENTICATION_ERROR",
    429: "RATE_LIMIT_ERROR",
}


class SquareError(Exception):
    """Raised inside a handler; the app turns it into Square's error reply."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field

    @property
    def status(self) -> int:
        return STATUS_BY_CODE.get(self.code, 400)


def error_body(code: str, detail: str, field: str | None = None) -> dict[str, Any]:
    status = STATUS_BY_CODE.get(code, 400)
    default_category = "API_ERROR" if status >= 500 else "INVALID_REQUEST_ERROR"
    error: dict[str, Any] = {
        "category": CATEGORY_BY_STATUS.get(status, default_category),
        "code": code,
        "detail": detail,
    }
    if field:
        error["field"] = field
    return {"errors": [error]}


def error_response(
    code: str, detail: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(code, detail, field), status_code=STATUS_BY_CODE.get(code, 400), headers=headers
    )
