"""The governed scaled clock: simulated time waits for a process the machine holds up.

Real processes, real signals: a child waits on the shared clock and is stopped (SIGSTOP) the way
a busy machine deschedules it; the clock must not run on past its deadline meanwhile.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from pioreactor.kernel.clock import Clock, get_clock
from pioreactor.kernel.clock_governor import DEFAULT_LEAD_SECONDS, HOLD_LIMIT_SECONDS, GovernedClock
from pioreactor.plugins_core.simulator.vial import Vial, VialParameters
from pioreactor.sdk.testing import reset_process_state

SPEED = 1000.0

CHILD = textwrap.dedent(
    """
    import os, signal, threading, time
    from pioreactor.kernel.clock_governor import GovernedClock
    clock = GovernedClock.open({speed})
    sleeper = threading.Thread(target=clock.sleep, args=({seconds},))
    sleeper.start()
    while clock.report()["claims"] == 0:  # its deadline is claimed
        time.sleep(0.001)
    print(clock.time() + {seconds}, flush=True)  # a little after its deadline
    # held up before its deadline, the way a busy machine deschedules it (stopping itself, at
    # once: a SIGSTOP from the test could come after the deadline on a busy machine)
    os.kill(os.getpid(), signal.SIGSTOP)
    sleeper.join()
    print("woke", clock.time(), flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    reset_process_state()
    yield tmp_path
    reset_process_state()


def child(seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD.format(speed=SPEED, seconds=seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def wait_until_stopped(proc: subprocess.Popen[str]) -> None:
    """Until the child has stopped itself (state T in /proc)."""
    deadline = time.monotonic() + 10
    while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline, "the child did not stop itself"
        time.sleep(0.005)


def test_the_clock_stops_for_a_stopped_process_and_goes_on_when_it_runs(home: Path) -> None:
    clock = GovernedClock.open(SPEED)
    proc = child(seconds=400.0)  # 0.4 s of wall time
    try:
        deadline = float(proc.stdout.readline())  # type: ignore[union-attr]
        wait_until_stopped(proc)  # held up by the machine, before its deadline
        time.sleep(0.8)  # 800 simulated seconds if nothing waited for it
        held_at = clock.time()
        assert held_at <= deadline + DEFAULT_LEAD_SECONDS + 1.0, held_at - deadline
        assert clock.report()["held_seconds"] > 100
        os.kill(proc.pid, signal.SIGCONT)
        woke = proc.stdout.readline().split()  # type: ignore[union-attr]
        # woken at its deadline, not 800 s later (the child reads the clock a moment after it
        # wakes, and the clock runs on meanwhile: up to 0.1 s of wall time on a busy machine)
        assert woke[0] == "woke" and float(woke[1]) <= deadline + DEFAULT_LEAD_SECONDS + 100.0
        time.sleep(0.3)
        assert clock.time() > held_at + 100  # running again, continuously from where it stood
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_process_does_not_freeze_the_clock(home: Path) -> None:
    clock = GovernedClock.open(SPEED)
    proc = child(seconds=400.0)
    deadline = float(proc.stdout.readline())  # type: ignore[union-attr]
    wait_until_stopped(proc)
    time.sleep(0.7)  # past its deadline: held there
    assert clock.time() <= deadline + DEFAULT_LEAD_SECONDS + 1.0
    killed = time.monotonic()
    proc.kill()
    proc.wait()
    resumed = clock.time()  # its claim goes with it: time goes on from where it stood
    # not jumping by the 700 s it was held; it runs on (at SPEED) while this process gets to read it
    assert resumed <= deadline + DEFAULT_LEAD_SECONDS + 1.0 + SPEED * (time.monotonic() - killed)
    time.sleep(0.2)
    assert clock.time() > resumed + 100


def test_a_stuck_thread_stops_holding_the_clock_after_the_hold_limit(home: Path) -> None:
    clock = GovernedClock.open(SPEED)
    proc = child(seconds=400.0)
    try:
        deadline = float(proc.stdout.readline())  # type: ignore[union-attr]
        wait_until_stopped(proc)
        started = time.monotonic()
        while clock.time() <= deadline + 100 and time.monotonic() - started < 3 * HOLD_LIMIT_SECONDS + 5:
            time.sleep(0.05)
        waited = time.monotonic() - started
        assert HOLD_LIMIT_SECONDS - 0.5 < waited < 3 * HOLD_LIMIT_SECONDS + 5, waited
    finally:
        proc.kill()
        proc.wait()


def test_time_never_runs_backwards_while_threads_claim_and_release(home: Path) -> None:
    clock = GovernedClock.open(SPEED)
    stop = threading.Event()
    backwards: list[float] = []

    def waiter(seconds: float) -> None:
        with clock.participating():
            while not stop.is_set():
                clock.wait(stop, seconds)

    def reader() -> None:
        last = clock.time()
        while not stop.is_set():
            now = clock.time()
            if now < last:
                backwards.append(last - now)
            last = now

    threads = [threading.Thread(target=waiter, args=(s,)) for s in (1.0, 3.0, 7.0)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(5)
    assert backwards == []


def test_real_hardware_keeps_the_plain_wall_clock(home: Path) -> None:
    (home / "config.ini").write_text("[simulation]\nclock_speed=1\n")
    clock = get_clock()
    assert type(clock) is Clock
    assert not (home / "storage" / "clock.bin").exists()


def test_a_pump_switched_on_for_a_time_is_switched_off_by_the_vial() -> None:
    vial = Vial.new(VialParameters(pump_ml_per_second=0.0125, min_volume_ml=0.0), 0.0, volume_ml=14.0)
    vial.set_pump_duty_cycle("media", 100.0, seconds=60.0)
    vial.advance_to(179.0)  # the process that should switch it off was held up for 2 minutes
    assert vial.pumps["media"] == 0.0
    assert vial.media_added_ml == pytest.approx(0.75, rel=1e-3)
