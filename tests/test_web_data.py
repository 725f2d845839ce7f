"""Experiments, logs and config through the web API (real HTTP, real SQLite, the real streamer)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pioreactor.plugins_core.web.testing import WebServer
from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome


def test_experiments_lifecycle(web_server: WebServer, pio_home: PioHome) -> None:
    created = web_server.post(
        "/api/experiments",
        json={"experiment": "yeast1", "description": "YPD", "mediaUsed": "YPD", "organismUsed": "S. cerevisiae",
              "created_at": "2026-12-01T10:00:00.000Z"},
    )
    assert created.status == 201, created.text
    assert created.json()["media_used"] == "YPD" and created.json()["created_at"] == "2026-12-01T10:00:00.000000Z"
    assert web_server.post("/api/experiments", json={"experiment": "yeast1"}).status == 409
    bad_name = web_server.post("/api/experiments", json={"experiment": "a/b"})
    assert bad_name.status == 400 and "a/b" in bad_name.json()["error"]
    web_server.post("/api/experiments", json={"experiment": "yeast2"})

    assert [e["experiment"] for e in web_server.get("/api/experiments").json()] == ["yeast2", "yeast1"]
    assert web_server.get("/api/experiments/latest").json()["experiment"] == "yeast2"
    assert web_server.patch("/api/experiments/yeast1", json={"description": "YPD, 30 C"}).json()["description"] == "YPD, 30 C"
    assert web_server.get("/api/experiments/nope").status == 404

    unit = pio_home.unit
    assert web_server.put("/api/experiments/yeast1/workers", json={"pioreactor_unit": unit}).status == 200
    assert [w["pioreactor_unit"] for w in web_server.get("/api/experiments/yeast1/workers").json()] == [unit]
    assert web_server.get(f"/api/workers/{unit}/experiment").json()["experiment"] == "yeast1"
    counts = {row["experiment"]: row["worker_count"] for row in web_server.get("/api/experiments/assignment_count").json()}
    assert counts == {"yeast1": 1, "yeast2": 0}
    assert [e["experiment"] for e in web_server.get("/api/experiments/active").json()] == ["yeast1"]
    assert web_server.get("/api/workers/assignments").json()[0]["experiment"] == "yeast1"

    labels = web_server.put("/api/experiments/yeast1/unit_labels", json={"unit": unit, "label": "P1"})
    assert labels.json() == {unit: "P1"}
    prefs = web_server.patch("/api/experiments/yeast1/chart_preferences", json={"overview_chart_keys": ["od", "growth_rate"]})
    assert prefs.json() == {"overview_chart_keys": ["od", "growth_rate"], "pioreactor_chart_keys": None}
    assert web_server.get("/api/experiments/yeast1/chart_preferences").json()["overview_chart_keys"] == ["od", "growth_rate"]

    # moving the unit to another experiment closes its assignment to the first
    web_server.put("/api/experiments/yeast2/workers", json={"pioreactor_unit": unit})
    history = web_server.get("/api/experiments/yeast1/historical_worker_assignments").json()
    assert len(history) == 1 and history[0]["unassigned_at"] is not None
    assert web_server.delete(f"/api/experiments/yeast2/workers/{unit}").status == 200
    assert web_server.get("/api/experiments/yeast2/workers").json() == []

    assert web_server.delete("/api/experiments/yeast2").status == 200
    assert web_server.get("/api/experiments/yeast2").status == 404


def test_logs_are_paged_filtered_and_posted(
    web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome, run_job: Callable[..., JobProcess]
) -> None:
    run_job("mqtt_to_db_streaming")
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/mqtt_to_db_streaming/$state", "ready")
    unit, experiment = pio_home.unit, "exp_logs"
    for index, level in enumerate(["INFO", "WARNING", "ERROR", "DEBUG"]):
        posted = web_server.post(
            f"/api/workers/{unit}/experiments/{experiment}/logs", json={"message": f"line {index}", "level": level}
        )
        assert posted.status == 202
    mqtt_probe.wait_for(f"pioreactor/{unit}/{experiment}/logs/ui/debug")

    def messages(query: str) -> list[str]:
        return [row["message"] for row in web_server.get(f"/api/experiments/{experiment}/logs{query}").json()]

    deadline_rows = _eventually(lambda: len(messages("")) >= 4)
    assert deadline_rows
    assert messages("?min_level=warning") == ["line 2", "line 1"]
    assert messages("?limit=2") == ["line 3", "line 2"]
    assert messages("?limit=2&skip=2") == ["line 1", "line 0"]
    per_unit = web_server.get(f"/api/workers/{unit}/experiments/{experiment}/recent_logs?min_level=error").json()
    assert [row["message"] for row in per_unit] == ["line 2"]
    assert web_server.get("/api/logs?min_level=loud").status == 400
    for bad in ("skip=inf", "limit=nan", "limit=ten"):  # a 400 naming the parameter, never a 500
        refused = web_server.get(f"/api/logs?{bad}")
        assert refused.status == 400 and f"query parameter {bad.split('=')[0]!r}" in refused.json()["error"], bad
    empty = web_server.post(f"/api/workers/{unit}/experiments/{experiment}/logs", json={"message": "  "})
    assert empty.status == 400


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """The streamer writes in batches: poll the database through the API until it shows up."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[mqtt\nbroker_address = x\n", "line 1"),
        ("[mqtt]\n= x\n", "line  2"),
        ("broker_address = x\n[mqtt]\n", "before any [section]"),
        ("[stirring.config]\npwm_hz = fast\n", "pwm_hz"),
    ],
)
def test_a_broken_config_is_refused_and_never_written(web_server: WebServer, pio_home: PioHome, text: str, problem: str) -> None:
    before = pio_home.config_path.read_text()
    refused = web_server.put("/api/config/shared", json={"code": text})
    assert refused.status == 400 and problem in refused.json()["error"], refused.text
    assert "config.ini was not saved" in refused.json()["error"]
    assert pio_home.config_path.read_text() == before
    assert web_server.get("/api/config/shared/history").json() == []


def test_config_edits_are_saved_with_history(web_server: WebServer, pio_home: PioHome) -> None:
    new = pio_home.config_path.read_text() + "\n[stirring.config]\npwm_hz = 150\n"
    saved = web_server.put("/api/config/shared", json={"code": new, "filename": "config.ini"})
    assert saved.status == 200, saved.text
    assert pio_home.config_path.read_text() == new
    assert web_server.get("/api/config/shared").text == new
    assert web_server.get("/api/config/shared/history").json()[0]["data"] == new
    assert web_server.get(f"/api/config/units/{pio_home.unit}").json()["configs"][pio_home.unit]["stirring.config"]["pwm_hz"] == "150"

    specific = web_server.patch(f"/api/config/units/{pio_home.unit}/specific", data="[stirring.config]\npwm_hz = 120\n")
    assert specific.status == 200, specific.text
    assert web_server.get("/unit_api/config/merged").json()["stirring.config"]["pwm_hz"] == "120"
    assert len(web_server.get(f"/api/config/units/{pio_home.unit}/specific/history").json()) == 1
    zipped = web_server.get("/api/config/zipped")
    assert zipped.status == 200 and zipped.body[:2] == b"PK"
