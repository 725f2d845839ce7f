"""Chart time series from the database: down-sampled in SQL to target_points, per unit and per
channel, within the lookback, and bad sources or columns refused by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pioreactor.plugins_core.data.time_series import TimeSeriesError, media_rates, query_time_series
from pioreactor.sdk.database import canonical_timestamp, open_database

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(pio_home):
    conn = open_database()
    yield conn
    conn.close()


def fill_growth(conn, unit: str, n: int, period_s: float = 5.0, experiment: str = "exp") -> None:
    start = NOW - timedelta(seconds=period_s * n)
    conn.executemany(
        "INSERT INTO growth_rates (experiment, pioreactor_unit, timestamp, rate) VALUES (?, ?, ?, ?)",
        [(experiment, unit, canonical_timestamp(start + timedelta(seconds=period_s * (i + 1))), float(i)) for i in range(n)],
    )


def test_a_large_series_comes_back_as_target_points_evenly_spread(db):
    fill_growth(db, "unit1", 20_000)
    fill_growth(db, "unit2", 20_000)
    result = query_time_series(db, "exp", "growth_rates", lookback_hours=1000, target_points=100, now=NOW)
    assert result["series"] == ["unit1", "unit2"]
    for points in result["data"]:
        assert len(points) == 100
        ys = [p["y"] for p in points]
        assert ys == sorted(ys) and ys[0] == 0.0 and ys[-1] == 19_999.0  # first and last reading kept
        steps = [b - a for a, b in zip(ys, ys[1:], strict=False)]
        assert max(steps) - min(steps) <= 1  # evenly spaced in time


def test_one_unit_and_the_lookback_window(db):
    fill_growth(db, "unit1", 7200)  # 10 hours at 5 s
    fill_growth(db, "unit2", 7200)
    result = query_time_series(db, "exp", "growth_rates", unit="unit2", lookback_hours=1, target_points=5000, now=NOW)
    assert result["series"] == ["unit2"]
    (points,) = result["data"]
    assert len(points) == 720  # the last hour, whole: fewer readings than target_points
    assert points[0]["x"] > canonical_timestamp(NOW - timedelta(hours=1))


def test_od_readings_are_one_series_per_unit_and_channel(db):
    rows = []
    for channel in (1, 2):
        for i in range(50):
            stamp = canonical_timestamp(NOW - timedelta(seconds=5 * i))
            rows.append(("exp", "unit1", stamp, 0.1 * channel, 90, channel))
    db.executemany(
        "INSERT INTO od_readings (experiment, pioreactor_unit, timestamp, od_reading, angle, channel) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    result = query_time_series(db, "exp", "od_readings", lookback_hours=24, target_points=720, now=NOW)
    assert result["series"] == ["unit1-1", "unit1-2"]
    assert [len(points) for points in result["data"]] == [50, 50]


def test_an_led_set_before_the_window_holds_from_its_start(db):
    changes = [(NOW - timedelta(hours=20), "B", 50.0), (NOW - timedelta(hours=2), "B", 10.0), (NOW - timedelta(hours=30), "C", 5.0)]
    db.executemany(
        "INSERT INTO led_change_events (experiment, pioreactor_unit, timestamp, channel, intensity, source_of_event) "
        "VALUES ('exp', 'unit1', ?, ?, ?, 'test')",
        [(canonical_timestamp(at), channel, intensity) for at, channel, intensity in changes],
    )
    opened = canonical_timestamp(NOW - timedelta(hours=12))
    held = query_time_series(db, "exp", "led_change_events", "intensity", lookback_hours=12, hold=True, now=NOW)
    assert held["series"] == ["unit1-B", "unit1-C"]
    assert held["data"][0] == [{"x": opened, "y": 50.0}, {"x": canonical_timestamp(NOW - timedelta(hours=2)), "y": 10.0}]
    assert held["data"][1] == [{"x": opened, "y": 5.0}]  # set 30 h ago, never changed since
    plain = query_time_series(db, "exp", "led_change_events", "intensity", lookback_hours=12, now=NOW)
    assert plain["series"] == ["unit1-B"] and len(plain["data"][0]) == 1


def test_doses_are_one_series_per_unit_and_event_each_with_its_own_volume(db):
    # a chemostat's doses: media in, then waste out, every 10 minutes for a day
    rows = []
    for i in range(144):
        stamp = NOW - timedelta(minutes=10 * i)
        rows.append(("unit1", canonical_timestamp(stamp), 0.5 + (i % 3) / 10, "add_media"))
        rows.append(("unit1", canonical_timestamp(stamp + timedelta(seconds=5)), 0.8, "remove_waste"))
    db.executemany(
        "INSERT INTO dosing_events (experiment, pioreactor_unit, timestamp, volume_change_ml, event, source_of_event) "
        "VALUES ('exp', ?, ?, ?, ?, 'chemostat')",
        rows,
    )
    every = query_time_series(db, "exp", "dosing_events", "volume_change_ml", series_key="event", lookback_hours=48, now=NOW)
    assert every["series"] == ["unit1-add_media", "unit1-remove_waste"]
    assert [len(points) for points in every["data"]] == [144, 144]
    # thinned out, what is left are doses as they were: never a volume averaged with its neighbours
    few = query_time_series(
        db, "exp", "dosing_events", "volume_change_ml", series_key="event", lookback_hours=48, target_points=20, now=NOW
    )
    media = {(stamp, volume) for _, stamp, volume, event in rows if event == "add_media"}
    assert len(few["data"][0]) == 20 and {(p["x"], p["y"]) for p in few["data"][0]} <= media
    assert {p["y"] for p in few["data"][1]} == {0.8}
    # without a series column, a unit's doses are one series (the table has no channel)
    assert query_time_series(db, "exp", "dosing_events", "volume_change_ml", lookback_hours=48, now=NOW)["series"] == ["unit1"]


def test_a_series_key_must_be_a_column_that_names_series(db):
    for bad in ("colour", "timestamp", "volume_change_ml"):
        with pytest.raises(TimeSeriesError) as caught:
            query_time_series(db, "exp", "dosing_events", "volume_change_ml", series_key=bad, now=NOW)
        assert caught.value.field == "series_key" and repr(bad) in str(caught.value)
        assert "event" in caught.value.remediation


def test_any_column_of_a_table_of_readings(db):
    db.execute(
        "INSERT INTO liquid_volumes (experiment, pioreactor_unit, timestamp, liquid_volume) VALUES ('exp', 'unit1', ?, 14.5)",
        (canonical_timestamp(NOW),),
    )
    result = query_time_series(db, "exp", "liquid_volumes", "liquid_volume", lookback_hours=1, now=NOW)
    assert result == {"series": ["unit1"], "data": [[{"x": canonical_timestamp(NOW), "y": 14.5}]]}


@pytest.mark.parametrize(
    ("source", "column", "field"),
    [
        ("no_such_table", None, "data_source"),
        ("growth_rates", "no_such_column", "column"),
        ("growth_rates", "timestamp", "column"),
        ("liquid_volumes", None, "column"),
        ("experiments", "description", "data_source"),  # not a table of readings
        ('growth_rates"; DROP TABLE logs; --', None, "data_source"),
    ],
)
def test_bad_sources_and_columns_are_named(db, source, column, field):
    with pytest.raises(TimeSeriesError) as caught:
        query_time_series(db, "exp", source, column, now=NOW)
    assert caught.value.field == field
    assert caught.value.remediation
    assert db.execute("SELECT count(*) FROM logs").fetchone() is not None  # still there


def test_media_rates_per_unit_and_all(db):
    db.executemany(
        "INSERT INTO dosing_events (experiment, pioreactor_unit, timestamp, volume_change_ml, event, source_of_event) "
        "VALUES ('exp', ?, ?, ?, ?, 'dosing_automation')",
        [
            ("unit1", canonical_timestamp(NOW - timedelta(hours=1)), 3.0, "add_media"),
            ("unit1", canonical_timestamp(NOW - timedelta(hours=2)), 1.5, "add_alt_media"),
            ("unit2", canonical_timestamp(NOW - timedelta(minutes=5)), 6.0, "add_media"),
            ("unit2", canonical_timestamp(NOW - timedelta(hours=5)), 60.0, "add_media"),  # outside 3 h
            ("unit2", canonical_timestamp(NOW - timedelta(minutes=5)), 6.0, "remove_waste"),
        ],
    )
    rates = media_rates(db, "exp", now=NOW)
    assert rates["unit1"] == {"mediaRate": 1.0, "altMediaRate": 0.5}
    assert rates["unit2"] == {"mediaRate": 2.0, "altMediaRate": 0.0}
    assert rates["all"] == {"mediaRate": 3.0, "altMediaRate": 0.5}
