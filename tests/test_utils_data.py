"""Tests of tinygrad_seq.utils.data: datasets, samplers, collation, DataLoader, random_split.

Parity tests run one script under tinygrad_seq and under PyTorch (tests/script_parity.py); they
record collated structures with their type names and exact dtype names, and compare random
orders only as permutations (the two frameworks' generators differ).
"""

from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np
import pytest
from script_parity import check_script

import tinygrad_seq as ts
from tinygrad_seq.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)

Point = namedtuple("Point", ["x", "y"])


class Squares(Dataset):
    """i -> i * i, n of them."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self) -> int:
        return self.n


class Stream(IterableDataset):
    """0, 1, ..., n - 1 as a stream."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def _ids(loader) -> list[int]:
    return [int(v) for batch in loader for v in batch.numpy().ravel()]


# ---- import paths ----------------------------------------------------------------------------


def test_reachable_as_torch_utils_data():
    assert ts.utils.data.DataLoader is DataLoader
    assert "utils" in ts.__all__
    for name in ts.utils.data.__all__:
        assert getattr(ts.utils.data, name) is not None


# ---- collation -------------------------------------------------------------------------------


def test_default_collate_structures_and_dtypes():
    batch = [
        {"x": ts.tensor([1.0, 2.0]), "n": 1, "f": 0.5, "s": "a", "p": Point(1, 2.0)},
        {"x": ts.tensor([3.0, 4.0]), "n": 2, "f": 1.5, "s": "b", "p": Point(3, 4.0)},
    ]
    out = default_collate(batch)
    assert out["x"].shape == (2, 2) and out["x"].dtype == ts.float32
    assert out["n"].dtype == ts.int64 and out["n"].tolist() == [1, 2]
    assert out["f"].dtype == ts.float64  # Python floats -> float64, as PyTorch
    assert out["s"] == ["a", "b"]
    assert isinstance(out["p"], Point) and out["p"].x.tolist() == [1, 3]
    pairs = default_collate([(1, np.float32(2)), (3, np.float32(4))])
    assert isinstance(pairs, list) and pairs[1].dtype == ts.float32
    arrays = default_collate([np.arange(3, dtype=np.int32)] * 2)
    assert arrays.shape == (2, 3) and arrays.dtype == ts.int32
    assert default_collate([True, False]).dtype == ts.bool_


def test_default_collate_keeps_the_graph():
    w = ts.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0])


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\]"):
        default_collate([ts.zeros(2), ts.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"])])


def test_default_convert_shares_numpy_memory():
    a = np.arange(3)
    out = default_convert({"a": a, "t": (np.int64(4), "s")})
    out["a"][0] = 10  # from_numpy: a view of the same memory, as torch.as_tensor
    assert a[0] == 10
    assert isinstance(out["t"], list) and out["t"][0].dtype == ts.int64 and out["t"][1] == "s"
    assert default_convert(3) == 3


# ---- samplers --------------------------------------------------------------------------------


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2
    rs = RandomSampler(range(5), num_samples=12, generator=np.random.default_rng(0))
    got = list(rs)
    assert len(got) == len(rs) == 12
    assert sorted(got[:5]) == sorted(got[5:10]) == list(range(5)) and len(set(got[10:])) == 2
    wr = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(wr) == 50 and set(wr) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([7, 8, 9])) == [7, 8, 9]


def test_weighted_random_sampler():
    rng = np.random.default_rng(0)
    draws = list(WeightedRandomSampler([1.0, 3.0, 0.0], 4000, generator=rng))
    counts = np.bincount(draws, minlength=3)
    assert counts[2] == 0 and abs(counts[1] / 4000 - 0.75) < 0.03
    # without replacement: each index once, zero weights last (as torch.multinomial)
    order = list(WeightedRandomSampler([0.0, 5.0, 5.0], 3, replacement=False, generator=rng))
    assert sorted(order[:2]) == [1, 2] and order[2] == 0
    assert list(WeightedRandomSampler(ts.tensor([0.0, 2.0]), 2)) == [1, 1]


def test_random_sampler_follows_manual_seed_and_generator():
    ts.manual_seed(3)
    a = list(RandomSampler(range(20)))
    ts.manual_seed(3)
    assert list(RandomSampler(range(20))) == a
    assert list(RandomSampler(range(20), generator=np.random.default_rng(1))) == list(
        np.random.default_rng(1).permutation(20)
    )
    with pytest.raises(TypeError, match="numpy Generator.*got int"):
        RandomSampler(range(3), generator=1)


def test_a_generator_object_wrapping_numpy_is_drawn_from():
    class Wrapper:  # the shape of a torch.Generator-like class: .numpy is its numpy Generator
        def __init__(self, seed):
            self.numpy = np.random.default_rng(seed)

    want = np.random.default_rng(4).permutation(6).tolist()
    assert list(RandomSampler(range(6), generator=Wrapper(4))) == want
    assert random_split(range(6), [6], generator=Wrapper(4))[0].indices == want


def test_sampler_errors():
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement=1"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last=None"):
        BatchSampler(range(3), 1, None)


