"""Growth rate: an extended Kalman filter over the OD readings (``growth_rate_calculating``)."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "growth_rate_calculating",
        "pioreactor.plugins_core.growth_rate.job:GrowthRateCalculator",
        summary="Estimate the growth rate and filtered OD from the OD readings",
    )
    registry.add(
        "growth_rate_calculating_clear_cache",
        "pioreactor.plugins_core.growth_rate.cache:clear_cache",
        summary="Forget an experiment's cached OD statistics and growth rate",
    )


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section(
        "growth_rate_kalman",
        {
            # process noise: roughly how far each may wander in an hour (od_std is relative)
            "od_std": 0.0025,
            "rate_std": 0.1,
            "acc_std": 0.0008,
            # observation noise, in multiples of the noise seen during the OD statistics
            "obs_std": 1.5,
        },
    )
    defaults.section(
        "growth_rate_calculating.config",
        {
            # readings further than this many standard deviations from the estimate are outliers;
            # must be above 2.0, a very large value (e.g. 1000) turns outlier rejection off
            "ekf_outlier_std_threshold": 3.0,
            # OD readings that give each channel's mean and variance before filtering starts
            "samples_for_od_statistics": 35,
            # after a dose, the OD may jump this long (data time), by up to sqrt(factor) x its usual std
            "ekf_variance_shift_post_dosing_minutes": 0.40,
            "ekf_variance_shift_post_dosing_factor": 2500.0,
        },
    )


# -- the leader's database (tables, what streams into them, what exports offer) ----------------
UNIT_EXPERIMENT = "experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, timestamp TEXT NOT NULL"
UNIQUE = "UNIQUE (experiment, timestamp, pioreactor_unit)"


@hookimpl
def pioreactor_register_database_tables(registry):
    registry.add(
        "growth_rates",
        # migration 2: the index chart time series seek along (the web API's /time_series/...)
        migrations=[
            f"CREATE TABLE IF NOT EXISTS growth_rates ({UNIT_EXPERIMENT}, rate REAL NOT NULL, {UNIQUE})",
            "CREATE INDEX IF NOT EXISTS growth_rates_time_series ON growth_rates (experiment, pioreactor_unit, timestamp)",
        ],
    )
    registry.add(
        "od_readings_filtered",
        migrations=[
            "CREATE TABLE IF NOT EXISTS od_readings_filtered "
            f"({UNIT_EXPERIMENT}, normalized_od_reading REAL NOT NULL, {UNIQUE})",
            "CREATE INDEX IF NOT EXISTS od_readings_filtered_time_series "
            "ON od_readings_filtered (experiment, pioreactor_unit, timestamp)",
        ],
    )
    covariance = ", ".join(f"cov_{i}{j} REAL" for i in range(3) for j in range(i, 3))
    registry.add(
        "kalman_filter_outputs",
        migrations=[
            "CREATE TABLE IF NOT EXISTS kalman_filter_outputs "
            f"({UNIT_EXPERIMENT}, state_0 REAL, state_1 REAL, state_2 REAL, {covariance}, {UNIQUE})"
        ],
    )


@hookimpl
def pioreactor_register_mqtt_sinks(registry):
    prefix = "pioreactor/+/+/growth_rate_calculating"
    records = "pioreactor.plugins_core.data.api"
    registry.add("growth_rates", topics=f"{prefix}/growth_rate", parser=f"{records}:growth_rate")
    registry.add("od_readings_filtered", topics=f"{prefix}/od_filtered", parser=f"{records}:od_filtered")
    registry.add("kalman_filter_outputs", topics=f"{prefix}/kalman_filter_outputs", parser=f"{records}:kalman_filter_output")


@hookimpl
def pioreactor_register_export_datasets(registry):
    registry.add(
        "growth_rates",
        table="growth_rates",
        description="Growth rate estimated by the Kalman filter of growth_rate_calculating.",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
        column_descriptions={"rate": "specific growth rate"},
        column_units={"rate": "1/h"},
    )
    registry.add(
        "od_readings_filtered",
        table="od_readings_filtered",
        description="OD filtered by growth_rate_calculating, relative to the OD at the start.",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
        column_descriptions={"normalized_od_reading": "filtered OD divided by the initial OD"},
    )
