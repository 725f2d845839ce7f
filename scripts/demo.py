"""`make demo`: a simulated Pioreactor unit, stirring, with its live values on the terminal.

It runs `pio run stirring` against the broker on localhost:1883 with the simulator backend on
a 20x clock, prints what the job publishes, changes the target RPM halfway through with
`pio jobs set`, then stops the job with `pio kill` and checks that it switched its motor off.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".demo" / "pio_home"
UNIT, EXPERIMENT = "demo-unit", "demo"
CONFIG = """[mqtt]
broker_address=localhost
broker_port=1883

[hardware]
backend=simulator

[simulation]
# 20 simulated seconds per second: the stirring loop corrects every 23 s of its own time
clock_speed=20

[logging]
console_log_level=WARNING
"""


def pio(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pioreactor.kernel.cli", *args], text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to stir (wall-clock seconds)")
    args = parser.parse_args()

    HOME.mkdir(parents=True, exist_ok=True)
    (HOME / "config.ini").write_text(CONFIG)
    os.environ.update(PIO_HOME=str(HOME), PIO_UNIT=UNIT, EXPERIMENT=EXPERIMENT)

    from pioreactor.kernel.bus import Bus, Message

    values: dict[str, str] = {}
    changed = threading.Event()

    def remember(message: Message) -> None:
        setting = message.topic.rsplit("/", 1)[-1]
        values[setting] = message.text()
        if setting in ("measured_rpm", "$state"):  # one line per reading or state change
            changed.set()

    bus = Bus("demo")
    bus.subscribe(f"pioreactor/{UNIT}/{EXPERIMENT}/stirring/+", remember)
    if not bus.connect():
        print("No MQTT broker on localhost:1883: run `make demo` (it starts one).", file=sys.stderr)
        return 1

    print(f"Starting `pio run stirring --target-rpm 500` on a simulated unit ({UNIT}), clock 20x.\n")
    job = subprocess.Popen([sys.executable, "-m", "pioreactor.kernel.cli", "run", "stirring", "--target-rpm", "500"])
    print(f"{'wall s':>6}  {'state':<12} {'target RPM':>10} {'measured RPM':>13} {'duty cycle %':>13}")
    start = time.monotonic()
    switched = False
    try:
        while time.monotonic() - start < args.seconds:
            changed.wait(1.0)
            changed.clear()
            measured = json.loads(values["measured_rpm"])["measured_rpm"] if values.get("measured_rpm") else "-"
            print(
                f"{time.monotonic() - start:6.1f}  {values.get('$state', '-'):<12} {values.get('target_rpm', '-'):>10} "
                f"{measured!s:>13} {values.get('duty_cycle', '-'):>13}",
                flush=True,
            )
            if not switched and time.monotonic() - start > args.seconds / 2:
                switched = True
                print("\n$ pio jobs set stirring target_rpm 750")
                print(pio("jobs", "set", "stirring", "target_rpm", "750", capture_output=True).stdout)
    finally:
        print("$ pio kill --job-name stirring")
        print(pio("kill", "--job-name", "stirring", capture_output=True).stdout)
        job.wait(10)
        bus.close()
    state = values.get("$state")
    print(f"Final state: {state}; settings cleared from the broker: {values.get('target_rpm') == ''}.")
    print("Logs: .demo/pio_home/logs/pioreactor.log. Try `pio mqtt` in another terminal next time.")
    return 0 if state == "disconnected" else 1


if __name__ == "__main__":
    sys.exit(main())
