"""``pioreactor.cluster_management``: the cluster's workers, as upstream plugins ask for them."""

from __future__ import annotations

from pioreactor import sdk


def get_workers_in_inventory() -> tuple[str, ...]:
    """Workers listed under ``[cluster.inventory]`` in config.ini (this unit alone if none)."""
    config = sdk.get_config()
    if config.has_section("cluster.inventory"):
        workers = tuple(name for name in config.section("cluster.inventory"))
        if workers:
            return workers
    return (sdk.get_unit_name(),)


def get_active_workers_in_inventory() -> tuple[str, ...]:
    config = sdk.get_config()
    if config.has_section("cluster.inventory"):
        active = tuple(
            name for name, flag in config.section("cluster.inventory").items() if flag.strip() not in ("0", "false")
        )
        if active:
            return active
    return (sdk.get_unit_name(),)
