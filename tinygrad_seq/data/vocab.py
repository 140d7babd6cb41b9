"""A vocabulary: the two-way map between symbols (characters or words) and integer ids.

A sequence model never sees text. It sees integer ids (to index an embedding table) or one-hot
vectors `x<t>` of length V (the course's notation). `Vocab` is the only place that knows how
text becomes ids and back:

- four special symbols come first at fixed ids: `<pad>`=0 (fills short sequences in a batch),
  `<unk>`=1 (any symbol the vocabulary has not seen), `<bos>`=2 and `<eos>`=3 (start and end
  of a sequence, so a generator knows where to begin and when to stop);
- the other symbols follow by frequency, most frequent first, ties alphabetically, so the same
  texts always give the same ids;
- it saves to JSON (never pickle: a vocabulary file should be readable and safe to load).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

LEVELS = ("char", "word")
DEFAULT_SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
_FORMAT = "tinygrad_seq.vocab"
_VERSION = 1
_DICT_KEYS = ("format", "version", "level", "lower", "specials", "tokens")


def _check_level(level: Any, where: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"{where}: level must be one of {LEVELS}, got {level!r}")
    return level


def _check_specials(specials: Any, where: str) -> tuple[str, ...]:
    if isinstance(specials, str) or not isinstance(specials, Sequence):
        raise ValueError(f"{where}: specials must be a sequence of strings, got {specials!r}")
    specials = tuple(specials)
    if len(specials) < 4:
        raise ValueError(
            f"{where}: specials needs at least 4 entries (pad, unk, bos, eos in that order), "
            f"got {len(specials)}: {specials!r}"
        )
    for s in specials:
        if not isinstance(s, str) or not s:
            raise ValueError(f"{where}: every special must be a non-empty string, got {s!r}")
    if len(set(specials)) != len(specials):
        raise ValueError(f"{where}: specials contain duplicates: {specials!r}")
    return specials


def _as_texts(texts: Any) -> list[str]:
    """A str or an iterable of str -> list of str (a single str is one text)."""
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, Iterable):
        raise TypeError(
            f"Vocab.build: texts must be a str or an iterable of str, got {type(texts).__name__}"
        )
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"Vocab.build: texts[{i}] is {type(t).__name__}, expected str")
    return out


def tokenize(text: str, level: str = "char", lower: bool = False) -> list[str]:
    """Split one text into symbols: characters (level='char') or whitespace words ('word')."""
    _check_level(level, "tokenize")
    if not isinstance(text, str):
        raise TypeError(f"tokenize: expected a str, got {type(text).__name__}")
    if lower:
        text = text.lower()
    return list(text) if level == "char" else text.split()


class Vocab:
    """Symbol <-> id map of size V: specials at ids 0..3 (pad, unk, bos, eos), then tokens."""

    def __init__(
        self,
        tokens: Iterable[str] = (),
        level: str = "char",
        specials: Sequence[str] = DEFAULT_SPECIALS,
        lower: bool = False,
    ) -> None:
        self.level = _check_level(level, "Vocab")
        self.specials = _check_specials(specials, "Vocab")
        if not isinstance(lower, bool):
            raise ValueError(f"Vocab: lower must be a bool, got {lower!r}")
        self.lower = lower
        tokens = list(tokens)
        for t in tokens:
            if not isinstance(t, str) or not t:
                raise ValueError(f"Vocab: every token must be a non-empty string, got {t!r}")
            if level == "char" and len(t) != 1:
                raise ValueError(f"Vocab: a char-level token must be one character, got {t!r}")
        itos = self.specials + tuple(tokens)
        if len(set(itos)) != len(itos):
            dup = sorted(t for t, c in Counter(itos).items() if c > 1)
            raise ValueError(f"Vocab: duplicate tokens (or tokens equal to a special): {dup}")
        self._itos: tuple[str, ...] = itos
        self._stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}

    # ----------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        texts: str | Iterable[str],
        level: str = "char",
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = DEFAULT_SPECIALS,
        lower: bool = False,
    ) -> Vocab:
        """Count symbols in texts (str or iterable of str) -> Vocab, most frequent first."""
        _check_level(level, "Vocab.build")
        specials = _check_specials(specials, "Vocab.build")
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0
        ):
            raise ValueError(f"Vocab.build: max_size must be None or an int >= 0, got {max_size!r}")
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be an int >= 1, got {min_freq!r}")
        counts: Counter[str] = Counter()
        for text in _as_texts(texts):
            counts.update(tokenize(text, level, lower))
        for s in specials:  # a special spelled out in the text is the special, not a new token
            counts.pop(s, None)
        # frequency descending, then alphabetical: the same texts always give the same ids
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        tokens = [t for t, c in ranked if c >= min_freq]
        if max_size is not None:
            tokens = tokens[:max_size]
        return cls(tokens, level=level, specials=specials, lower=lower)

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token in self._stoi

    def __iter__(self):
        return iter(self._itos)

    @property
    def stoi(self) -> Mapping[str, int]:
        """Read-only map token -> id (V entries)."""
        return MappingProxyType(self._stoi)

    @property
    def itos(self) -> tuple[str, ...]:
        """Tuple of V tokens; itos[i] is the token with id i."""
        return self._itos

    @property
    def pad_index(self) -> int:
        """Id of the padding symbol (0)."""
        return 0

    @property
    def unk_index(self) -> int:
        """Id of the unknown symbol (1)."""
        return 1

    @property
    def bos_index(self) -> int:
        """Id of the begin-of-sequence symbol (2)."""
        return 2

    @property
    def eos_index(self) -> int:
        """Id of the end-of-sequence symbol (3)."""
        return 3

    def index(self, token: str) -> int:
        """Id of one token; an unknown token gives unk_index."""
        return self._stoi.get(token, self.unk_index)

    def token(self, i: int) -> str:
        """Token with id i, 0 <= i < V."""
        return self._itos[self._check_id(i, "Vocab.token")]

    def _check_id(self, i: Any, where: str) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{where}: ids must be ints, got {type(i).__name__} {i!r}")
        if not 0 <= i < len(self._itos):
            raise IndexError(f"{where}: id {int(i)} out of range for a vocab of size {len(self)}")
        return int(i)

    # ------------------------------------------------------------ text <-> ids
    def tokenize(self, text: str) -> list[str]:
        """Split text into this vocabulary's symbols (chars or words, lower-cased if set)."""
        return tokenize(text, self.level, self.lower)

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Text -> list of T ids (T symbols, +1 for each of bos/eos); unknowns map to unk."""
        ids = [self._stoi.get(t, self.unk_index) for t in self.tokenize(text)]
        if add_bos:
            ids.insert(0, self.bos_index)
        if add_eos:
            ids.append(self.eos_index)
        return ids

    def decode(self, ids: Iterable[int], strip_specials: bool = True) -> str:
        """Ids (T,) -> text; strip_specials drops pad/bos/eos/extras but keeps '<unk>' visible."""
        if isinstance(ids, np.ndarray) and ids.ndim != 1:
            raise ValueError(f"Vocab.decode: expected a 1-D sequence of ids, got shape {ids.shape}")
        tokens = []
        for i in ids:
            i = self._check_id(i, "Vocab.decode")
            if strip_specials and i < len(self.specials) and i != self.unk_index:
                continue
            tokens.append(self._itos[i])
        return ("" if self.level == "char" else " ").join(tokens)

    def one_hot(self, ids: Iterable[int]) -> np.ndarray:
        """Ids (T,) -> float64 array (T, V) with a single 1 per row."""
        idx = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
        if idx.ndim != 1:
            raise ValueError(
                f"Vocab.one_hot: expected a 1-D sequence of ids, got shape {idx.shape}"
            )
        if idx.size and idx.dtype.kind not in "iu":
            raise TypeError(f"Vocab.one_hot: ids must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
        bad = idx[(idx < 0) | (idx >= len(self))]
        if bad.size:
            raise IndexError(
                f"Vocab.one_hot: id {int(bad[0])} out of range for a vocab of size {len(self)}"
            )
        out = np.zeros((idx.size, len(self)), dtype=np.float64)
        out[np.arange(idx.size), idx] = 1.0
        return out

    # ---------------------------------------------------------- equality, repr
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return (self.level, self.lower, self.specials, self._itos) == (
            other.level,
            other.lower,
            other.specials,
            other._itos,
        )

    def __hash__(self) -> int:
        return hash((self.level, self.lower, self.specials, self._itos))

    def __repr__(self) -> str:
        shown = list(self._itos[len(self.specials) : len(self.specials) + 8])
        more = ", ..." if len(self) > len(self.specials) + 8 else ""
        head = ", ".join(repr(t) for t in shown)
        return (
            f"Vocab(level={self.level!r}, size={len(self)}, lower={self.lower}, "
            f"specials={list(self.specials)!r}, tokens=[{head}{more}])"
        )

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: format tag, version, level, lower, specials, tokens (non-special)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "level": self.level,
            "lower": self.lower,
            "specials": list(self.specials),
            "tokens": list(self._itos[len(self.specials) :]),
        }

    @classmethod
    def from_dict(cls, d: Any) -> Vocab:
        """Rebuild a Vocab from to_dict() output; ValueError naming the problem if malformed."""
        where = "Vocab.from_dict"
        if not isinstance(d, dict):
            raise ValueError(f"{where}: expected a dict (JSON object), got {type(d).__name__}")
        missing = [k for k in _DICT_KEYS if k not in d]
        if missing:
            raise ValueError(f"{where}: missing key(s) {missing}; expected keys {list(_DICT_KEYS)}")
        unknown = sorted(str(k) for k in d if k not in _DICT_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; expected keys {list(_DICT_KEYS)}")
        if d["format"] != _FORMAT:
            raise ValueError(f"{where}: 'format' must be {_FORMAT!r}, got {d['format']!r}")
        if d["version"] != _VERSION:
            raise ValueError(
                f"{where}: unsupported 'version' {d['version']!r} (this code reads {_VERSION})"
            )
        if not isinstance(d["lower"], bool):
            raise ValueError(f"{where}: 'lower' must be true or false, got {d['lower']!r}")
        for key in ("specials", "tokens"):
            if not isinstance(d[key], list):
                raise ValueError(
                    f"{where}: {key!r} must be a list of strings, got {type(d[key]).__name__}"
                )
        try:
            return cls(d["tokens"], level=d["level"], specials=d["specials"], lower=d["lower"])
        except (TypeError, ValueError) as e:  # re-raise with the entry point's name
            raise ValueError(f"{where}: {str(e).removeprefix('Vocab: ')}") from None

    def to_json(self, indent: int | None = None) -> str:
        """Serialise to a JSON string (UTF-8 text, no pickle)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_json(cls, s: str | bytes) -> Vocab:
        """Parse a to_json() string; ValueError naming the problem for malformed input."""
        if not isinstance(s, (str, bytes, bytearray)):
            raise ValueError(f"Vocab.from_json: expected a JSON string, got {type(s).__name__}")
        try:
            d = json.loads(s)
        except json.JSONDecodeError as e:
            raise ValueError(f"Vocab.from_json: not valid JSON ({e})") from None
        return cls.from_dict(d)
