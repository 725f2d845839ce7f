"""The web server itself: prefixes, the UI fallback, errors, tasks that outlive a restart."""

from __future__ import annotations

import socket
import subprocess
import zipfile
from collections.abc import Callable

from pioreactor.plugins_core.web.testing import WebServer, start_web_server
from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome


def test_health_versions_and_clock(web_server: WebServer, pio_home: PioHome) -> None:
    health = web_server.get("/unit_api/health").json()
    assert health["status"] == "ok" and health["pioreactor_unit"] == pio_home.unit
    assert web_server.get("/unit_api/versions/app").json()["version"]
    assert web_server.get(f"/api/units/{pio_home.unit}/system/utc_clock").json()["clock_time"].endswith("Z")
    assert web_server.get("/api/units/$broadcast/versions/app").status == 200
    missing = web_server.get("/api/units/elsewhere/system/utc_clock")
    assert missing.status == 404 and "elsewhere" in missing.json()["error"]


def test_the_ui_fallback_static_files_and_api_errors(web_server: WebServer, pio_home: PioHome) -> None:
    for page in ("/", "/pioreactors/unit1", "/experiment-profiles/new"):
        response = web_server.get(page)
        assert response.status == 200 and "<html" in response.text, page
    assert web_server.get("/static/index.html").status == 200
    assert web_server.get("/static/nothing.js").status == 404

    unknown = web_server.get("/unit_api/no/such/route")
    assert unknown.status == 404 and unknown.headers["Content-Type"] == "application/json"
    assert unknown.json()["error"] == "no route GET /unit_api/no/such/route"
    wrong_method = web_server.delete("/unit_api/health")
    assert wrong_method.status == 405 and "Use GET" in wrong_method.json()["remediation"]


def test_exports_are_downloadable(web_server: WebServer, pio_home: PioHome) -> None:
    folder = pio_home.path / "exports"
    with zipfile.ZipFile(folder / "export_exp1.zip", "w") as archive:
        archive.writestr("od_readings.csv", "timestamp,od\n")
    response = web_server.get("/exports/export_exp1.zip")
    assert response.status == 200 and response.body[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]


def test_a_worker_serves_unit_api_only(pio_home: PioHome, run_job: Callable[..., JobProcess]) -> None:
    pio_home.write_config("[cluster]\nleader_hostname = the-leader\n")
    worker = start_web_server(run_job)
    assert worker.get("/unit_api/jobs/running").status == 200
    refused = worker.get("/api/experiments")
    assert refused.status == 404
    assert "not the leader" in refused.json()["error"] and "/unit_api/experiments" in refused.json()["remediation"]


def test_a_task_is_pending_then_done_and_outlives_a_restart(
    notes_server: WebServer, pio_home: PioHome, run_job: Callable[..., JobProcess]
) -> None:
    accepted = notes_server.post("/unit_api/notes/later.txt/wait")
    assert accepted.status == 202
    path = accepted.json()["result_url_path"]
    pending = notes_server.get(path)
    assert pending.status == 202 and pending.json()["status"] == "pending"
    (pio_home.path / "notes" / "later.txt").write_text("done")
    assert notes_server.wait_for_task(accepted) == {
        "task_id": accepted.json()["task_id"],
        "status": "succeeded",
        "result": "done",
        "seconds": notes_server.get(path).json()["seconds"],
    }
    assert notes_server.get("/unit_api/task_results/not-a-task").status == 404

    # a task running when the server stops is reported, not left pending forever
    interrupted = notes_server.post("/unit_api/notes/never.txt/wait")
    _wait_until_running(notes_server, pio_home)
    notes_server.stop()
    restarted = start_web_server(run_job)
    assert restarted.get(path).json()["result"] == "done"  # results survive the restart
    outcome = restarted.wait_for_task(interrupted)
    assert outcome["status"] == "failed" and "stopped while this task ran" in outcome["error"]


