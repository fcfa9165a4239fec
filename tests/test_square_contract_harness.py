"""The Square contract harness must pass what Square documents and fail what breaks it, readably.

Square's own examples (vendored next to the schemas) are the known-good bodies; small edits of
them (a string amount, a missing required field, a misspelled property) are the known-bad ones.
"""

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from square_contract import (
    SUBSET_PATH,
    assert_square_event,
    assert_square_reply,
    assert_square_request,
    documented_operations,
    square_spec,
    webhook_event_types,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
FULL_SPEC = REPO_ROOT.parent / "shared" / "square-openapi" / "api.json"
# Square's catalog search example still shows CatalogItem.visibility, a field its schema retired.
STALE_EXAMPLE = ("POST", "/v2/catalog/search", "response")


def documented_examples() -> list[tuple[str, str, str, Any]]:
    return [
        (method.upper(), path, direction, body)
        for path, methods in square_spec()["paths"].items()
        for method, operation in methods.items()
        for direction, body in operation.get("x-examples", {}).items()
    ]


def check_example(method: str, path: str, direction: str, body: Any, strict: bool) -> None:
    if direction == "response":
        assert_square_reply(method, path, body, strict=strict)
    else:
        assert_square_request(method, path, body, strict=strict)


def example(method: str, path: str, direction: str) -> Any:
    return copy.deepcopy(square_spec()["paths"][path][method.lower()]["x-examples"][direction])


def event_example(kind: str) -> dict[str, Any]:
    return copy.deepcopy(square_spec()["x-webhook-events"][kind]["example"])


EXAMPLES = documented_examples()


def example_id(case: tuple[str, str, str, Any]) -> str:
    return " ".join(case[:3])


def test_every_operation_and_event_carries_an_example() -> None:
    assert len(documented_operations()) == 14
    assert {(method, path) for method, path, _, _ in EXAMPLES} == set(documented_operations())
    assert sorted(webhook_event_types()) == [
        "catalog.version.updated",
        "inventory.count.updated",
        "order.created",
        "order.updated",
        "payment.created",
        "payment.updated",
    ]


@pytest.mark.parametrize("case", EXAMPLES, ids=example_id)
def test_squares_examples_pass_in_open_mode(case: tuple[str, str, str, Any]) -> None:
    check_example(*case, strict=False)


@pytest.mark.parametrize(
    "case", [case for case in EXAMPLES if case[:3] != STALE_EXAMPLE], ids=example_id
)
def test_squares_examples_pass_in_strict_mode(case: tuple[str, str, str, Any]) -> None:
    check_example(*case, strict=True)


@pytest.mark.parametrize("kind", sorted(webhook_event_types()))
@pytest.mark.parametrize("strict", [False, True], ids=["open", "strict"])
def test_squares_event_examples_pass(kind: str, strict: bool) -> None:
    assert_square_event(kind, event_example(kind), strict=strict)
    assert_square_event(webhook_event_types()[kind], event_example(kind), strict=strict)


def test_strict_mode_flags_the_field_square_retired_from_its_catalog_example() -> None:
    body = example(*STALE_EXAMPLE)
    with pytest.raises(AssertionError) as caught:
        assert_square_reply("POST", "/v2/catalog/search", body)
    assert str(caught.value).splitlines()[1:] == [
        "  $.objects[0].item_data.visibility: not a property Square declares here",
        "  $.objects[1].item_data.visibility: not a property Square declares here",
    ]
    assert_square_reply("POST", "/v2/catalog/search", body, strict=False)


def test_an_amount_sent_as_a_string_fails_with_its_json_path() -> None:
    body = example("GET", "/v2/orders/{order_id}", "response")
    body["order"]["total_money"]["amount"] = "100"
    with pytest.raises(AssertionError) as caught:
        assert_square_reply("GET", "/v2/orders/{order_id}", body, strict=False)
    assert str(caught.value) == (
        "RetrieveOrder reply (HTTP 200) breaks Square's schema (open mode), 1 violation(s):\n"
        "  $.order.total_money.amount: '100' is not of type 'integer'"
    )


def test_a_money_needs_neither_field_but_an_error_needs_its_code() -> None:
    body = example("GET", "/v2/orders/{order_id}", "response")
    del body["order"]["total_money"]["currency"]
    assert_square_reply("GET", "/v2/orders/{order_id}", body)

    error_reply = {"errors": [{"category": "INVALID_REQUEST_ERROR", "detail": "bad cursor"}]}
    with pytest.raises(AssertionError, match=r"\$\.errors\[0\]: 'code' is a required property"):
        assert_square_reply("POST", "/v2/orders/search", error_reply, status=400)


def test_a_request_missing_a_required_field_fails() -> None:
    body = example("POST", "/oauth2/token", "request")
    del body["grant_type"]
    with pytest.raises(AssertionError, match=r"ObtainToken request .*\n  \$: 'grant_type' is a"):
        assert_square_request("POST", "/oauth2/token", body)


def test_a_misspelled_property_fails_only_in_strict_mode() -> None:
    body = example("POST", "/v2/inventory/counts/batch-retrieve", "response")
    body["counts"][0]["quantitiy"] = body["counts"][0].pop("quantity")
    assert_square_reply("POST", "/v2/inventory/counts/batch-retrieve", body, strict=False)
    with pytest.raises(AssertionError) as caught:
        assert_square_reply("POST", "/v2/inventory/counts/batch-retrieve", body)
    assert "(strict mode)" in str(caught.value)
    assert "$.counts[0].quantitiy: not a property Square declares here" in str(caught.value)


def test_strict_mode_keeps_map_valued_fields_open() -> None:
    body = example("GET", "/v2/orders/{order_id}", "response")
    body["order"]["metadata"] = {"any_key": "any value"}
    assert_square_reply("GET", "/v2/orders/{order_id}", body)
    body["order"]["metadata"]["count"] = 3
    with pytest.raises(AssertionError, match=r"\$\.order\.metadata\.count: 3 is not of type"):
        assert_square_reply("GET", "/v2/orders/{order_id}", body)


def test_a_null_where_square_allows_none_is_reported_once() -> None:
    body = example("GET", "/v2/orders/{order_id}", "response")
    body["order"]["net_amounts"]["tax_money"] = None
    with pytest.raises(AssertionError) as caught:
        assert_square_reply("GET", "/v2/orders/{order_id}", body)
    assert str(caught.value).splitlines()[1:] == [
        "  $.order.net_amounts.tax_money: null where Square's schema allows only object"
    ]


def test_an_error_reply_is_checked_against_the_operation_reply_and_must_carry_errors() -> None:
    error = {"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED", "detail": "no token"}
    assert_square_reply("GET", "/v2/locations", {"errors": [error]}, status=401)
    with pytest.raises(AssertionError, match=r"\$\.errors: an error reply must carry a non-empty"):
        assert_square_reply("GET", "/v2/locations", {"message": "unauthorized"}, status=401)
    with pytest.raises(AssertionError, match=r"\$\.errors\[0\]\.code: 'NOPE' is not one of"):
        assert_square_reply("GET", "/v2/locations", {"errors": [{**error, "code": "NOPE"}]}, 401)


def test_a_success_status_square_does_not_document_fails() -> None:
    with pytest.raises(AssertionError, match=r"documents no HTTP 204 reply, only \['200'\]"):
        assert_square_reply("DELETE", "/v2/webhooks/subscriptions/{subscription_id}", {}, 204)


def test_a_concrete_path_finds_its_template_and_an_unknown_one_is_refused() -> None:
    body = example("GET", "/v2/orders/{order_id}", "response")
    assert_square_reply("get", "/v2/orders/CAISEM82RcpmcFE", body)
    with pytest.raises(ValueError, match=r"documents no GET /v2/payments; known: \[\("):
        assert_square_reply("GET", "/v2/payments", {})
    with pytest.raises(ValueError, match="documents no GET /v2/orders/"):
        assert_square_reply("GET", "/v2/orders/", body)


def test_request_bodies_must_match_what_the_operation_takes() -> None:
    with pytest.raises(AssertionError, match="ListLocations request: Square documents no request"):
        assert_square_request("GET", "/v2/locations", {})
    assert_square_request("POST", "/oauth2/token/status", None)
    with pytest.raises(AssertionError, match="SearchOrders request: Square requires a JSON"):
        assert_square_request("POST", "/v2/orders/search", None)


def test_an_event_of_another_type_fails_and_an_unknown_type_is_refused() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_square_event("order.updated", event_example("order.created"))
    assert "$.type: 'order.created' is not the event type 'order.updated'" in str(caught.value)
    with pytest.raises(ValueError, match=r"unknown Square webhook event 'refund\.created'"):
        assert_square_event("refund.created", {})


def test_secret_values_never_reach_the_message() -> None:
    body = example("POST", "/oauth2/token", "response")
    secret = body["access_token"]
    body["access_token"] = [secret]
    with pytest.raises(AssertionError) as caught:
        assert_square_reply("POST", "/oauth2/token", body)
    assert "$.access_token: value breaks 'type' (value withheld: secret)" in str(caught.value)
    assert secret not in str(caught.value)

    with pytest.raises(AssertionError) as caught:
        assert_square_reply("POST", "/oauth2/token", [{"access_token": secret}])
    assert "$: value breaks 'type' (value withheld: secret)" in str(caught.value)
    assert secret not in str(caught.value)


def test_long_reports_show_the_first_few_violations_and_count_the_rest() -> None:
    body = example("GET", "/v2/locations", "response")
    for location in body["locations"]:
        location.update(id=1, name=2, timezone=3, status="OPEN")
    with pytest.raises(AssertionError) as caught:
        assert_square_reply("GET", "/v2/locations", body)
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("8 violation(s):")
    assert len(lines) == 1 + 5 + 1
    assert lines[-1] == "  … and 3 more"


def test_the_vendored_subset_is_small_and_records_its_source() -> None:
    assert SUBSET_PATH.stat().st_size < 300_000
    vendored = square_spec()["x-vendored"]
    assert vendored["repository"] == "square/connect-api-specification"
    assert vendored["release"] == "2025-08-20"
    assert square_spec()["info"]["license"]["name"] == "Apache 2.0"


@pytest.mark.skipif(not FULL_SPEC.exists(), reason="Square's full document is not beside the repo")
def test_the_vendored_subset_is_what_the_script_writes_today(tmp_path: Path) -> None:
    out = tmp_path / "subset.json"
    script = REPO_ROOT / "scripts" / "vendor_square_openapi.py"
    subprocess.run(
        [sys.executable, str(script), "--source", str(FULL_SPEC), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert json.loads(out.read_bytes()) == square_spec(), "rerun the script"
    assert out.read_bytes() == SUBSET_PATH.read_bytes()
