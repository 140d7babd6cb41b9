"""Tests of tinygrad_seq.data.vocab: symbol order, specials, encoding, one-hot, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinygrad_seq.data import Vocab


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
