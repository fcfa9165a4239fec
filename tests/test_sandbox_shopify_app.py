"""How the Shopify Admin API is reached: per-shop paths, the root with the token's shop, the
`*.myshopify.com` host over TLS, versions, faults in Shopify's words, and the token listing.
"""

import json
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

SHELFOPS = str(Path(sys.executable).parent / "shelfops")
WORLD = ["--seed", str(SEED), "--scale", "small", "--now", FROZEN_NOW.isoformat()]
INVALID_TOKEN = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
SHOP_QUERY = {"query": "{ shop { name myshopifyDomain } }"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        yield sandbox, base_url


@pytest.fixture(scope="module")
def listing() -> dict[str, object]:
    result = CliRunner().invoke(cli, ["sandbox", "tokens", *WORLD])
    assert result.exit_code == 0, result.output
    shopify: dict[str, object] = json.loads(result.output)["shopify"]
    return shopify


def token_of(sandbox: Sandbox, index: int) -> str:
    return sandbox.shopify_tokens.custom_apps[sandbox.world.shops[index].domain].access_token


def test_tokens_lists_the_app_and_each_shops_custom_app(
    served: tuple[Sandbox, str], listing: dict[str, object]
) -> None:
    sandbox, base_url = served
    shops = listing["shops"]
    assert isinstance(shops, list)
    assert [s["shop"] for s in shops] == [shop.domain for shop in sandbox.world.shops]
    application = listing["application"]
    assert isinstance(application, dict)
    assert application["client_secret"].startswith("shpss_")
    for entry in shops:
        assert entry["access_token"].startswith("shpat_")
        assert entry["api_secret_key"] != application["client_secret"]
        reply = httpx.get(
            f"{base_url}/admin/api/2026-10/locations.json",
            headers={"X-Shopify-Access-Token": entry["access_token"]},
        )
        assert sorted(loc["id"] for loc in reply.json()["locations"]) == sorted(
            entry["location_ids"]
        )
    other_seed = CliRunner().invoke(cli, ["sandbox", "tokens", "--seed", str(SEED + 1), *WORLD[2:]])
    tokens = {s["access_token"] for s in json.loads(other_seed.output)["shopify"]["shops"]}
    assert not tokens & {s["access_token"] for s in shops}


@pytest.mark.parametrize("prefix", ["/shopify/{handle}", "/shopify/{domain}", ""])
def test_every_way_to_name_the_shop_serves_it(served: tuple[Sandbox, str], prefix: str) -> None:
    sandbox, base_url = served
    shop = sandbox.world.shops[1]
    base = base_url + prefix.format(handle=shop.handle, domain=shop.domain)
    headers = {"X-Shopify-Access-Token": token_of(sandbox, 1)}
    rest = httpx.get(f"{base}/admin/api/2026-10/shop.json", headers=headers)
    assert rest.json()["shop"]["myshopify_domain"] == shop.domain
    graphql = httpx.post(f"{base}/admin/api/2026-10/graphql.json", json=SHOP_QUERY, headers=headers)
    assert graphql.json()["data"]["shop"]["myshopifyDomain"] == shop.domain
    assert "throttleStatus" in graphql.json()["extensions"]["cost"]
    unversioned = httpx.get(f"{base}/admin/shop.json", headers=headers)
    assert unversioned.status_code == 200


def test_a_myshopify_host_names_the_shop_and_its_token_must_match(
    served: tuple[Sandbox, str],
) -> None:
    sandbox, base_url = served
    shop = sandbox.world.shops[1]
    url = f"{base_url}/admin/api/2026-10/shop.json"
    own = httpx.get(
        url, headers={"Host": shop.domain, "X-Shopify-Access-Token": token_of(sandbox, 1)}
    )
    assert own.json()["shop"]["id"] == shop.numeric_id
    other = httpx.get(
        url, headers={"Host": shop.domain, "X-Shopify-Access-Token": token_of(sandbox, 0)}
    )
    assert (other.status_code, other.json()) == (401, INVALID_TOKEN)
    unknown = httpx.get(
        url,
        headers={"Host": "nowhere.myshopify.com", "X-Shopify-Access-Token": token_of(sandbox, 0)},
    )
    assert (unknown.status_code, unknown.json()) == (404, {"errors": "Not Found"})


@pytest.mark.parametrize(
    ("requested", "served_as"),
    [
        ("2026-10", "2026-10"),
        ("2023-01", "2025-10"),
        ("unstable", "unstable"),
        ("2026-07", "2026-07"),
    ],
)
def test_versions_fall_forward_and_are_echoed(
    served: tuple[Sandbox, str], requested: str, served_as: str
) -> None:
    sandbox, base_url = served
    headers = {"X-Shopify-Access-Token": token_of(sandbox, 0)}
    for reply in (
        httpx.get(f"{base_url}/admin/api/{requested}/locations.json", headers=headers),
        httpx.post(
            f"{base_url}/admin/api/{requested}/graphql.json", json=SHOP_QUERY, headers=headers
        ),
    ):
        assert reply.status_code == 200
        assert reply.headers["x-shopify-api-version"] == served_as


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "body"),
    [
        ("GET", "/admin/api/2026-10/shop.json", {}, 401, INVALID_TOKEN),
        ("GET", "/admin/api/2026-10/shop.json", {"Authorization": "Bearer {token}"}, 401,
         INVALID_TOKEN),
        ("GET", "/admin/api/2026-10/shop.json", {"X-Shopify-Access-Token": "shpat_0"}, 401,
         INVALID_TOKEN),
        ("POST", "/admin/api/2026-10/graphql.json", {}, 401, INVALID_TOKEN),
        ("GET", "/shopify/no-such-shop/admin/api/2026-10/shop.json", {}, 404,
         {"errors": "Not Found"}),
        ("GET", "/admin/api/not-a-version/shop.json", {}, 404, {"errors": "Not Found"}),
        ("GET", "/admin/api/2026-10/customers.json", {}, 404, {"errors": "Not Found"}),
        ("POST", "/admin/api/2026-10/orders.json", {}, 405, {"errors": "Method Not Allowed"}),
    ],
)  # fmt: skip
def test_refusals_take_shopifys_shapes(
    served: tuple[Sandbox, str], method: str, path: str, headers: dict[str, str], status: int,
    body: dict[str, object],
) -> None:  # fmt: skip
    sandbox, base_url = served
    sent = {k: v.format(token=token_of(sandbox, 0)) for k, v in headers.items()}
    reply = httpx.request(method, base_url + path, headers=sent, json=SHOP_QUERY)
    assert (reply.status_code, reply.json()) == (status, body)