# ---- datasets --------------------------------------------------------------------------------


def test_tensor_subset_concat():
    ds = TensorDataset(ts.arange(6).reshape(3, 2), ts.tensor([0.0, 1.0, 2.0]))
    assert len(ds) == 3 and ds[1][0].tolist() == [2, 3] and ds[1][1].item() == 1.0
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(ts.zeros(3), ts.zeros(2))
    sub = Subset(Squares(10), [9, 2, 4])
    assert len(sub) == 3 and sub[0] == 81 and sub.__getitems__([1, 2]) == [4, 16]
    cat = Squares(3) + Squares(2)
    assert isinstance(cat, ConcatDataset) and cat.cumulative_sizes == [3, 5]
    assert [cat[i] for i in range(5)] == [0, 1, 4, 0, 1] and cat[-2] == 0
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        cat[-6]
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Stream(2)])
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]


def test_subset_subclass_must_override_getitems():
    class Bad(Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(Squares(3), [0])


def test_random_split_counts_fractions_and_seed():
    parts = random_split(range(10), [3, 7], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert parts[0].indices == np.random.default_rng(0).permutation(10).tolist()[:3]
    # floor(0.3 * 11) = 3 each, 0.4 -> 4; the remainder 1 goes round robin from the first
    assert [len(p) for p in random_split(range(11), [0.3, 0.3, 0.4])] == [4, 3, 4]
    ts.manual_seed(5)
    a = [p.indices for p in random_split(range(8), [0.5, 0.5])]
    ts.manual_seed(5)
    assert [p.indices for p in random_split(range(8), [0.5, 0.5])] == a
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="length at index 0 is negative"):
        random_split(range(10), [-1, 11])


# ---- DataLoader ------------------------------------------------------------------------------


def test_dataloader_batches_len_and_drop_last():
    ds = TensorDataset(ts.arange(10).reshape(5, 2), ts.arange(5))
    batches = list(DataLoader(ds, batch_size=2))
    assert len(batches) == len(DataLoader(ds, batch_size=2)) == 3
    assert batches[0][0].tolist() == [[0, 1], [2, 3]] and batches[2][1].tolist() == [4]
    assert len(list(DataLoader(ds, batch_size=2, drop_last=True))) == 2
    assert len(DataLoader(ds, batch_size=2, drop_last=True)) == 2
    plain = list(DataLoader(Squares(3), batch_size=None))
    assert plain == [0, 1, 4]  # no batching: default_convert leaves ints alone
    custom = list(DataLoader(Squares(4), batch_size=2, collate_fn=sum))
    assert custom == [1, 13]


def test_dataloader_shuffle_is_a_repeatable_permutation():
    ts.manual_seed(0)
    a = _ids(DataLoader(Squares(30), batch_size=4, shuffle=True))
    ts.manual_seed(0)
    assert _ids(DataLoader(Squares(30), batch_size=4, shuffle=True)) == a
    assert sorted(a) == sorted(i * i for i in range(30)) and a != sorted(a)
    loader = DataLoader(Squares(30), batch_size=4, shuffle=True)
    assert _ids(loader) != _ids(loader)  # a new order each epoch
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert _ids(DataLoader(Squares(9), shuffle=True, generator=g1)) == _ids(
        DataLoader(Squares(9), shuffle=True, generator=g2)
    )


def test_dataloader_iterable_dataset():
    assert _ids(DataLoader(Stream(5), batch_size=2)) == [0, 1, 2, 3, 4]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == [
        [0, 1],
        [2, 3],
    ]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3)))  # a stream without __len__, as PyTorch


