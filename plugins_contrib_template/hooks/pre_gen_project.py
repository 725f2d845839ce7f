"""Refuse a plugin name that cannot become a Python package and a job name."""

import re
import sys

NAME = {{ cookiecutter.plugin_name | tojson }}
UNDERSCORED = {{ cookiecutter.underscored | tojson }}

if not re.match(r"^[a-z][a-z0-9_]*$", UNDERSCORED):
    print(
        f"ERROR: the plugin name {NAME!r} gives the package name pioreactor_{UNDERSCORED}, which is not "
        "a valid name: use letters, digits, spaces, - and _, starting with a letter.",
        file=sys.stderr,
    )
    sys.exit(1)
