"""The per-unit config files the leader keeps for its workers: ``$PIO_HOME/cluster_configs/
config_<unit>.ini`` (upstream's name), pushed as each worker's unit_config.ini by ``pios sync-configs``."""

from __future__ import annotations

from pathlib import Path


def unit_config_path(unit: str) -> Path:
    """Where the leader keeps ``unit``'s unit_config.ini: ``$PIO_HOME/cluster_configs/config_<unit>.ini``."""
    from pioreactor.sdk import pio_home

    return Path(pio_home()) / "cluster_configs" / f"config_{unit}.ini"


def unit_specific_config(unit: str) -> str | None:
    """The leader's copy of ``unit``'s unit_config.ini, or None when it keeps none."""
    path = unit_config_path(unit)
    return path.read_text(encoding="utf-8") if path.exists() else None
