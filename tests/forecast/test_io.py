import numpy as np
import pandas as pd
import pytest
from forecast_testutil import TZ

from forecast import (
    DataError,
    contact_stats,
    demo_channels,
    load_contacts,
    load_intervals,
    read_contacts,
    synthetic_history,
)

RENAME = {"interval_start": "Start", "channel": "Queue", "volume": "Offered", "aht_s": "AHT"}
COLUMNS = {"timestamp": "Start", "channel": "Queue", "volume": "Offered", "aht_s": "AHT"}


@pytest.fixture
def history():
    # two local days including the spring DST change (92 quarter hours on 2026-03-29)
    return synthetic_history(demo_channels(), "2026-03-28", 2, 15, TZ, seed=9)


def _same(a: pd.DataFrame, b: pd.DataFrame):
    assert list(a.columns) == list(b.columns)
    assert a["channel"].tolist() == b["channel"].tolist()
    assert (pd.DatetimeIndex(a["interval_start"]) == pd.DatetimeIndex(b["interval_start"])).all()
    assert str(pd.DatetimeIndex(a["interval_start"]).tz) == str(pd.DatetimeIndex(b["interval_start"]).tz)
    np.testing.assert_array_equal(a["volume"].to_numpy(), b["volume"].to_numpy())
    np.testing.assert_allclose(a["aht_s"].to_numpy(), b["aht_s"].to_numpy(), rtol=1e-15, equal_nan=True)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_with_renamed_columns(tmp_path, history, suffix):
    path = tmp_path / f"hist{suffix}"
    df = history.rename(columns=RENAME).sample(frac=1.0, random_state=1)  # order must not matter
    if suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    _same(load_intervals(path, columns=COLUMNS, tz=TZ), history)


def test_naive_local_timestamps_are_localised(tmp_path, history):
    path = tmp_path / "naive.csv"
    df = history.rename(columns=RENAME)
    df["Start"] = pd.DatetimeIndex(df["Start"]).tz_localize(None).strftime("%d.%m.%Y %H:%M")
    df.to_csv(path, index=False)
    _same(load_intervals(path, columns=COLUMNS, tz=TZ, time_format="%d.%m.%Y %H:%M"), history)


def _write(tmp_path, lines, name="bad.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = [
    "Start,Queue,Offered,AHT",
    "2026-03-02 08:00,voice,10,300",
    "2026-03-02 08:15,voice,12,310",
    "2026-03-02 08:00,chat,4,500",
    "2026-03-02 08:15,chat,0,",
]


def test_good_tiny_file(tmp_path):
    h = load_intervals(_write(tmp_path, GOOD), columns=COLUMNS, tz=TZ)
    assert h["channel"].tolist() == ["chat", "chat", "voice", "voice"]
    assert h["volume"].tolist() == [4.0, 0.0, 10.0, 12.0]
    assert np.isnan(h["aht_s"].iloc[1])
    assert h["interval_start"].iloc[0] == pd.Timestamp("2026-03-02 08:00", tz=TZ)


@pytest.mark.parametrize(
    ("row", "replacement", "column", "text"),
    [
        (3, "2026-03-02 0x:15,voice,12,310", "Start", "timestamp"),
        (4, "2026-03-02 08:00,chat,-4,500", "Offered", ">= 0"),
        (5, "2026-03-02 08:15,chat,many,", "Offered", "many"),
        (2, "2026-03-29 02:30,voice,10,300", "Start", "DST"),
    ],
)
def test_row_errors_name_file_column_and_row(tmp_path, row, replacement, column, text):
    lines = list(GOOD)
    lines[row - 1] = replacement  # row numbers count the header as line 1
    path = _write(tmp_path, lines)
    with pytest.raises(DataError) as err:
        load_intervals(path, columns=COLUMNS, tz=TZ)
    msg = str(err.value)
    assert "bad.csv" in msg and f"'{column}'" in msg and f"row {row}" in msg and text in msg


def test_ambiguous_autumn_time_is_an_error(tmp_path):
    path = _write(tmp_path, [*GOOD, "2026-10-25 02:15,voice,3,200"])
    with pytest.raises(DataError, match=r"bad\.csv: column 'Start', row 6: .*ambiguous"):
        load_intervals(path, columns=COLUMNS, tz=TZ)


def test_duplicate_rows(tmp_path):
    path = _write(tmp_path, [*GOOD, "2026-03-02T08:15:00,chat,1,200"])
    with pytest.raises(DataError) as err:
        load_intervals(path, columns=COLUMNS, tz=TZ, time_format="ISO8601")
    msg = str(err.value)
    assert "bad.csv" in msg and "'Queue'" in msg and "'Start'" in msg and "rows [5, 6]" in msg


def test_missing_column(tmp_path):
    path = _write(tmp_path, [line.rsplit(",", 2)[0] + "," + line.rsplit(",", 1)[1] for line in GOOD])
    with pytest.raises(DataError, match=r"bad\.csv: missing column 'Offered'"):
        load_intervals(path, columns=COLUMNS, tz=TZ)