def test_dataloader_uses_getitems_when_present():
    calls = []

    class Batched(Squares):
        def __getitems__(self, indices):
            calls.append(list(indices))
            return [i * i for i in indices]

    assert _ids(DataLoader(Batched(5), batch_size=3)) == [0, 1, 4, 9, 16]
    assert calls == [[0, 1, 2], [3, 4]]


def test_dataloader_num_workers_runs_in_process_with_a_warning():
    with pytest.warns(UserWarning, match="in the calling process"):
        loader = DataLoader(Squares(4), batch_size=2, num_workers=2)
    assert _ids(loader) == [0, 1, 4, 9]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(Squares(4), num_workers=0)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        DataLoader(Squares(4), pin_memory=True)


def test_dataloader_option_errors():
    ds = Squares(4)
    with pytest.raises(TypeError, match="numpy Generator"):
        DataLoader(ds, shuffle=True, generator="seed")
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 0  # not one of the frozen attributes


# ---- PyTorch parity --------------------------------------------------------------------------

COLLATE_SCRIPT = """
import collections
P = collections.namedtuple("P", ["a", "b"])
D = torch.utils.data

def show(name, v):
    rec(name + ".type", type(v).__name__)
    if isinstance(v, dict):
        for k in sorted(v):
            show(name + "." + k, v[k])
    elif isinstance(v, (list, tuple)):
        rec(name + ".len", len(v))
        for i, x in enumerate(v):
            show(name + "." + str(i), x)
    elif hasattr(v, "dtype"):
        rec(name + ".dtype", str(v.dtype).replace("torch.", ""))
        rec(name, v)
    else:
        rec(name, v)

samples = [
    {"t": torch.tensor([1.0, 2.0]), "i": 3, "f": 0.5, "s": "x", "b": True,
     "np": np.array([1, 2], dtype=np.int32), "npf": np.float32(1.5), "npi": np.int64(7),
     "pair": (1, "u"), "lst": [1.0, 2], "nt": P(1, np.zeros(2))},
    {"t": torch.tensor([3.0, 4.0]), "i": 4, "f": 1.5, "s": "y", "b": False,
     "np": np.array([3, 4], dtype=np.int32), "npf": np.float32(2.5), "npi": np.int64(8),
     "pair": (2, "v"), "lst": [3.0, 4], "nt": P(2, np.ones(2))},
]
show("batch", D.default_collate(samples))
show("mixed", D.default_collate([1, 2.5]))
show("bytes", D.default_collate([b"a", b"b"]))
show("conv", D.default_convert({"a": np.arange(2), "t": (np.int32(4), "s"), "n": 3}))
"""


@pytest.mark.parity
def test_parity_default_collate_and_convert():
    check_script(COLLATE_SCRIPT)


LOADER_SCRIPT = """
D = torch.utils.data
ds = D.TensorDataset(torch.arange(14).reshape(7, 2), torch.arange(7) * 1.5)
for bs in (1, 3, 7, 10):
    for drop in (False, True):
        loader = D.DataLoader(ds, batch_size=bs, drop_last=drop)
        rec(f"len{bs}{drop}", len(loader))
        for k, (x, y) in enumerate(loader):
            rec(f"x{bs}{drop}{k}", x)
            rec(f"y{bs}{drop}{k}", y)
            rec(f"dt{bs}{drop}{k}", (str(x.dtype), str(y.dtype)).__repr__().replace("torch.", ""))
nobatch = list(D.DataLoader(ds, batch_size=None))
rec("nobatch.len", len(nobatch))
rec("nobatch.3", nobatch[3])
bs = D.BatchSampler(D.SequentialSampler(range(5)), 2, False)
rec("bsampler", tuple(tuple(b) for b in bs))
by_sampler = D.DataLoader(ds, batch_sampler=[[6, 0], [3]])
rec("by_sampler", tuple(x for x, _ in by_sampler))
rec("by_sampler.len", len(by_sampler))
perm = D.DataLoader(ds, batch_size=2, shuffle=True)
rec("shuffled", tuple(sorted(int(v) for _, y in perm for v in (y / 1.5).tolist())))
rs = D.RandomSampler(range(4), replacement=True, num_samples=9)
got = list(rs)
rec("rs", (len(rs), len(got), all(0 <= i < 4 for i in got)))
ws = list(D.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False))
rec("weighted", (sorted(ws[:2]), ws[2]))
ws = list(D.WeightedRandomSampler([1.0, 0.0, 2.0], 30))
rec("weighted_repl", (len(ws), 1 in ws))
rec("worker_info", D.get_worker_info())
rs = D.RandomSampler(range(4), num_samples=10)
got = list(rs)
rec("rs_perm", (tuple(sorted(got[:4])), tuple(sorted(got[4:8])), len(set(got[8:]))))
"""


