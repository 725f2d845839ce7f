"""The version of the ``pioreactor`` distribution (calendar versioning, as upstream: YY.M.D)."""

__version__ = "26.11.21"
