"""``pio plugins``: list, check, create, install and uninstall plugins, and show their UI descriptors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

TEMPLATE_ENV = "PIO_PLUGIN_TEMPLATE"
COLUMNS = ("name", "version", "source", "author", "homepage")


@click.group()
def plugins() -> None:
    """List, check, create, install and uninstall plugins."""


def _print_table(rows: list[dict[str, Any]]) -> None:
    widths = {column: max([len(column)] + [len(str(row[column] or "-")) for row in rows]) for column in COLUMNS}
    click.echo("  ".join(f"{column:<{widths[column]}}" for column in COLUMNS) + "  status")
    for row in rows:
        status = "loaded" if row["status"] == "loaded" else f"failed: {row['error']}"
        click.echo("  ".join(f"{str(row[column] or '-'):<{widths[column]}}" for column in COLUMNS) + f"  {status}")


@plugins.command("list", short_help="Every plugin, where it came from, and whether it loaded.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_plugins(as_json: bool) -> None:
    """Every plugin (core ones too): name, version, author, homepage, source (core, package,
    file), and whether it loaded.

    A plugin that failed to import or to register anything is listed as failed, with the reason.
    """
    from pioreactor.kernel.cli.plugin_check import check_report

    rows = check_report([])["plugins"]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        _print_table(rows)


@plugins.command("check", short_help="Load everything plugins registered; report problems.")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(names: tuple[str, ...], as_json: bool) -> None:
    """Load everything plugins registered: job commands, automations, parsers, table migrations
    (on an empty database), dataset queries, UI descriptors. Without NAMES, every non-core plugin.

    Exits with status 1 if any problem is found.
    """
    from pioreactor.kernel.cli.plugin_check import check_report

    report = check_report(list(names) or None)
    if as_json:
        click.echo(json.dumps(report["problems"], indent=2))
    else:
        for name, problems in report["problems"].items():
            click.echo(f"{name}: {'ok' if not problems else 'PROBLEMS'}")
            for problem in problems:
                click.echo(f"  - {problem}")
        if not report["problems"]:
            click.echo("no third-party plugins installed")
    if any(report["problems"].values()):
        raise SystemExit(1)


@plugins.command("ui", short_help="The job forms, automation forms and charts plugins describe.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ui(as_json: bool) -> None:
    """The job forms, automation forms and charts that plugins describe for a user interface."""
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.ui import UiDescriptorRegistry

    host = get_plugin_host()
    registry = host.registry(UiDescriptorRegistry)
    host.report_failures()
    if as_json:
        click.echo(json.dumps(registry.as_dict(), indent=2))
        return
    for category, descriptors in registry.as_dict().items():
        click.echo(f"{category}:")
        for item in descriptors:
            if category == "charts":
                title = f"{item['chart_key']:<28} {item['title']} ({item['topic']})"
            else:
                key = item.get("job_name") or f"{item['kind']}/{item['automation_name']}"
                title = f"{key:<28} {item['display_name']}: {', '.join(f['key'] for f in item['fields']) or '-'}"
            click.echo(f"  {title}  [{item['plugin']}]")


# -- new ------------------------------------------------------------------------------------------
def template_location() -> str:
    """Where the cookiecutter template is: ``$PIO_PLUGIN_TEMPLATE``, else the copy installed with
    pioreactor (``pioreactor.plugin_template``), else the source checkout."""
    configured = os.environ.get(TEMPLATE_ENV)
    if configured:
        return configured
    import importlib.util

    spec = importlib.util.find_spec("pioreactor.plugin_template")  # installed with the package
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(folder) / "cookiecutter.json").is_file():
            return str(folder)
    import pioreactor.kernel

    checkout = Path(pioreactor.kernel.__file__).resolve().parent.parent / "plugins_contrib_template"
    if (checkout / "cookiecutter.json").is_file():
        return str(checkout)
    raise click.ClickException(
        f"the plugin template is missing from this install (reinstall pioreactor), or set {TEMPLATE_ENV} "
        "to a copy of plugins_contrib_template/ (a folder or a git URL) from the pioreactor source"
    )


@plugins.command("new", short_help="Create a plugin package from the template.")
@click.argument("name")
@click.option("--description", default="", help="One line about the plugin (default: from the name).")
@click.option("--author", "author_name", default="", help="Your name, for pyproject.toml and the README.")
@click.option("--automation/--no-automation", default=True, show_default=True, help="Include an example automation.")
@click.option("--dataset/--no-dataset", default=True, show_default=True, help="Include an example table and dataset.")
@click.option(
    "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
    help="Where to create the pioreactor-NAME folder.",
)
def new(name: str, description: str, author_name: str, automation: bool, dataset: bool, output_dir: Path) -> None:
    """Create a plugin package from the template: `pio plugins new "Air Bubbler"` makes
    ./pioreactor-air-bubbler with a job, tests, a README and a CI workflow."""
    try:
        from cookiecutter.exceptions import CookiecutterException
        from cookiecutter.main import cookiecutter
    except ImportError:
        raise click.ClickException(
            "`pio plugins new` needs cookiecutter, which is not installed: "
            "pip install 'pioreactor[template]' (or: pip install cookiecutter)"
        ) from None
    context = {
        "plugin_name": name,
        "include_automation": "yes" if automation else "no",
        "include_dataset": "yes" if dataset else "no",
    }
    if description:
        context["description"] = description
    if author_name:
        context["author_name"] = author_name
    try:
        created = cookiecutter(
            template_location(), no_input=True, extra_context=context, output_dir=str(output_dir)
        )
    except (CookiecutterException, OSError) as err:
        raise click.ClickException(f"cannot create the plugin: {type(err).__name__}: {err}") from None
    folder = Path(created)
    if folder.is_relative_to(Path.cwd()):
        folder = folder.relative_to(Path.cwd())
    click.echo(f"Created {folder}")
    click.echo(f"Next: cd {folder} && pip install -e '.[test]' && pytest")


# -- install and uninstall ------------------------------------------------------------------------
@plugins.command("install", short_help="Install a plugin (package or single file), checked first.")
@click.argument("name")
@click.option(
    "--source",
    type=click.Choice(["wheel", "path", "url"]),
    default=None,
    help="What NAME is: a .whl file, a local path (project folder or .py file), or a URL. "
    "Default: guessed; a bare name is looked up on the package index.",
)
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Run the package's post_install.sh without asking.")
def install(name: str, source: str | None, assume_yes: bool) -> None:
    """Install a plugin: a package with pip into this environment, or a single .py file into
    $PIO_HOME/plugins. It is checked (imports, registrations, everything it registered) before
    it is kept; a failed install leaves everything as it was.

    \b
    pio plugins install pioreactor-air-bubbler
    pio plugins install ./dist/pioreactor_air_bubbler-0.1.0-py3-none-any.whl
    pio plugins install ~/Downloads/greeter.py
    pio plugins install https://example.org/greeter.py --source url
    """
    from pioreactor.kernel.cli.plugin_install import install as do_install

    rows = do_install(name, source, assume_yes)
    click.echo(f"Installed {name}:")
    _print_table(rows)


@plugins.command("uninstall", short_help="Remove a plugin and everything it contributed.")
@click.argument("name")
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Run the package's pre_uninstall.sh without asking.")
@click.option("--stop-jobs", is_flag=True, help="Stop the plugin's running jobs first (else the uninstall is refused).")
def uninstall(name: str, assume_yes: bool, stop_jobs: bool) -> None:
    """Remove a plugin: its package (by plugin or distribution name) with pip, or its single file
    from $PIO_HOME/plugins. Its jobs, settings defaults, datasets and UI descriptors go with it;
    the data it stored in the database stays. Refused while one of its jobs runs, unless
    --stop-jobs. A package written for upstream Pioreactor also gets its pre_uninstall.sh run
    and the config keys its install added removed."""
    from pioreactor.kernel.cli.plugin_install import uninstall as do_uninstall

    click.echo(do_uninstall(name, assume_yes, stop_jobs))
