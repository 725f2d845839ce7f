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
