"""The ``growth_rate_calculating`` job: growth rate and filtered OD from the OD readings.

It listens to ``od_reading/ods``. The first ``samples_for_od_statistics`` readings (after a few
start-up ones) give each channel's mean and variance, which normalise later readings:
``nOD = (od - blank) / (mean - blank)``. From then on every reading goes through the extended
Kalman filter of ``ekf.py``, and the job publishes ``growth_rate``, ``od_filtered`` and
``kalman_filter_outputs``, each stamped with the reading's own timestamp.

The statistics, the growth rate and the filtered OD are cached per experiment in persistent
storage, so a restarted job resumes where it stopped (``--ignore-cache`` starts afresh;
``pio run growth_rate_calculating_clear_cache`` forgets them). Dosing events other than
``remove_waste`` tell the filter that the OD is about to jump.
"""

from __future__ import annotations

import json
import math
import threading
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import msgspec
from pioreactor.plugins_core.growth_rate import cache
from pioreactor.plugins_core.growth_rate.ekf import (
    FilterOutput,
    FilterSettings,
    GrowthRateFilter,
    initial_od_from,
)
from pioreactor.plugins_core.growth_rate.statistics import StatisticsCollector
from pioreactor.plugins_core.growth_rate.structs import GrowthRate, KalmanFilterOutput, ODFiltered
from pioreactor.plugins_core.od_reading.api import ODReadings
from pioreactor.sdk import BackgroundJob, ConfigError, Message, get_config, local_persistent_storage
from pioreactor.sdk.structs import DosingEvent, decode

KALMAN_SECTION = "growth_rate_kalman"
JOB_SECTION = "growth_rate_calculating.config"
#: readings ignored before the statistics start (the OD job's first ones settle)
READINGS_SKIPPED_BEFORE_STATISTICS = 5
#: a blank this close to the culture's mean OD was probably not a blank (upstream's rule)
BLANK_MAX_FRACTION_OF_MEAN = 0.9
#: action name in the progress topic, as upstream: .../od_normalization/percent_progress
PROGRESS_ACTION = "od_normalization"


def filter_settings_from_config() -> tuple[FilterSettings, int]:
    """The filter's settings and ``samples_for_od_statistics``; ConfigError names the bad key."""
    config = get_config()
    try:
        settings = FilterSettings(
            od_std=config.getfloat(KALMAN_SECTION, "od_std"),
            rate_std=config.getfloat(KALMAN_SECTION, "rate_std"),
            acc_std=config.getfloat(KALMAN_SECTION, "acc_std"),
            obs_std=config.getfloat(KALMAN_SECTION, "obs_std"),
            outlier_std_threshold=config.getfloat(JOB_SECTION, "ekf_outlier_std_threshold"),
            dosing_variance_factor=config.getfloat(JOB_SECTION, "ekf_variance_shift_post_dosing_factor"),
            dosing_window_hours=config.getfloat(JOB_SECTION, "ekf_variance_shift_post_dosing_minutes") / 60,
        )
    except ValueError as err:
        section = (
            KALMAN_SECTION
            if str(err).split(" ")[0] in ("od_std", "rate_std", "acc_std", "obs_std")
            else JOB_SECTION
        )
        raise ConfigError(f"config [{section}]: {err}") from None
    n_samples = config.getint(JOB_SECTION, "samples_for_od_statistics")
    if n_samples < 3:
        raise ConfigError(
            f"config [{JOB_SECTION}] samples_for_od_statistics must be at least 3, got {n_samples}"
        )
    return settings, n_samples


