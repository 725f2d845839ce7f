"""The growth-rate estimate against the simulator's truth in every phase: a table.

Usage: ``.venv/bin/python benchmarks/growth_rate_benchmarks.py [--uncalibrated]``. Each row is a
scenario of ``growth_rate_scenarios.py`` (simulated time, no processes; a few seconds each):
batch (lag → exponential → stationary), turbidostats at OD ~1 and ~5, a chemostat, and a
temperature shift, all with noise and 1 % outliers. Columns: the run's peak true rate; the worst
|estimate − truth| after the lag as a share of that peak (target ≤ 10 %); the mean estimate over
each steady state against the true rate there (target within 5 %); hours for the estimate to come
within 10 % of peak of the truth after each step of the rate (target ≤ 1 h); the share of readings
treated as outliers.

By default the readings go through an OD600 calibration and the truth is the biomass growth
rate; ``--uncalibrated`` compares the raw 90° signal's estimate with the rate that signal shows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from growth_rate_scenarios import SCENARIOS, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uncalibrated", action="store_true", help="raw 90° signal, against the optical rate")
    args = parser.parse_args()
    calibrated = not args.uncalibrated
    truth = "biomass growth rate (calibrated OD600)" if calibrated else "rate the 90° signal shows (no calibration)"
    print(f"Growth-rate estimate against the simulator's {truth}\n")
    header = f"{'scenario':38} {'peak h⁻¹':>8} {'worst after lag':>15} {'steady state(s)':>22} {'step response':>14} {'outliers':>9} {'s':>4}"
    print(header)
    print("-" * len(header))
    for make in SCENARIOS:
        scenario = make()
        started = time.perf_counter()
        result = run(scenario, calibrated=calibrated)
        steady = ", ".join(f"{result.steady_error(a, b)[0]:+.1%}" for a, b in scenario.steady) or "-"
        ends = [*scenario.steps[1:], scenario.hours]
        steps = ", ".join(f"{result.response_hours(s, e):.2f} h" for s, e in zip(scenario.steps, ends, strict=False)) or "-"
        print(
            f"{scenario.name:38} {result.peak:8.3f} {result.worst_error_after_lag():15.1%} {steady:>22} {steps:>14} "
            f"{result.outliers / result.readings:9.1%} {time.perf_counter() - started:4.1f}"
        )
    print("\nTargets: worst after lag ≤ 10 % of peak; steady states within 5 %; step response ≤ 1 h.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
