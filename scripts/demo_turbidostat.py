"""The default `make demo` scenario: a 24-hour turbidostat on the simulator, in about a minute, on
a cluster of a leader and two simulated workers (`demo_cluster`): the turbidostat runs on
``demo-worker1`` and a chemostat on ``demo-worker2``, both started from the leader with `pios run`.

The turbidostat's settings are those of tests/test_dosing_simulator.py's 24-hour turbidostat: slow pumps
(0.0125 ml/s) with active calibrations matching the simulator, an OD reading every 2 simulated
minutes, no mains hum and no outliers, a culture doubling every 2.5 hours after a 2-hour lag.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

import demo_cluster
from demo_cluster import CHEMOSTAT_JOBS, CHEMOSTAT_UNIT, LEADER, TURBIDOSTAT_UNIT
from demo_support import (
    EXPERIMENT,
    TURBIDOSTAT_JOBS,
    TURBIDOSTAT_TARGET_NOD,
    Live,
    calibrate_od,
    calibrate_pumps,
    held_seconds,
    pio_command,
    speed_line,
)
from local_cluster import LocalCluster
from terminal_plot import Series, chart, unicode_ok

PER_HOUR = "h⁻¹" if unicode_ok() else "1/h"
HEADER = (
    f"{'sim h':>6} {'nOD':>6} {'target':>6} {'OD600':>6} {'vol ml':>6} {'doses':>5} "
    f"{'growth ' + PER_HOUR + ' est':>16} {'true':>6} {'signal':>6}"
)


def fmt(value: Any, spec: str, width: int) -> str:
    return f"{value:{width}{spec}}" if isinstance(value, int | float) else f"{value or '-':>{width}}"


def doses(events: list[dict[str, Any]]) -> tuple[int, float, float]:
    """(media doses, ml of media added, ml of waste removed) from the dosing_events messages."""
    media = [e for e in events if e.get("event") == "add_media"]
    waste = [e for e in events if e.get("event") == "remove_waste"]
    return len(media), sum(e["volume_change"] for e in media), sum(e["volume_change"] for e in waste)


HOME = demo_cluster.home_of(TURBIDOSTAT_UNIT)


def start_jobs(cluster: LocalCluster, live: Live, chemostat: Live) -> bool:
    """The turbidostat's jobs on one worker, one by one (each once the previous is ready), then the
    chemostat's on the other, all with `pios run` from the leader."""
    for label, args, job in TURBIDOSTAT_JOBS:
        if job == "dosing_automation":  # once growth_rate_calculating has its OD statistics
            with live.lock:
                live.ready.wait_for(lambda: "od_filtered" in live.latest, 60)
        if not demo_cluster.start_job(cluster, TURBIDOSTAT_UNIT, args, job, live, label):
            return False
    for label, args, job in CHEMOSTAT_JOBS:
        if not demo_cluster.start_job(cluster, CHEMOSTAT_UNIT, args, job, chemostat, label):
            return False
    return True


def run(args: argparse.Namespace, cluster: LocalCluster, live: Live, chemostat: Live) -> int:
    from pioreactor.plugins_core.simulator.world import ground_truth
    from pioreactor.sdk import get_clock

    if not start_jobs(cluster, live, chemostat):
        return 1
    clock = get_clock()
    started = live.hours(clock.time())
    print(
        f"\nAll jobs ready after {started:.1f} simulated hours. The turbidostat dilutes the culture "
        f"with {args.exchange:g} ml whenever its nOD reaches {TURBIDOSTAT_TARGET_NOD:g}; "
        f"a line every {args.every:g} simulated minutes.\n"
    )
    print(HEADER)
    step = 60.0  # sample the vial every simulated minute, print every args.every
    next_sample = live.t0 + step
    next_print = live.t0 + args.every * 60 * (int(started * 60 / args.every) + 1)
    while True:
        clock.sleep(next_sample - clock.time())
        truth = ground_truth()
        hours = live.hours(truth["time"])
        with live.lock:
            live.true_growth_rate.append((hours, truth["growth_rate"]))
            live.true_od.append((hours, truth["od"]))
            live.latest["truth"] = truth  # the vial as the jobs left it (it drifts once they stop)
            latest = dict(live.latest)
            n_doses = doses(live.dosing_events)[0]
        if truth["time"] >= next_print:
            print(
                f"{hours:6.1f} {fmt(latest.get('od_filtered'), '.3f', 6)} {TURBIDOSTAT_TARGET_NOD:6.2f} "
                f"{truth['od']:6.3f} {truth['volume_ml']:6.2f} {n_doses:5d} "
                f"{fmt(latest.get('growth_rate'), '.3f', 16)} {truth['growth_rate']:6.3f} "
                f"{truth['optical_growth_rate']:6.3f}",
                flush=True,
            )
            next_print += args.every * 60
        next_sample += step
        dead = demo_cluster.stopped_jobs(live, TURBIDOSTAT_JOBS) + demo_cluster.stopped_jobs(chemostat, CHEMOSTAT_JOBS)
        if dead:
            print(
                f"\n{', '.join(dead)} stopped unexpectedly; see {demo_cluster.CLUSTER_DIR}/<unit>/logs/pioreactor.log.",
                file=sys.stderr,
            )
            return 1
        if hours >= args.hours:
            with chemostat.lock:
                chemostat.latest["truth"] = demo_cluster.ground_truth_of(cluster, CHEMOSTAT_UNIT)
            return 0


