"""Jobs started through the web API are forked from the server's pre-imported helper (fast
starts); they behave as jobs started by `pio run`, and `[web] fork_server = 0` goes back to a new
interpreter per job."""

from __future__ import annotations

from pathlib import Path

from pioreactor.plugins_core.web.testing import WebServer, start_web_server
from pioreactor.sdk.testing import MqttProbe, PioHome


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _start_stirring(server: WebServer, rpm: int | None) -> int:
    options = {} if rpm is None else {"target_rpm": rpm}
    started = server.post("/unit_api/jobs/run/job_name/stirring", json={"options": options, "env": {"EXPERIMENT": "test_experiment"}})
    result = server.wait_for_task(started, timeout=30)
    assert result["status"] == "succeeded", result
    return int(result["result"]["pid"])


def test_a_forked_job_sees_the_config_of_its_start(
    web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome
) -> None:
    pid = _start_stirring(web_server, 300)
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready")
    assert _parent_of(pid) not in (web_server.job.pid, 1)  # the helper's child
    assert web_server.post("/unit_api/jobs/stop", json={"job_name": "stirring"}).status == 202
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "disconnected")

    # config.ini changed after the helper imported everything: the next job reads the new one
    with open(pio_home.config_path, "a") as config:
        config.write("\n[stirring.config]\ninitial_target_rpm=275\n")
    since = mqtt_probe.mark()
    _start_stirring(web_server, None)
    mqtt_probe.wait_for(pio_home.topic("stirring", "target_rpm"), lambda p: float(p) == 275.0, since=since)

    failed = web_server.post("/unit_api/jobs/run/job_name/stirring", json={"options": {"target_rpm": "fast"}})
    outcome = web_server.wait_for_task(failed, timeout=30)
    assert outcome["status"] == "failed" and "did not start" in str(outcome["error"]), outcome


def test_without_the_fork_server_each_job_is_a_new_interpreter(
    run_job, mqtt_probe: MqttProbe, pio_home: PioHome
) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[web]\nfork_server = 0\n")
    server = start_web_server(run_job)
    try:
        pid = _start_stirring(server, 300)
        mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready")
        assert _parent_of(pid) == server.job.pid
    finally:
        server.stop()
