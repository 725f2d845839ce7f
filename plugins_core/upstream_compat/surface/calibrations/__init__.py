"""``pioreactor.calibrations``: the upstream calibration names plugins import."""
