"""``pioreactor.background_jobs``: upstream's job bases (see ``base``)."""
