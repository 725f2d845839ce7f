"""`pio jobs set` says clearly when a job refuses, and never waits for nothing."""

from __future__ import annotations

import time

from pioreactor.sdk.testing import PioHome


def test_pio_jobs_set_reports_refusals_and_equal_values(run_job, pio, mqtt_probe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    job = run_job("stirring")
    job.wait_for_state(mqtt_probe, "ready", timeout=20)

    started = time.monotonic()
    missing = pio("jobs", "set", "stirring", "no_such_setting", "3", "--timeout", "30")
    assert missing.returncode == 1
    assert "stirring has no setting `no_such_setting`" in missing.stderr and "target_rpm" in missing.stderr
    assert time.monotonic() - started < 20.0  # the job's answer, not the 30 s timeout

    refused = pio("jobs", "set", "stirring", "target_rpm", "-5")  # a negative value is a value
    assert refused.returncode == 1 and "stirring refused" in refused.stderr, refused.stderr

    started = time.monotonic()
    same = pio("jobs", "set", "stirring", "target_rpm", "500", "--timeout", "30")  # the value it has
    assert same.returncode == 0 and "unchanged" in same.stdout
    same_state = pio("jobs", "set", "stirring", "$state", "ready", "--timeout", "30")
    assert same_state.returncode == 0 and "unchanged" in same_state.stdout
    assert time.monotonic() - started < 20.0  # neither waited for its 30 s timeout

    for bad in (("stirring", "+", "1"), ("#", "target_rpm", "1"), ("stirring", "target/rpm", "1")):
        result = pio("jobs", "set", *bad)
        assert result.returncode == 2 and "wildcards are not allowed" in result.stderr
        assert "Traceback" not in result.stderr
    bad_experiment = pio("jobs", "set", "stirring", "target_rpm", "400", "--experiment", "a/#")
    assert bad_experiment.returncode == 2 and "cannot contain" in bad_experiment.stderr
    assert job.stop() == 0


def test_pio_jobs_set_fails_when_the_job_does_not_answer(pio, pio_home: PioHome) -> None:
    result = pio("jobs", "set", "stirring", "target_rpm", "400", "--experiment", "elsewhere", "--timeout", "0.5")
    assert result.returncode == 1 and "did not confirm" in result.stderr