def _wait_until_running(server: WebServer, pio_home: PioHome) -> None:
    """The waiting task has started (its marker is in the queue's database)."""
    import sqlite3
    import time

    deadline = time.monotonic() + 10
    database = pio_home.path / "storage" / "web_tasks.sqlite"
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as conn:
            if conn.execute("SELECT count(*) FROM kv WHERE key LIKE 'running:%'").fetchone()[0]:
                return
        time.sleep(0.01)
    raise TimeoutError("the task never started")


def test_shared_config_is_served_as_the_ui_parses_it(web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    text = web_server.get("/api/config/shared")
    assert text.headers["Content-Type"].startswith("text/plain")
    assert f"broker_ws_port={pio_home.broker.ws_port}" in text.text
    answer = web_server.get(f"/api/config/units/{pio_home.unit}").json()
    assert answer["errors"] == {} and list(answer["configs"]) == [pio_home.unit]
    merged = answer["configs"][pio_home.unit]
    assert merged["mqtt"]["broker_ws_port"] == str(pio_home.broker.ws_port)
    assert merged["stirring.config"]["pwm_hz"]  # plugin defaults are part of the merged view


def test_system_figures_models_and_blink(web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    disk = web_server.get("/unit_api/system/disk_space").json()
    assert disk["total"] > disk["free"] > 0
    assert web_server.get("/unit_api/system/memory").json()["total"] > 0
    assert web_server.get("/unit_api/system/web_server/status").json()["state"] == "ready"
    assert {"model_name": "pioreactor_40ml", "model_version": "1.5"}.items() <= web_server.get("/api/models").json()["models"][-1].items()
    assert web_server.get(f"/api/workers/{pio_home.unit}/model").json()["model_name"] == "pioreactor_40ml"
    chosen = web_server.put(f"/api/workers/{pio_home.unit}/model", json={"model_name": "pioreactor_20ml", "model_version": "1.1"})
    assert chosen.status == 200
    assert web_server.get(f"/api/workers/{pio_home.unit}/model").json()["model_version"] == "1.1"
    refused = web_server.put(f"/api/workers/{pio_home.unit}/model", json={"model_name": "vat", "model_version": "9"})
    assert refused.status == 400 and "Known models" in refused.json()["remediation"]
    assert web_server.post(f"/api/workers/{pio_home.unit}/blink").status == 202
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/monitor/flicker_led_response_okay", "1")


def test_upstream_25_config_names(web_server: WebServer, pio_home: PioHome) -> None:
    assert web_server.get("/api/configs").json() == ["config.ini", f"config_{pio_home.unit}.ini"]
    assert web_server.get("/api/configs/config.ini").text == pio_home.config_path.read_text()
    saved = web_server.patch(
        f"/api/configs/config_{pio_home.unit}.ini", json={"code": "[stirring.config]\npwm_hz = 90\n", "filename": "x"}
    )
    assert saved.status == 200 and (pio_home.path / "unit_config.ini").read_text() == "[stirring.config]\npwm_hz = 90\n"
    assert len(web_server.get(f"/api/configs/config_{pio_home.unit}.ini/history").json()) == 1
    (pio_home.path / "secret.ini").write_text("[secret]\nkey = TOP SECRET\n")
    for name in ("..%2fsecret.ini", "%2e%2e%2fconfig.ini", "%252e%252e%252fsecret.ini", "secret.ini", ".config.ini"):
        response = web_server.get(f"/api/configs/{name}")
        assert response.status in (400, 404) and "TOP SECRET" not in response.text, name
        write = web_server.patch(f"/api/configs/{name}", json={"code": "[a]\n"})
        assert write.status in (400, 404), name
    assert (pio_home.path / "secret.ini").read_text() == "[secret]\nkey = TOP SECRET\n"


def test_browsing_pio_home_stays_inside_it(web_server: WebServer, pio_home: PioHome) -> None:
    listing = web_server.get("/unit_api/system/path/").json()
    assert "config.ini" in listing["files"] and "storage" in listing["dirs"]
    assert web_server.get("/unit_api/system/path/config.ini").text == pio_home.config_path.read_text()
    (pio_home.path.parent / "outside.txt").write_text("TOP SECRET")
    for path in ("../outside.txt", "..%2foutside.txt", "%2e%2e/outside.txt", "storage/../../outside.txt", "/etc/passwd"):
        response = web_server.get(f"/unit_api/system/path/{path}")
        assert response.status in (400, 404) and "TOP SECRET" not in response.text and "root:" not in response.text, path
    (pio_home.path / "DISALLOW_UI_FILE_SYSTEM").touch()
    assert web_server.get("/unit_api/system/path/").status == 403


CLASHING_PLUGIN = """
from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_web_routes(registry):
    registry.add("/hello", "pioreactor_local_plugin_clash:hello")
    registry.add("/health", "pioreactor_local_plugin_clash:hello")


def hello():
    return {"hello": "world"}
"""


def test_a_plugin_claiming_a_taken_route_is_quarantined_naming_both(
    pio_home: PioHome, pio: Callable[..., subprocess.CompletedProcess[str]], run_job: Callable[..., JobProcess]
) -> None:
    (pio_home.path / "plugins").mkdir()
    (pio_home.path / "plugins" / "clash.py").write_text(CLASHING_PLUGIN)
    listing = pio("plugins", "list")
    assert "web route GET /unit_api/health is registered by both plugin 'web' and plugin 'clash'" in listing.stdout + listing.stderr
    server = start_web_server(run_job)
    assert server.get("/unit_api/health").json()["status"] == "ok"  # the core route still answers
    assert server.get("/unit_api/hello").status == 404  # nothing of the quarantined plugin is served


def test_a_second_server_is_refused(web_server: WebServer, run_job: Callable[..., JobProcess]) -> None:
    # the job registry refuses it before it touches the port
    second = run_job("web_server", "--host", "127.0.0.1", "--port", str(web_server.port))
    assert second.wait() != 0 and "already running" in second.output()


def test_a_port_in_use_is_a_clear_error(pio_home: PioHome, run_job: Callable[..., JobProcess]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        job = run_job("web_server", "--host", "127.0.0.1", "--port", str(taken.getsockname()[1]))
        assert job.wait() != 0
    assert "Address already in use. Choose another with --port or [web] port." in job.output()


def test_the_browser_can_read_mqtt_over_websockets(mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    received = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, transport="websockets")
    client.ws_set_options(path="/mqtt")  # the URL the UI connects to: ws://<host>:<broker_ws_port>/mqtt
    client.on_connect = lambda c, *_: c.subscribe(pio_home.topic("stirring", "$state"))
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda c, u, msg: received.set() if msg.payload == b"ready" else None
    assert pio_home.broker.ws_port is not None
    client.connect(pio_home.broker.host, pio_home.broker.ws_port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        mqtt_probe.publish(pio_home.topic("stirring", "$state"), "ready")
        assert received.wait(10)
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_built_ui_is_served_from_ui_folder(pio_home: PioHome, run_job: Callable[..., JobProcess]) -> None:
    ui = pio_home.path / "ui_build"  # laid out as upstream's wheel ships it: index.html, static/...
    (ui / "static" / "js").mkdir(parents=True)
    (ui / "index.html").write_text('<html><script src="/static/static/js/main.js"></script></html>')
    (ui / "static" / "js" / "main.js").write_text("console.log('ui')")
    pio_home.write_config(f"[web]\nui_folder = {ui}\n")
    server = start_web_server(run_job)
    assert "/static/static/js/main.js" in server.get("/pioreactors/unit1").text
    script = server.get("/static/static/js/main.js")
    assert script.status == 200 and script.text == "console.log('ui')"
