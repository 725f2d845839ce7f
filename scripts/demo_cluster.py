"""The cluster of `make demo`: a leader and two simulated workers on this machine.

The leader (``demo-leader``) serves the web API and keeps the inventory; ``demo-worker1`` runs
the turbidostat and ``demo-worker2`` a chemostat. Each unit has its own ``PIO_HOME`` under
``.demo/cluster/<unit>``, web server on a free port and simulated vial; all share the broker on
localhost:1883. Jobs start on the workers with ``pios run ... --units <worker>`` from the leader,
and stop with ``pios kill --all-jobs``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from demo_support import DEMO_DIR, EXPERIMENT, JOBS, PUMP_ML_PER_SECOND, Live, turbidostat_config_text
from local_cluster import PIO, LocalCluster, Unit

CLUSTER_DIR = DEMO_DIR / "cluster"
LEADER, TURBIDOSTAT_UNIT, CHEMOSTAT_UNIT = "demo-leader", "demo-worker1", "demo-worker2"
CHEMOSTAT_EXCHANGE_ML, CHEMOSTAT_EVERY_MINUTES = 0.75, 20.0
#: (label, `pios run` arguments, job name on MQTT) of the chemostat worker
CHEMOSTAT_JOBS: list[tuple[str, list[str], str]] = [
    ("stirring", ["stirring", "--target-rpm", "500"], "stirring"),
    ("od_reading", ["od_reading"], "od_reading"),
    JOBS[3],  # the thermostat at 37 C
    (
        f"chemostat, {CHEMOSTAT_EXCHANGE_ML:g} ml every {CHEMOSTAT_EVERY_MINUTES:g} min",
        [
            "dosing_automation",
            "--automation-name",
            "chemostat",
            "--exchange-volume-ml",
            f"{CHEMOSTAT_EXCHANGE_ML:g}",
            "--duration",
            f"{CHEMOSTAT_EVERY_MINUTES:g}",
        ],
        "dosing_automation",
    ),
]
PIOS = [sys.executable, "-c", "from pioreactor.plugins_core.cluster.pios import main; main()"]


def home_of(unit: str) -> Path:
    return CLUSTER_DIR / unit


def make_cluster(clock_speed: float) -> LocalCluster:
    """The demo's cluster, not started: every unit's config.ini on the demo's broker."""

    def config_for(name: str) -> str:
        # every unit is on 127.0.0.1: nothing for the network to discover (mDNS)
        leader = f"\n[cluster]\nleader_hostname={LEADER}\n\n[mdns]\nadvertise=0\n"
        if name == LEADER:  # the leader runs no job: no fast clock, no vial settings needed
            return f"[mqtt]\nbroker_address=localhost\nbroker_port=1883\n\n[hardware]\nbackend=simulator\n{leader}"
        text = turbidostat_config_text(clock_speed) + leader
        # the chemostat's vial is another culture: its own noise
        return text.replace("seed=11", "seed=12") if name == CHEMOSTAT_UNIT else text

    # no fork servers (unlike `make cluster`): the demo starts a few long-running jobs once, so
    # fast starts buy nothing, while three servers starting beside the fast clock made it ~6 % slower
    return LocalCluster(
        CLUSTER_DIR,
        names=[LEADER, TURBIDOSTAT_UNIT, CHEMOSTAT_UNIT],
        experiment=EXPERIMENT,
        config_for=config_for,
        followers=False,
        fork_servers=False,
    )


def stop_leftovers() -> None:
    """Jobs a previous demo left running (if it was killed hard)."""
    for unit in (TURBIDOSTAT_UNIT, CHEMOSTAT_UNIT, LEADER):
        home = home_of(unit)
        if (home / "config.ini").exists():
            subprocess.run([*PIO, "kill", "--all-jobs"], env=Unit(unit, home, 0).env(EXPERIMENT), capture_output=True, timeout=30)


def on_unit(unit: Unit, code: str) -> str:
    """Python ``code`` run as ``unit`` (its PIO_HOME); its standard output."""
    done = subprocess.run([sys.executable, "-c", code], env=unit.env(EXPERIMENT), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"on {unit.name}: {done.stderr.strip()}")
    return done.stdout


def calibrate_chemostat_pumps(cluster: LocalCluster) -> None:
    unit = unit_named(cluster, CHEMOSTAT_UNIT)
    scripts = Path(__file__).resolve().parent
    on_unit(
        unit,
        f"import sys; sys.path.insert(0, {str(scripts)!r}); from demo_support import calibrate_pumps; "
        f"calibrate_pumps({PUMP_ML_PER_SECOND!r}, unit={unit.name!r})",
    )


def ground_truth_of(cluster: LocalCluster, name: str) -> dict[str, Any]:
    """The simulator's true state of ``name``'s vial now."""
    code = "import json; from pioreactor.plugins_core.simulator.world import ground_truth; print(json.dumps(ground_truth()))"
    return dict(json.loads(on_unit(unit_named(cluster, name), code)))


def unit_named(cluster: LocalCluster, name: str) -> Unit:
    return next(u for u in cluster.units if u.name == name)


def leader_command(cluster: LocalCluster, *args: str) -> bool:
    """``pio ARGS`` as the leader, echoed; True if it worked."""
    print(f"$ pio {' '.join(args)}")
    done = cluster.pio(*args, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
    return done.returncode == 0


def pios(cluster: LocalCluster, *args: str, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    """``pios ARGS`` as the leader, echoed with its per-unit lines."""
    print(f"$ pios {' '.join(args)}")
    done = subprocess.run([*PIOS, *args], env=cluster.leader.env(EXPERIMENT), capture_output=True, text=True, timeout=60)
    out = (done.stdout + done.stderr).strip()
    if out and not quiet:
        print("  " + out.replace("\n", "\n  "))
    return done


def start_job(cluster: LocalCluster, unit: str, args: list[str], job: str, live: Live, label: str) -> bool:
    """``pios run ARGS --units unit -y``, then wait for the job to say ready."""
    done = pios(cluster, "run", *args, "--units", unit, "-y", quiet=True)
    if done.returncode != 0:
        print(f"{label} did not start on {unit}:\n{done.stdout}{done.stderr}", file=sys.stderr)
        return False
    if live.wait_ready([job], timeout=30):
        print(f"{label} not ready on {unit} after 30 s. See {home_of(unit)}/logs/pioreactor.log.", file=sys.stderr)
        return False
    return True


def stopped_jobs(live: Live, jobs: list[tuple[str, list[str], str]]) -> list[str]:
    """The jobs that stopped (lost or disconnected) while the demo still ran."""
    with live.lock:
        return [label for label, _, job in jobs if live.states.get(job) in ("lost", "disconnected")]


def stop_all(cluster: LocalCluster, lives: list[tuple[Live, list[str]]]) -> None:
    """``pios kill --all-jobs -y``, then wait until every job said it disconnected."""
    print()
    pios(cluster, "kill", "--all-jobs", "-y")
    for live, jobs in lives:
        with live.lock:
            started = [j for j in jobs if j in live.states]
            if not live.ready.wait_for(lambda: all(live.states.get(j) in ("disconnected", "lost") for j in started), 30):  # noqa: B023
                print(f"warning: not every job said it stopped within 30 s: {live.states}", file=sys.stderr)
