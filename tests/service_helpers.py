"""The long-running commands some tests start as a deployment would (`dagster-webserver`,
`dagster-daemon`, `shelfops ui`): each in a session of its own, so its whole process group (code
servers and run workers included) is stopped as one, and SIGINT and SIGTERM start at their
defaults whatever this process handles."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_TIMEOUT_SECONDS = 20.0


@contextmanager
def service(
    command: list[str], env: dict[str, str], log: Path, stop_timeout: float = STOP_TIMEOUT_SECONDS
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` (its first word a script of this venv) run from the repository, output to
    `log`; on leaving, SIGTERM to its group, and SIGKILL to whatever outlives `stop_timeout`."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / command[0]), *command[1:]], cwd=REPO, env=env, stdout=output,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=stop_timeout)
        # What outlives the service's own process (a code server still cleaning up) ends too.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(what: str, seconds: float, probe: Callable[[], T | None]) -> T:
    """`probe()` once a second until it gives something other than None; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:g} s"
        time.sleep(1)
    return found


def wait_until_answering(
    client: httpx.Client, process: subprocess.Popen[bytes], log: Path, seconds: float = 60.0
) -> None:
    """Until the Dagster webserver behind `client` answers; fail at once if `process` ended."""

    def answering() -> bool | None:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return client.get("/server_info").status_code == 200 or None
        except httpx.TransportError:
            return None

    wait_for("the webserver answering", seconds, answering)


def graphql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    """The `data` of a GraphQL query to the webserver; any error fails the test."""
    reply = client.post("/graphql", json={"query": query, "variables": variables})
    reply.raise_for_status()
    body = reply.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data
