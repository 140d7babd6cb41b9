"""Tests of tinygrad_seq.io: safetensors round trips, nesting, metadata, atomic writes, errors."""

import errno
import json
import math
import os
import pathlib
import sys

import numpy as np
import pytest
import safetensors
import safetensors.numpy
from script_parity import check_script

from tinygrad_seq import tensor
from tinygrad_seq.io import (
    CheckpointError,
    CheckpointNotFoundError,
    load,
    load_into,
    load_metadata,
    save,
)
from tinygrad_seq.tensor import Tensor

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from helpers import require_torch  # noqa: E402


def _arrays(rng):
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal((2, 5)),
        "i64": rng.integers(-(2**62), 2**62, size=(7,), dtype=np.int64),
        "bool": rng.random((2, 2)) > 0.5,
        "f16": rng.standard_normal(4).astype(np.float16),
        "u8": np.arange(5, dtype=np.uint8),
        "empty": np.zeros((0, 3), np.float32),
        "zero_d": np.array(2.5),
        "specials": np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324]),
    }


def _assert_bitwise(a, b):
    assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _assert_loaded(a, b):
    """a, loaded, is a Tensor (as torch.load gives) holding exactly the array b."""
    assert isinstance(a, Tensor), f"load gave a {type(a).__name__}, not a Tensor"
    _assert_bitwise(a.numpy(), b)


def _optimizer_like(rng):
    return {
        "state": {
            0: {"step": 3, "exp_avg": rng.standard_normal((4, 2)), "exp_avg_sq": np.ones(2)},
            1: {"step": 3, "exp_avg": rng.standard_normal(2), "exp_avg_sq": np.zeros(2)},
        },
        "param_groups": [
            {
                "lr": 0.1,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "params": [0, 1],
                "nesterov": False,
                "name": None,
                "schedule": "cosine",
                "max_norm": math.inf,
            }
        ],
    }


# ------------------------------------------------------------------------------- round trips


def test_round_trip_is_bitwise_and_keeps_dtypes(tmp_path, rng):
    arrays = _arrays(rng)
    path = tmp_path / "a.safetensors"
    save(arrays, path)
    back = load(path)
    assert list(back) == list(arrays)
    for k, v in arrays.items():
        _assert_loaded(back[k], v)
        assert back[k].numpy().flags.writeable


def test_tensors_save_their_data_and_numpy_scalars_stay_scalars(tmp_path):
    t = tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    save({"w": t, "s": np.float32(1.5), "n": np.int64(-4)}, tmp_path / "t.safetensors")
    back = load(tmp_path / "t.safetensors")
    _assert_loaded(back["w"], t.detach().numpy())
    assert type(back["s"]) is np.float32 and back["s"] == 1.5
    assert type(back["n"]) is np.int64 and back["n"] == -4


def test_nested_model_and_optimizer_round_trip_exactly(tmp_path, rng):
    model = {"rnn.weight_ih_l0": rng.standard_normal((8, 3)), "fc.bias": np.zeros(2, np.float32)}
    ckpt = {
        "model": model,
        "optimizer": _optimizer_like(rng),
        "epoch": 3,
        "best": None,
        "history": [1.5, float("nan"), -0.0],
        "flags": (True, "x", 10**30),
        1.5: "float key",
        None: "none key",
        False: "bool key",
    }
    path = tmp_path / "ckpt.safetensors"
    save(ckpt, path)
    back = load(path)
    assert list(back) == list(ckpt)
    for k in model:
        _assert_loaded(back["model"][k], model[k])
    opt, opt_back = ckpt["optimizer"], back["optimizer"]
    assert list(opt_back["state"]) == [0, 1]  # int keys come back as ints
    for i in (0, 1):
        assert type(opt_back["state"][i]["step"]) is int and opt_back["state"][i]["step"] == 3
        for name in ("exp_avg", "exp_avg_sq"):
            _assert_loaded(opt_back["state"][i][name], opt["state"][i][name])
    assert opt_back["param_groups"] == opt["param_groups"]
    group = opt_back["param_groups"][0]
    assert type(group["betas"]) is tuple and type(group["weight_decay"]) is int
    assert group["nesterov"] is False and group["name"] is None and group["max_norm"] == math.inf
    assert back["epoch"] == 3 and back["best"] is None and back["flags"] == (True, "x", 10**30)
    assert math.isnan(back["history"][1]) and math.copysign(1, back["history"][2]) == -1
    assert back[1.5] == "float key" and back[None] == "none key" and back[False] == "bool key"
    names = set(safetensors.numpy.load_file(path))
    assert {"model.rnn.weight_ih_l0", "optimizer.state.0.exp_avg"} <= names


