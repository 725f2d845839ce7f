"""Whether a would-be worker answers, and what is wrong when it does not (upstream #610)."""

from __future__ import annotations

from pioreactor.plugins_core.cluster.http import DEFAULT_TIMEOUT, Unreachable, call


def probe(unit: str, address: str, *, default_port: int = 80, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Problems found reaching ``unit`` at ``address`` (empty: it answers, under that name, with
    our software version)."""
    from pioreactor.sdk import software_version

    try:
        health = call(address, "GET", "/unit_api/health", timeout=timeout, default_port=default_port)
    except Unreachable as err:
        return [str(err)]
    except ValueError as err:
        return [str(err)]
    if health.status != 200 or not isinstance(health.body, dict):
        return [f"{address} answers /unit_api/health with HTTP {health.status}: is it a Pioreactor web server?"]
    problems = []
    answered = health.body.get("pioreactor_unit")
    if answered != unit:
        problems.append(
            f"the unit at {address} calls itself {answered!r}, not {unit!r}: give its own name, or fix its "
            "PIO_UNIT / hostname"
        )
    try:
        versions = call(address, "GET", "/unit_api/versions/app", timeout=timeout, default_port=default_port)
    except Unreachable as err:
        return [*problems, str(err)]
    theirs = versions.body.get("version") if isinstance(versions.body, dict) else None
    ours = software_version()
    if theirs != ours:
        problems.append(f"version mismatch: {unit} runs {theirs}, this leader runs {ours}; update one of them")
    return problems
