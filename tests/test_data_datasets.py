"""Tests of tinygrad_seq.data.datasets: the bundled names corpus and the synthetic dates."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import re
import socket

import pytest

from tinygrad_seq.data import (
    DATE_FORMATS,
    NameRecord,
    format_date,
    load_names,
    make_dates,
    names_dataset,
)
from tinygrad_seq.data import datasets as datasets_mod

# ------------------------------------------------------------------------ names corpus


def test_names_corpus_contents():
    names = load_names()
    assert len(names) > 5000
    assert all(isinstance(r, NameRecord) for r in names)
    assert {r.sex for r in names} == {"male", "female"}
    assert all(re.fullmatch(r"[a-z]+", r.name) for r in names)
    assert len({r.name for r in names}) == len(names)  # one record per name
    assert [r.name for r in names] == sorted(r.name for r in names)
    by_name = {r.name: r for r in names}
    assert by_name["james"].sex == "male" and by_name["mary"].sex == "female"
    assert by_name["james"].freq == pytest.approx(3.318)
    assert all(r.freq > 0 for r in names)


def test_names_split_deterministic_disjoint_and_seeded():
    all_names = {r.name for r in load_names()}
    train = load_names("train", seed=0)
    val = load_names("val", seed=0)
    t, v = {r.name for r in train}, {r.name for r in val}
    assert not t & v and t | v == all_names
    assert len(v) == round(0.1 * len(all_names))
    assert load_names("val", seed=0) == val  # deterministic
    assert {r.name for r in load_names("val", seed=1)} != v  # seed-dependent
    assert len(load_names("val", val_fraction=0.25)) == round(0.25 * len(all_names))
    tr_names, va_names = names_dataset(seed=0)
    assert tr_names == [r.name for r in train] and va_names == [r.name for r in val]


def test_names_split_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        load_names("test")
    with pytest.raises(ValueError, match="val_fraction"):
        load_names("train", val_fraction=1.0)


def test_names_bundled_as_package_data_and_loads_offline(monkeypatch):
    res = importlib.resources.files("tinygrad_seq.data").joinpath("corpora/names.tsv")
    assert res.is_file()
    assert len(res.read_bytes()) < 500_000
    readme = importlib.resources.files("tinygrad_seq.data").joinpath("corpora/README.md")
    assert "public domain" in readme.read_text(encoding="utf-8")

    def no_network(*args, **kwargs):
        raise AssertionError("the names corpus must not touch the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    datasets_mod._read_names.cache_clear()
    assert len(load_names()) > 5000


# ------------------------------------------------------------------------------- dates


def _parse(human: str, fmt: str) -> dt.date:
    """Read a human date back using only its format tag (proves it is unambiguous)."""
    s = re.sub(r"^the (\d+)(st|nd|rd|th) of", r"\1", human)
    fmt = fmt.replace("dth of month", "d month")
    if "yyyy" not in fmt:  # two-digit year: 50-99 -> 19xx, 00-30 -> 20xx
        yy = int(s[-2:])
        s = s[:-2] + str((1900 if yy >= 50 else 2000) + yy)
        fmt = fmt.replace("yy", "yyyy")
    codes = {"yyyy": "%Y", "weekday": "%A", "wkd": "%a", "month": "%B", "mon": "%b"}
    codes.update({"mm": "%m", "dd": "%d", "m": "%m", "d": "%d"})
    pattern = re.sub(r"yyyy|weekday|wkd|month|mon|mm|dd|m|d", lambda m: codes[m.group()], fmt)
    return dt.datetime.strptime(s, pattern).date()


def test_make_dates_deterministic_and_valid():
    a = make_dates(1000, seed=3)
    assert a == make_dates(1000, seed=3)
    assert a != make_dates(1000, seed=4)
    assert make_dates(5, seed=3) == a[:5]
    for human, iso in a:
        d = dt.date.fromisoformat(iso)
        assert dt.date(1950, 1, 1) <= d <= dt.date(2030, 12, 31)
        assert human == human.lower() and human.strip() == human


def test_make_dates_formats_and_unambiguity():
    data = make_dates(1000, seed=0, return_format=True)
    seen = {fmt for _, _, fmt in data}
    assert len(seen) >= 10 and seen <= set(DATE_FORMATS)
    for human, iso, fmt in data:
        assert _parse(human, fmt).isoformat() == iso, (human, fmt)
    assert [(h, i) for h, i, _ in data] == make_dates(1000, seed=0)


def test_format_date_examples():
    d = dt.date(2023, 3, 14)
    assert format_date(d, "weekday month d yyyy") == "tuesday march 14 2023"
    assert format_date(d, "dd.mm.yy") == "14.03.23"
    assert format_date(d, "mm/dd/yyyy") == "03/14/2023"
    assert format_date(d, "month d, yyyy") == "march 14, 2023"
    assert format_date(d, "d mon yyyy") == "14 mar 2023"
    assert format_date(dt.date(1979, 5, 3), "d month yyyy") == "3 may 1979"
    assert format_date(dt.date(2018, 5, 9), "weekday, d month yyyy") == "wednesday, 9 may 2018"
    assert format_date(dt.date(2001, 1, 22), "dth of month yyyy") == "the 22nd of january 2001"
    with pytest.raises(ValueError, match="unknown format"):
        format_date(d, "yyyymmdd")


def test_make_dates_arguments():
    assert make_dates(0) == []
    only = make_dates(50, seed=1, formats=("yyyy-mm-dd",))
    assert all(h == i for h, i in only)
    with pytest.raises(ValueError, match="n must be"):
        make_dates(-1)
    with pytest.raises(ValueError, match="formats"):
        make_dates(3, formats=("nope",))