def test_flat_dict_tensor_names_are_exactly_the_keys(tmp_path, rng):
    state = {"weight": rng.standard_normal((2, 2)), "rnn.weight_ih_l0": np.ones((4, 3))}
    path = tmp_path / "flat.safetensors"
    save(state, path)
    theirs = safetensors.numpy.load_file(path)
    assert set(theirs) == set(state)
    for k in state:
        _assert_bitwise(theirs[k], state[k])


def test_dotted_keys_that_clash_with_nesting_still_round_trip(tmp_path):
    state = {"a.b": np.ones(1), "a": {"b": np.zeros(1)}, "__metadata__": np.full(1, 7.0)}
    save(state, tmp_path / "c.safetensors")
    back = load(tmp_path / "c.safetensors")
    assert list(back) == ["a.b", "a", "__metadata__"]
    assert back["a.b"][0] == 1 and back["a"]["b"][0] == 0 and back["__metadata__"][0] == 7


def test_file_from_another_tool_loads_flat(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"x.y": np.arange(3)}, path, metadata={"format": "pt"})
    back, meta = load(path, with_metadata=True)
    assert list(back) == ["x.y"] and back["x.y"].tolist() == [0, 1, 2]
    assert meta == {"format": "pt"}


def test_metadata_round_trip(tmp_path):
    vocab = {"itos": ["<unk>", "a", "b"], "unk_index": 0}
    meta = {"vocab": json.dumps(vocab), "note": "epoch 3", "config": {"hidden": 16, "p": 0.1}}
    path = tmp_path / "m.safetensors"
    save({"w": np.ones(2)}, path, metadata=meta)
    assert load_metadata(path) == meta
    state, meta_back = load(path, with_metadata=True)
    assert meta_back == meta and json.loads(meta_back["vocab"]) == vocab
    with safetensors.safe_open(path, "np") as f:  # str values stay readable by other tools
        assert f.metadata()["note"] == "epoch 3"
    save({"w": np.ones(2)}, path)
    assert load_metadata(path) == {}


# ------------------------------------------------------------------------------ save errors


@pytest.mark.parametrize(
    "value, what",
    [
        (np.array([{"a": 1}], dtype=object), "dtype object"),
        (np.array(["a", "b"]), "dtype <U1"),
        (np.zeros(2, np.complex128), "dtype complex128"),
        (object(), "type object"),
        ({1, 2}, "type set"),
        (b"bytes", "type bytes"),
    ],
)
def test_unstorable_values_raise_type_error_naming_the_key(tmp_path, value, what):
    with pytest.raises(TypeError, match=r"state_dict\['opt'\]\['state'\]\[0\]\['x'\].*" + what):
        save({"opt": {"state": {0: {"x": value}}}}, tmp_path / "bad.safetensors")
    assert not os.listdir(tmp_path)


def test_bad_keys_and_metadata_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"dict key \(1, 2\)"):
        save({(1, 2): np.ones(1)}, tmp_path / "k.safetensors")
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        save({"w": np.ones(1)}, tmp_path / "k.safetensors", metadata={"x": object()})
    with pytest.raises(ValueError, match="tinygrad_seq."):
        save({"w": np.ones(1)}, tmp_path / "k.safetensors", metadata={"tinygrad_seq.tree": "x"})
    with pytest.raises(TypeError, match="dict-like"):
        save([np.ones(1)], tmp_path / "k.safetensors")
    with pytest.raises(IsADirectoryError):
        save({"w": np.ones(1)}, tmp_path)
    assert not os.listdir(tmp_path)


