"""Tests for tinygrad_seq.data: Vocab, the bundled names corpus, make_dates and batching."""

from __future__ import annotations

import ast
import datetime as dt
import importlib.resources
import json
import re
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_seq.data import (
    DATE_FORMATS,
    Batch,
    BatchIterator,
    NameRecord,
    Vocab,
    format_date,
    load_names,
    make_dates,
    names_dataset,
    pad_sequences,
)
from tinygrad_seq.data import datasets as datasets_mod
from tinygrad_seq.random import manual_seed

# ------------------------------------------------------------------------------ Vocab


def test_vocab_char_order_and_specials():
    v = Vocab.build(["abcab", "b"], level="char")
    assert v.itos[:4] == ("<pad>", "<unk>", "<bos>", "<eos>")
    assert (v.pad_index, v.unk_index, v.bos_index, v.eos_index) == (0, 1, 2, 3)
    assert v.itos[4:] == ("b", "a", "c")  # b:3, a:2, c:1
    assert len(v) == 7
    assert v.stoi["b"] == 4 and v.index("c") == 6 and v.token(5) == "a"
    assert "a" in v and "z" not in v and 3 not in v


def test_vocab_ties_are_alphabetical_and_deterministic():
    v1 = Vocab.build("zyxzyx", level="char")
    v2 = Vocab.build(["xyz", "zyx"], level="char")
    assert v1.itos[4:] == ("x", "y", "z") == v2.itos[4:]
    assert v1 == v2 and hash(v1) == hash(v2)


def test_vocab_word_level_and_lower():
    v = Vocab.build(["The cat sat", "the  dog\tsat\n"], level="word")
    assert v.itos[4:] == ("sat", "The", "cat", "dog", "the")
    lv = Vocab.build(["The cat sat", "the dog sat"], level="word", lower=True)
    assert lv.itos[4:] == ("sat", "the", "cat", "dog")
    assert lv.encode("THE Cat") == [lv.index("the"), lv.index("cat")]
    assert lv.decode(lv.encode("the cat sat")) == "the cat sat"


def test_vocab_max_size_and_min_freq():
    text = "aaaa bbb cc d"
    v = Vocab.build(text, level="word", min_freq=1)
    assert v.itos[4:] == ("aaaa", "bbb", "cc", "d")
    c = Vocab.build(text, level="char", min_freq=2)
    assert c.itos[4:] == ("a", " ", "b", "c")  # a:4, ' ':3, b:3, c:2; d dropped
    assert Vocab.build(text, level="char", max_size=2).itos[4:] == ("a", " ")
    assert len(Vocab.build(text, level="char", max_size=0)) == 4
    both = Vocab.build(text, level="char", min_freq=3, max_size=10)
    assert both.itos[4:] == ("a", " ", "b")


def test_vocab_unk_and_round_trip():
    v = Vocab.build(["hello", "world"], level="char")
    ids = v.encode("hello", add_bos=True, add_eos=True)
    assert ids[0] == v.bos_index and ids[-1] == v.eos_index and len(ids) == 7
    assert v.decode(ids) == "hello"
    assert v.decode(ids, strip_specials=False) == "<bos>hello<eos>"
    assert v.encode("hex") == [v.index("h"), v.index("e"), v.unk_index]
    assert v.decode(v.encode("hex")) == "he<unk>"  # unk stays visible
    assert v.index("?") == v.unk_index
    assert v.decode(np.array([v.index("o"), 0, 0])) == "o"  # padding stripped, numpy ok


def test_vocab_specials_in_text_are_not_counted_twice():
    v = Vocab.build("a <unk> b <eos>", level="word")
    assert v.itos[4:] == ("a", "b")
    assert v.encode("<eos>") == [v.eos_index]


def test_vocab_one_hot():
    v = Vocab.build("abc", level="char")
    oh = v.one_hot(v.encode("cab"))
    assert oh.shape == (3, 7) and oh.dtype == np.float64
    np.testing.assert_array_equal(oh.argmax(axis=1), v.encode("cab"))
    np.testing.assert_array_equal(oh.sum(axis=1), np.ones(3))
    assert v.one_hot([]).shape == (0, 7)
    with pytest.raises(IndexError, match="out of range"):
        v.one_hot([0, 7])
    with pytest.raises(ValueError, match="1-D"):
        v.one_hot(np.zeros((2, 2), dtype=np.int64))


