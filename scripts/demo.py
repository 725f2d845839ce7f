"""`make demo`: a simulated Pioreactor, hours of it in about a minute.

The default scenario (`--scenario turbidostat`) is a 24-hour turbidostat experiment: it starts
`stirring`, `od_reading`, `growth_rate_calculating`, `temperature_automation --automation-name
thermostat` (37 °C) and `dosing_automation --automation-name turbidostat` (target nOD 1.5,
0.75 ml per dilution) on a simulated unit whose clock runs 1440 times faster than the wall
clock, prints a line every simulated hour (nOD against the target, the true OD600, the volume,
the doses so far, the estimated growth rate next to the true one of the biomass and the one the
90° signal shows, which the estimate follows without an OD calibration), then stops every job with
`pio kill --all-jobs` and summarises the doses, the final OD, the growth rate and any overflow,
with a chart of nOD over time.

`--scenario growth` grows a culture at 37 °C for 8 simulated hours instead. It runs the real jobs (`pio run stirring`, `od_reading`, `growth_rate_calculating` and
`temperature_automation --automation-name thermostat`) on a simulated unit whose clock runs
600 times faster than the wall clock, against the broker on localhost:1883. Every few simulated
minutes it prints what the jobs publish next to what the simulated vial really does
(`ground_truth()`), then stops every job with `pio kill --all-jobs` and charts OD and growth
rate over simulated time. Ctrl-C stops early (the jobs are stopped all the same).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

import demo_turbidostat
from demo_support import (
    DEMO_DIR,
    EXPERIMENT,
    HOME,
    JOBS,
    MAX_OD,
    TURBIDOSTAT_EXCHANGE_ML,
    UNIT,
    Live,
    fresh_home,
    held_seconds,
    kill_all_jobs,
    pio_command,
    speed_line,
)
from terminal_plot import Series, chart, save_png, unicode_ok

DEFAULTS: dict[str, dict[str, float]] = {
    "turbidostat": {"hours": 24.0, "speed": 1440.0, "every": 60.0},
    "growth": {"hours": 8.0, "speed": 600.0, "every": 10.0},
}
DEG = "°C" if unicode_ok() else "C"
PER_HOUR = "h⁻¹" if unicode_ok() else "1/h"
HEADER = (
    f"{'sim h':>6} {'phase':<11} {'temp ' + DEG:>8} {'raw OD':>8} {'nOD':>8} "
    f"{'growth ' + PER_HOUR + ' est':>16} {'true':>6} {'signal':>6} {'OD600':>6} {'RPM':>5}"
)


def phase_of(truth: dict[str, Any]) -> str:
    """The culture's phase, from the simulator's true state."""
    if truth["lag_adjustment"] < 0.6:  # Baranyi's alpha: the cells are still adapting
        return "lag"
    return "slowing" if (truth["od"] / MAX_OD) ** 2 > 0.15 else "exponential"


def fmt(value: Any, spec: str, width: int) -> str:
    return f"{value:{width}{spec}}" if isinstance(value, int | float) else f"{value or '-':>{width}}"


def row(hours: float, truth: dict[str, Any], latest: dict[str, Any]) -> str:
    filtered: Any = latest.get("od_filtered")
    if filtered is None and "progress" in latest:
        filtered = f"stats {latest['progress']:.0f}%"
    return (
        f"{hours:6.2f} {phase_of(truth):<11} {fmt(latest.get('temperature'), '.2f', 8)} "
        f"{fmt(latest.get('raw_od'), '.4f', 8)} {fmt(filtered, '.3f', 8)} "
        f"{fmt(latest.get('growth_rate'), '.3f', 16)} {truth['growth_rate']:6.3f} "
        f"{truth['optical_growth_rate']:6.3f} {truth['od']:6.3f} "
        f"{fmt(latest.get('rpm'), '.0f', 5)}"
    )


def start_jobs(live: Live, procs: list[subprocess.Popen[bytes]]) -> bool:
    """Start every job in its own session (so Ctrl-C reaches only this script); True once all are ready."""
    for _, args, _ in JOBS:
        print(f"$ pio run {' '.join(args)}")
        procs.append(subprocess.Popen(pio_command("run", *args), start_new_session=True))
    missing = live.wait_ready([job for _, _, job in JOBS], timeout=30)
    if missing:
        print(f"Not ready after 30 s: {', '.join(missing)}. See {HOME}/logs/pioreactor.log.", file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace, live: Live, procs: list[subprocess.Popen[bytes]]) -> int:
    from pioreactor.plugins_core.simulator.world import ground_truth
    from pioreactor.sdk import get_clock

    if not start_jobs(live, procs):
        return 1
    clock = get_clock()
    print(
        f"\nAll jobs ready. A line every {args.every:g} simulated minutes; the culture is inoculated "
        f"at OD600 0.05 in a vial at 22 {DEG}.\n"
    )
    print(HEADER)
    step = 60.0  # sample the true growth rate every simulated minute, print every args.every
    next_sample, next_print = live.t0 + step, live.t0
    while True:
        clock.sleep(next_sample - clock.time())
        truth = ground_truth()
        hours = live.hours(truth["time"])
        with live.lock:
            live.true_growth_rate.append((hours, truth["growth_rate"]))
            latest = dict(live.latest)
        if truth["time"] >= next_print:
            print(row(hours, truth, latest), flush=True)
            next_print += args.every * 60
        next_sample += step
        dead = [label for (label, _, _), p in zip(JOBS, procs, strict=True) if p.poll() is not None]
        if dead:
            print(
                f"\n{', '.join(dead)} stopped unexpectedly; see {HOME}/logs/pioreactor.log.", file=sys.stderr
            )
            return 1
        if hours >= args.hours:
            return 0


def summary(live: Live, speed: float) -> None:
    with live.lock:
        raw, filtered = list(live.raw_od), list(live.filtered_od)
        estimated, true = list(live.growth_rate), list(live.true_growth_rate)
    if not raw:
        return
    dot = "·" if unicode_ok() else "."
    # the raw signal on the filter's scale: divided by its median over the first 40 readings (in lag)
    first = sorted(od for _, od in raw[:40])
    scale = first[len(first) // 2] or 1.0
    od_panel = [
        Series("raw OD reading / initial", dot, [(h, od / scale) for h, od in raw]),
        Series("filtered nOD (growth_rate_calculating)", "*", filtered),
    ]
    gr_panel = [Series("true (simulator)", dot, true), Series("estimated (Kalman filter)", "*", estimated)]
    print()
    print(chart(od_panel, title="Normalised OD, log scale", log_y=True, x_min=0))
    print(chart(gr_panel, title=f"Growth rate ({PER_HOUR})", x_min=0))
    readings, skipped = live.skipped_readings()
    print(
        f"od_reading took {readings} readings 5 s apart on the {speed:g}x clock; "
        f"{skipped} were skipped because the machine could not keep up."
    )
    png = DEMO_DIR / "demo.png"
    if save_png(png, [("Normalised OD", od_panel, True), (f"Growth rate ({PER_HOUR})", gr_panel, False)]):
        print(f"The same charts as a picture: {png.relative_to(DEMO_DIR.parent)}")


def stop_jobs(procs: list[subprocess.Popen[bytes]]) -> None:
    if not procs:
        return
    print("\n$ pio kill --all-jobs")
    print(kill_all_jobs())
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            print(f"warning: pid {proc.pid} did not stop on SIGTERM and was killed", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(DEFAULTS),
        default="turbidostat",
        help="turbidostat (default: 24 h at 1440x, a line every 60 min) or growth (8 h at 600x, every 10 min)",
    )
    parser.add_argument("--hours", type=float, help="simulated hours to run")
    parser.add_argument("--speed", type=float, help="clock speed, simulated s per wall s")
    parser.add_argument("--every", type=float, help="simulated minutes between lines")
    args = parser.parse_args()
    for name, value in DEFAULTS[args.scenario].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.exchange = TURBIDOSTAT_EXCHANGE_ML
    if args.hours <= 0 or args.speed <= 0 or args.every <= 0:
        parser.error("--hours, --speed and --every must be positive")
    if args.scenario == "turbidostat":  # a leader and two simulated workers (demo_turbidostat)
        return demo_turbidostat.main(args)

    os.environ.update(PIO_HOME=str(HOME), PIO_UNIT=UNIT, EXPERIMENT=EXPERIMENT)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as Ctrl-C does
    fresh_home(args.speed, args.scenario)
    from pioreactor.kernel.bus import Bus
    from pioreactor.plugins_core.simulator.world import reset_world

    live = Live(t0=reset_world()["time"])  # a fresh vial at the start of the unit's clock
    bus = Bus("demo")
    bus.subscribe(f"pioreactor/{UNIT}/{EXPERIMENT}/+/+", live.on_message, allow_retained=False)
    bus.subscribe(f"pioreactor/{UNIT}/{EXPERIMENT}/dosing_events", live.on_message, allow_retained=False)
    if not bus.connect():
        print("No MQTT broker on localhost:1883: run `make demo` (it starts one).", file=sys.stderr)
        bus.close()
        return 1
    minutes = args.hours * 3600 / args.speed / 60
    print(
        f"A simulated unit ({UNIT}) on a {args.speed:g}x clock: {args.hours:g} simulated hours "
        f"in about {minutes:.1f} wall-clock minutes, longer if this machine cannot keep up (the clock "
        "then waits for the jobs, and says so at the end). Ctrl-C stops early.\n"
    )
    procs: list[subprocess.Popen[bytes]] = []
    code = 1
    from pioreactor.sdk import get_clock

    wall_start, held_start = time.monotonic(), held_seconds(get_clock())
    try:
        code = run(args, live, procs)
    except KeyboardInterrupt:
        print("\nInterrupted.")
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_jobs(procs)
        time.sleep(0.2)  # the jobs' last messages
        bus.close()
    summary(live, args.speed)
    print(speed_line(args.speed, live.t0, wall_start, held_start))
    print(
        f"Logs: {HOME.relative_to(DEMO_DIR.parent)}/logs/pioreactor.log. "
        "Run `pio mqtt -t 'pioreactor/#'` in another terminal next time to see every message."
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