@pytest.mark.parity
def test_parity_dataloader_batches():
    check_script(LOADER_SCRIPT)


DATASETS_SCRIPT = """
import warnings
D = torch.utils.data

class Sq(D.Dataset):
    def __init__(self, n):
        self.n = n
    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return (i, float(i) / 2, str(i))
    def __len__(self):
        return self.n

class St(D.IterableDataset):
    def __init__(self, n):
        self.n = n
    def __iter__(self):
        return iter([{"v": i, "w": [i, i + 1]} for i in range(self.n)])
    def __len__(self):
        return self.n

for k, (a, b, c) in enumerate(D.DataLoader(Sq(5), batch_size=2)):
    rec(f"sq{k}", (a, b, tuple(c), repr((str(a.dtype), str(b.dtype))).replace("torch.", "")))
for drop in (False, True):
    loader = D.DataLoader(St(5), batch_size=2, drop_last=drop)
    rec(f"st.len{drop}", len(loader))
    for k, batch in enumerate(loader):
        rec(f"st{drop}{k}", (batch["v"], batch["w"][0], batch["w"][1], type(batch["w"]).__name__))
rec("st.none", tuple(d["v"] for d in D.DataLoader(St(3), batch_size=None)))
stack = D.StackDataset(Sq(3), Sq(3))
rec("stack", (len(stack), stack[2][1][0], type(stack[0]).__name__))
named = D.DataLoader(D.StackDataset(a=Sq(3), b=Sq(3)), batch_size=2)
rec("stack_named", tuple((sorted(b), b["a"][0], b["b"][2]) for b in named))
cat = Sq(3) + Sq(2)
rec("cat", (len(cat), cat.cumulative_sizes[0], cat[3][0], cat[-1][0], type(cat).__name__))
chain = St(2) + St(1)
rec("chain", (type(chain).__name__, len(chain), tuple(d["v"] for d in chain)))
sub = D.Subset(Sq(10), [9, 2])
rec("sub", (len(sub), sub[0][0], sub[1][2]))
for lengths in ([3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [0.5, 0.5], [1], [0.33, 0.33, 0.34]):
    parts = D.random_split(range(10), lengths)
    idx = [i for p in parts for i in p]
    rec(f"split{lengths}", (tuple(len(p) for p in parts), tuple(sorted(idx))))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    parts = D.random_split(range(3), [0.9, 0.1])
    rec("zero_warn", (tuple(len(p) for p in parts), str(w[0].message)))
"""


@pytest.mark.parity
def test_parity_datasets_and_random_split():
    check_script(DATASETS_SCRIPT)