def test_vocab_bad_arguments():
    with pytest.raises(ValueError, match=r"'char', 'word'.*'bpe'"):
        Vocab.build("abc", level="bpe")
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build("abc", min_freq=0)
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build("abc", max_size=-1)
    with pytest.raises(ValueError, match="at least 4"):
        Vocab.build("abc", specials=("<pad>", "<unk>"))
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        Vocab.build(["abc", 3])
    with pytest.raises(TypeError):
        Vocab.build(42)
    v = Vocab.build("abc")
    with pytest.raises(IndexError, match="out of range"):
        v.token(99)
    with pytest.raises(IndexError):
        v.decode([1, -1])


def test_vocab_extra_specials_and_repr():
    v = Vocab.build("ab", specials=("<pad>", "<unk>", "<s>", "</s>", "<sep>"))
    assert v.bos_index == 2 and v.token(4) == "<sep>" and v.token(5) == "a"
    assert v.decode([2, 5, 4, 6, 3]) == "ab"
    r = repr(v)
    assert "level='char'" in r and "size=7" in r


def test_vocab_json_round_trip():
    for v in (
        Vocab.build(["héllo wörld", "ünïcode"], level="char"),
        Vocab.build("The cat THE dog", level="word", lower=True, max_size=2),
    ):
        s = v.to_json()
        assert isinstance(s, str)
        back = Vocab.from_json(s)
        assert back == v and back.lower == v.lower and back.level == v.level
        assert Vocab.from_dict(json.loads(s)) == v
        assert Vocab.from_json(s.encode("utf-8")) == v
    assert Vocab.build("ab") != Vocab.build("ab", level="word")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: "not json {", "not valid JSON"),
        (lambda d: [1, 2], "expected a dict"),
        (lambda d: {k: x for k, x in d.items() if k != "tokens"}, r"missing key.*tokens"),
        (lambda d: {**d, "extra": 1}, r"unknown key.*extra"),
        (lambda d: {**d, "format": "pickle"}, "'format'"),
        (lambda d: {**d, "version": 99}, "version"),
        (lambda d: {**d, "level": "bpe"}, r"level must be one of"),
        (lambda d: {**d, "lower": "yes"}, "'lower'"),
        (lambda d: {**d, "tokens": "abc"}, "'tokens' must be a list"),
        (lambda d: {**d, "tokens": ["a", "a"]}, "duplicate"),
        (lambda d: {**d, "tokens": ["ab"]}, "one character"),
        (lambda d: {**d, "tokens": [1]}, "non-empty string"),
        (lambda d: {**d, "specials": ["<pad>"]}, "at least 4"),
    ],
)
def test_vocab_malformed_json(mutate, message):
    d = Vocab.build("abc").to_dict()
    bad = mutate(d)
    s = bad if isinstance(bad, str) else json.dumps(bad)
    with pytest.raises(ValueError, match=message):
        Vocab.from_json(s)


def test_vocab_from_json_rejects_non_string():
    with pytest.raises(ValueError, match="JSON string"):
        Vocab.from_json(None)


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


