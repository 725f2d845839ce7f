"""``pio plugins list``: what is installed, where it came from, and whether it loaded."""

from __future__ import annotations

import json

import click


@click.group()
def plugins() -> None:
    """Inspect the plugins of this unit."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_plugins(as_json: bool) -> None:
    """Every plugin (core ones too): name, version, source (core, package, file), and status.

    A plugin that failed to import or register is listed as failed, with the reason.
    """
    from pioreactor.kernel.discovery import distribution_metadata
    from pioreactor.kernel.plugins import get_plugin_host

    host = get_plugin_host()
    host.jobs()  # registration errors show up as failures too
    host.backends()
    distribution_metadata(host.plugins)
    rows = [
        {
            "name": info.name,
            "version": info.metadata.get("version"),
            "source": info.source,
            "status": "loaded" if info.loaded else "failed",
            "error": info.error,
            "module": info.module,
            "path": info.path,
            "distribution": info.metadata.get("distribution"),
            "author": info.metadata.get("author"),
            "homepage": info.metadata.get("homepage"),
            "summary": info.metadata.get("summary"),
        }
        for info in host.plugins
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':<24} {'version':<12} {'source':<8} status")
    for row in rows:
        status = row["status"] if row["status"] == "loaded" else f"failed: {row['error']}"
        click.echo(f"{row['name']:<24} {row['version'] or '-':<12} {row['source']:<8} {status}")
