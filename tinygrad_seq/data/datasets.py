"""Small datasets for sequence models that need no network: a bundled names corpus and dates.

- `load_names()` reads the US first names of the 1990 US Census (public domain), bundled as
  `corpora/names.tsv` and read with importlib.resources, so it works from an installed package.
  Each name carries a sex label (male/female): a many-to-one task (classify a name) and, with
  the names alone, a character-level language model (generate names).
- `make_dates(n)` generates (human-readable date, ISO date) pairs in many formats with the
  standard library: the classic many-to-many task for an encoder-decoder with attention
  ("tuesday march 14 2023" -> "2023-03-14").

Both are deterministic for a seed, across platforms: they use Python's `random.Random`, whose
integer-seeded stream the standard library keeps stable.
"""

from __future__ import annotations

import datetime
import random
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

NAMES_FILE = "corpora/names.tsv"
_NAMES_HEADER = ("name", "sex", "male_pct", "female_pct")
SEXES = ("female", "male")


class NameRecord(NamedTuple):
    """One name: lower-case name, majority sex ('male'/'female'), percent of that sex (float)."""

    name: str
    sex: str
    freq: float


def _names_resource():
    return resources.files(__package__).joinpath(NAMES_FILE)


@lru_cache(maxsize=1)
def _read_names() -> tuple[NameRecord, ...]:
    """Parse the bundled TSV once; every later call reuses the records."""
    text = _names_resource().read_text(encoding="utf-8")
    records: list[NameRecord] = []
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        fields = tuple(line.split("\t"))
        if not header_seen:
            if fields != _NAMES_HEADER:
                raise ValueError(
                    f"{NAMES_FILE}:{lineno}: header {fields}, expected {_NAMES_HEADER}"
                )
            header_seen = True
            continue
        if len(fields) != 4 or fields[1] not in SEXES:
            raise ValueError(f"{NAMES_FILE}:{lineno}: malformed line {line!r}")
        name, sex, male_pct, female_pct = fields
        records.append(NameRecord(name, sex, float(male_pct if sex == "male" else female_pct)))
    return tuple(records)


def _split_indices(n: int, split: str | None, val_fraction: float, seed: int) -> list[int]:
    """Indices of one split of range(n), shuffled with random.Random(seed), then sorted."""
    if split is None:
        return list(range(n))
    if split not in ("train", "val"):
        raise ValueError(f"split must be None, 'train' or 'val', got {split!r}")
    if isinstance(val_fraction, bool) or not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be a float in (0, 1), got {val_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    chosen = order[:n_val] if split == "val" else order[n_val:]
    return sorted(chosen)


def load_names(
    split: str | None = None, val_fraction: float = 0.1, seed: int = 0
) -> list[NameRecord]:
    """The 5163 bundled names as NameRecords (alphabetical); split='train'/'val' picks a part."""
    records = _read_names()
    return [records[i] for i in _split_indices(len(records), split, val_fraction, seed)]


def names_dataset(val_fraction: float = 0.1, seed: int = 0) -> tuple[list[str], list[str]]:
    """(train names, val names): two disjoint lists of lower-case names, seeded split."""
    train = load_names("train", val_fraction, seed)
    val = load_names("val", val_fraction, seed)
    return [r.name for r in train], [r.name for r in val]


def names_path():
    """The bundled names.tsv as an importlib.resources Traversable (read_text works on it)."""
    return _names_resource()


# ------------------------------------------------------------------------------ dates
DATE_MIN = datetime.date(1950, 1, 1)
DATE_MAX = datetime.date(2030, 12, 31)
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONS = [m[:3] for m in _MONTHS]
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_WDAYS = [w[:3] for w in _WEEKDAYS]


def _ordinal(day: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# Each format fixes its field order: numeric day-month formats use '.' or ' ' as separator,
# month-day ones use '/', so a string's separator says how to read it. Two-digit years are
# unambiguous in 1950-2030: 50-99 mean 19xx, 00-30 mean 20xx.
# fmt: off
_DATE_FORMATS = {
    "d month yyyy":          lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "dd month yyyy":         lambda d: f"{d.day:02d} {_MONTHS[d.month - 1]} {d.year}",
    "d mon yyyy":            lambda d: f"{d.day} {_MONS[d.month - 1]} {d.year}",
    "d mon, yyyy":           lambda d: f"{d.day} {_MONS[d.month - 1]}, {d.year}",
    "month d, yyyy":         lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "month d yyyy":          lambda d: f"{_MONTHS[d.month - 1]} {d.day} {d.year}",
    "mon d yyyy":            lambda d: f"{_MONS[d.month - 1]} {d.day} {d.year}",
    "weekday month d yyyy":  lambda d: (
        f"{_WEEKDAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day} {d.year}"),
    "weekday, d month yyyy": lambda d: (
        f"{_WEEKDAYS[d.weekday()]}, {d.day} {_MONTHS[d.month - 1]} {d.year}"),
    "wkd, mon d, yyyy":      lambda d: (
        f"{_WDAYS[d.weekday()]}, {_MONS[d.month - 1]} {d.day}, {d.year}"),
    "dth of month yyyy":     lambda d: f"the {_ordinal(d.day)} of {_MONTHS[d.month - 1]} {d.year}",
    "dd.mm.yy":              lambda d: f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}",
    "dd.mm.yyyy":            lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "dd mm yy":              lambda d: f"{d.day:02d} {d.month:02d} {d.year % 100:02d}",
    "mm/dd/yyyy":            lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "m/d/yy":                lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",
    "yyyy-mm-dd":            lambda d: d.isoformat(),
}
# fmt: on
DATE_FORMATS: tuple[str, ...] = tuple(_DATE_FORMATS)


def format_date(date: datetime.date, fmt: str) -> str:
    """Render one datetime.date in one of DATE_FORMATS (lower-case, English names)."""
    if fmt not in _DATE_FORMATS:
        raise ValueError(f"format_date: unknown format {fmt!r}; expected one of {DATE_FORMATS}")
    return _DATE_FORMATS[fmt](date)


def make_dates(
    n: int, seed: int = 0, formats: tuple[str, ...] | None = None, return_format: bool = False
) -> list[tuple[str, str]] | list[tuple[str, str, str]]:
    """n pairs (human date, 'YYYY-MM-DD'), dates uniform in 1950-2030, formats uniform.

    With return_format=True each item is (human, iso, format name from DATE_FORMATS).
    `formats` restricts the formats drawn from (default: all of DATE_FORMATS).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"make_dates: n must be an int >= 0, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"make_dates: seed must be an int, got {type(seed).__name__}")
    fmts = DATE_FORMATS if formats is None else tuple(formats)
    unknown = [f for f in fmts if f not in _DATE_FORMATS]
    if not fmts or unknown:
        raise ValueError(
            f"make_dates: formats must be a non-empty subset of {DATE_FORMATS}, got {unknown!r}"
        )
    rng = random.Random(seed)
    span = (DATE_MAX - DATE_MIN).days
    out = []
    for _ in range(n):
        date = DATE_MIN + datetime.timedelta(days=rng.randint(0, span))
        fmt = fmts[rng.randrange(len(fmts))]
        human = _DATE_FORMATS[fmt](date)
        out.append((human, date.isoformat(), fmt) if return_format else (human, date.isoformat()))
    return out