def test_data_package_imports_no_engine():
    """Layering: data/ imports only the standard library, numpy and tinygrad_seq.random."""
    pkg = Path(datasets_mod.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    for path in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
                assert all(r in allowed for r in roots), (path.name, roots)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    assert node.module.split(".")[0] in allowed, (path.name, node.module)
                elif node.level == 2:  # from .. import: only the random module
                    assert node.module == "random", (path.name, node.module)
                else:
                    assert node.level == 1, (path.name, node.module)


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


# ---------------------------------------------------------------------------- batching


def test_pad_sequences_values_and_layout():
    padded, lengths = pad_sequences([[1, 2, 3], [4], []], padding_value=9)
    assert padded.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(padded, [[1, 2, 3], [4, 9, 9], [9, 9, 9]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    tm, _ = pad_sequences([[1, 2, 3], [4]], batch_first=False)
    assert tm.shape == (3, 2)
    np.testing.assert_array_equal(tm, [[1, 4], [2, 0], [3, 0]])
    wide, _ = pad_sequences([np.array([5, 6])], max_len=4)
    np.testing.assert_array_equal(wide, [[5, 6, 0, 0]])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="no sequences"):
        pad_sequences([])
    with pytest.raises(ValueError, match=r"sequence 1 has length 3 > max_len=2"):
        pad_sequences([[1], [1, 2, 3]], max_len=2)
    with pytest.raises(TypeError, match="sequence 0 is a str"):
        pad_sequences(["abc"])
    with pytest.raises(ValueError, match="1-D"):
        pad_sequences([[[1, 2]]])
    with pytest.raises(TypeError, match="integer"):
        pad_sequences([[1.5, 2.0]])


def _items(n):
    return [list(range(i, i + 1 + i % 4)) for i in range(n)]  # first id identifies the item


def _firsts(batches):
    return [int(b.inputs[j, 0]) for b in batches for j in range(b.inputs.shape[0])]


def test_batch_iterator_covers_each_item_once_per_epoch():
    it = BatchIterator(_items(23), batch_size=5, seed=0)
    assert len(it) == 5
    for _ in range(3):
        batches = list(it)
        assert len(batches) == 5 and all(isinstance(b, Batch) for b in batches)
        assert sorted(_firsts(batches)) == list(range(23))
        for b in batches:
            assert b.targets is None
            np.testing.assert_array_equal(b.lengths, 1 + b.inputs[:, 0] % 4)


def test_batch_iterator_seeded_reproducible_and_epochs_differ():
    a, b = BatchIterator(_items(40), 8, seed=7), BatchIterator(_items(40), 8, seed=7)
    e0a, e1a = _firsts(a), _firsts(a)
    assert e0a == _firsts(b) and e1a == _firsts(b)
    assert e0a != e1a
    a.set_epoch(1)
    assert _firsts(a) == e1a
    assert _firsts(BatchIterator(_items(40), 8, shuffle=False)) == list(range(40))


def test_batch_iterator_unseeded_uses_package_generator():
    manual_seed(11)
    first = _firsts(BatchIterator(_items(30), 4))
    manual_seed(11)
    assert _firsts(BatchIterator(_items(30), 4)) == first
    assert first != list(range(30))


def test_batch_iterator_drop_last_and_len():
    it = BatchIterator(_items(23), batch_size=5, drop_last=True, seed=1)
    assert len(it) == 4
    batches = list(it)
    assert len(batches) == 4 and all(b.inputs.shape[0] == 5 for b in batches)
    assert len(set(_firsts(batches))) == 20
    assert len(BatchIterator(_items(3), 5, drop_last=True)) == 0
    assert len(BatchIterator(_items(10), 5)) == 2


def test_batch_iterator_labels_and_sorting():
    data = [([1, 2], 0), ([3], 1), ([4, 5, 6], 2), ([7, 8, 9, 10], 1)]
    it = BatchIterator(data, 4, shuffle=False, sort_within_batch=True)
    (b,) = list(it)
    np.testing.assert_array_equal(b.lengths, [4, 3, 2, 1])
    np.testing.assert_array_equal(b.targets, [1, 2, 0, 1])
    assert b.targets.dtype == np.int64 and b.inputs.shape == (4, 4)
    assert b.inputs[0].tolist() == [7, 8, 9, 10]


def test_batch_iterator_seq2seq_time_major():
    data = [([1, 2, 3], [5, 6]), ([4], [7, 8, 9])]
    it = BatchIterator(data, 2, shuffle=False, batch_first=False, target_padding_value=-100)
    (b,) = list(it)
    assert b.inputs.shape == (3, 2) and b.targets.shape == (3, 2)
    np.testing.assert_array_equal(b.targets, [[5, 7], [6, 8], [-100, 9]])
    np.testing.assert_array_equal(b.inputs[:, 1], [4, 0, 0])


def test_batch_iterator_errors():
    with pytest.raises(ValueError, match="empty"):
        BatchIterator([], 2)
    with pytest.raises(ValueError, match="batch_size"):
        BatchIterator(_items(3), 0)
    with pytest.raises(ValueError, match=r"data\[1\] is not"):
        BatchIterator([([1], 0), [2, 3]], 2)
    with pytest.raises(TypeError, match=r"data\[0\] is a str"):
        BatchIterator(["abc"], 2)