def _channel_floats(value: Any) -> dict[str, float] | None:
    """A cached ``{channel: number}`` (a dict, or upstream's JSON text of one); None if it is not one."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict) or not value:
        return None
    try:
        result = {str(channel): float(number) for channel, number in value.items()}
    except (TypeError, ValueError):
        return None
    return result if all(math.isfinite(v) for v in result.values()) else None


class GrowthRateCalculator(BackgroundJob):
    """Estimate the culture's growth rate and a filtered, normalised OD from the OD readings.

    :param ignore_cache: Start afresh: collect new OD statistics and start from a growth rate of 0,
        instead of resuming this experiment's cached values.
    """

    job_name = "growth_rate_calculating"
    published_settings = {
        "growth_rate": {"datatype": GrowthRate, "settable": False, "unit": "h⁻¹", "persist": True},
        "od_filtered": {"datatype": ODFiltered, "settable": False, "persist": True},
        "kalman_filter_outputs": {"datatype": KalmanFilterOutput, "settable": False},
    }
    # assigned (and so published) from the first filtered reading on
    growth_rate: GrowthRate
    od_filtered: ODFiltered
    kalman_filter_outputs: KalmanFilterOutput

    def __init__(self, unit: str, experiment: str, *, ignore_cache: bool = False) -> None:
        settings, n_samples = filter_settings_from_config()  # refuse bad config before going on the broker
        super().__init__(unit, experiment)
        self.ignore_cache = ignore_cache
        self.filter_settings = settings
        self._lock = threading.Lock()
        self._closed = False
        self._stores = ExitStack()  # held open: one write per reading, no reconnects
        self._growth_rate_store = self._stores.enter_context(local_persistent_storage(cache.GROWTH_RATE))
        self._od_filtered_store = self._stores.enter_context(local_persistent_storage(cache.OD_FILTERED))

        self.filter: GrowthRateFilter | None = None
        self.means: dict[str, float] = {}
        self.variances: dict[str, float] = {}
        self.blanks: dict[str, float] = {}
        self._relative_variances: dict[str, float] = {}
        self._last_timestamp: datetime | None = None
        self._resume_from: tuple[float | None, float | None] = (None, None)  # (nOD, growth rate)
        self._undecodable = 0
        self._said_no_channels = False
        self._last_progress = -1

        cached = None if ignore_cache else self._cached_statistics()
        self.collector: StatisticsCollector | None = None
        if cached is not None:
            self._use_statistics(*cached)
            self._resume_from = (
                self._cached_float(self._od_filtered_store, positive=True),
                self._cached_float(self._growth_rate_store),
            )
            self.logger.debug(
                "Using the cached OD statistics of %s; resuming from nOD %s and growth rate %s.",
                experiment,
                *self._resume_from,
            )
        else:
            self.collector = StatisticsCollector(n_samples, skip=READINGS_SKIPPED_BEFORE_STATISTICS)
            self.logger.info("Computing OD normalization statistics from the next %d OD readings.", n_samples)

        prefix = f"pioreactor/{unit}/{experiment}"
        self.bus.subscribe(f"{prefix}/od_reading/ods", self._on_od_readings, qos=1, allow_retained=False)
        self.bus.subscribe(f"{prefix}/dosing_events", self._on_dosing_event, qos=1, allow_retained=False)

    # -- caches ------------------------------------------------------------------------------
    def _cached_statistics(self) -> tuple[dict[str, float], dict[str, float]] | None:
        with local_persistent_storage(cache.OD_NORMALIZATION_MEAN) as store:
            means = _channel_floats(store.get(self.experiment))
        with local_persistent_storage(cache.OD_NORMALIZATION_VARIANCE) as store:
            variances = _channel_floats(store.get(self.experiment))
        if means is None or variances is None or set(means) != set(variances):
            return None
        return means, variances

    def _cached_float(self, store: Any, *, positive: bool = False) -> float | None:
        value = store.get(self.experiment)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        if positive and value <= 0:
            return None
        return float(value)

    def _read_blanks(self) -> dict[str, float]:
        with local_persistent_storage(cache.OD_BLANK) as store:
            raw = store.get(self.experiment)
        if raw is None:
            return {}
        blanks = _channel_floats(raw)
        if blanks is None:
            self.logger.warning("Ignoring the OD blank of %s: %r is not {channel: OD}.", self.experiment, raw)
            return {}
        return blanks

    def _use_statistics(self, means: dict[str, float], variances: dict[str, float]) -> None:
        """Adopt per-channel means and variances; raises ConfigError if a channel cannot be normalised."""
        blanks = self._read_blanks()
        for channel, mean in means.items():
            blank = blanks.get(channel, 0.0)
            if blank and blank >= BLANK_MAX_FRACTION_OF_MEAN * mean:
                self.logger.warning(
                    "Ignoring the blank of channel %s (%g): it is not below 90%% of the culture's mean OD (%g). "
                    "Did the blank have inoculant in it?",
                    channel,
                    blank,
                    mean,
                )
                blank = 0.0
            if mean - blank <= 0:
                raise ConfigError(
                    f"channel {channel}: the mean OD is {mean:g}, so readings cannot be normalised. Is the "
                    "photodiode connected? Clear the cache with `pio run growth_rate_calculating_clear_cache`."
                )
            self.blanks[channel] = blank
            self._relative_variances[channel] = variances[channel] / (mean - blank) ** 2
        self.means = dict(means)
        self.variances = dict(variances)

    # -- incoming messages ---------------------------------------------------------------------
    def _on_od_readings(self, message: Message) -> None:
        if self.state != self.READY:
            return
        try:
            readings = decode(message.payload, ODReadings)
        except msgspec.DecodeError as err:  # also covers ValidationError
            self._undecodable += 1
            level = self.logger.warning if self._undecodable == 1 else self.logger.debug
            level(
                "Skipping an OD reading on %s that cannot be read (%s); %d so far.",
                message.topic,
                err,
                self._undecodable,
            )
            return
        with self._lock:
            if self._closed:
                return
            timestamp = readings.timestamp
            if self._last_timestamp is not None and timestamp <= self._last_timestamp:
                self.logger.debug(
                    "Skipping a late OD reading stamped %s (the last was %s).",
                    timestamp,
                    self._last_timestamp,
                )
                return
            try:
                if self.collector is not None:
                    self._collect(readings)
                else:
                    self._observe(readings)
            except ConfigError as err:
                self.logger.error("%s", err)
                self.request_stop("cannot normalise the OD readings")
            except Exception as err:
                self.logger.warning("Updating the Kalman filter failed: %s: %s", type(err).__name__, err)

    def _on_dosing_event(self, message: Message) -> None:
        try:
            event = decode(message.payload, DosingEvent)
        except msgspec.DecodeError as err:
            self.logger.warning("Skipping a dosing event on %s that cannot be read: %s", message.topic, err)
            return
        if event.event == "remove_waste" or event.volume_change <= 0:
            return  # no new liquid (a negative one corrects a dose cut short)
        with self._lock:
            if self.filter is None or self._closed:
                self.logger.debug(
                    "Dosing event %s before the filter started; nothing to adjust.", event.event
                )
                return
            since = 0.0
            if self._last_timestamp is not None:
                since = (event.timestamp - self._last_timestamp).total_seconds() / 3600
            self.filter.note_dosing_event(since)
        self.logger.debug(
            "Dosing event %s (%g mL): the OD may jump for the next %g minutes.",
            event.event,
            event.volume_change,
            self.filter_settings.dosing_window_hours * 60,
        )

    # -- statistics ------------------------------------------------------------------------------
    def _collect(self, readings: ODReadings) -> None:
        collector = self.collector
        assert collector is not None
        collector.add({channel: (r.angle, r.od) for channel, r in readings.ods.items()})
        self._last_timestamp = readings.timestamp
        progress = collector.percent_done
        if progress != self._last_progress:
            self._last_progress = progress
            self.bus.publish(
                f"pioreactor/{self.unit}/{self.experiment}/{PROGRESS_ACTION}/percent_progress",
                str(progress),
                qos=1,
            )
        if not collector.done:
            return
        means, variances = collector.means(), collector.variances()
        self._use_statistics(means, variances)
        for name, values in (
            (cache.OD_NORMALIZATION_MEAN, means),
            (cache.OD_NORMALIZATION_VARIANCE, variances),
        ):
            with local_persistent_storage(name) as store:
                store[self.experiment] = values
        self.collector = None
        self.logger.info(
            "OD normalization statistics: %s.",
            ", ".join(
                f"channel {c} mean {means[c]:.5g}, std {math.sqrt(variances[c]):.3g}" for c in sorted(means)
            ),
        )

    # -- filtering -------------------------------------------------------------------------------
    def normalise(self, readings: ODReadings) -> dict[str, float]:
        return {
            channel: (reading.od - self.blanks[channel]) / (self.means[channel] - self.blanks[channel])
            for channel, reading in readings.ods.items()
            if channel in self.means
        }

    def _observe(self, readings: ODReadings) -> None:
        values = self.normalise(readings)
        if self.filter is not None:
            values = {channel: v for channel, v in values.items() if channel in self.filter.angles}
        if not values:
            if not self._said_no_channels:
                self._said_no_channels = True
                self.logger.warning(
                    "The OD readings have channels %s but the OD statistics cover %s: run with --ignore-cache, "
                    "or clear the cache with `pio run growth_rate_calculating_clear_cache`.",
                    sorted(readings.ods),
                    sorted(self.means),
                )
            return
        timestamp = readings.timestamp
        if self.filter is None:
            angles = {channel: readings.ods[channel].angle for channel in values}
            resumed_od, resumed_rate = self._resume_from
            initial_od = resumed_od or initial_od_from(values, angles) or 1.0
            self.filter = GrowthRateFilter(
                angles=angles,
                relative_variances={c: self._relative_variances[c] for c in angles},
                initial_od=initial_od,
                initial_growth_rate=resumed_rate or 0.0,
                settings=self.filter_settings,
            )
            dt = 0.0
        else:
            assert self._last_timestamp is not None
            dt = (timestamp - self._last_timestamp).total_seconds() / 3600
        output = self.filter.update(values, dt)
        self._last_timestamp = timestamp
        if output.outliers:
            self.logger.debug(
                "Outlier OD reading on channel(s) %s at %s.", ", ".join(output.outliers), timestamp
            )
        self._publish(output, timestamp)

    def _publish(self, output: FilterOutput, timestamp: datetime) -> None:
        self.growth_rate = GrowthRate(growth_rate=output.growth_rate, timestamp=timestamp)
        self.od_filtered = ODFiltered(od_filtered=output.od_filtered, timestamp=timestamp)
        self.kalman_filter_outputs = KalmanFilterOutput(
            state=output.state, covariance_matrix=output.covariance, timestamp=timestamp
        )
        self._growth_rate_store[self.experiment] = output.growth_rate
        self._od_filtered_store[self.experiment] = output.od_filtered

    # -- lifecycle -------------------------------------------------------------------------------
    def on_disconnected(self) -> None:
        with self._lock:
            self._closed = True
            self._stores.close()
