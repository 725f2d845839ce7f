"""Config files from the leader to its workers (``pios sync-configs``, and every save of the
shared config through the leader's API): the shared ``config.ini`` goes to every worker but the
leader itself, each unit's ``cluster_configs/config_<unit>.ini`` goes as its ``unit_config.ini``."""

from __future__ import annotations

from typing import Any

from pioreactor.plugins_core.cluster.configs import unit_specific_config
from pioreactor.plugins_core.cluster.fanout import fan_out


def shared_config_text() -> str:
    from pioreactor.sdk.unit import config_file_path

    path = config_file_path("shared")
    return path.read_text(encoding="utf-8") if path.exists() else ""


def push_configs(workers: dict[str, str], *, shared: bool = True, specific: bool = True) -> dict[str, dict[str, Any]]:
    """Push to ``workers`` (``{unit: address}``) in parallel; one envelope per unit, whose value
    lists what it received (``["config.ini", "unit_config.ini"]``)."""
    from pioreactor.sdk import get_leader_hostname

    leader = get_leader_hostname()
    shared_text = shared_config_text() if shared else None
    specific_texts = {unit: unit_specific_config(unit) for unit in workers} if specific else {}

    def files_for(unit: str) -> list[tuple[str, str, str]]:
        files = []
        if shared_text is not None and unit != leader:  # the leader's config.ini is the original
            files.append(("config.ini", "/unit_api/config/shared", shared_text))
        text = specific_texts.get(unit)
        if text is not None:
            files.append(("unit_config.ini", "/unit_api/config/specific", text))
        return files

    results: dict[str, dict[str, Any]] = {
        unit: {"ok": True, "unit": unit, "value": []} for unit in workers
    }
    plans = {unit: files_for(unit) for unit in workers}
    for index in range(2):  # the shared file, then the unit's own: each round in parallel
        round_ = {u: a for u, a in workers.items() if len(plans[u]) > index and results[u]["ok"]}
        answers = fan_out(round_, lambda unit: ("PUT", plans[unit][index][1], {"code": plans[unit][index][2]}))  # noqa: B023
        for unit, answer in answers.items():
            if answer["ok"]:
                results[unit]["value"].append(plans[unit][index][0])
            else:
                results[unit] = answer
    return results


def push_shared_config_to_workers() -> dict[str, dict[str, Any]]:
    """After the leader's config.ini was saved through the API: every worker of the inventory
    gets it (nothing when the inventory is empty, as on a one-unit setup)."""
    from pioreactor.plugins_core.cluster.inventory import list_workers

    workers = {w["pioreactor_unit"]: w["address"] for w in list_workers()}
    return push_configs(workers, shared=True, specific=False) if workers else {}