# --------------------------------------------------------------------------------- atomicity


def _interrupted(tmp_path, monkeypatch, target, fake):
    path = tmp_path / "model.safetensors"
    save({"w": np.arange(1000.0)}, path, metadata={"v": "old"})
    old = path.read_bytes()
    monkeypatch.setattr(*target, fake)
    with pytest.raises((OSError, KeyboardInterrupt)):
        save({"w": np.zeros(1000), "v": np.ones(50)}, path, metadata={"v": "new"})
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind
    assert load_metadata(path) == {"v": "old"}


def _raise(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


def test_disk_full_at_fsync_keeps_old_checkpoint(tmp_path, monkeypatch):
    enospc = OSError(errno.ENOSPC, "No space left on device")
    _interrupted(tmp_path, monkeypatch, (os, "fsync"), _raise(enospc))


def test_disk_full_mid_write_keeps_old_checkpoint(tmp_path, monkeypatch):
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    fake = lambda fd, mode: HalfWriter(real_fdopen(fd, mode))  # noqa: E731
    _interrupted(tmp_path, monkeypatch, (os, "fdopen"), fake)


def test_crash_before_rename_and_serializer_failure_keep_old_checkpoint(tmp_path, monkeypatch):
    _interrupted(tmp_path, monkeypatch, (os, "replace"), _raise(KeyboardInterrupt()))
    enospc = OSError(errno.ENOSPC, "No space left on device")
    _interrupted(tmp_path, monkeypatch, (safetensors.numpy, "save"), _raise(enospc))


def test_save_replaces_existing_file(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"w": np.ones(3)}, path)
    save({"w": np.zeros(2)}, str(path))
    assert load(path)["w"].tolist() == [0.0, 0.0]
    assert os.listdir(tmp_path) == ["m.safetensors"]


# ------------------------------------------------------------------------------ load errors


@pytest.fixture
def real_ckpt(tmp_path, rng):
    path = tmp_path / "real.safetensors"
    save({"a": rng.standard_normal((10, 10)), "b": np.arange(4)}, path, metadata={"m": "x"})
    return path


def _load_error(path, match):
    for reader in (load, load_metadata):
        with pytest.raises(CheckpointError, match=match) as info:
            reader(path)
        assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    _load_error(tmp_path / "nope.safetensors", "does not exist")
    with pytest.raises(FileNotFoundError):  # the usual `except FileNotFoundError` still works
        load(tmp_path / "nope.safetensors")
    assert issubclass(CheckpointNotFoundError, CheckpointError)


def test_truncated_file(real_ckpt):
    data = real_ckpt.read_bytes()
    real_ckpt.write_bytes(data[:-100])
    with pytest.raises(CheckpointError, match="file is truncated") as info:
        load(real_ckpt)
    assert f"header says {len(data)} bytes, file has {len(data) - 100}" in str(info.value)
    real_ckpt.write_bytes(data[:20])  # cut inside the header
    _load_error(real_ckpt, "file is truncated")
    real_ckpt.write_bytes(data[:8])
    _load_error(real_ckpt, "file is truncated")


def test_corrupt_files(tmp_path, real_ckpt):
    data = bytearray(real_ckpt.read_bytes())
    real_ckpt.write_bytes(bytes(data) + b"junk")
    _load_error(real_ckpt, "trailing data")
    data[8 + 5] = ord("?")  # break the JSON header
    real_ckpt.write_bytes(bytes(data))
    _load_error(real_ckpt, "is corrupt")


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "file is empty"),
        (b"\x00\x01", "is not a safetensors file"),
        (b"this is not a checkpoint at all, just garbage bytes\x00\xff", "not a safetensors"),
        (bytes(range(256)) * 4, "is not a safetensors file"),
        (json.dumps({"weight": [1.0, 2.0]}).encode(), "is not a safetensors file"),
    ],
    ids=["empty", "tiny", "garbage", "bytes", "json"],
)
def test_not_safetensors(tmp_path, content, match):
    path = tmp_path / "x.safetensors"
    path.write_bytes(content)
    _load_error(path, match)