def test_parquet_errors_name_rows(tmp_path, history):
    df = history.rename(columns=RENAME)
    df.loc[7, "Offered"] = -2.0
    path = tmp_path / "h.parquet"
    df.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"h\.parquet: column 'Offered', row 8: "):
        load_intervals(path, columns=COLUMNS, tz=TZ)


LOG = [
    "when;type;talk;result;queue_s",
    "2026-03-02 08:01:10;V;200;answered;5",
    "2026-03-02 08:14:59;V;400;answered;12",
    "2026-03-02 08:15:00;V;;abandoned;40",
    "2026-03-02 08:20:00;V;0;answered;3",
    "2026-03-02 08:05:00;C;600;answered;",
    "2026-03-02 09:59:00;X;100;Abandoned;70",
    "2026-03-02 09:50:00;V;300;answered;8",
]
LOG_COLUMNS = {
    "arrival": "when",
    "channel": "type",
    "handle_s": "talk",
    "outcome": "result",
    "wait_s": "queue_s",
}


def test_load_contacts_aggregates_a_tiny_log(tmp_path):
    path = _write(tmp_path, LOG, "log.csv")
    cmap = {"V": "voice", "C": "chat", "*": "other"}
    h = load_contacts(path, columns=LOG_COLUMNS, tz=TZ, interval_min=15, channel_map=cmap)
    assert list(h.columns) == ["channel", "interval_start", "volume", "aht_s"]
    assert len(h) == 3 * 96  # every channel on the full local day
    at = {(r.channel, r.interval_start.strftime("%H:%M")): (r.volume, r.aht_s) for r in h.itertuples()}
    # by hand from the rows above
    assert at[("voice", "08:00")] == (2.0, 300.0)  # 200 and 400 answered
    v, a = at[("voice", "08:15")]
    assert v == 2.0 and np.isnan(a)  # one abandoned, one answered with talk 0
    assert at[("voice", "09:45")] == (1.0, 300.0)
    assert at[("chat", "08:00")] == (1.0, 600.0)
    v, a = at[("other", "09:45")]
    assert v == 1.0 and np.isnan(a)  # abandoned
    assert h["volume"].sum() == len(LOG) - 1
    stats = contact_stats(path, columns=LOG_COLUMNS, tz=TZ, channel_map=cmap)
    by = stats.set_index(["channel", stats["interval_start"].dt.strftime("%H:%M")])
    assert by.loc[("voice", "08:15"), "abandoned"] == 1 and by.loc[("voice", "08:15"), "answered"] == 1
    assert by.loc[("other", "09:45"), "abandoned"] == 1
    assert stats["abandoned"].sum() == 2
    assert by.loc[("voice", "08:00"), "wait_s"] == pytest.approx((5 + 12) / 2)


def test_load_contacts_unmapped_values(tmp_path):
    path = _write(tmp_path, LOG, "log.csv")
    with pytest.raises(DataError, match=r"log\.csv: column 'type', row 7: value\(s\) \['X'\]"):
        load_contacts(path, columns=LOG_COLUMNS, tz=TZ, channel_map={"V": "voice", "C": "chat"})


def test_load_contacts_negative_handle_time(tmp_path):
    lines = list(LOG)
    lines[3] = "2026-03-02 08:15:00;V;-5;answered;40"
    with pytest.raises(DataError, match=r"log\.csv: column 'talk', row 4: "):
        load_contacts(_write(tmp_path, lines, "log.csv"), columns=LOG_COLUMNS, tz=TZ)


def test_load_contacts_across_the_autumn_dst_change(tmp_path):
    lines = [
        "arrival,channel",
        "2026-10-25T02:20:00+02:00,voice",
        "2026-10-25T02:20:00+01:00,voice",
        "2026-10-25T02:25:00+01:00,voice",
    ]
    h = load_contacts(_write(tmp_path, lines, "dst.csv"), tz=TZ)
    assert len(h) == 100
    busy = h[h["volume"] > 0]
    assert busy["volume"].tolist() == [1.0, 2.0]
    assert [str(t) for t in busy["interval_start"]] == [
        "2026-10-25 02:15:00+02:00",
        "2026-10-25 02:15:00+01:00",
    ]


def test_contact_log_with_a_site_column_gives_one_queue_per_channel_and_site(tmp_path):
    log = "arrival,type,site\n2026-01-05 08:01,V,north\n2026-01-05 08:02,V,south\n2026-01-05 08:20,V,south\n"
    path = tmp_path / "log.csv"
    path.write_text(log)
    h = load_contacts(
        path,
        columns={"channel": "type", "site": "site"},
        tz="UTC",
        interval_min=15,
        channel_map={"V": "voice"},
    )
    got = h[h["volume"] > 0].set_index(
        ["channel", h.loc[h["volume"] > 0, "interval_start"].dt.strftime("%H:%M")]
    )
    assert got["volume"].to_dict() == {
        ("voice_north", "08:00"): 1,
        ("voice_south", "08:00"): 1,
        ("voice_south", "08:15"): 1,
    }


