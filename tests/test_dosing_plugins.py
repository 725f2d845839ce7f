"""Plugins and dosing: a custom automation in one file, interlocks that veto or change doses,
and the volume an automation keeps from other jobs' doses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pioreactor.sdk.testing import MqttProbe, PioHome
from test_pumps import calibrate, truth

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins" / "custom-automation.md"


def doc_example(marker: str) -> str:
    """The python block of docs/plugins/custom-automation.md that mentions ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    (block,) = [b for b in blocks if marker in b]
    return block


def install_plugin(home: PioHome, name: str, code: str) -> None:
    folder = home.path / "plugins"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(code)


def events(probe: MqttProbe, home: PioHome, since: int = 0) -> list[dict[str, Any]]:
    return [json.loads(p) for p in probe.payloads(home.topic("dosing_events"), since=since)]


def test_the_documented_custom_automation_runs_from_a_single_file(run_job, pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=60\n")
    install_plugin(pio_home, "dilute_above", doc_example("dilute_above"))
    calibrate("media", "waste")

    shown = pio("run", "dosing_automation", "--automation-name", "dilute_above", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "--threshold" in shown.stdout and "--exchange-ml" in shown.stdout and "--duration" in shown.stdout
    listed = pio("run", "dosing_automation", "--help")
    assert "dilute_above" in listed.stdout

    job = run_job(
        "dosing_automation",
        "--automation-name",
        "dilute_above",
        "--threshold",
        "1.2",
        "--exchange-ml",
        "0.5",
        "--duration",
        "1",
    )
    job.wait_for_state(mqtt_probe, "ready", timeout=20)
    mqtt_probe.wait_for(pio_home.topic("dosing_automation", "automation_name"), "dilute_above")
    # no growth_rate_calculating yet: a warning that says which job to start, no traceback
    warning = mqtt_probe.wait_for(
        pio_home.topic("logs", "app", "warning"), lambda p: "od_filtered" in p, timeout=15
    )
    assert "growth_rate_calculating" in json.loads(warning.payload)["message"]

    # the culture is dense: it dilutes, with its own options
    from pioreactor.sdk import get_clock

    mark = mqtt_probe.mark()
    reading = {"od_filtered": 1.5, "timestamp": get_clock().utc_timestamp()}
    mqtt_probe.publish(
        pio_home.topic("growth_rate_calculating", "od_filtered"), json.dumps(reading), retain=True
    )
    mqtt_probe.wait_for(pio_home.topic("dosing_events"), since=mark, timeout=15)
    event = mqtt_probe.wait_for(
        pio_home.topic("dosing_automation", "latest_event"),
        lambda p: "DilutionEvent" in p,
        since=mark,
        timeout=15,
    )
    assert json.loads(event.payload)["message"] == "exchanged 0.50 ml"
    first = events(mqtt_probe, pio_home, mark)[0]
    assert first["event"] == "add_media" and first["volume_change"] == 0.5
    assert first["source_of_event"] == "dosing_automation:dilute_above"
    assert job.stop(timeout=15) == 0
    assert truth()["overflowed_ml"] == 0.0
    mqtt_probe.publish(pio_home.topic("growth_rate_calculating", "od_filtered"), "", retain=True)


def test_a_single_file_interlock_vetoes_or_changes_doses(pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    install_plugin(pio_home, "alt_media_limit", doc_example("alt_media_limit"))
    install_plugin(
        pio_home,
        "halve_media",
        "from pioreactor.sdk import hookimpl\n\n\n"
        "@hookimpl\ndef pioreactor_before_dose(dose):\n"
        "    if dose.pump == 'media':\n        dose.ml = dose.ml / 2\n",
    )
    install_plugin(
        pio_home,
        "broken_interlock",
        "from pioreactor.sdk import hookimpl\n\n\n"
        "@hookimpl\ndef pioreactor_before_dose(dose):\n"
        "    if dose.pump == 'waste':\n        raise RuntimeError('no waste sensor')\n",
    )
    calibrate()
    mark = mqtt_probe.mark()

    refused = pio("run", "add_alt_media", "--ml", "3")
    assert refused.returncode == 1
    assert "alt media doses above 2 ml need a supervisor (plugin 'alt_media_limit')" in refused.stderr
    refused = pio("run", "add_alt_media", "--continuously")  # no limit on the volume: over 2 ml
    assert refused.returncode == 1 and "need a supervisor" in refused.stderr
    refused = pio("run", "remove_waste", "--ml", "1")  # an interlock that fails refuses the dose
    assert refused.returncode == 1 and "raised RuntimeError: no waste sensor" in refused.stderr
    assert events(mqtt_probe, pio_home, mark) == []
    assert truth()["alt_media_added_ml"] == 0.0

    allowed = pio("run", "add_alt_media", "--ml", "1")
    assert allowed.returncode == 0, allowed.stderr
    changed = pio("run", "add_media", "--ml", "1")
    assert changed.returncode == 0, changed.stderr
    assert "A plugin changed the media dose from 1.0 to 0.5 ml." in changed.stderr
    assert [(e["event"], e["volume_change"]) for e in events(mqtt_probe, pio_home, mark)] == [
        ("add_alt_media", 1.0),
        ("add_media", 0.5),
    ]
    vial = truth()
    assert abs(vial["alt_media_added_ml"] - 1.0) < 0.05 and abs(vial["media_added_ml"] - 0.5) < 0.05


def test_an_automation_keeps_the_volume_from_other_jobs_doses(run_job, pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    calibrate("waste")

    def volume_after(*args: str) -> float:
        mark = mqtt_probe.mark()
        result = pio("run", *args)
        assert result.returncode == 0, result.stderr
        topic = pio_home.topic("dosing_automation", "current_volume_ml")
        return float(mqtt_probe.wait_for(topic, since=mark, timeout=10).payload)

    silent = run_job("dosing_automation", "--automation-name", "silent")
    silent.wait_for_state(mqtt_probe, "ready", timeout=20)
    assert mqtt_probe.wait_for(pio_home.topic("dosing_automation", "current_volume_ml")).payload == "14.0"
    assert volume_after("add_media", "--ml", "2", "--manually") == 16.0
    mark = mqtt_probe.mark()
    assert volume_after("add_alt_media", "--ml", "1", "--manually") == 17.0
    fraction = mqtt_probe.wait_for(pio_home.topic("dosing_automation", "alt_media_fraction"), since=mark)
    assert abs(float(fraction.payload) - 1 / 17) < 1e-4
    warning = mqtt_probe.wait_for(pio_home.topic("logs", "app", "warning"), since=mark, timeout=5)
    assert "is the waste pump working" in json.loads(warning.payload)["message"]
    # the waste pump takes the level down to the efflux tube, no further...
    assert volume_after("remove_waste", "--ml", "5") == 14.0
    # ...while liquid removed by hand can go below it
    assert volume_after("remove_waste", "--ml", "3", "--manually") == 11.0
    assert silent.stop() == 0

    # a restarted automation goes on from there
    mark = mqtt_probe.mark()
    again = run_job("dosing_automation", "--automation-name", "silent")
    again.wait_for_state(mqtt_probe, "ready", since=mark, timeout=20)
    assert (
        mqtt_probe.payloads(pio_home.topic("dosing_automation", "current_volume_ml"), since=mark)[-1]
        == "11.0"
    )
    assert again.stop() == 0