def test_directory_path(tmp_path):
    _load_error(tmp_path, "is a directory")


def test_bad_structure_metadata(tmp_path):
    path = tmp_path / "s.safetensors"
    safetensors.numpy.save_file(
        {"w": np.ones(1)}, path, metadata={"tinygrad_seq.tree": '{"dict":[["w",{"tensor":"v"}]]}'}
    )
    with pytest.raises(CheckpointError, match="bad structure metadata.*'v'"):
        load(path)
    meta = {"tinygrad_seq.tree": "{}", "tinygrad_seq.format_version": "2"}
    safetensors.numpy.save_file({"w": np.ones(1)}, path, metadata=meta)
    with pytest.raises(CheckpointError, match="format version '2'"):
        load(path)


# ------------------------------------------------------------------------ loading into models


class FakeModule:
    """Duck-typed module: state_dict() and a strict load_state_dict that lists mismatches."""

    def __init__(self):
        self.params = {"rnn.weight_ih_l0": np.zeros((8, 3)), "fc.bias": np.zeros(2)}

    def state_dict(self):
        return dict(self.params)

    def load_state_dict(self, state, strict=True):
        bad = [k for k in self.params if k in state and state[k].shape != self.params[k].shape]
        if strict:
            bad += sorted(set(self.params) ^ set(state))
        if bad:
            raise RuntimeError(f"mismatch: {bad}")
        for k, v in state.items():
            self.params[k] = np.array(v)
        return "ok"


class StateDictOnlyLoader(FakeModule):
    state_dict = None  # no state_dict: only load_state_dict's own checks apply

    def __getattribute__(self, name):
        if name == "state_dict":
            raise AttributeError(name)
        return super().__getattribute__(name)


def test_load_into_fake_module(tmp_path, rng):
    good = {"rnn.weight_ih_l0": rng.standard_normal((8, 3)), "fc.bias": np.ones(2)}
    path = tmp_path / "m.safetensors"
    save(good, path)
    m = FakeModule()
    assert load_into(m, path) == "ok"
    _assert_bitwise(m.params["rnn.weight_ih_l0"], good["rnn.weight_ih_l0"])
    save({"model": good, "epoch": 2}, tmp_path / "full.safetensors")
    assert load_into(FakeModule(), tmp_path / "full.safetensors", key="model") == "ok"
    with pytest.raises(CheckpointError, match="no top-level entry 'opt'"):
        load_into(FakeModule(), tmp_path / "full.safetensors", key="opt")
    with pytest.raises(CheckpointError, match="nested checkpoint"):
        load_into(FakeModule(), tmp_path / "full.safetensors")


def test_load_into_lists_every_problem(tmp_path):
    path = tmp_path / "bad.safetensors"
    save({"rnn.weight_ih_l0": np.zeros((4, 3)), "extra": np.zeros(1)}, path)
    with pytest.raises(CheckpointError) as info:
        load_into(FakeModule(), path)
    msg = str(info.value)
    assert str(path) in msg and "does not fit FakeModule" in msg
    for part in ("shape mismatch for 'rnn.weight_ih_l0'", "(8, 3)", "(4, 3)"):
        assert part in msg
    assert "missing key 'fc.bias'" in msg and "unexpected key 'extra'" in msg
    with pytest.raises(CheckpointError, match="shape mismatch") as info:
        load_into(FakeModule(), path, strict=False)
    assert "missing key" not in str(info.value)
    with pytest.raises(CheckpointError, match=r"does not fit StateDictOnlyLoader: mismatch"):
        load_into(StateDictOnlyLoader(), path)  # the module's own error, re-raised with the file
    with pytest.raises(CheckpointError, match="does not exist"):
        load_into(FakeModule(), tmp_path / "missing.safetensors")