def chemostat_summary(chemostat: Live) -> None:
    with chemostat.lock:
        truth, events = chemostat.latest.get("truth"), list(chemostat.dosing_events)
    n, media_ml, waste_ml = doses(events)
    print(f"\nThe chemostat on {CHEMOSTAT_UNIT}: {n} exchanges of {demo_cluster.CHEMOSTAT_EXCHANGE_ML:g} ml every "
          f"{demo_cluster.CHEMOSTAT_EVERY_MINUTES:g} simulated minutes; {media_ml:.2f} ml of media in, {waste_ml:.2f} ml of waste pumped")
    if truth:
        overflow = "never" if truth["overflowed_ml"] == 0 else f"{truth['overflowed_ml']:.2f} ml overflowed"
        print(
            f"  its vial:     OD600 {truth['od']:.3f} (true), growth rate {truth['growth_rate']:.3f} {PER_HOUR} (true), "
            f"volume {truth['volume_ml']:.2f} ml; overflow: {overflow}"
        )


def summary(live: Live, speed: float) -> None:
    from pioreactor.plugins_core.simulator.world import ground_truth

    with live.lock:
        truth = live.latest.get("truth") or ground_truth()
        filtered, events = list(live.filtered_od), list(live.dosing_events)
        estimated = live.latest.get("growth_rate")
    n, media_ml, waste_ml = doses(events)
    final_nod = f"{filtered[-1][1]:.3f}" if filtered else "-"
    estimate = f"{estimated:.3f}" if isinstance(estimated, float) else "-"
    overflow = "never" if truth["overflowed_ml"] == 0 else f"{truth['overflowed_ml']:.2f} ml overflowed"
    print(
        f"\nWhat happened:\n"
        f"  doses:        {n} dilutions; {media_ml:.2f} ml of media in, {waste_ml:.2f} ml of waste pumped "
        f"(dosing_events; the waste pump over-runs to draw down to the efflux tube); in the vial "
        f"{truth['media_added_ml']:.2f} ml in, {truth['waste_removed_ml']:.2f} ml out\n"
        f"  final OD:     OD600 {truth['od']:.3f} (true); nOD {final_nod} (estimated), "
        f"target {TURBIDOSTAT_TARGET_NOD:g}; volume {truth['volume_ml']:.2f} ml\n"
        f"  growth rate:  {estimate} {PER_HOUR} estimated, {truth['growth_rate']:.3f} {PER_HOUR} true (biomass), "
        f"{truth['optical_growth_rate']:.3f} {PER_HOUR} in the 90° signal (what an estimate without an OD calibration follows)\n"
        f"  overflow:     {overflow}"
    )
    if filtered:
        steps, end = 64, filtered[-1][0]
        line = [(end * i / steps, TURBIDOSTAT_TARGET_NOD) for i in range(steps + 1)]
        print()
        print(
            chart(
                [
                    Series(f"target {TURBIDOSTAT_TARGET_NOD:g}", "-", line),
                    Series("nOD (estimated)", "*", filtered),
                ],
                title="Normalised OD over the experiment",
                x_min=0,
            )
        )
    readings, skipped = live.skipped_readings(interval=120.0)
    print(
        f"od_reading took {readings} readings 2 simulated minutes apart on the {speed:g}x clock; "
        f"{skipped} were skipped because the machine could not keep up."
    )


