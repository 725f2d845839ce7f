"""``pio``: the command line.

``main`` first offers the command to the unit's fork server (``pio fork-server``), which runs it
in a process forked from one that has the kernel imported already; without a server it runs it
here. The click commands live in :mod:`pioreactor.kernel.cli.root` and are imported only then,
so this module stays light.
"""

from __future__ import annotations

import sys


def main() -> None:
    from pioreactor.kernel.fork_client import run_through_server

    code = run_through_server(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from pioreactor.kernel.cli.root import main as run_here

    run_here()


def __getattr__(name: str) -> object:
    # `from pioreactor.kernel.cli import pio` (and SUBCOMMANDS, LazyGroup, ...) still works
    if name.startswith("__"):
        raise AttributeError(name)
    import importlib

    root = importlib.import_module("pioreactor.kernel.cli.root")
    try:
        return getattr(root, name)
    except AttributeError:
        raise AttributeError(f"module 'pioreactor.kernel.cli' has no attribute {name!r}") from None
