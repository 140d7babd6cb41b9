"""Tests of tinygrad_seq.nn.module: registration, traversal, modes, dtype, state dicts, repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts
from tinygrad_seq import nn


class Block(nn.Module):
    """Linear -> Tanh -> Linear with a scale Parameter and a buffer."""

    def __init__(self, n_in=3, n_hidden=4):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(n_hidden, 2)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.register_buffer("steps", ts.zeros(1))
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Block()
        self.heads = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])

    def forward(self, x):
        return self.heads[1](self.heads[0](self.encoder(x)))


# ----------------------------------------------------------------------------- registration


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["fc1", "act", "fc2"]
    assert list(b._buffers) == ["steps"]
    assert b.note == "plain attribute" and "note" not in b._parameters
    assert isinstance(b.scale, nn.Parameter) and b.scale.requires_grad
    assert nn.Parameter(np.zeros(2), requires_grad=False).requires_grad is False


def test_named_parameters_dotted_names_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "encoder.scale",
        "encoder.fc1.weight",
        "encoder.fc1.bias",
        "encoder.fc2.weight",
        "encoder.fc2.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
        "heads.1.bias",
    ]
    assert len(list(Net().parameters())) == 9
    assert [n for n, _ in Block().named_parameters(recurse=False)] == ["scale"]


def test_shared_parameters_and_modules_appear_once():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.b = nn.Linear(2, 2)
    m.b.weight = m.a.weight  # tied weights
    m.c = m.a  # the same module twice
    assert [n for n, _ in m.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    assert len(list(m.modules())) == 3
    # state_dict lists every name, as PyTorch does, so tied models round-trip
    assert list(m.state_dict()) == [
        "a.weight",
        "a.bias",
        "b.weight",
        "b.bias",
        "c.weight",
        "c.bias",
    ]
    assert np.shares_memory(m.state_dict()["b.weight"], m.a.weight)


def test_children_and_named_modules():
    net = Net()
    assert [type(c).__name__ for c in net.children()] == ["Block", "ModuleList"]
    assert [n for n, _ in net.named_children()] == ["encoder", "heads"]
    assert [n for n, _ in net.named_modules()] == [
        "", "encoder", "encoder.fc1", "encoder.act", "encoder.fc2", "heads", "heads.0", "heads.1"
    ]  # fmt: skip
    assert list(net.modules())[0] is net


def test_assigning_none_or_a_wrong_type_to_a_registered_name():
    lin = nn.Linear(2, 3)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"] and lin.bias is None
    with pytest.raises(TypeError, match="cannot assign ndarray as parameter 'weight'"):
        lin.weight = np.zeros((3, 2))
    net = Net()
    net.encoder = None
    assert net.encoder is None and [n for n, _ in net.named_children()] == ["heads"]
    with pytest.raises(TypeError, match="cannot assign int as child module 'heads'"):
        net.heads = 3
    b = Block()
    b.steps = ts.ones(1)
    np.testing.assert_array_equal(b.state_dict()["steps"].data, [1])
    with pytest.raises(TypeError, match="as buffer 'steps'"):
        b.steps = [1.0]


def test_attribute_errors():
    class Early(nn.Module):
        def __init__(self):
            self.x = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Early()
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'fc9'"):
        _ = Block().fc9
    b = Block()
    del b.fc1
    assert "fc1" not in b._modules


def test_call_runs_forward():
    net = Net()
    assert net(ts.randn(5, 3)).shape == (5, 1)
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)
    x = ts.randn(2, 3)
    assert nn.Identity()(x) is x


# ----------------------------------------------------------------------------- containers


def test_sequential():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.Tanh) and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    x = ts.randn(4, 2)
    np.testing.assert_array_equal(seq(x).data, seq[2](seq[1](seq[0](x))).data)
    assert [n for n, _ in seq[1:].named_children()] == ["1", "2"]  # names kept, as PyTorch
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["enc.weight", "enc.bias"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2)).extend([nn.Tanh()])
    assert len(ml) == 3 and [n for n, _ in ml.named_parameters()][-1] == "1.bias"
    ml[0] = nn.Linear(1, 3)
    assert ml[0].out_features == 3
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.Tanh()})
    md["c"] = nn.Linear(2, 2)
    assert list(md) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "c.weight", "c.bias"]
    del md["a"]
    assert list(md.keys()) == ["b", "c"]


# ----------------------------------------------------------------------------- modes, grads, dtype


def test_train_eval_recurse():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.heads[0].training


def test_zero_grad():
    net = Net()
    net(ts.randn(3, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first_then_self():
    seq = nn.Sequential(nn.Sequential(nn.Linear(1, 1), nn.Tanh()), nn.ReLU())
    order = []
    assert seq.apply(lambda m: order.append(type(m).__name__)) is seq
    assert order == ["Linear", "Tanh", "Sequential", "ReLU", "Sequential"]  # PyTorch's order

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    Net().apply(init_linear)
    net = Net().apply(init_linear)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert all((m.weight.detach().numpy() == 0.5).all() for m in linears)


def test_to_double_float_and_grads():
    net = Net()
    net(ts.randn(2, 3)).sum().backward()
    assert net.double() is net
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert all(b.dtype == np.float64 for b in net.buffers())
    x = ts.randn(2, 3, dtype=np.float64)
    assert net(x).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.to("float64")
    assert net.encoder.fc1.weight.dtype == np.float64
    with pytest.raises(TypeError, match="expected a floating dtype"):
        net.to(np.int64)


def test_requires_grad_():
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_keys_values_and_buffers():
    b = Block()
    b.register_buffer("cache", ts.zeros(2), persistent=False)
    sd = b.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert np.shares_memory(sd["fc1.weight"], b.fc1.weight)  # shares memory, like PyTorch
    assert not sd["fc1.weight"].requires_grad
    assert [n for n, _ in b.named_buffers()] == ["steps", "cache"]


def test_load_state_dict_round_trip_strict():
    a, b = Net(), Net()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    x = ts.randn(4, 3)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    # plain arrays are accepted and cast to the parameter's dtype
    b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    assert b.encoder.fc1.weight.dtype == np.float32


def test_load_state_dict_non_strict_reports_missing_and_unexpected():
    net = Net()
    sd = net.state_dict()
    del sd["heads.1.bias"]
    sd["extra.weight"] = np.zeros(3)
    before = net.heads[1].bias.detach().numpy().copy()
    new_w = np.full((2, 2), 7.0)
    sd["heads.0.weight"] = new_w
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["heads.1.bias"] and unexpected == ["extra.weight"]
    np.testing.assert_array_equal(net.heads[0].weight.data, new_w)
    np.testing.assert_array_equal(net.heads[1].bias.data, before)


def test_strict_load_lists_every_problem_and_changes_nothing():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    sd = {k: np.full(v.shape, 9.0) for k, v in net.state_dict().items()}
    del sd["encoder.fc2.bias"], sd["heads.0.bias"]
    sd["encoder.fc1.weight"] = np.zeros((5, 3))
    sd["heads.1.weight"] = np.zeros((2, 2))
    sd["decoder.weight"] = np.zeros(1)
    sd["bogus"] = np.zeros(1)
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    for expected in [
        "size mismatch for encoder.fc1.weight: expected shape (4, 3), got (5, 3)",
        "size mismatch for heads.1.weight: expected shape (1, 2), got (2, 2)",
        "missing key: encoder.fc2.bias",
        "missing key: heads.0.bias",
        "unexpected key: decoder.weight",
        "unexpected key: bogus",
    ]:
        assert expected in msg
    for k, v in net.state_dict().items():  # a failed load changes nothing
        np.testing.assert_array_equal(v.data, before[k], err_msg=k)
    with pytest.raises(nn.StateDictError, match="size mismatch"):  # even when not strict
        net.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(net.encoder.scale.data, before["encoder.scale"])


@pytest.mark.parity
def test_state_dict_interchanges_with_torch():
    torch = require_torch()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.LayerNorm(4), nn.Embedding(5, 4))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.LayerNorm(4), torch.nn.Embedding(5, 4)
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    for (n, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.data, q.detach().numpy(), err_msg=n)


# ----------------------------------------------------------------------------- repr


def test_nested_repr():
    text = repr(Net())
    assert text == (
        "Net(\n"
        "  (encoder): Block(\n"
        "    (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (act): Tanh()\n"
        "    (fc2): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        "  (heads): ModuleList(\n"
        "    (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "    (1): Linear(in_features=2, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Identity()) == "Identity()"
    assert repr(nn.Parameter(np.zeros(1))).startswith("Parameter containing:\n")


def test_repr_with_extra_repr_and_children_matches_torchs_layout():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Tanh()

        def extra_repr(self):
            return "hidden=3"

    assert repr(Wrapper()) == "Wrapper(\n  hidden=3\n  (inner): Tanh()\n)"


@pytest.mark.parity
def test_repr_matches_torch():
    torch = require_torch()
    ours = nn.Sequential(
        nn.Linear(2, 8), nn.Tanh(), nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Dropout(0.1),
        nn.Sigmoid(), nn.Embedding(4, 2, padding_idx=1), nn.LayerNorm(2), nn.Identity(),
    )  # fmt: skip
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(),
        torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU()), torch.nn.Dropout(0.1),
        torch.nn.Sigmoid(), torch.nn.Embedding(4, 2, padding_idx=1), torch.nn.LayerNorm(2),
        torch.nn.Identity(),
    )  # fmt: skip
    assert repr(ours) == repr(theirs)


# ----------------------------------------------------------------------------- ParameterList


@pytest.mark.parity
def test_parameter_list_registers_wraps_and_saves_as_torch():
    from script_parity import check_script

    check_script(
        """
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ws = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3)), torch.zeros(3)])
        self.ws.append(torch.full((2,), 2.0))
        self.ws.extend([torch.nn.Parameter(torch.ones(1))])