def _import_nn():
    try:
        from tinygrad_seq.nn import Module, Parameter
    except Exception as e:  # nn may be half-written; report why instead of hiding it
        pytest.skip(f"tinygrad_seq.nn does not import yet ({type(e).__name__}: {e})")
    return Module, Parameter


def test_load_into_real_module(tmp_path, rng):
    Module, Parameter = _import_nn()

    class Tiny(Module):
        def __init__(self):
            super().__init__()
            self.weight = Parameter(np.zeros((3, 2)))

    src = Tiny()
    src.weight.data[...] = rng.standard_normal((3, 2))
    path = tmp_path / "tiny.safetensors"
    save(src.state_dict(), path)
    assert set(safetensors.numpy.load_file(path)) == {"weight"}
    dst = Tiny()
    load_into(dst, path)
    _assert_bitwise(dst.weight.detach().numpy(), src.weight.detach().numpy())
    save({"weight": np.zeros((2, 2)), "bias": np.zeros(2)}, path)
    with pytest.raises(CheckpointError, match=r"shape mismatch for 'weight'[\s\S]*'bias'"):
        load_into(dst, path)


# -------------------------------------------------------------------------- PyTorch parity


@pytest.mark.parity
def test_torch_lstm_loads_our_checkpoint_strictly(tmp_path):
    torch = require_torch()
    import safetensors.torch

    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    path = tmp_path / "lstm.safetensors"
    save(state, path, metadata={"arch": "lstm"})
    fresh = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    loaded = safetensors.torch.load_file(path)
    assert set(loaded) == set(state)
    result = fresh.load_state_dict(loaded, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for k, v in fresh.state_dict().items():
        assert v.dtype == torch.float64 and torch.equal(v, theirs.state_dict()[k])


# ------------------------------------------------------------------------------- torch.save's API


def test_binary_file_objects_round_trip_and_paths_stay_atomic(tmp_path, rng):
    import io

    arrays = _arrays(rng)
    buf = io.BytesIO()
    save(arrays, buf, metadata={"epoch": 3})
    buf.seek(0)
    back, meta = load(buf, with_metadata=True)
    assert meta == {"epoch": 3} and list(back) == list(arrays)
    for k, v in arrays.items():
        _assert_loaded(back[k], v)
    path = tmp_path / "f.safetensors"
    with open(path, "wb") as f:
        save({"w": arrays["f64"]}, f)
    with open(path, "rb") as f:
        _assert_loaded(load(f)["w"], arrays["f64"])
    buf.seek(0)
    assert load_metadata(buf) == {"epoch": 3}
    save({"w": arrays["f32"]}, path)  # a path: through a temporary file, nothing left behind
    assert os.listdir(tmp_path) == ["f.safetensors"]


def test_text_mode_files_and_garbage_streams_raise_clearly(tmp_path):
    import io

    with pytest.raises(TypeError, match="'wb'"):
        save({"w": np.zeros(2)}, io.StringIO())
    with pytest.raises(TypeError, match="'rb'"):
        load(io.StringIO("x"))
    with pytest.raises(CheckpointError, match="BytesIO.*empty"):
        load(io.BytesIO())
    with pytest.raises(CheckpointError, match="truncated"):
        buf = io.BytesIO()
        save({"w": np.zeros(100)}, buf)
        load(io.BytesIO(buf.getvalue()[:-8]))


@pytest.mark.parametrize("where", ["cpu", "cpu:0", {"cuda:0": "cpu"}, None])
def test_map_location_naming_the_cpu_is_accepted(tmp_path, where):
    save({"w": np.ones(2)}, tmp_path / "a.st")
    assert load(tmp_path / "a.st", map_location=where)["w"].tolist() == [1.0, 1.0]


def test_map_location_device_object_and_callable(tmp_path):
    import tinygrad_seq as ts

    save({"w": np.ones(2), "n": {"v": np.arange(3)}}, tmp_path / "a.st")
    if hasattr(ts, "device"):
        assert load(tmp_path / "a.st", map_location=ts.device("cpu"))["w"].tolist() == [1.0, 1.0]
    seen = []
    back = load(tmp_path / "a.st", map_location=lambda t, loc: seen.append(loc) or t * 2)
    assert back["w"].tolist() == [2.0, 2.0] and back["n"]["v"].tolist() == [0, 2, 4]
    assert seen == ["cpu", "cpu"]
    assert load(tmp_path / "a.st", map_location=lambda s, loc: None)["w"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("where", ["cuda", "cuda:1", {"cpu": "cuda:0"}, "mps"])
def test_map_location_to_another_device_raises(tmp_path, where):
    save({"w": np.ones(2)}, tmp_path / "a.st")
    with pytest.raises(RuntimeError, match="CPU only"):
        load(tmp_path / "a.st", map_location=where)


def test_weights_only_is_accepted_and_pickle_module_refused(tmp_path):
    save({"w": np.ones(2)}, tmp_path / "a.st")
    for flag in (True, False, None):
        assert load(tmp_path / "a.st", weights_only=flag)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="never unpickles"):
        load(tmp_path / "a.st", pickle_module=object())


def test_saving_a_whole_module_shows_the_two_lines_to_use(tmp_path):
    import tinygrad_seq as ts

    model = ts.nn.Linear(2, 3)
    with pytest.raises(TypeError) as e:
        ts.save(model, tmp_path / "m.pt")
    msg = str(e.value)
    assert "Linear" in msg and "never pickle" in msg
    assert "torch.save(model.state_dict(), path)" in msg
    assert "model.load_state_dict(torch.load(path))" in msg
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(TypeError, match=r"obj.state_dict\(\)"):
        ts.save(ts.optim.SGD(model.parameters(), lr=0.1), tmp_path / "o.pt")


def test_optimizer_and_scheduler_state_round_trip_through_save_and_load(tmp_path):
    import io

    import tinygrad_seq as ts

    def make():
        ts.manual_seed(0)
        model = ts.nn.Linear(3, 2)
        opt = ts.optim.Adam(model.parameters(), lr=0.1, betas=(0.8, 0.9))
        sched = ts.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    def train(model, opt, sched, steps):
        for i in range(steps):
            opt.zero_grad()
            model(ts.tensor(np.full((4, 3), float(i)))).pow(2).sum().backward()
            opt.step()
            sched.step()

    model, opt, sched = make()
    train(model, opt, sched, 3)
    buf = io.BytesIO()
    ts.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buf
    )
    buf.seek(0)
    ckpt = ts.load(buf)
    model2, opt2, sched2 = make()
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    assert sched2.state_dict() == sched.state_dict()
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    train(model, opt, sched, 2)
    train(model2, opt2, sched2, 2)  # resumed training follows the same path exactly
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=k)


