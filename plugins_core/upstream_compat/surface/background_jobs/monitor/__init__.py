"""``pioreactor.background_jobs.monitor``: upstream's ``Monitor`` name (its class attributes)."""

from pioreactor.background_jobs.base import LongRunningBackgroundJob


class Monitor(LongRunningBackgroundJob):
    job_name = "monitor"
    MAX_TEMP_TO_SHUTDOWN = 66.0
