"""Plugin management views; the work runs ``pio plugins ...`` in a subprocess, so a fresh
discovery sees what was just installed and a failing install cannot take the server down."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

from pioreactor.plugins_core.web.api import ApiError, json_body, submit_task, submit_unit_task

HERE = "pioreactor.plugins_core.plugin_manager.routes"
# a distribution name, optionally pinned: pioreactor-air-bubbler, my_plugin==1.2.0
PLUGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(==[A-Za-z0-9.+!_-]+)?$")
LIST_TIMEOUT_S = 30.0
INSTALL_TIMEOUT_S = 600.0


def _refuse_if_disallowed() -> None:
    from pioreactor.sdk.unit import pio_home

    if (pio_home() / "DISALLOW_UI_INSTALLS").exists():
        raise ApiError(
            403,
            "plugin installs from the web are disabled on this unit",
            "the file DISALLOW_UI_INSTALLS exists in $PIO_HOME",
            "remove it, or run `pio plugins install NAME` on the unit",
        )


def _name(body: dict[str, Any]) -> str:
    args = body.get("args")
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], str):
        raise ApiError(400, "args must hold exactly one plugin name", "args", 'e.g. {"args": ["pioreactor-air-bubbler"]}')
    if (body.get("options") or {}).get("source"):
        raise ApiError(
            400,
            "installing from a file or URL is not offered over HTTP",
            "options.source",
            "copy the file to the unit and run `pio plugins install PATH` there",
        )
    name = args[0].strip()
    if not PLUGIN_NAME.match(name):
        raise ApiError(
            400,
            f"{name!r} is not a plugin name",
            "args[0]: a package name, optionally ==version",
            "e.g. pioreactor-air-bubbler or pioreactor-air-bubbler==0.3.0",
        )
    return name


def _pio(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    from pioreactor.sdk.plugins import pio_command

    return subprocess.run(pio_command(*args), capture_output=True, text=True, timeout=timeout, check=False)


# -- the work (also what the leader's tasks call) ---------------------------------------------------
def list_installed() -> list[dict[str, Any]]:
    """Every plugin that is not core: name, version, source, author, homepage, status."""
    done = _pio("plugins", "list", "--json", timeout=LIST_TIMEOUT_S)
    if done.returncode != 0:
        raise ApiError(500, "`pio plugins list` failed", done.stderr.strip()[-500:], "run it on the unit to see why")
    rows = json.loads(done.stdout)
    return [dict(row, description=row.get("description") or "") for row in rows if row.get("source") != "core"]


def run_install(name: str) -> dict[str, Any]:
    done = _pio("plugins", "install", name, timeout=INSTALL_TIMEOUT_S)
    if done.returncode != 0:
        raise ApiError(400, f"installing {name} failed", (done.stderr or done.stdout).strip()[-1000:], "see the unit's logs")
    return {"installed": name, "output": done.stdout.strip()}


def run_uninstall(name: str) -> dict[str, Any]:
    done = _pio("plugins", "uninstall", name, timeout=INSTALL_TIMEOUT_S)
    if done.returncode != 0:
        raise ApiError(400, f"uninstalling {name} failed", (done.stderr or done.stdout).strip()[-1000:], "is it installed?")
    return {"uninstalled": name, "output": done.stdout.strip()}


# -- /unit_api views ---------------------------------------------------------------------------------
def installed() -> Any:
    """Plugins installed on this unit."""
    return list_installed()


def install() -> Any:
    """Install a plugin by name (a task): ``{"args": ["name"]}``; 403 with DISALLOW_UI_INSTALLS."""
    _refuse_if_disallowed()
    return submit_task(f"{HERE}:run_install", _name(json_body()))


def uninstall() -> Any:
    """Uninstall a plugin (a task): ``{"args": ["name"]}``; 403 with DISALLOW_UI_INSTALLS."""
    _refuse_if_disallowed()
    return submit_task(f"{HERE}:run_uninstall", _name(json_body()))


# -- leader views -----------------------------------------------------------------------------------
def api_installed(pioreactor_unit: str) -> Any:
    """Plugins installed on a unit (or ``$broadcast``), as a task."""
    return submit_unit_task(pioreactor_unit, f"{HERE}:list_installed", unit_api=("GET", "/unit_api/plugins/installed", None))


def api_install(pioreactor_unit: str) -> Any:
    """Install a plugin on a unit, as a task."""
    _refuse_if_disallowed()
    name = _name(json_body())
    return submit_unit_task(pioreactor_unit, f"{HERE}:run_install", name, unit_api=("POST", "/unit_api/plugins/install", {"args": [name]}))


def api_uninstall(pioreactor_unit: str) -> Any:
    """Uninstall a plugin on a unit, as a task."""
    _refuse_if_disallowed()
    name = _name(json_body())
    return submit_unit_task(
        pioreactor_unit, f"{HERE}:run_uninstall", name, unit_api=("POST", "/unit_api/plugins/uninstall", {"args": [name]})
    )


def api_install_here() -> Any:
    """25.11's install box: install on the leader."""
    _refuse_if_disallowed()
    return submit_unit_task("$broadcast", f"{HERE}:run_install", _name(json_body()))
