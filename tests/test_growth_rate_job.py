"""growth_rate_calculating against a real broker, fed synthetic OD readings over MQTT.

The readings carry timestamps we make up (a reading every 5 s of culture time), so an hour of
culture passes as fast as the job keeps up: we publish in batches and wait for the job's output
for the last reading of each batch.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from pioreactor.sdk.testing import MqttProbe, PioHome

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
INTERVAL = 5.0  # seconds between readings
RATE = 0.5  # h⁻¹
JOB = "growth_rate_calculating"


def stamp(index: int) -> str:
    return (START + timedelta(seconds=INTERVAL * index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ods_payload(index: int, od: float, channel: str = "2", angle: str = "90") -> str:
    ts = stamp(index)
    return json.dumps(
        {"timestamp": ts, "ods": {channel: {"timestamp": ts, "angle": angle, "od": od, "channel": channel}}}
    )


def culture(n: int, *, seed: int, od0: float = 0.05, first: int = 0) -> list[tuple[int, float]]:
    """(index, OD) of an exponential culture at RATE with 1 % multiplicative noise."""
    rng = random.Random(seed)
    return [
        (i, od0 * math.exp(RATE * i * INTERVAL / 3600) * (1 + 0.01 * rng.gauss(0, 1)))
        for i in range(first, first + n)
    ]


def same_time(payload: str, index: int) -> bool:
    if not payload:
        return False
    return datetime.fromisoformat(json.loads(payload)["timestamp"]) == START + timedelta(
        seconds=INTERVAL * index
    )


class Feeder:
    """Publishes readings without waiting for each broker acknowledgement (``MqttProbe.publish``
    waits ~5 ms for each), and waits instead for the job to have handled the last of a batch."""

    def __init__(self, probe: MqttProbe, home: PioHome) -> None:
        self.probe = probe
        self.home = home
        self.topic = home.topic("od_reading", "ods")

    def send(self, index: int, od: float) -> None:
        self.probe.client.publish(self.topic, ods_payload(index, od), qos=1)

    def statistics(self, readings: list[tuple[int, float]]) -> None:
        """Feed readings while the job collects its statistics; wait until it has them all."""
        mark = self.probe.mark()
        for index, od in readings:
            self.send(index, od)
        self.probe.wait_for(self.home.topic("od_normalization", "percent_progress"), "100", since=mark)

    def filtered(self, readings: list[tuple[int, float]], batch: int = 80) -> None:
        """Feed readings to a filtering job, waiting for its output for the last of each batch."""
        for start in range(0, len(readings), batch):
            chunk = readings[start : start + batch]
            mark = self.probe.mark()
            for index, od in chunk:
                self.send(index, od)
            last = chunk[-1][0]
            # kalman_filter_outputs is the last of the three settings published for a reading
            self.probe.wait_for(
                self.home.topic(JOB, "kalman_filter_outputs"), lambda p, i=last: same_time(p, i), since=mark
            )


def values(probe: MqttProbe, home: PioHome, setting: str, since: int = 0) -> list[float]:
    return [
        json.loads(m.payload)[setting]
        for m in probe.messages[since:]
        if m.topic == home.topic(JOB, setting) and m.payload
    ]


def test_recovers_a_known_growth_rate_and_resumes_after_a_restart(run_job, mqtt_probe, pio_home, pio) -> None:
    from pioreactor.sdk import local_persistent_storage

    readings = culture(720, seed=1)  # one hour
    job = run_job(JOB)
    job.wait_for_state(mqtt_probe, "ready")
    feed = Feeder(mqtt_probe, pio_home)
    feed.statistics(readings[:40])  # 5 skipped + 35 samples
    feed.filtered(readings[40:])

    rates = values(mqtt_probe, pio_home, "growth_rate")
    assert len(rates) == 680
    assert rates[-1] == pytest.approx(RATE, rel=0.05), rates[-10:]
    last = json.loads(mqtt_probe.payloads(pio_home.topic(JOB, "growth_rate"))[-1])
    assert set(last) == {"growth_rate", "timestamp"} and last["timestamp"].startswith("2026-03-01T12:59:55")
    od_filtered = json.loads(mqtt_probe.payloads(pio_home.topic(JOB, "od_filtered"))[-1])
    assert set(od_filtered) == {"od_filtered", "timestamp"}
    # nOD is relative to the mean of the statistics samples (readings 5..39, centred near reading 22)
    assert od_filtered["od_filtered"] == pytest.approx(
        math.exp(RATE * (719 - 22) * INTERVAL / 3600), rel=0.02
    )
    kalman = json.loads(mqtt_probe.payloads(pio_home.topic(JOB, "kalman_filter_outputs"))[-1])
    assert kalman["state"][:2] == [od_filtered["od_filtered"], last["growth_rate"]]
    assert len(kalman["covariance_matrix"]) == 3 and all(len(row) == 3 for row in kalman["covariance_matrix"])
    with local_persistent_storage("growth_rate") as store:
        assert store[pio_home.experiment] == pytest.approx(last["growth_rate"])
    with local_persistent_storage("od_normalization_mean") as store:
        assert set(store[pio_home.experiment]) == {"2"}

    assert job.stop() == 0
    job.wait_for_state(mqtt_probe, "disconnected")
    # growth_rate and od_filtered persist on the broker; kalman_filter_outputs is cleared
    assert mqtt_probe.payloads(pio_home.topic(JOB, "kalman_filter_outputs"))[-1] == ""
    assert mqtt_probe.payloads(pio_home.topic(JOB, "growth_rate"))[-1] != ""

    # a restart resumes: no new statistics, and the first estimate carries on from the cache
    mark = mqtt_probe.mark()
    job = run_job(JOB)
    job.wait_for_state(mqtt_probe, "ready", since=mark)
    feed.filtered(culture(3, seed=2, first=722))
    resumed = values(mqtt_probe, pio_home, "growth_rate", since=mark)
    assert resumed[0] == pytest.approx(RATE, rel=0.05)
    assert mqtt_probe.payloads(pio_home.topic("od_normalization", "percent_progress"))[-1] == "100"
    assert not [
        m for m in mqtt_probe.messages[mark:] if m.topic.endswith("od_normalization/percent_progress")
    ]
    assert job.stop() == 0

    # clearing the cache forgets it all
    result = pio("run", "growth_rate_calculating_clear_cache")
    assert result.returncode == 0, result.stderr
    assert "od_normalization_mean" in result.stdout
    for name in ("growth_rate", "od_filtered", "od_normalization_mean", "od_normalization_variance"):
        with local_persistent_storage(name) as store:
            assert pio_home.experiment not in store


def test_outliers_never_drive_od_filtered_negative(run_job, mqtt_probe, pio_home) -> None:
    readings = culture(720, seed=3)
    for k, (index, od) in enumerate(readings):
        if k >= 40 and k % 50 == 49:  # 1 in 50: three times too high or five times too low
            readings[k] = (index, od * (3.0 if (k // 50) % 2 else 0.2))
    readings[300] = (300, 0.0)  # a dead reading
    job = run_job(JOB)
    job.wait_for_state(mqtt_probe, "ready")
    feed = Feeder(mqtt_probe, pio_home)
    feed.statistics(readings[:40])
    feed.filtered(readings[40:])

    ods = values(mqtt_probe, pio_home, "od_filtered")
    assert len(ods) == 680 and min(ods) > 0
    rates = values(mqtt_probe, pio_home, "growth_rate")
    assert rates[-1] == pytest.approx(RATE, rel=0.05), rates[-10:]
    assert job.stop() == 0


def test_dosing_blank_garbage_and_late_readings(run_job, mqtt_probe, pio_home: PioHome) -> None:
    from pioreactor.sdk import local_persistent_storage

    with local_persistent_storage("od_blank") as store:
        store[pio_home.experiment] = {"2": 0.05}
    job = run_job(
        JOB,
        "--ignore-cache",
        run_options=(
            "--config-override",
            "growth_rate_calculating.config",
            "samples_for_od_statistics",
            "10",
        ),
    )
    job.wait_for_state(mqtt_probe, "ready")
    feed = Feeder(mqtt_probe, pio_home)
    feed.statistics([(i, 0.1 * (1.01 if i % 2 else 0.99)) for i in range(15)])  # mean 0.1
    feed.filtered([(i, 0.1) for i in range(15, 30)])
    assert values(mqtt_probe, pio_home, "od_filtered")[-1] == pytest.approx(1.0, rel=0.01)

    # garbage on both topics: logged with the topic, the job carries on
    mark = mqtt_probe.mark()
    for payload in ("not json", '{"timestamp": "yesterday", "ods": {}}', ods_payload(30, 0.1, angle="33")):
        mqtt_probe.publish(feed.topic, payload)
    mqtt_probe.publish(pio_home.topic("dosing_events"), '{"event": "add_media"}')
    warning = mqtt_probe.wait_for(
        pio_home.topic("logs", "app", "warning"), lambda p: "od_reading/ods" in p, since=mark
    )
    assert json.loads(warning.payload)["task"] == JOB
    mqtt_probe.wait_for(pio_home.topic("logs", "app", "warning"), lambda p: "dosing_events" in p, since=mark)

    # a late reading is skipped: no output for it
    mark = mqtt_probe.mark()
    mqtt_probe.publish(feed.topic, ods_payload(3, 0.1))
    feed.filtered([(31, 0.1)])
    assert len(values(mqtt_probe, pio_home, "od_filtered", since=mark)) == 1

    # a dose: the next readings may jump. With the blank, OD 0.15 is nOD (0.15-0.05)/(0.1-0.05) = 2
    dose = {"volume_change": 1.0, "event": "add_media", "source_of_event": "test", "timestamp": stamp(32)}
    mqtt_probe.publish(pio_home.topic("dosing_events"), json.dumps(dose))
    mark = mqtt_probe.mark()
    feed.filtered([(32, 0.15), (33, 0.15)])
    ods = values(mqtt_probe, pio_home, "od_filtered", since=mark)
    assert ods[-1] == pytest.approx(2.0, rel=0.05), ods
    rates = values(mqtt_probe, pio_home, "growth_rate", since=mark)
    assert abs(rates[-1]) < 0.05  # a dose is not growth

    assert job.process.poll() is None  # still running
    assert job.stop() == 0


def test_an_outlier_threshold_at_or_below_two_is_refused(pio) -> None:
    override = ("--config-override", "growth_rate_calculating.config", "ekf_outlier_std_threshold", "1.5")
    result = pio("run", *override, JOB)
    assert result.returncode == 1
    assert "ekf_outlier_std_threshold must be above 2.0, got 1.5" in result.stderr
    assert "Traceback" not in result.stderr