net = Net()
rec("names", tuple(n for n, _ in net.named_parameters()))
rec("keys", tuple(net.state_dict()))
rec("len", len(net.ws))
rec("wrapped", tuple(isinstance(p, torch.nn.Parameter) for p in net.ws))
rec("requires_grad", tuple(p.requires_grad for p in net.ws))
rec("last", net.ws[-1])
rec("slice_len", len(net.ws[1:3]))
net.ws[0] = torch.nn.Parameter(torch.full((2, 3), 5.0))
loss = (net.ws[0].sum(1) * net.ws[2]).sum() + net.ws[1].sum()
loss.backward()
rec("g0", net.ws[0].grad)
rec("g2", net.ws[2].grad)
"""
    )


def test_parameter_list_in_an_optimizer_and_a_state_dict_round_trip():
    pl = nn.ParameterList([ts.ones(2), ts.zeros(3)])
    opt = ts.optim.SGD(pl.parameters(), lr=0.5)
    (pl[0].sum() * 2 + pl[1].sum()).backward()
    opt.step()
    assert pl[0].tolist() == [0.0, 0.0] and pl[1].tolist() == [-0.5] * 3
    other = nn.ParameterList([ts.zeros(2), ts.zeros(3)])
    other.load_state_dict(pl.state_dict())
    assert other[1].tolist() == [-0.5] * 3
    pl += [ts.ones(1)]
    assert len(pl) == 3 and list(pl.state_dict()) == ["0", "1", "2"]


# ---------------------------------------------------------------- devices
@pytest.mark.parity
def test_parity_module_to_devices_and_dtypes():
    from script_parity import check_script

    check_script(
        """
