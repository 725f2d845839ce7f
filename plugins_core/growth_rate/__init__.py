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
            "rate_std": 0.02,
            "acc_std": 0.02,
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


# -- the leader's database: each time series declared once (table, sink, dataset) ---------------
@hookimpl
def pioreactor_register_timeseries(registry):
    prefix = "pioreactor/+/+/growth_rate_calculating"
    records = "pioreactor.plugins_core.growth_rate.records"
    registry.add(
        "growth_rates",
        topics=f"{prefix}/growth_rate",
        parser=f"{records}:growth_rate",
        columns={"rate": "REAL NOT NULL"},
        descriptions={"rate": "specific growth rate"},
        units={"rate": "1/h"},
        description="Growth rate estimated by the Kalman filter of growth_rate_calculating.",
        chart={
            "chart_key": "implied_growth_rate",
            "title": "Implied growth rate",
            "topic": "growth_rate_calculating/growth_rate",
            "payload_key": "growth_rate",
            "y_axis_label": "Growth rate, h⁻¹",
            "column": "rate",
        },
    )
    registry.add(
        "od_readings_filtered",
        topics=f"{prefix}/od_filtered",
        parser=f"{records}:od_filtered",
        columns={"normalized_od_reading": "REAL NOT NULL"},
        descriptions={"normalized_od_reading": "filtered OD divided by the initial OD"},
        description="OD filtered by growth_rate_calculating, relative to the OD at the start.",
        chart={
            "chart_key": "normalized_optical_density",
            "title": "Normalized optical density",
            "topic": "growth_rate_calculating/od_filtered",
            "payload_key": "od_filtered",
            "y_axis_label": "Current OD / initial OD",
            "column": "normalized_od_reading",
        },
    )
    registry.add(
        "kalman_filter_outputs",
        topics=f"{prefix}/kalman_filter_outputs",
        parser=f"{records}:kalman_filter_output",
        columns={f"state_{i}": "REAL" for i in range(3)} | {f"cov_{i}{j}": "REAL" for i in range(3) for j in range(i, 3)},
        summary="The Kalman filter's state and covariance",
        dataset=False,
    )


# -- what a user interface shows: a card line on the Pioreactors page, started from Manage ------
@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_job(
        {
            "job_name": "growth_rate_calculating",
            "display_name": "Growth rate",
            "description": "Estimate the growth rate and the normalised OD from the OD readings.",
            "fields": [],
        }
    )
