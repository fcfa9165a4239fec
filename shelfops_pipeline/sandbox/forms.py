"""Small HTTP helpers the OAuth emulators share: reading url-encoded forms and redirecting with
parameters added to a URL's query."""

from collections.abc import Mapping
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class FormError(ValueError):
    """A body that is not a readable url-encoded form; `wrong_type` tells the two cases apart."""

    def __init__(self, message: str, wrong_type: bool) -> None:
        super().__init__(message)
        self.wrong_type = wrong_type


async def url_encoded_form(request: Request, max_fields: int) -> dict[str, str]:
    """The request's url-encoded form, first value per name; FormError when it is not one."""
    # Parsed by hand: Starlette's request.form() needs python-multipart, which we do not ship.
    if not request.headers.get("content-type", "").startswith(FORM_CONTENT_TYPE):
        raise FormError("Post the form url-encoded.", wrong_type=True)
    try:
        fields = parse_qs(
            (await request.body()).decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=max_fields,
        )
    except ValueError as error:
        raise FormError("The form could not be read.", wrong_type=False) from error
    return {name: values[0] for name, values in fields.items()}


def redirect_with(uri: str, params: Mapping[str, str | None]) -> RedirectResponse:
    """A 302 to `uri` with `params` added to its query (None values are left out)."""
    parts = urlsplit(uri)
    added = [(name, value) for name, value in params.items() if value is not None]
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *added])
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)