@pytest.mark.parity
def test_save_load_script_runs_the_same_under_torch():
    from script_parity import check_script

    check_script(
        """
import io
model = torch.nn.Linear(3, 2)
buf = io.BytesIO()
torch.save(model.state_dict(), buf)
buf.seek(0)
other = torch.nn.Linear(3, 2)
result = other.load_state_dict(torch.load(buf, map_location="cpu", weights_only=True))
rec("keys", (tuple(result.missing_keys), tuple(result.unexpected_keys)))
x = torch.ones(4, 3)
rec("same", bool((model(x) - other(x)).abs().max() == 0))
"""
    )


LOADED_ARE_TENSORS = """
import io
buf = io.BytesIO()
torch.save({"w": torch.arange(6.0).reshape(2, 3), "ids": torch.tensor([3, 1]), "epoch": 4}, buf)
buf.seek(0)
back = torch.load(buf, weights_only=True)
rec("w", back["w"]); rec("ids", back["ids"]); rec("epoch", back["epoch"])
rec("sum", back["w"].sum()); rec("t", back["w"].t() * 2); rec("shape", tuple(back["w"].shape))
rec("kind", back["w"].requires_grad)
"""


@pytest.mark.parity
def test_load_gives_tensors_as_pytorch():
    """torch.load gives tensors (not arrays): tensor methods and operators work on them."""
    check_script(LOADED_ARE_TENSORS)
