"""Who may call the web API and from where: auth, cross-site writes, the target header, body
size, rate limits and file names (real HTTP to a real server)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable

import pytest
from pioreactor.plugins_core.web.api import ApiError, safe_filename
from pioreactor.plugins_core.web.testing import WebServer, start_web_server
from pioreactor.sdk.testing import JobProcess, PioHome

Pio = Callable[..., subprocess.CompletedProcess[str]]


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth(pio_home: PioHome, pio: Pio, run_job: Callable[..., JobProcess]) -> None:
    pio_home.write_config("[web]\nauth = basic\n")
    added = pio("web", "add-user", "alice", "--password", "s3cret")
    assert added.returncode == 0, added.stderr
    assert b"s3cret" not in (pio_home.path / "storage" / "persistent.sqlite").read_bytes()
    server = start_web_server(run_job)  # /unit_api/health stays public, for monitoring

    refused = server.get("/unit_api/jobs/running")
    assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    assert server.get("/unit_api/jobs/running", headers=basic("alice", "wrong")).status == 401
    assert server.get("/unit_api/jobs/running", headers=basic("mallory", "s3cret")).status == 401
    assert server.get("/unit_api/jobs/running", headers=basic("alice", "s3cret")).status == 200
    assert server.get("/api/experiments", headers=basic("alice", "s3cret")).status == 200
    assert server.get("/").status == 200  # the UI's page itself is public


def test_token_auth(pio_home: PioHome, pio: Pio, run_job: Callable[..., JobProcess]) -> None:
    pio_home.write_config("[web]\nauth = token\n")
    made = pio("web", "new-token")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    server = start_web_server(run_job)
    assert server.get("/unit_api/jobs/running").status == 401
    assert server.get("/unit_api/jobs/running", headers={"Authorization": "Bearer nope"}).status == 401
    assert server.get("/unit_api/jobs/running", headers={"Authorization": f"Bearer {token}"}).status == 200


def test_cross_site_writes_and_wrong_targets_are_refused(web_server: WebServer, pio_home: PioHome) -> None:
    body = {"experiment": "exp_origin"}
    evil = web_server.post("/api/experiments", json=body, headers={"Origin": "http://evil.example"})
    assert evil.status == 403 and "evil.example" in evil.json()["error"]
    marked = web_server.post("/api/experiments", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert marked.status == 403
    assert web_server.get("/api/experiments", headers={"Origin": "http://evil.example"}).status == 200  # reads pass

    other = web_server.post("/unit_api/jobs/stop/all", headers={"X-Pioreactor-Target": "another-unit"})
    assert other.status == 409 and "another-unit" in other.json()["error"]
    mine = web_server.post("/unit_api/jobs/stop/all", headers={"X-Pioreactor-Target": f"{pio_home.unit}.local"})
    assert mine.status == 202

    same_origin = {"Origin": web_server.url}
    assert web_server.post("/api/experiments", json=body, headers=same_origin).status == 201


def test_body_size_and_job_start_rate_are_limited(pio_home: PioHome, run_job: Callable[..., JobProcess]) -> None:
    pio_home.write_config("[web]\nmax_body_mb = 0.001\njob_start_burst = 2\njob_starts_per_second = 0.001\n")
    server = start_web_server(run_job)
    big = server.post("/api/experiments", json={"experiment": "x", "description": "a" * 5000})
    assert big.status == 413 and "too large" in big.json()["error"]
    bad_options = {"options": {"target_rpm": 99999}}  # each start fails fast: nothing keeps running
    statuses = [server.post("/unit_api/jobs/run/job_name/stirring", json=bad_options).status for _ in range(3)]
    assert statuses == [202, 202, 429]


@pytest.mark.parametrize(
    "name",
    ["../config.ini", "..", ".", "/etc/passwd", "a/b.yaml", "..\\config.ini", "%2e%2e%2fconfig.ini",
     "%252e%252e%252fconfig.ini", ".hidden.yaml", "", " x.yaml", "x\0.yaml", "..%2F..%2Fconfig.ini"],
)
def test_safe_filename_refuses_traversal(name: str) -> None:
    with pytest.raises(ApiError) as refused:
        safe_filename(name)
    assert refused.value.status == 400


def test_safe_filename_accepts_plain_names_and_checks_suffixes() -> None:
    assert safe_filename("my profile_1.yaml", suffixes=(".yaml", ".yml")) == "my profile_1.yaml"
    with pytest.raises(ApiError, match="must end with"):
        safe_filename("profile.txt", suffixes=(".yaml",))




def test_a_plugins_routes_refuse_traversal(notes_server: WebServer) -> None:
    assert notes_server.get("/unit_api/notes/hello.txt").json() == {"name": "hello.txt", "text": "hello"}
    assert notes_server.get("/api/notes").json() == ["hello.txt"]
    for path in [
        "/unit_api/notes/..%2fsecret.txt",
        "/unit_api/notes/%2e%2e%2fsecret.txt",
        "/unit_api/notes/%252e%252e%252fsecret.txt",
        "/unit_api/notes/..%252fsecret.txt",
        "/unit_api/notes/%2Fetc%2Fpasswd",
        "/unit_api/notes/.hidden.txt",
        "/exports/..%2fsecret.txt",
        "/exports/%2e%2e/secret.txt",
        "/static/..%2f..%2fsecret.txt",
    ]:
        response = notes_server.get(path)
        assert response.status in (400, 404), (path, response.status)
        assert "TOP SECRET" not in response.text, path


def test_an_allowed_origin_gets_cors_headers_and_may_write(pio_home: PioHome, run_job: Callable[..., JobProcess]) -> None:
    pio_home.write_config("[web]\nallowed_origins = http://ui.example:3000, http://other.example\n")
    server = start_web_server(run_job)
    origin = {"Origin": "http://ui.example:3000"}
    preflight = server.request("OPTIONS", "/api/experiments", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status == 200 and preflight.headers["Access-Control-Allow-Origin"] == "http://ui.example:3000"
    created = server.post("/api/experiments", json={"experiment": "from_ui"}, headers=origin)
    assert created.status == 201 and created.headers["Access-Control-Allow-Origin"] == "http://ui.example:3000"
    refused = server.post("/api/experiments", json={"experiment": "x"}, headers={"Origin": "http://evil.example"})
    assert refused.status == 403 and refused.headers["Access-Control-Allow-Origin"] is None
