"""Exports, backups, experiments and logs read back from the leader's database (in-process, no broker)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pioreactor.sdk.database import open_database
from pioreactor.sdk.testing import reset_process_state


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    monkeypatch.setenv("PIO_UNIT", "leader")
    monkeypatch.delenv("EXPERIMENT", raising=False)
    reset_process_state()
    yield tmp_path
    reset_process_state()


def fill(conn: sqlite3.Connection) -> None:
    from pioreactor.plugins_core.data.api import create_experiment

    create_experiment("exp1", description="two units", created_at="2026-03-01T10:00:00.000000Z", conn=conn)
    rows = [
        (exp, unit, f"2026-03-01T{hour:02d}:00:00.000000Z", 0.1 * hour, 90, 2, 0)
        for exp in ("exp1", "other")
        for unit in ("u1", "u2")
        for hour in range(10, 14)
    ]
    conn.executemany("INSERT INTO od_readings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute(
        "INSERT INTO logs VALUES ('exp1', 'u1', '2026-03-01T10:30:00.000000Z', 'Ready.', 'stirring', 'INFO', 'app')"
    )


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))


def test_export_streams_csvs_with_local_times_hours_and_a_manifest(home: Path) -> None:
    from pioreactor.plugins_core.data.export import export_experiment_data

    fill(open_database())
    (home / "exportable_datasets").mkdir()
    (home / "exportable_datasets" / "od_per_unit.yaml").write_text(
        "dataset_name: od_per_unit\ndescription: Mean OD per unit.\n"
        "query: SELECT experiment, pioreactor_unit, max(timestamp) AS timestamp, avg(od_reading) AS mean_od "
        "FROM od_readings GROUP BY experiment, pioreactor_unit\n"
        "timestamp_columns: [timestamp]\ndefault_order_by: pioreactor_unit\n"
        "column_descriptions: {mean_od: average OD}\n"
    )
    output = home / "out.zip"
    args = ["--experiment", "exp1", "--output", str(output), "--start-time", "2026-03-01T11:00:00Z"]
    args += ["--dataset-name", "od_readings", "--dataset-name", "logs", "--dataset-name", "od_per_unit"]
    result = CliRunner().invoke(export_experiment_data, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        assert names[-1] == "manifest.json"
        od_file = next(n for n in names if n.startswith("od_readings/"))
        assert od_file.startswith("od_readings/od_readings-exp1-all_units-")
        rows = read_csv(archive, od_file)
        manifest = json.loads(archive.read("manifest.json"))
        assert read_csv(archive, next(n for n in names if n.startswith("od_per_unit/")))[0]["mean_od"]
    # exp1 only, from 11:00 on, in time order; local time and hours since the experiment began
    assert len(rows) == 6 and {r["experiment"] for r in rows} == {"exp1"}
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)
    assert rows[0]["timestamp"] == "2026-03-01T11:00:00.000000Z" and rows[0]["timestamp_localtime"]
    assert float(rows[0]["hours_since_experiment_created"]) == pytest.approx(1.0)
    assert manifest["filters"]["experiment"] == "exp1"
    assert manifest["filters"]["start_time"] == "2026-03-01T11:00:00.000000Z"
    by_name = {d["name"]: d for d in manifest["datasets"]}
    assert by_name["od_readings"]["rows"] == 6 and by_name["logs"]["rows"] == 0
    columns = {c["name"]: c for c in by_name["od_readings"]["columns"]}
    assert (
        "OD600" in columns["od_reading"]["description"]
        and columns["hours_since_experiment_created"]["unit"] == "h"
    )
    assert {c["name"]: c["description"] for c in by_name["od_per_unit"]["columns"]}["mean_od"] == "average OD"


def test_export_partitions_by_unit_and_refuses_times_without_a_zone(home: Path) -> None:
    from pioreactor.plugins_core.data.export import export_experiment_data

    fill(open_database())
    output = home / "units.zip"
    args = [
        "--experiment",
        "exp1",
        "--output",
        str(output),
        "--dataset-name",
        "od_readings",
        "--partition-by-unit",
    ]
    assert CliRunner().invoke(export_experiment_data, args).exit_code == 0
    with zipfile.ZipFile(output) as archive:
        files = sorted(n for n in archive.namelist() if n.endswith(".csv"))
        assert [f.split("-")[2] for f in files] == ["u1", "u2"]
        assert all(len(read_csv(archive, f)) == 4 for f in files)
    bad = CliRunner().invoke(
        export_experiment_data, ["--experiment", "exp1", "--start-time", "2026-03-01T11:00"]
    )
    assert bad.exit_code != 0 and "no time zone" in bad.output
    assert "--experiment is required" in CliRunner().invoke(export_experiment_data, []).output


def test_backup_is_consistent_while_a_writer_keeps_committing(home: Path) -> None:
    from pioreactor.plugins_core.data.backup import backup_database

    conn = open_database()
    fill(conn)
    stop = threading.Event()

    def write() -> None:  # the streamer's pattern: many small transactions
        writer = sqlite3.connect(home / "storage" / "pioreactor.sqlite", isolation_level=None, timeout=10)
        i = 0
        while not stop.is_set():
            writer.execute("BEGIN")
            writer.executemany(
                "INSERT INTO stirring_rates VALUES ('exp1', 'u1', ?, 500.0)",
                [(f"2026-03-02T00:00:00.{i:06d}{j:02d}Z",) for j in range(50)],
            )
            writer.execute("COMMIT")
            i += 1
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        before = conn.execute("SELECT count(*) FROM stirring_rates").fetchone()[0]
        result = CliRunner().invoke(backup_database, ["--output", str(home / "backup.sqlite")])
        after = conn.execute("SELECT count(*) FROM stirring_rates").fetchone()[0]
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(home / "backup.sqlite")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copied = copy.execute("SELECT count(*) FROM stirring_rates").fetchone()[0]
    assert before <= copied <= after and copied % 50 == 0  # whole transactions only
    assert copy.execute("SELECT count(*) FROM od_readings").fetchone()[0] == 16


def test_experiments_commands_and_logs_from_the_database(home: Path) -> None:
    from pioreactor.kernel.cli.logs import logs
    from pioreactor.kernel.identity import get_assigned_experiment
    from pioreactor.plugins_core.data.experiments import experiments

    runner = CliRunner()
    created = runner.invoke(experiments, ["create", "exp1", "-d", "yeast in YPD", "--assign", "leader"])
    assert created.exit_code == 0, created.output
    assert get_assigned_experiment() == "exp1"
    assert "exists already" in runner.invoke(experiments, ["create", "exp1"]).output
    assert "cannot name an experiment" in runner.invoke(experiments, ["create", "a/b"]).output
    listed = json.loads(runner.invoke(experiments, ["list", "--json"]).output)
    assert [(e["experiment"], e["description"], e["units"]) for e in listed] == [
        ("exp1", "yeast in YPD", ["leader"])
    ]
    assert "leader" in runner.invoke(experiments, ["list"]).output

    conn = open_database()
    conn.execute(
        "INSERT INTO logs VALUES ('exp1', 'u2', '2026-03-01T10:00:00.000000Z', 'first', 'od_reading', 'INFO', 'app')"
    )
    conn.execute(
        "INSERT INTO logs VALUES ('exp2', 'u2', '2026-03-01T11:00:00.000000Z', 'other', 'stirring', 'ERROR', 'app')"
    )
    out = runner.invoke(logs, ["--from-db", "--experiment", "exp1"]).output
    assert "u2 exp1 [od_reading] INFO first" in out and "other" not in out
    assert runner.invoke(logs, ["--from-db", "-n", "1"]).output.strip().endswith("ERROR other")

    assert runner.invoke(experiments, ["delete", "exp1", "--yes"]).exit_code == 0
    assert get_assigned_experiment() == "default"
    assert runner.invoke(experiments, ["list", "--json"]).output.strip() == "[]"


def test_pio_experiments_is_a_top_level_command(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("experiments", "create", "demo", "--description", "from the CLI")
    assert result.returncode == 0, result.stderr
    listed = pio("experiments", "list")
    assert "demo" in listed.stdout and "from the CLI" in listed.stdout
    assert "experiments" in pio("--help").stdout


def test_export_takes_several_experiments_and_partitions_by_experiment(home: Path) -> None:
    from pioreactor.plugins_core.data.export import export_experiment_data

    conn = open_database()
    fill(conn)
    from pioreactor.sdk.experiments import create_experiment

    create_experiment("other", created_at="2026-03-01T12:00:00.000000Z", conn=conn)
    together = home / "together.zip"
    args = ["--experiment", "exp1", "--experiment", "other", "--dataset-name", "od_readings"]
    result = CliRunner().invoke(export_experiment_data, [*args, "--output", str(together)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(together) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".csv")]
        rows = read_csv(archive, name)
        manifest = json.loads(archive.read("manifest.json"))
    assert len(rows) == 16 and {r["experiment"] for r in rows} == {"exp1", "other"}
    assert manifest["filters"]["experiments"] == ["exp1", "other"]
    first_other = next(r for r in rows if r["experiment"] == "other" and r["timestamp"].startswith("2026-03-01T13"))
    assert float(first_other["hours_since_experiment_created"]) == pytest.approx(1.0)  # its own creation

    apart = home / "apart.zip"
    result = CliRunner().invoke(
        export_experiment_data, [*args, "--output", str(apart), "--partition-by-experiment", "--partition-by-unit"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(apart) as archive:
        files = sorted(n for n in archive.namelist() if n.endswith(".csv"))
        assert [tuple(f.split("/")[1].split("-")[1:3]) for f in files] == [
            ("exp1", "u1"), ("exp1", "u2"), ("other", "u1"), ("other", "u2")
        ]
        assert all(len(read_csv(archive, f)) == 4 for f in files)


def test_export_and_backup_refuse_to_overwrite_or_create_folders(home: Path) -> None:
    from pioreactor.plugins_core.data.backup import backup_database
    from pioreactor.plugins_core.data.export import export_experiment_data

    fill(open_database())
    output = home / "out.zip"
    output.write_text("precious")
    args = ["--experiment", "exp1", "--dataset-name", "od_readings", "--output", str(output)]
    refused = CliRunner().invoke(export_experiment_data, args)
    assert refused.exit_code == 2 and "exists already" in refused.output and "--force" in refused.output
    assert output.read_text() == "precious"
    assert CliRunner().invoke(export_experiment_data, [*args, "--force"]).exit_code == 0
    assert zipfile.is_zipfile(output)

    missing = CliRunner().invoke(export_experiment_data, [*args[:-1], str(home / "no" / "such" / "x.zip")])
    assert missing.exit_code == 2 and "does not exist" in missing.output and not (home / "no").exists()
    backup = CliRunner().invoke(backup_database, ["--output", str(home / "elsewhere" / "deep" / "b.sqlite")])
    assert backup.exit_code != 0 and "does not exist" in backup.output
    assert not (home / "elsewhere").exists()