@pytest.mark.parametrize(
    "query",
    [
        "orders.json?limit=abc", "orders.json?ids=1,a", "orders.json?status=sideways",
        "orders.json?created_at_min=%00", "orders.json?page_info=%FF%FE", "orders.json?limit=0",
        "orders.json?order=total_price%20asc", "inventory_levels.json?location_ids=x",
        "inventory_levels.json?location_ids=" + ",".join(str(n) for n in range(60)),
        "products.json?since_id=-", "products.json?page_info=eyJ4IjoxfQ",
    ],
)  # fmt: skip
def test_bad_queries_get_a_4xx_never_a_500(served: tuple[Sandbox, str], query: str) -> None:
    sandbox, base_url = served
    headers = {"X-Shopify-Access-Token": token_of(sandbox, 1)}
    reply = httpx.get(f"{base_url}/admin/api/2026-10/{query}", headers=headers)
    assert 400 <= reply.status_code < 500
    assert "errors" in reply.json()


def test_faults_hit_shopify_paths_in_shopifys_words() -> None:
    faults = FaultConfig(error_503=1.0)
    settings = SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    sandbox = build_sandbox(settings)
    headers = {"X-Shopify-Access-Token": token_of(sandbox, 0)}
    with serve_in_thread(sandbox.app) as base_url:
        rest = httpx.get(f"{base_url}/admin/api/2026-10/shop.json", headers=headers)
        graphql = httpx.post(
            f"{base_url}/shopify/{sandbox.world.shops[0].handle}/admin/api/2026-10/graphql.json",
            json=SHOP_QUERY,
            headers=headers,
        )
        oauth = httpx.get(f"{base_url}/admin/oauth/access_scopes.json", headers=headers)
        log = httpx.get(f"{base_url}/_sandbox/faults").json()
    assert (rest.status_code, rest.json()) == (503, {"errors": "Service Unavailable"})
    assert graphql.status_code == 503
    assert graphql.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert oauth.status_code == 200, "OAuth paths are not faulted"
    assert log["counts"]["error_503"] == 2
    assert {entry["identity"] for entry in log["recent"]} == {sandbox.world.shops[0].domain}


def test_a_budget_spill_on_shopify_says_so_with_a_fractional_retry_after() -> None:
    faults = FaultConfig(budget_per_second=0.5, budget_burst=1, retry_after=True)
    settings = SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    sandbox = build_sandbox(settings)
    headers = {"X-Shopify-Access-Token": token_of(sandbox, 0)}
    with serve_in_thread(sandbox.app) as base_url:
        url = f"{base_url}/admin/api/2026-10/shop.json"
        first, second = httpx.get(url, headers=headers), httpx.get(url, headers=headers)
        graphql = httpx.post(
            f"{base_url}/admin/api/2026-10/graphql.json", json=SHOP_QUERY, headers=headers
        )
    assert first.status_code == 200 and second.status_code == 429
    assert second.json()["errors"].startswith("Exceeded 2 calls per second for api client.")
    retry_after = second.headers["retry-after"]
    assert "." in retry_after and 0 < float(retry_after) <= 2.0
    assert graphql.status_code == 429
    assert graphql.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_serve_with_a_tls_port_answers_https_for_myshopify_hosts(
    tmp_path: Path, listing: dict[str, object]
) -> None:
    port, tls_port = free_loopback_port(), free_loopback_port()
    ca_file = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [SHELFOPS, "sandbox", "serve", "--port", str(port), "--tls-port", str(tls_port),
         "--tls-ca-file", str(ca_file), *WORLD, "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    shops = listing["shops"]
    assert isinstance(shops, list)
    shop, token = shops[0]["shop"], shops[0]["access_token"]
    try:
        deadline = time.monotonic() + 30
        reply = None
        while reply is None and time.monotonic() < deadline:
            try:
                trusted = ssl.create_default_context(cafile=str(ca_file))
                with httpx.Client(verify=trusted) as client:
                    reply = client.get(
                        f"https://127.0.0.1:{tls_port}/admin/api/2025-07/shop.json",
                        headers={"Host": shop, "X-Shopify-Access-Token": token},
                        extensions={"sni_hostname": shop},
                    )
            except (httpx.ConnectError, FileNotFoundError):
                time.sleep(0.05)
        assert reply is not None and reply.status_code == 200, reply
        assert reply.json()["shop"]["myshopify_domain"] == shop
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{tls_port}/admin/api/2025-07/shop.json")
        plain = httpx.get(
            f"http://127.0.0.1:{port}/admin/api/2025-07/shop.json",
            headers={"X-Shopify-Access-Token": token},
        )
        assert plain.json()["shop"]["myshopify_domain"] == shop
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    assert str(ca_file) in output
    assert f"http://127.0.0.1:{port}/shopify/" in output
    assert token not in output
    assert process.returncode == 0, output