def main(args: argparse.Namespace) -> int:
    """The whole scenario: the cluster, the calibrations, the run, the stop, the summaries."""
    demo_cluster.stop_leftovers()
    cluster = demo_cluster.make_cluster(args.speed)
    cluster.prepare()
    # this process reads the turbidostat worker's vial (ground_truth) and its clock
    os.environ.update(PIO_HOME=str(HOME), PIO_UNIT=TURBIDOSTAT_UNIT, EXPERIMENT=EXPERIMENT)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as Ctrl-C does
    from pioreactor.kernel.bus import Bus
    from pioreactor.plugins_core.simulator.world import reset_world
    from pioreactor.sdk import get_clock

    calibrate_pumps(unit=TURBIDOSTAT_UNIT)  # media and waste pump calibrations matching the simulator's pumps
    demo_cluster.calibrate_chemostat_pumps(cluster)
    if calibrate_od(pio_command):
        print(f"$ pio calibrations run --device od90 --name simulated-od90 -y   (on {TURBIDOSTAT_UNIT}: od_reading reports OD600)")
    code, bus = 1, Bus("demo")
    live, chemostat = Live(t0=0.0), Live(t0=0.0)
    wall_start, held_start = time.monotonic(), 0.0
    try:
        cluster.start()
        print(
            f"A leader and two simulated workers on this machine; the leader's web server: "
            f"http://{cluster.leader.address} (GET /api/workers lists the workers)."
        )
        for unit in cluster.units:
            print(f"  {unit.name:<13} http://{unit.address}   PIO_HOME={unit.home}")
        if not (
            demo_cluster.leader_command(cluster, "experiments", "create", EXPERIMENT)
            and demo_cluster.leader_command(cluster, "experiments", "assign", EXPERIMENT, TURBIDOSTAT_UNIT, CHEMOSTAT_UNIT)
        ):
            return 1
        live.t0 = reset_world()["time"]  # a fresh vial at the start of the unit's clock
        for unit, record in ((TURBIDOSTAT_UNIT, live), (CHEMOSTAT_UNIT, chemostat)):
            bus.subscribe(f"pioreactor/{unit}/{EXPERIMENT}/+/+", record.on_message, allow_retained=False)
            bus.subscribe(f"pioreactor/{unit}/{EXPERIMENT}/dosing_events", record.on_message, allow_retained=False)
        if not bus.connect():
            print("No MQTT broker on localhost:1883: run `make demo` (it starts one).", file=sys.stderr)
            return 1
        minutes = args.hours * 3600 / args.speed / 60
        print(
            f"\nThe turbidostat runs on {TURBIDOSTAT_UNIT}, a chemostat on {CHEMOSTAT_UNIT}, both on a {args.speed:g}x clock: "
            f"{args.hours:g} simulated hours in about {minutes:.1f} wall-clock minutes, longer if this machine cannot "
            "keep up (the clock then waits for the jobs, and says so at the end). Ctrl-C stops early.\n"
        )
        wall_start, held_start = time.monotonic(), held_seconds(get_clock())
        code = run(args, cluster, live, chemostat)
    except KeyboardInterrupt:
        print("\nInterrupted.")
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if cluster.leader.process is not None:
            demo_cluster.stop_all(
                cluster, [(live, [j for _, _, j in TURBIDOSTAT_JOBS]), (chemostat, [j for _, _, j in CHEMOSTAT_JOBS])]
            )
        bus.close()
        cluster.stop()
    summary(live, args.speed)
    chemostat_summary(chemostat)
    print(speed_line(args.speed, live.t0, wall_start, held_start))
    print(
        f"Logs: {demo_cluster.CLUSTER_DIR.relative_to(demo_cluster.DEMO_DIR.parent)}/<unit>/logs/pioreactor.log. "
        f"The leader ({LEADER}) ran the commands; next time try `make cluster` and `pios` yourself (docs/cluster.md)."
    )
    return code
