"""The version of the ``pioreactor`` distribution (calendar versioning, as upstream: YY.M.D)."""

__version__ = "26.11.21"


def software_version() -> str:
    """The installed software's version (``versions.app`` of the monitor)."""
    return __version__
