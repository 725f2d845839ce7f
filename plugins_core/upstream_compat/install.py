"""Installing and removing upstream plugin packages: their config, scripts and ``LEADER_ONLY``.

After pip installed a package (and the plugin check passed):

* ``LEADER_ONLY`` (at the wheel root, or inside the package folder as some plugins ship it): on
  a worker the install is refused;
* ``additional_config.ini``: ``[ui.*]`` sections go to the leader's ``config.ini``, every other
  section to this unit's ``unit_config.ini``; keys already set are never overwritten, and the keys
  added are remembered so uninstalling removes exactly those (a value the user changed since is
  left alone). A ``[PWM]`` channel another device already holds is refused with both names;
* ``additional_sql.sql`` (registered by the loader as the table's migration) is applied to the
  leader's database;
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


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    import sys

    import click

    if not sys.stdin.isatty():
        click.echo(f"{question} Not without a terminal to ask on (pass -y to run it).")
        return False
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        return False


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
    from pioreactor.plugins_core.upstream_compat.ini_edit import add_key
    from pioreactor.sdk.unit import global_config_path, unit_config_path

    leader = sdk.am_i_leader()
    notes: list[str] = []
    plugin = _read_ini(source)
    targets = {"unit": unit_config_path(), "global": global_config_path()}
    files = {name: _read_ini(path) for name, path in targets.items()}
    config = sdk.get_config()

    def set_in_a_file(section: str, key: str) -> bool:
        # plugins' declared defaults (this plugin's own included) are not the user's choices
        return config.origin(section, key) not in (None, "defaults")

    pwm_now = dict(config.section("PWM")) if config.has_section("PWM") else {}
    added: list[list[str]] = []
    for section in plugin.sections():
        if section.startswith("ui.") and not leader:
            continue  # the leader's install adds those
        where = "global" if section.startswith("ui.") else "unit"
        for key, value in plugin[section].items():
            if section == "PWM":
                if value in pwm_now.values() and set_in_a_file("PWM", next(c for c, d in pwm_now.items() if d == value)):
                    continue  # the user already gave the device a channel
                holder = pwm_now.get(key)
                if holder and holder != value:
                    if set_in_a_file("PWM", key):
                        raise _pwm_clash(distribution, key, value, holder)
                    owner = config.declared.get(("PWM", key))
                    notes.append(
                        f"PWM channel {key} belonged to {holder!r} by default (plugin {owner.plugin if owner else '?'}); "
                        f"it is now {value!r}'s. Give {holder!r} another channel under [PWM] in unit_config.ini if you use it."
                    )
                added.append([where, section, key, value])
                continue
            if set_in_a_file(section, key) or files[where].has_option(section, key):
                continue  # never overwrite what is set
            added.append([where, section, key, value])
    for where, section, key, value in added:
        add_key(targets[where], section, key, value)
    if notes:
        import click

        click.echo("\n".join(notes))
    return added


def _pwm_clash(distribution: str, channel: str, device: str, holder: str) -> UpstreamInstallError:
    return UpstreamInstallError(
        f"{distribution} wants PWM channel {channel} for {device!r}, but [PWM] {channel} = {holder} already "
        f"({holder!r} and {device!r} would fight over the same pin). Choose a channel for {device!r} first: "
        f"add e.g. `N={device}` under [PWM] in unit_config.ini, then install again"
    )


def remove_config(added: list[list[str]]) -> list[str]:
    """Remove the keys an install added (those still holding the value it wrote)."""
    from pioreactor.plugins_core.upstream_compat.ini_edit import remove_key
    from pioreactor.sdk.unit import global_config_path, unit_config_path

    targets = {"unit": unit_config_path(), "global": global_config_path()}
    kept = []
    for where, section, key, value in added:
        current = _read_ini(targets[where])
        if not current.has_option(section, key):
            continue
        if current[section][key] != value:
            kept.append(f"[{section}] {key} (changed since the install)")
            continue
        remove_key(targets[where], section, key)
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
    if _files(files, "additional_sql.sql") and sdk.am_i_leader():
        # the plugin registers the script as its table's migration: opening the database applies it
        from pioreactor.sdk.database import open_database

        open_database().close()
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