ERRORS = {
    "sum": ("D.random_split(range(10), [3, 3])", "Sum of input lengths does not equal"),
    "fraction": ("D.random_split(range(10), [1.5, -0.5])", "Fraction at index 0 is not"),
    "stack": ("D.default_collate([torch.zeros(2), torch.zeros(3)])", "stack expects each"),
    "sizes": ("D.default_collate([[1, 2], [3]])", "each element in list of batch"),
    "type": ("D.default_collate([object()])", "batch must contain tensors"),
    "npstr": ("D.default_collate([np.array(['a'])])", "found <U1"),
    "sampler_shuffle": ("D.DataLoader(range(3), sampler=[0], shuffle=True)", "mutually exclusive"),
    "batch_sampler": ("D.DataLoader(range(3), batch_sampler=[[0]], batch_size=2)", "batch_size"),
    "none_drop": ("D.DataLoader(range(3), batch_size=None, drop_last=True)", "auto-batching"),
    "workers": ("D.DataLoader(range(3), num_workers=-1)", "non-negative"),
    "timeout": ("D.DataLoader(range(3), timeout=-1)", "timeout option"),
    "iter_shuffle": ("D.DataLoader(S(), shuffle=True)", "shuffle=True"),
    "iter_sampler": ("D.DataLoader(S(), sampler=[0])", "sampler option"),
    "bs0": ("D.DataLoader(range(3), batch_size=0)", "batch_size=0"),
    "num_samples": ("D.RandomSampler(range(3), num_samples=0)", "num_samples=0"),
    "replacement": ("D.RandomSampler(range(3), replacement=1)", "replacement=1"),
    "drop_last": ("D.BatchSampler(range(3), 2, 1)", "drop_last=1"),
    "tensors": ("D.TensorDataset(torch.zeros(3), torch.zeros(2))", "Size mismatch"),
    "stack_both": ("D.StackDataset(range(2), b=range(2))", "both types are given"),
    "stack_none": ("D.StackDataset()", "At least one dataset"),
    "stack_sizes": ("D.StackDataset(range(2), range(3))", "Size mismatch"),
    "concat": ("D.ConcatDataset([])", "should not be an empty iterable"),
    "concat_iter": ("D.ConcatDataset([S()])", "does not support"),
    "concat_index": ("D.ConcatDataset([range(2)])[-3]", "should not exceed"),
    "getitem": ("D.Dataset()[0]", "should implement __getitem__"),
    "abstract_stream": ("D.IterableDataset()", "abstract"),
    "setattr": ("D.DataLoader(range(3)).sampler = None", "should not be set after"),
    "no_len": ("len(D.DataLoader(D.Dataset()))", None),
    "w_shape": ("D.WeightedRandomSampler([[1.0, 2.0]], 2)", "1d sequence"),
    "w_num": ("D.WeightedRandomSampler([1.0], 0)", "num_samples=0"),
    "w_repl": ("D.WeightedRandomSampler([1.0], 1, replacement=1)", "replacement=1"),
    "w_many": ("list(D.WeightedRandomSampler([1.0, 2.0], 5, False))", "n_sample >"),
    "w_neg": ("list(D.WeightedRandomSampler([-1.0, 2.0], 2))", "entry < 0"),
    "w_nan": ("list(D.WeightedRandomSampler([float('nan'), 2.0], 2))", "entry < 0"),
    "w_inf": ("list(D.WeightedRandomSampler([float('inf'), 2.0], 2))", "infinity or NaN"),
    "w_zero": ("list(D.WeightedRandomSampler([0.0, 0.0], 2))", "sum of probabilities"),
}


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_parity_errors(name):
    code, phrase = ERRORS[name]
    prelude = "D = torch.utils.data\nclass S(D.IterableDataset):\n    def __iter__(self):\n"
    check_script(f"{prelude}        return iter([])\n{code}\n", error_contains=phrase)


TRAINING_SCRIPT = """
D = torch.utils.data
x = torch.tensor(np.linspace(-1.0, 1.0, 24).reshape(12, 2))
y = (x[:, :1] * 3.0 - x[:, 1:] * 0.5 + 0.25)

class Pairs(D.Dataset):
    def __len__(self):
        return 12
    def __getitem__(self, i):
        return {"x": x[i], "y": y[i], "i": i}

lin = torch.nn.Linear(2, 1)
with torch.no_grad():
    lin.weight.copy_(torch.tensor([[0.1, -0.2]]))
    lin.bias.copy_(torch.tensor([0.05]))
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
train, valid = D.Subset(Pairs(), list(range(9))), D.Subset(Pairs(), [9, 10, 11])
for epoch in range(3):
    for k, batch in enumerate(D.DataLoader(train, batch_size=4)):
        opt.zero_grad()
        loss = ((lin(batch["x"]) - batch["y"]) ** 2).mean()
        loss.backward()
        opt.step()
        rec(f"loss{epoch}.{k}", loss)
        rec(f"ids{epoch}.{k}", batch["i"])
    with torch.no_grad():
        (v,) = list(D.DataLoader(valid, batch_size=3))
        rec(f"valid{epoch}", ((lin(v["x"]) - v["y"]) ** 2).mean())
rec("weight", lin.weight)
"""


@pytest.mark.parity
def test_parity_a_training_loop_over_a_dataloader():
    """A whole small program: a Linear trained by SGD on DataLoader batches of dict samples."""
    recorded = check_script(TRAINING_SCRIPT)
    assert len([k for k in recorded if k.startswith("loss")]) == 9
