import numpy as np
import pandas as pd
import pytest

from forecast.errors import DataError
from sim import IntervalGrid, Schedule

GRID = IntervalGrid.from_days("2026-01-05", 2, 15, "Europe/Berlin")


def _schedule():
    df = pd.DataFrame(
        {
            "skill_group": ["a", "a", "b"],
            "agent": ["", "", "x"],
            "count": [2, 1, 1],
            "start": ["2026-01-05T06:00", "2026-01-05T22:00", "2026-01-05T09:10"],
            "end": ["2026-01-05T14:00", "2026-01-06T06:00", "2026-01-05T10:00"],
            "breaks": ["10:00-10:30", "01:00-01:30;03:00-03:15", ""],
        }
    )
    return Schedule.from_frame(df, GRID.tz)


def test_coverage_matches_a_brute_force_minute_count():
    s = _schedule()
    cov = s.coverage(GRID, ["a", "b"])
    # brute force: count on-duty agent-minutes per interval from a minute-by-minute timeline
    minutes = GRID.n * 15
    on = np.zeros((2, minutes))
    for r in s.shifts.itertuples():
        g = 0 if r.skill_group == "a" else 1
        a = int(GRID.seconds(r.start) // 60)
        b = int(GRID.seconds(r.end) // 60)
        on[g, a:b] += r.count
        for bs, be in r.breaks:
            on[g, int(GRID.seconds(bs) // 60) : int(GRID.seconds(be) // 60)] -= r.count
    expected = on.reshape(2, GRID.n, 15).mean(axis=2)
    np.testing.assert_allclose(cov, expected, atol=1e-12)
    # the night shift's break at 01:00 falls on the next day
    t = GRID.starts.get_loc(pd.Timestamp("2026-01-06 01:00", tz="Europe/Berlin"))
    assert cov[0, t] == 0 and cov[0, t - 1] == 1


def test_csv_round_trip_gives_the_same_schedule(tmp_path):
    s = _schedule()
    path = s.to_csv(tmp_path / "schedule.csv")
    back = Schedule.read_csv(path, GRID.tz)
    np.testing.assert_array_equal(back.coverage(GRID, ["a", "b"]), s.coverage(GRID, ["a", "b"]))
    assert back.to_frame().equals(s.to_frame())
    assert list(pd.read_csv(path).columns) == ["skill_group", "agent", "count", "start", "end", "breaks"]


def test_paid_hours():
    s = _schedule()
    paid = s.paid_hours()
    assert paid["a"] == pytest.approx(2 * 7.5 + 8 - 0.75)
    assert paid["b"] == pytest.approx(50 / 60)
    assert s.paid_hours(paid_breaks=True)["a"] == pytest.approx(24)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("start", "yesterday", r"row 3: column 'start'"),
        ("end", "2026-01-05T05:00", r"row 3: column 'end': expected a time after start"),
        ("breaks", "10-11", r"row 3: column 'breaks'"),
        ("count", "0", r"row 3: column 'count'"),
        ("breaks", "15:00-15:30", r"row 3: column 'breaks': break 15:00-15:30 does not lie within"),
    ],
)
def test_bad_rows_name_file_row_and_column(tmp_path, column, value, message):
    df = _schedule().to_frame()
    df = df.astype({"count": str})
    df.loc[1, column] = value
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match=message) as e:
        Schedule.read_csv(path, GRID.tz)
    assert str(path) in str(e.value)


def test_nonexistent_local_time_is_an_error(tmp_path):
    df = pd.DataFrame({"skill_group": ["a"], "start": ["2026-03-29T02:30"], "end": ["2026-03-29T08:00"]})
    with pytest.raises(DataError, match="DST"):
        Schedule.from_frame(df, "Europe/Berlin")


def test_breaks_on_dst_nights_are_wall_clock_times_and_round_trip(tmp_path):
    tz = "Europe/Berlin"
    # spring forward (02:00 CET -> 03:00 CEST): a 01:45-03:15 break lasts 30 real minutes
    df = pd.DataFrame(
        {
            "skill_group": ["a", "a", "a"],
            "start": ["2026-03-29T00:00", "2026-10-24T23:00+02:00", "2026-10-24T23:00+02:00"],
            "end": ["2026-03-29T08:00", "2026-10-25T06:00+01:00", "2026-10-25T06:00+01:00"],
            # fall back (03:00 CEST -> 02:00 CET): 02:30 happens twice; the clock form takes the first,
            # the ISO form names the second one
            "breaks": [
                "01:45-03:15",
                "02:30-02:45",
                "2026-10-25T02:30+01:00/2026-10-25T02:45+01:00",
            ],
        }
    )
    s = Schedule.from_frame(df, tz)
    ((bs, be),) = s.shifts["breaks"][0]
    assert (be - bs) == pd.Timedelta(minutes=30)
    assert bs == pd.Timestamp("2026-03-29T00:45Z")
    ((b1, e1),) = s.shifts["breaks"][1]
    ((b2, e2),) = s.shifts["breaks"][2]
    assert b1 == pd.Timestamp("2026-10-25T00:30Z") and e1 - b1 == pd.Timedelta(minutes=15)
    assert b2 == pd.Timestamp("2026-10-25T01:30Z") and e2 - b2 == pd.Timedelta(minutes=15)
    path = s.to_csv(tmp_path / "schedule.csv")
    back = Schedule.read_csv(path, tz)
    for x, y in zip(back.shifts["breaks"], s.shifts["breaks"]):
        assert x == y
    assert pd.read_csv(path)["breaks"].tolist()[:2] == ["01:45-03:15", "02:30-02:45"]
