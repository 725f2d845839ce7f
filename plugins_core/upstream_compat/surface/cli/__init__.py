"""``pioreactor.cli``: the click groups upstream plugins add commands to."""
