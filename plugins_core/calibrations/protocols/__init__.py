"""The built-in calibration protocols, one module per kind of device."""
