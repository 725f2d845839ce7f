"""The published upstream plugins, from the package index: they import, install with
``pio plugins install NAME`` and run on the simulator. Skipped without network access.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pioreactor.sdk.testing import MqttProbe, PioHome
from test_plugin_install import make_overlay_venv

# distribution -> its top-level module (the entry point's value)
PUBLISHED = {
    "pioreactor-air-bubbler": "pioreactor_air_bubbler",
    "pioreactor-relay-plugin": "pioreactor_relay_plugin",
    "pioreactor-custom-dosing-automation": "pioreactor_custom_dosing_automation",
    "pioreactor-logs2slack": "pioreactor_logs2slack",
    "pioreactor-precision-temperature-plugin": "pioreactor_precision_temperature_plugin",
    "pioreactor-oled-status-display-plugin": "oled_status_display",
    "pioreactor-calibration-shrinkage": "pioreactor_calibration_shrinkage",
    "pioreactor-high-temp-plugin": "pioreactor_high_temp_plugin",
}


def index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not index_reachable(), reason="the package index (pypi.org) is not reachable")


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The newest wheel of each published plugin, unpacked (not installed)."""
    folder = tmp_path_factory.mktemp("published")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.13", "-d", str(folder / "wheels"), *PUBLISHED],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        pytest.skip(f"pip could not download the published plugins: {result.stderr[-300:]}")
    import zipfile

    for wheel in (folder / "wheels").glob("*.whl"):
        zipfile.ZipFile(wheel).extractall(folder / "src")
    return folder / "src"


def test_the_published_plugins_import(unpacked: Path, pio_home: PioHome) -> None:
    results = {}
    for dist, module in PUBLISHED.items():
        result = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", f"import {module}"],
            env=pio_home.env(PYTHONPATH=str(unpacked)), capture_output=True, text=True, timeout=60,
        )
        results[dist] = "ok" if result.returncode == 0 else result.stderr.strip().splitlines()[-1]
    failed = {dist: why for dist, why in results.items() if why != "ok"}
    # the 2021 example uses an API upstream removed; the OLED display needs Adafruit's board libraries
    assert set(failed) <= {"pioreactor-custom-dosing-automation", "pioreactor-oled-status-display-plugin"}, failed
    assert "which upstream removed in 2021" in failed["pioreactor-custom-dosing-automation"]
    if "pioreactor-oled-status-display-plugin" in failed:
        assert "busio" in failed["pioreactor-oled-status-display-plugin"] or "board" in failed["pioreactor-oled-status-display-plugin"]


def test_relay_air_bubbler_and_logs2slack_install_and_run(
    pio_home: PioHome, tmp_path: Path, mqtt_probe: MqttProbe
) -> None:
    python = make_overlay_venv(tmp_path / "venv")

    def pio(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-m", "pioreactor.kernel.cli", *args], env=pio_home.env(),
                              capture_output=True, text=True, timeout=300)

    result = pio("plugins", "install", "pioreactor-relay-plugin", "-y")
    assert result.returncode == 0, result.stderr
    result = pio("plugins", "install", "pioreactor-air-bubbler", "-y")
    assert result.returncode == 1 and "[PWM] 3 = relay already" in result.stderr
    (pio_home.path / "unit_config.ini").write_text(
        (pio_home.path / "unit_config.ini").read_text().replace("3=relay", "3=relay\n4=air_bubbler")
    )
    for name in ("pioreactor-air-bubbler", "pioreactor-logs2slack"):
        result = pio("plugins", "install", name, "-y")
        assert result.returncode == 0, result.stderr

    jobs = {}
    for name in ("relay", "air_bubbler"):
        with open(tmp_path / f"{name}.out", "w") as out:
            jobs[name] = subprocess.Popen([str(python), "-m", "pioreactor.kernel.cli", "run", name], env=pio_home.env(),
                                          stdout=out, stderr=subprocess.STDOUT)
    try:
        for name in jobs:
            mqtt_probe.wait_for(pio_home.topic(name, "$state"), "ready", timeout=30)
        mark = mqtt_probe.mark()
        mqtt_probe.publish(pio_home.topic("relay", "is_relay_on", "set"), "false")
        mqtt_probe.wait_for(pio_home.topic("relay", "is_relay_on"), "False", since=mark)
        mqtt_probe.publish(pio_home.topic("air_bubbler", "duty_cycle", "set"), "35")
        mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: json.loads(p).get("12") == 35.0, since=mark)
        assert pio("kill", "--all-jobs").returncode == 0
        for name, job in jobs.items():
            assert job.wait(15) == 0, (tmp_path / f"{name}.out").read_text()
            mqtt_probe.wait_for(pio_home.topic(name, "$state"), "disconnected", since=mark)
    finally:
        for job in jobs.values():
            if job.poll() is None:
                job.kill()