# -- ragged rows, off-grid timestamps, the autumn DST change in time-sorted logs ----------------------------


@pytest.mark.parametrize(
    ("lines", "row", "got"),
    [
        ([*GOOD[:1], "2026-03-02 08:00,voice,10,300,9", *GOOD[2:]], 2, 5),  # pandas would index by Start
        ([*GOOD[:3], "2026-03-02 08:00,chat,4,500,1", *GOOD[4:]], 4, 5),
        ([*GOOD[:4], "2026-03-02 08:15,chat,0"], 5, 3),
    ],
)
def test_a_row_with_the_wrong_number_of_fields_names_its_row(tmp_path, lines, row, got):
    with pytest.raises(
        DataError, match=rf"bad\.csv: row {row}: expected 4 fields separated by ',' .*; got {got}"
    ):
        load_intervals(_write(tmp_path, lines), columns=COLUMNS, tz=TZ)


def test_off_grid_timestamps_name_the_file_row(tmp_path):
    """The file is not in time order: the row named is the file's, not a position in the sorted table."""
    lines = [
        *GOOD,
        "2026-03-02 07:00,voice,3,200",
        "2026-03-02 07:37,chat,1,200",
        "2026-03-02 07:15,chat,1,200",
    ]
    with pytest.raises(
        DataError, match=r"column 'Start', row 7: expected an interval start on the local 15-minute"
    ):
        load_intervals(_write(tmp_path, lines), columns=COLUMNS, tz=TZ)
    # two starts 8 minutes apart: no interval length fits; both rows are named
    lines = [*GOOD, "2026-03-02 07:52,voice,3,200"]
    with pytest.raises(DataError, match=r"rows 2 and 6: expected interval starts a whole number of minutes"):
        load_intervals(_write(tmp_path, lines), columns=COLUMNS, tz=TZ)
    # with the interval given, a 30-minute file with a quarter-hour start
    with pytest.raises(DataError, match=r"row 3: expected an interval start on the local 30-minute grid"):
        load_intervals(_write(tmp_path, GOOD), columns=COLUMNS, tz=TZ, interval_min=30)


def _dst_log(tmp_path, stamps, name="dst_log.csv"):
    path = tmp_path / name
    pd.DataFrame({"arrival": stamps, "channel": "voice"}).to_csv(path, index=False)
    return path


def test_time_sorted_log_across_the_autumn_change_with_ambiguous_infer(tmp_path):
    """A call every 5 minutes of absolute time over the night of 2026-10-25, written in local wall-clock
    time (02:00-02:55 twice): 'infer' reads the first run as summer time and the second as standard time, so
    every absolute quarter hour has 3 calls (by hand: 15 / 5), both occurrences of 02:xx included."""
    t = pd.date_range("2026-10-25 00:00", "2026-10-25 04:00", freq="5min", tz=TZ, inclusive="left")
    path = _dst_log(tmp_path, t.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S"))
    c = read_contacts(path, tz=TZ, ambiguous="infer")
    assert (pd.DatetimeIndex(c["arrival"]) == t).all()
    s = contact_stats(path, tz=TZ, ambiguous="infer")
    night = s[(s["interval_start"] >= t[0]) & (s["interval_start"] <= t[-1])]
    assert len(night) == 20 and (night["volume"] == 3).all()  # 5 absolute hours of 4 quarter hours
    assert [str(x) for x in night["interval_start"].iloc[8:13]] == [
        "2026-10-25 02:00:00+02:00",
        "2026-10-25 02:15:00+02:00",
        "2026-10-25 02:30:00+02:00",
        "2026-10-25 02:45:00+02:00",
        "2026-10-25 02:00:00+01:00",
    ]
    with pytest.raises(DataError, match=r"column 'arrival', row 26: .*ambiguous"):
        read_contacts(path, tz=TZ)  # the default still refuses to guess
    # out of time order, or the repeated hour seen only once: the order cannot tell, an error names the row
    shuffled = list(t.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S"))
    shuffled[25], shuffled[40] = shuffled[40], shuffled[25]
    with pytest.raises(
        DataError, match=r"column 'arrival', row \d+: expected local times repeated by the DST"
    ):
        read_contacts(_dst_log(tmp_path, shuffled, "shuffled.csv"), tz=TZ, ambiguous="infer")
    once = ["2026-10-25 01:50:00", "2026-10-25 02:10:00", "2026-10-25 03:10:00"]
    with pytest.raises(DataError, match=r"column 'arrival', row 3: expected local times repeated"):
        read_contacts(_dst_log(tmp_path, once, "once.csv"), tz=TZ, ambiguous="infer")