torch.manual_seed(0)
m = torch.nn.Linear(3, 2)
rec("same", (m.to("cpu") is m, m.to(torch.device("cpu")) is m, m.cpu() is m))
rec("dtype", (m.to(torch.float32) is m, m.weight.dtype == torch.float32))
m.to("cpu", torch.float64)
rec("device_dtype", (m.weight.dtype == torch.float64, m.bias.dtype == torch.float64))
m.to(dtype=torch.float32, device="cpu")
rec("keywords", m.weight.dtype == torch.float32)
m.to(torch.zeros(1, dtype=torch.float64))
rec("tensor", m.weight.dtype == torch.float64)
rec("on_cpu", str(m.weight.device))
m.to(torch.int64)
""",
        error_contains="only accepts floating point",
    )


@pytest.mark.parity
def test_module_list_and_dict_editing_match_torch():
    from script_parity import check_script

    check_script(
        """
ml = torch.nn.ModuleList([torch.nn.Linear(1, 1), torch.nn.Tanh(), torch.nn.Linear(1, 2)])
ml.insert(1, torch.nn.ReLU())
rec("after_insert", tuple(type(m).__name__ for m in ml))
popped = ml.pop(0)
rec("popped", type(popped).__name__)
del ml[1]
ml += [torch.nn.Sigmoid()]
both = ml + torch.nn.ModuleList([torch.nn.Identity(7, bias=False)])
rec("names", tuple(n for n, _ in both.named_children()))
rec("types", tuple(type(m).__name__ for m in both))
rec("params", tuple(n for n, _ in ml.named_parameters()))
md = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 2)})
md.update({"b": torch.nn.Tanh()})
md.update([("c", torch.nn.ReLU()), ("a", torch.nn.Identity())])
rec("keys", tuple(md.keys()))
rec("a", type(md["a"]).__name__)
rec("pop", type(md.pop("b")).__name__)
rec("left", tuple(md))
md.clear()
rec("len", len(md))
"""
    )


@pytest.mark.parity
def test_parity_a_device_agnostic_training_step_runs_on_the_cpu():
    from script_parity import check_script

    check_script(
        """
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = torch.nn.Linear(3, 2).to(device)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
    model.bias.fill_(0.05)
x = torch.Tensor([[1, 2, 3], [0.5, -1, 2]]).to(device)
target = torch.tensor([1, 0], device=device)
loss = torch.nn.functional.cross_entropy(model(x), target)
loss.backward()
rec("loss", loss.cpu())
rec("grad", model.weight.grad.cpu())
rec("same_device", str(x.device) == str(model.weight.device) == str(loss.device))
"""
    )


def test_module_cuda_raises_naming_the_cpu():
    m = nn.Linear(2, 2)
    for make in (lambda: m.cuda(), lambda: m.cuda(0), lambda: m.to("cuda"), lambda: m.to(1)):
        with pytest.raises(RuntimeError, match="tinygrad_seq runs on the CPU only"):
            make()
    assert m.weight.dtype == np.float32  # nothing changed on the way
