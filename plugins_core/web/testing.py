"""pytest fixtures for testing plugins against a running web server (real HTTP).

Installed as a pytest plugin (entry point ``pytest11``) beside ``pioreactor.sdk.testing``, whose
fixtures it builds on: ``web_server`` runs ``pio run web_server`` on a free port for the test's
``pio_home``; ``start_web_server(run_job)`` starts another one (a second unit, a restart).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pioreactor.sdk.testing import DEFAULT_TIMEOUT, JobProcess, free_port

#: Debian's Chromium (``make chromium``), the browser the UI tests, screenshots and benchmarks drive
CHROMIUM = os.environ.get("PIO_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: what a closed network and a root user need: no sandbox, no background calls to Google's hosts
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright: Any, executable: str | None = None) -> Any:
    """Headless Chromium through Playwright (``playwright`` from ``sync_playwright()``); it never
    downloads a browser of its own, and gives this one a fresh, empty profile."""
    return playwright.chromium.launch(executable_path=executable or CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class HttpResponse:
    status: int
    #: case-insensitive: ``response.headers["content-type"]``
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class WebServer:
    """A running ``pio run web_server`` on a free port, with a small HTTP client (real HTTP)."""

    job: JobProcess
    host: str
    port: int
    default_headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> HttpResponse:
        """``method path`` with a JSON body (``json=``) or raw ``data``; never raises on 4xx/5xx."""
        import http.client
        import json as json_module

        all_headers = dict(self.default_headers)
        body: bytes | None = None
        if json is not None:
            body = json_module.dumps(json).encode()
            all_headers["Content-Type"] = "application/json"
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return HttpResponse(response.status, response.headers, response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)

    def wait_for_task(self, accepted: HttpResponse, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Poll the ``result_url_path`` of a 202 answer until the task is done; its JSON."""
        assert accepted.status == 202, f"expected 202, got {accepted.status}: {accepted.text}"
        path = accepted.json()["result_url_path"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.get(path)
            if response.status == 200:
                return dict(response.json())
            assert response.status == 202, f"polling {path}: {response.status} {response.text}"
            time.sleep(0.02)  # polling is the protocol under test (the UI polls every 100 ms)
        raise TimeoutError(f"task {path} still pending after {timeout} s")

    def stop(self) -> int:
        return self.job.stop()


def start_web_server(
    run_job: Callable[..., JobProcess], *args: str, timeout: float = 20.0, env: dict[str, str] | None = None
) -> WebServer:
    """``pio run web_server --port <free> ARGS`` and wait until ``/unit_api/health`` answers."""
    port = free_port()
    job = run_job("web_server", "--host", "127.0.0.1", "--port", str(port), *args, env=env)
    server = WebServer(job, "127.0.0.1", port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if server.get("/unit_api/health", timeout=2.0).status == 200:
                return server
        except OSError:
            pass
        if job.process.poll() is not None:
            raise RuntimeError(f"the web server exited with {job.process.returncode}:\n{job.output()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the web server did not answer within {timeout} s:\n{job.output()}")
        time.sleep(0.02)


@pytest.fixture
def web_server(run_job: Callable[..., JobProcess]) -> Iterator[WebServer]:
    """``pio run web_server`` on a free port of 127.0.0.1 for this test's ``pio_home`` (the
    leader of its own one-unit cluster): ``web_server.get("/unit_api/health").json()``."""
    server = start_web_server(run_job)
    yield server
    server.stop()
