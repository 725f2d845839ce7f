"""Export datasets: those plugins register, plus users' YAML files in ``$PIO_HOME/exportable_datasets/``.

A user's file looks like upstream's::

    dataset_name: od_readings_per_minute
    description: One OD reading per unit and minute.
    query: >
      SELECT experiment, pioreactor_unit, min(timestamp) AS timestamp, avg(od_reading) AS od_reading
      FROM od_readings GROUP BY experiment, pioreactor_unit, substr(timestamp, 1, 16)
    timestamp_columns: [timestamp]
    has_unit: true
    has_experiment: true
    default_order_by: timestamp

A file with the name of a plugin's dataset replaces it (with a note on stderr); a broken file is
reported and skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pioreactor.sdk.database import DatasetSpec, exportable_datasets_dir, make_dataset, registered_datasets


def load_user_dataset(path: Path) -> DatasetSpec:
    import yaml

    try:
        fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: cannot be read as YAML: {err}") from None
    if not isinstance(fields, dict):
        raise ValueError(f"{path}: expected a mapping with dataset_name, description, table or query, ...")
    fields = dict(fields)
    name = fields.pop("dataset_name", None) or path.stem
    source = str(fields.pop("source", "") or "user")
    try:
        return make_dataset(str(name), source, fields, path=str(path))
    except Exception as err:
        raise ValueError(str(err)) from None


def all_datasets(folder: Path | None = None, *, report: bool = True) -> dict[str, DatasetSpec]:
    """Every dataset by name: the plugins', then the user's files (which win a name clash)."""
    datasets = dict(registered_datasets().entries)
    folder = folder or exportable_datasets_dir()
    if folder.is_dir():
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                spec = load_user_dataset(path)
            except ValueError as err:
                if report:
                    print(f"pio: skipping the export dataset {err}", file=sys.stderr)
                continue
            replaced = datasets.get(spec.name)
            if replaced is not None and report and replaced.path is None:
                print(
                    f"pio: {path} replaces the dataset {spec.name!r} of plugin {replaced.plugin!r}",
                    file=sys.stderr,
                )
            datasets[spec.name] = spec
    return dict(sorted(datasets.items()))
