"""Plugins written for upstream Pioreactor, unchanged.

* ``surface/``: upstream's import names (``pioreactor.background_jobs.base``,
  ``pioreactor.config``, ...) as our own code on the SDK, installed under ``pioreactor.``.
* ``loader``: registers what an upstream plugin offers (``click_*`` commands, ``@run.command``,
  automation subclasses, UI descriptors, datasets) under the plugin's own name.
* ``install``: ``pio plugins install``/``uninstall`` of upstream packages: their
  ``additional_config.ini``, ``post_install.sh``/``pre_uninstall.sh``, ``LEADER_ONLY``.
"""

from typing import Any

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_adapt_plugin(name: str, module: Any) -> Any:
    from pioreactor.plugins_core.upstream_compat.loader import adapt

    return adapt(name, module)


@hookimpl
def pioreactor_plugin_installed(distribution: str, files: list[str], assume_yes: bool) -> None:
    from pioreactor.plugins_core.upstream_compat.install import after_install

    after_install(distribution, files, assume_yes)


@hookimpl
def pioreactor_plugin_uninstalling(distribution: str, files: list[str], assume_yes: bool) -> None:
    from pioreactor.plugins_core.upstream_compat.install import before_uninstall

    before_uninstall(distribution, files, assume_yes)
