"""A dilution cut short records what was actually pumped, not what was asked."""

from __future__ import annotations

import json
import signal

from pioreactor.sdk.testing import JobProcess
from test_pumps import calibrate, truth, wait_until


def test_an_interrupted_dilution_records_what_was_pumped(run_job, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[dosing_automation.config]\nmax_subdose=10\n")
    calibrate("media", "waste")
    job: JobProcess = run_job(
        "dosing_automation",
        "--automation-name", "chemostat",
        "--exchange-volume-ml", "3",
        "--duration", "10",
    )  # fmt: skip
    job.wait_for_state(mqtt_probe, "ready", timeout=20)
    mqtt_probe.wait_for(pio_home.topic("dosing_events"), timeout=15)
    wait_until(lambda: truth()["media_added_ml"] > 0.5)
    job.signal(signal.SIGTERM)
    assert job.wait(15) == 0

    events = [json.loads(p) for p in mqtt_probe.payloads(pio_home.topic("dosing_events"))]
    media = [e["volume_change"] for e in events if e["event"] == "add_media"]
    assert media[0] == 3.0 and media[-1] < 0, events  # the dose, then its correction
    pumped = truth()["media_added_ml"]
    assert 0.5 < pumped < 2.9
    assert abs(sum(media) - pumped) < 0.1, (media, pumped)

    from pioreactor.kernel.storage import local_persistent_storage

    with local_persistent_storage("current_volume_ml") as store:
        volume = store[pio_home.experiment]
    assert abs(volume - (14.0 + pumped)) < 0.1, volume  # the volume counts what went in
    with local_persistent_storage("media_throughput") as store:
        assert abs(store[pio_home.experiment] - pumped) < 0.1


def test_the_safety_stop_names_the_command_that_resumes(run_job, pio, mqtt_probe, pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[dosing_automation.config]\nmax_subdose=10\n")
    calibrate("media", "waste")
    job: JobProcess = run_job(
        "dosing_automation", "--automation-name", "chemostat", "--exchange-volume-ml", "8", "--duration", "10"
    )  # 14 + 8 ml would reach max_volume_to_stop (18 ml)
    job.wait_for_state(mqtt_probe, "sleeping", timeout=20)
    error = mqtt_probe.wait_for(pio_home.topic("logs", "app", "error"), lambda p: "max_volume_to_stop" in p, timeout=10)
    assert "`pio jobs set dosing_automation '$state' ready`" in json.loads(error.payload)["message"]
    resumed = pio("jobs", "set", "dosing_automation", "$state", "ready")  # the command it names works
    assert resumed.returncode == 0, resumed.stderr
    assert job.stop() == 0
