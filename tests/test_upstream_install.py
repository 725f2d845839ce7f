"""``pio plugins install``/``uninstall`` of packages written for upstream Pioreactor: their
``additional_config.ini`` (merged, then removed without touching the user's keys), PWM channel
clashes, ``post_install.sh``/``pre_uninstall.sh``, ``LEADER_ONLY``, and uninstalling while the
plugin's job runs. Packages go into a throw-away venv layered over this one (no network).
"""

from __future__ import annotations

import configparser
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pioreactor.sdk.testing import MqttProbe, PioHome
from test_plugin_install import Run, build_wheel, make_overlay_venv, site_snapshot

UPSTREAM = Path(__file__).parent / "fixtures" / "upstream"


@pytest.fixture(scope="module")
def upstream_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("upstream_wheels")
    return {name: build_wheel(UPSTREAM / f"pioreactor-{name}", out) for name in ("switch", "bubbles", "logs2webhook")}


@pytest.fixture
def venv_python(tmp_path: Path) -> Path:
    return make_overlay_venv(tmp_path / "venv")


@pytest.fixture
def vpio(pio_home: PioHome, venv_python: Path) -> Run:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv_python), "-m", "pioreactor.kernel.cli", *args],
            env=pio_home.env(PIP_NO_INDEX="1", **env), capture_output=True, text=True, timeout=120,
        )

    return run


def ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def test_config_is_merged_clashes_refused_and_only_added_keys_removed(
    vpio: Run, pio_home: PioHome, upstream_wheels: dict[str, Path], venv_python: Path
) -> None:
    unit_config = pio_home.path / "unit_config.ini"
    unit_config.write_text("# my unit\n[PWM]\n1=stirring\n")
    result = vpio("plugins", "install", str(upstream_wheels["switch"]), "-y")
    assert result.returncode == 0, result.stderr
    merged = ini(unit_config)
    assert merged["PWM"]["3"] == "switch" and merged["switch.config"]["start_on"] == "1"
    assert unit_config.read_text().startswith("# my unit\n[PWM]\n1=stirring\n3=switch\n")

    # the air-bubbler-like plugin also wants channel 3: refused, naming both, nothing changed
    before = site_snapshot(venv_python)
    result = vpio("plugins", "install", str(upstream_wheels["bubbles"]), "-y")
    assert result.returncode == 1
    assert "wants PWM channel 3 for 'bubbler', but [PWM] 3 = switch already" in result.stderr
    assert "`N=bubbler` under [PWM] in unit_config.ini" in result.stderr
    assert site_snapshot(venv_python) == before and not ini(unit_config).has_section("bubbler.config")

    # the user's own key in the plugin's section survives the uninstall
    unit_config.write_text(unit_config.read_text().replace("start_on=1", "start_on=1\nmy_own_key=7"))
    result = vpio("plugins", "uninstall", "pioreactor-switch", "-y")
    assert result.returncode == 0, result.stderr
    after = ini(unit_config)
    assert dict(after["PWM"]) == {"1": "stirring"}
    assert dict(after["switch.config"]) == {"my_own_key": "7"}


def test_scripts_ui_sections_and_leader_only(
    vpio: Run, pio_home: PioHome, upstream_wheels: dict[str, Path], venv_python: Path
) -> None:
    # without -y and without a terminal to ask on, the script is shown, not run; the install stays
    result = vpio("plugins", "install", str(upstream_wheels["logs2webhook"]))
    assert result.returncode == 0, result.stderr
    assert "pass -y to run it" in result.stdout and not (pio_home.path / "post_install_ran").exists()
    assert vpio("plugins", "uninstall", "pioreactor-logs2webhook", "-y").returncode == 0
    (pio_home.path / "pre_uninstall_ran").unlink()

    result = vpio("plugins", "install", str(upstream_wheels["logs2webhook"]), "-y")
    assert result.returncode == 0, result.stderr
    assert "post_install.sh" in result.stdout and (pio_home.path / "post_install_ran").is_file()
    assert ini(pio_home.config_path)["ui.overview.settings"]["webhook_card"] == "1"  # ui.* on the leader's config
    assert ini(pio_home.path / "unit_config.ini")["logs2webhook"]["log_level"] == "WARNING"
    with sqlite3.connect(pio_home.path / "storage" / "pioreactor.sqlite") as db:  # additional_sql.sql applied
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'webhook_posts'").fetchone()

    result = vpio("plugins", "uninstall", "pioreactor_logs2webhook", "-y")
    assert result.returncode == 0, result.stderr
    assert (pio_home.path / "pre_uninstall_ran").is_file()
    assert not ini(pio_home.config_path).has_section("ui.overview.settings")
    assert not ini(pio_home.path / "unit_config.ini").has_section("logs2webhook")

    # on a worker, a LEADER_ONLY plugin is refused
    pio_home.write_config("[cluster]\nleader_hostname=the-leader\n")
    before = site_snapshot(venv_python)
    result = vpio("plugins", "install", str(upstream_wheels["logs2webhook"]), "-y")
    assert result.returncode == 1 and "leader-only plugin" in result.stderr
    assert site_snapshot(venv_python) == before


def test_uninstall_refuses_while_the_plugins_job_runs(
    vpio: Run, pio_home: PioHome, upstream_wheels: dict[str, Path], venv_python: Path, mqtt_probe: MqttProbe
) -> None:
    assert vpio("plugins", "install", str(upstream_wheels["switch"]), "-y").returncode == 0
    job = subprocess.Popen(
        [str(venv_python), "-m", "pioreactor.kernel.cli", "run", "switch"],
        env=pio_home.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        mqtt_probe.wait_for(pio_home.topic("switch", "$state"), "ready")
        result = vpio("plugins", "uninstall", "pioreactor-switch", "-y")
        assert result.returncode == 1
        assert f"while its jobs run: switch (pid {job.pid})" in result.stderr and "--stop-jobs" in result.stderr

        result = vpio("plugins", "uninstall", "pioreactor-switch", "-y", "--stop-jobs")
        assert result.returncode == 0, result.stderr
        assert job.wait(10) == 0
        mqtt_probe.wait_for(pio_home.topic("switch", "$state"), "disconnected")
    finally:
        if job.poll() is None:
            job.kill()


def test_a_single_file_upstream_automation_installs(vpio: Run, pio_home: PioHome) -> None:
    result = vpio("plugins", "install", str(UPSTREAM / "naive_turbidostat.py"))
    assert result.returncode == 0, result.stderr
    assert (pio_home.path / "plugins" / "naive_turbidostat.py").is_file()
    result = vpio("run", "dosing_automation", "--automation-name", "naive_turbidostat", "--help")
    assert "--target-od TEXT" in result.stdout, result.stderr
    assert vpio("plugins", "uninstall", "naive_turbidostat").returncode == 0
