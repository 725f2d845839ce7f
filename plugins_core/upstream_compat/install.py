"""Installing and removing upstream plugin packages: their config, scripts and ``LEADER_ONLY``.

After pip installed a package (and the plugin check passed):

* ``LEADER_ONLY`` (at the wheel root, or inside the package folder as some plugins ship it): on
  a worker the install is refused;
* ``additional_config.ini``: ``[ui.*]`` sections go to the leader's ``config.ini``, every other
  section to this unit's ``unit_config.ini``; keys already set are never overwritten, and the keys
  added are remembered so uninstalling removes exactly those (a value the user changed since is
  left alone). A ``[PWM]`` channel another device already holds is refused with both names;
* ``post_install.sh`` is shown and, once confirmed (or with ``-y``), run with bash.

Before pip removes it: ``pre_uninstall.sh`` (shown, confirmed, run), then the config keys go.
"""

from __future__ import annotations

import configparser
import json
import subprocess
from pathlib import Path
from typing import Any

from pioreactor import sdk
from pioreactor.sdk import PioreactorError

CONFIG_FILE = "additional_config.ini"
RECORDS = "upstream_plugin_installs"


class UpstreamInstallError(PioreactorError):
    pass


def _files(files: list[str], name: str) -> list[Path]:
    """The distribution's files called ``name``, at the wheel root first, then in its packages."""
    found = [Path(f) for f in files if Path(f).name == name and Path(f).is_file()]
    return sorted(found, key=lambda p: len(p.parts))


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def _write_ini(path: Path, parser: configparser.ConfigParser) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".installing")
    with tmp.open("w") as handle:
        parser.write(handle)
    tmp.replace(path)


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    import click

    return click.confirm(question, default=False)


def _run_script(script: Path, what: str, assume_yes: bool) -> None:
    import click

    click.echo(f"{what} ({script.name}):\n" + "\n".join("  | " + line for line in script.read_text().splitlines()))
    if not _confirm(f"Run {script.name}?", assume_yes):
        click.echo(f"Skipped {script.name}; run it yourself if the plugin needs it: bash {script}")
        return
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        click.echo(f"{script.name} failed (exit {result.returncode}):\n{output}", err=True)
    elif output:
        click.echo(output)


def merge_config(distribution: str, source: Path) -> list[list[str]]:
    """Merge ``source`` into the config files; return the keys added as [file, section, key, value]."""
    leader = sdk.am_i_leader()
    from pioreactor.sdk.unit import global_config_path, unit_config_path

    plugin = _read_ini(source)
    targets = {"unit": unit_config_path(), "global": global_config_path()}
    parsers = {name: _read_ini(path) for name, path in targets.items()}
    config = sdk.get_config()
    pwm_now = dict(config.section("PWM")) if config.has_section("PWM") else {}
    added: list[list[str]] = []
    for section in plugin.sections():
        if section.startswith("ui."):
            if not leader:
                continue
            where = "global"
        else:
            where = "unit"
        parser = parsers[where]
        for key, value in plugin[section].items():
            if section == "PWM":
                _check_pwm(distribution, key, value, pwm_now)
                if value in pwm_now.values():
                    continue  # the device already has a channel
            if config.has_option(section, key) or (parser.has_section(section) and parser.has_option(section, key)):
                continue  # never overwrite what is set
            if not parser.has_section(section):
                parser.add_section(section)
            parser[section][key] = value
            added.append([where, section, key, value])
    for name, parser in parsers.items():
        if any(item[0] == name for item in added):
            _write_ini(targets[name], parser)
    return added


def _check_pwm(distribution: str, channel: str, device: str, pwm_now: dict[str, str]) -> None:
    holder = pwm_now.get(channel)
    if holder and holder != device and device not in pwm_now.values():
        free = [c for c in ("1", "2", "3", "4", "5") if not pwm_now.get(c)]
        raise UpstreamInstallError(
            f"{distribution} wants PWM channel {channel} for {device!r}, but [PWM] {channel} = {holder} already "
            f"({holder!r} and {device!r} would fight over the same pin). Give {device!r} a free channel first, "
            f"e.g. add `{free[0] if free else 'N'}={device}` under [PWM] in unit_config.ini, then install again"
        )


def remove_config(added: list[list[str]]) -> list[str]:
    """Remove the keys an install added (those still holding the value it wrote)."""
    from pioreactor.sdk.unit import global_config_path, unit_config_path

    targets = {"unit": unit_config_path(), "global": global_config_path()}
    kept = []
    for name, path in targets.items():
        mine = [item for item in added if item[0] == name]
        if not mine or not path.is_file():
            continue
        parser = _read_ini(path)
        for _, section, key, value in mine:
            if not parser.has_option(section, key):
                continue
            if parser[section][key] != value:
                kept.append(f"[{section}] {key} (changed since the install)")
                continue
            parser.remove_option(section, key)
            if not parser.options(section):
                parser.remove_section(section)
        _write_ini(path, parser)
    return kept


def after_install(distribution: str, files: list[str], assume_yes: bool) -> None:
    if _files(files, "LEADER_ONLY") and not sdk.am_i_leader():
        raise UpstreamInstallError(
            f"{distribution} is a leader-only plugin (it ships LEADER_ONLY); install it on the leader instead"
        )
    added: list[list[str]] = []
    for source in _files(files, CONFIG_FILE)[:1]:
        added = merge_config(distribution, source)
    with sdk.local_persistent_storage(RECORDS) as records:
        records[distribution.lower()] = json.dumps({"config": added})
    for script in _files(files, "post_install.sh")[:1]:
        _run_script(script, f"{distribution} asks to run this after installing", assume_yes)


def before_uninstall(distribution: str, files: list[str], assume_yes: bool) -> None:
    import click

    for script in _files(files, "pre_uninstall.sh")[:1]:
        _run_script(script, f"{distribution} asks to run this before uninstalling", assume_yes)
    with sdk.local_persistent_storage(RECORDS) as records:
        record: Any = records.get(distribution.lower())
        if record is None:
            return
        added = json.loads(record).get("config", []) if isinstance(record, str) else record.get("config", [])
        kept = remove_config(added)
        del records[distribution.lower()]
    if kept:
        click.echo(f"Left in config (you changed them): {', '.join(kept)}")
