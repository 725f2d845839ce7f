"""The default `make demo` scenario: a 24-hour turbidostat on the simulator, in about a minute.

The settings are those of tests/test_dosing_simulator.py's 24-hour turbidostat: slow pumps
(0.0125 ml/s) with active calibrations matching the simulator, an OD reading every 2 simulated
minutes, no mains hum and no outliers, a culture doubling every 2.5 hours after a 2-hour lag.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from demo_support import (
    HOME,
    TURBIDOSTAT_JOBS,
    TURBIDOSTAT_TARGET_NOD,
    Live,
    pio_command,
)
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


def start_jobs(live: Live, procs: list[subprocess.Popen[bytes]]) -> bool:
    """Start the jobs one by one (each in its own session), each once the previous is ready."""
    for label, args, job in TURBIDOSTAT_JOBS:
        if job == "dosing_automation":  # once growth_rate_calculating has its OD statistics
            with live.lock:
                live.ready.wait_for(lambda: "od_filtered" in live.latest, 60)
        print(f"$ pio run {' '.join(args)}")
        procs.append(subprocess.Popen(pio_command("run", *args), start_new_session=True))
        if live.wait_ready([job], timeout=30):
            print(f"{label} not ready after 30 s. See {HOME}/logs/pioreactor.log.", file=sys.stderr)
            return False
    return True


def run(args: argparse.Namespace, live: Live, procs: list[subprocess.Popen[bytes]]) -> int:
    from pioreactor.plugins_core.simulator.world import ground_truth
    from pioreactor.sdk import get_clock

    if not start_jobs(live, procs):
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
        dead = [
            label for (label, _, _), p in zip(TURBIDOSTAT_JOBS, procs, strict=True) if p.poll() is not None
        ]
        if dead:
            print(
                f"\n{', '.join(dead)} stopped unexpectedly; see {HOME}/logs/pioreactor.log.", file=sys.stderr
            )
            return 1
        if hours >= args.hours:
            return 0


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
