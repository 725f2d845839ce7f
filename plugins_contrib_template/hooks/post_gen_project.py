"""Remove the optional parts the user said no to."""

from pathlib import Path

PACKAGE = Path("pioreactor_{{ cookiecutter.underscored }}")
OPTIONAL = {
    "include_automation": [PACKAGE / "automation.py", Path("tests/test_automation.py")],
    "include_dataset": [PACKAGE / "data.py", Path("tests/test_dataset.py")],
}
ANSWERS = {
    "include_automation": "{{ cookiecutter.include_automation }}",
    "include_dataset": "{{ cookiecutter.include_dataset }}",
}

for question, paths in OPTIONAL.items():
    if ANSWERS[question] != "yes":
        for path in paths:
            path.unlink()
