"""tensor.py's in-place semantics, run as the same script text under tinygrad_seq and PyTorch.

The second test file of tinygrad_seq/tensor.py (test_tensor.py holds the rest of the Tensor
API): tensor.py is large, and its in-place and view rules are a subject of their own.

Every in-place op meets every situation where autograd has a rule about it: a leaf under
no_grad, a leaf outside it (an error), an intermediate of the graph, a tensor another op saved
for its backward (an error at backward), a view of an intermediate, and the base of a view
that was changed. Values, gradients and errors must agree in float64.
"""

from __future__ import annotations

import pytest
from script_parity import check_script

pytestmark = pytest.mark.parity

# (name, the in-place call on `t`, the setup of its operands, the domain of t's values)
OPS = [
    ("add_", "t.add_(o)", "pos"),
    ("add_alpha", "t.add_(o, alpha=2.5)", "pos"),
    ("sub_", "t.sub_(o)", "pos"),
    ("sub_alpha", "t.sub_(o, alpha=0.5)", "pos"),
    ("mul_", "t.mul_(o)", "pos"),
    ("mul_scalar", "t.mul_(3.0)", "pos"),
    ("div_", "t.div_(o + 2.0)", "pos"),
    ("pow_", "t.pow_(2)", "pos"),
    ("neg_", "t.neg_()", "mixed"),
    ("abs_", "t.abs_()", "mixed"),
    ("exp_", "t.exp_()", "mixed"),
    ("log_", "t.log_()", "pos"),
    ("sqrt_", "t.sqrt_()", "pos"),
    ("tanh_", "t.tanh_()", "mixed"),
    ("sigmoid_", "t.sigmoid_()", "mixed"),
    ("relu_", "t.relu_()", "mixed"),
    ("clamp_", "t.clamp_(-0.3, 0.4)", "mixed"),
    ("clamp_min_", "t.clamp_min_(0.1)", "mixed"),
    ("clamp_max_", "t.clamp_max_(0.2)", "mixed"),
    ("zero_", "t.zero_()", "mixed"),
    ("fill_", "t.fill_(0.25)", "mixed"),
    ("copy_", "t.copy_(o)", "mixed"),
    ("copy_broadcast", "t.copy_(o[0])", "mixed"),
    ("masked_fill_", "t.masked_fill_(o > 0.5, -2.0)", "mixed"),
    ("index_fill_", "t.index_fill_(-1, torch.tensor([0, 2]), 1.5)", "mixed"),
    ("addcmul_", "t.addcmul_(o, o + 1.0, value=0.5)", "mixed"),
    ("addcdiv_", "t.addcdiv_(o, o + 2.0, value=0.5)", "mixed"),
    ("lerp_", "t.lerp_(o, 0.3)", "mixed"),
    ("uniform_", "t.uniform_(0.5, 0.5)", "mixed"),
    ("normal_", "t.normal_(0.75, 0.0)", "mixed"),
    ("bernoulli_", "t.bernoulli_(1.0)", "mixed"),
    ("iadd", "t += o", "mixed"),
    ("isub", "t -= o", "mixed"),
    ("imul", "t *= o", "mixed"),
    ("itruediv", "t /= (o + 2.0)", "mixed"),
    ("ipow", "t **= 2", "mixed"),
    ("imatmul_rebinds", "t @= m", "mixed"),  # PyTorch: x = x @ m, x itself unchanged
    ("setitem_int", "t[0] = o[1]", "mixed"),
    ("setitem_slice", "t[:, 1:] = 0.5", "mixed"),
    ("setitem_tensor_index", "t[torch.tensor([1, 0]), torch.tensor([2, 2])] = o[0, :2]", "mixed"),
    ("setitem_mask", "t[o > 0.5] = 7.0", "mixed"),
    ("setitem_leading_ones", "t[0] = o[1:2]", "mixed"),  # (1, 3) into (3,): the 1 is dropped
    ("setitem_slice_leading_ones", "t[:1, 1:] = o[None, :1, :2]", "mixed"),
    ("setitem_index_leading_ones", "t[torch.tensor([1, 0])] = o[None]", "mixed"),
]

SETUP = """
base = torch.tensor([[0.3, 0.8, 1.2], [0.5, 0.2, 0.9]], dtype=torch.float64)
if DOMAIN == "mixed":
    base = base - 0.6
o = torch.tensor([[0.7, 0.1, 0.4], [0.9, 0.6, 0.2]], requires_grad=O_GRAD)
m = torch.tensor([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [0.2, 0.1, 0.6]], requires_grad=O_GRAD)
w = torch.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.5]])
"""


def _script(body: str, op: str, domain: str, o_grad: bool) -> str:
    return SETUP.replace("DOMAIN", repr(domain)).replace("O_GRAD", str(o_grad)) + body.replace(
        "OP", op
    )


LEAF_NO_GRAD = """
t = base.clone().requires_grad_()
with torch.no_grad():
    r = OP
rec("t", t); rec("leaf", t.is_leaf); rec("requires_grad", t.requires_grad)
rec("returns_self", r is t if r is not None else True)
(t * w).sum().backward()
rec("grad", t.grad)
"""

LEAF_GRAD = """
t = base.clone().requires_grad_()
OP
"""

INTERMEDIATE = """
x = base.clone().requires_grad_()
t = x * 1.5
r = OP
rec("returns_self", r is t if r is not None else True)
rec("t", t); rec("leaf", t.is_leaf); rec("requires_grad", t.requires_grad)
(t * w).sum().backward()
rec("x_grad", x.grad)
if o.requires_grad:
    rec("o_grad", o.grad)
"""

SAVED = """
x = base.clone().requires_grad_()
t = x * 1.5
s = (t * t).sum()
OP
s.backward()
"""

VIEW_OF_INTERMEDIATE = """
x = torch.cat([base, base * 0.5]).requires_grad_()  # (4, 3)
y = x * 1.5
t = y[1:3]
OP
rec("y", y); rec("t", t)
rec("y_version_is_t_version", y._version == t._version)
w2 = torch.cat([w, w * -0.5])
((y * w2).sum() + (t * w).sum() * 0.5).backward()
rec("x_grad", x.grad)
if o.requires_grad:
    rec("o_grad", o.grad)
"""

BASE_OF_CHANGED_VIEW = """
x = torch.cat([base, base * 0.5]).requires_grad_()  # (4, 3)
y = x * 1.5
v = y[1]
t = y[1:3]
OP
rec("v", v); rec("y", y)
w2 = torch.cat([w, w * -0.5])
((y * w2).sum() + (v * w[0]).sum() * 2.0).backward()
rec("x_grad", x.grad)
if o.requires_grad:
    rec("o_grad", o.grad)
"""

IDS = [name for name, _, _ in OPS]
# `@=` is not in place in PyTorch: it rebinds, so it meets none of the in-place errors
TRULY_INPLACE = [op for op in OPS if op[0] != "imatmul_rebinds"]
TRULY_IDS = [name for name, _, _ in TRULY_INPLACE]


@pytest.mark.parametrize("name, op, domain", OPS, ids=IDS)
def test_leaf_under_no_grad_changes_and_stays_a_leaf(name, op, domain):
    check_script(_script(LEAF_NO_GRAD, op, domain, False))


@pytest.mark.parametrize("name, op, domain", TRULY_INPLACE, ids=TRULY_IDS)
def test_leaf_that_requires_grad_outside_no_grad_raises(name, op, domain):
    check_script(
        _script(LEAF_GRAD, op, domain, False),
        error_contains="a leaf Variable that requires grad is being used in an in-place",
    )


@pytest.mark.parametrize("o_grad", [False, True], ids=["const", "o-grad"])
@pytest.mark.parametrize("name, op, domain", OPS, ids=IDS)
def test_intermediate_records_the_op(name, op, domain, o_grad):
    check_script(_script(INTERMEDIATE, op, domain, o_grad))


@pytest.mark.parametrize("name, op, domain", TRULY_INPLACE, ids=TRULY_IDS)
def test_changing_a_saved_tensor_fails_at_backward(name, op, domain):
    check_script(
        _script(SAVED, op, domain, False),
        error_contains="modified by an inplace operation",
    )


@pytest.mark.parametrize("o_grad", [False, True], ids=["const", "o-grad"])
@pytest.mark.parametrize("name, op, domain", OPS, ids=IDS)
def test_view_of_an_intermediate(name, op, domain, o_grad):
    check_script(_script(VIEW_OF_INTERMEDIATE, op, domain, o_grad))


@pytest.mark.parametrize("o_grad", [False, True], ids=["const", "o-grad"])
@pytest.mark.parametrize("name, op, domain", OPS, ids=IDS)
def test_base_of_a_changed_view(name, op, domain, o_grad):
    check_script(_script(BASE_OF_CHANGED_VIEW, op, domain, o_grad))


# ----------------------------------------------------------------------------- random programs

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VIEWS = [
    "{t}[{i}]",
    "{t}[{i}:]",
    "{t}[:, {i}:] if {t}.dim() == 2 else {t}[{i}:]",
    "{t}.transpose(0, 1) if {t}.dim() == 2 else {t}.unsqueeze(0)",
    "{t}.unsqueeze(0)",
    "{t}.reshape(-1)",
    "{t}.narrow(0, 0, 1)",
    "{t}.detach()",
    "{t}.t() if {t}.dim() <= 2 else {t}[0]",
    "{t}.expand(2, *{t}.shape)",
]
INPLACE = [
    "{t}.add_(0.5)",
    "{t}.mul_(-1.5)",
    "{t}.tanh_()",
    "{t}.sigmoid_()",
    "{t}.zero_()",
    "{t}.fill_(0.3)",
    "{t}.clamp_(-0.2, 0.4)",
    "{t}[0] = 2.0",
    "{t} += {t}.detach() * 0.5",
    "{t}.copy_({t} * 2.0)",
    "{t}.exp_()",
]
COMPUTE = ["{t} * {t}", "{t}.exp()", "{t} * 2.0 + 1.0", "{t}.tanh()"]


@st.composite
def programs(draw):
    """Script text: a graph of views, in-place changes and ops on x, then a backward."""
    lines = [
        "x = torch.tensor([[0.3, -0.8, 1.2, 0.1], [0.5, 0.2, -0.9, 0.7], "
        "[-0.4, 0.6, 0.25, -0.1]], requires_grad=True)",
        "pool = [x * 1.5]",
    ]
    for _ in range(draw(st.integers(2, 7))):
        kind = draw(st.sampled_from(["view", "inplace", "compute"]))
        src = f"pool[{draw(st.integers(0, 6))} % len(pool)]"
        if kind == "view":
            form = draw(st.sampled_from(VIEWS)).format(t="_t", i=draw(st.integers(0, 1)))
            lines += [f"_t = {src}", f"pool.append({form})"]
        elif kind == "inplace":
            lines += [f"_t = {src}", draw(st.sampled_from(INPLACE)).format(t="_t")]
        else:
            form = draw(st.sampled_from(COMPUTE)).format(t="_t")
            lines += [f"_t = {src}", f"pool.append({form})"]
    lines += [
        "for k, p in enumerate(pool):",
        "    rec(f'value{k}', p)",
        "    rec(f'grad{k}', p.requires_grad)",
        "loss = sum((p * (k + 1.0)).sum() for k, p in enumerate(pool) if p.requires_grad)",
        "loss.backward()",
        "rec('x_grad', x.grad)",
    ]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_of_views_and_inplace_ops_match_pytorch(script):
    check_script(script)


# ----------------------------------------------------------------------------- the idioms


def test_idiom_manual_sgd_step_changes_the_parameters_in_place():
    check_script("""
w = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
params = [w]
held = w
loss = (torch.tensor([[0.5, -1.0]]) @ w).pow(2).sum()
loss.backward()
with torch.no_grad():
    for p in params:
        p -= 0.1 * p.grad
rec("w", w); rec("held_is_w", held is w); rec("leaf", w.is_leaf)
rec("requires_grad", w.requires_grad); rec("version", w._version)
y = torch.tensor([1.0, 2.0]); z = y; y += 1
rec("alias_sees_the_change", z)
""")


def test_idiom_writing_graph_values_into_a_plain_buffer_keeps_the_gradient():
    # an attention decoder collecting encoder outputs: buf[t] = h[0]
    check_script(
        """
rnn = torch.nn.RNN(2, 3)
with torch.no_grad():  # the same weights in both frameworks
    for p in rnn.parameters():
        p.copy_(torch.tensor(np.sin(np.arange(p.numel()) + 1.0).reshape(tuple(p.shape)) * 0.5))
x = torch.tensor([[[0.5, -1.0]], [[0.25, 0.75]], [[-0.5, 0.1]]])
h = torch.zeros(1, 1, 3)
buf = torch.zeros(3, 3)
for t in range(3):
    out, h = rnn(x[t:t + 1], h)
    buf[t] = h[0, 0]
query = torch.tensor([0.3, -0.2, 0.5])
weights = (buf @ query).softmax(0)
context = (weights.unsqueeze(1) * buf).sum(0)
loss = (context * torch.tensor([1.0, -2.0, 0.5])).sum()
loss.backward()
rec("buf", buf); rec("requires_grad", buf.requires_grad)
for name, p in rnn.named_parameters():
    rec(name, p.grad)
""",
        atol=1e-10,
    )


def test_idiom_data_is_a_tensor_without_history():
    check_script("""
out = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
values, indices = out.data.max(1)
rec("values", values); rec("indices", indices)
rec("transposed", out.data.transpose(0, 1)); rec("flat", out.data.view(-1))
rec("size0", out.data.size(0)); rec("requires_grad", out.data.requires_grad)
rec("is_leaf", out.data.is_leaf)
out.data.add_(torch.ones(2, 3), alpha=-0.5)
rec("out", out); rec("version", out._version)
""")


def test_idiom_forget_gate_bias_initialised_by_slice_assignment():
    check_script("""
torch.manual_seed(0)
lstm = torch.nn.LSTM(2, 3)
H = 3
with torch.no_grad():
    lstm.bias_ih_l0[H:2 * H] = 1.0
    lstm.bias_hh_l0[H:2 * H].fill_(0.0)
rec("b_ih", lstm.bias_ih_l0[H:2 * H]); rec("b_hh", lstm.bias_hh_l0[H:2 * H])
rec("leaf", lstm.bias_ih_l0.is_leaf)
""")


# ----------------------------------------------------------------------------- views


@pytest.mark.parametrize(
    "script",
    [
        # a change through a view is seen by the base, and the reverse
        "b = torch.arange(6.0).reshape(2, 3); v = b[1]; v.mul_(10); rec('b', b)\n"
        "b.add_(1); rec('v', v); rec('versions', (b._version, v._version))",
        # a view of a view of a transpose
        "b = torch.arange(12.0).reshape(3, 4); v = b.t()[1:3][0]; v.fill_(-1.0); rec('b', b)",
        # narrow, select, squeeze and unsqueeze views
        "b = torch.arange(6.0).reshape(1, 2, 3); b.squeeze(0).select(1, 2).zero_()\n"
        "b.narrow(2, 0, 1).unsqueeze(0).add_(5); rec('b', b)",
        # expand is a view that cannot be written
        "b = torch.ones(3); e = b.expand(2, 3); rec('e', e); e.add_(1)",
        # view of a non-contiguous tensor raises, reshape copies
        "b = torch.arange(6.0).reshape(2, 3).t(); r = b.reshape(-1); r.add_(1); rec('b', b)\n"
        "rec('contiguous', b.is_contiguous()); b.view(-1)",
        # detach shares memory and version; clone shares neither
        "x = torch.ones(3, requires_grad=True); d = x.detach(); d.add_(1); rec('x', x)\n"
        "rec('v', (x._version, d._version)); c = x.clone(); c.add_(1); rec('x2', x)",
        # .data shares memory but its changes are not counted (PyTorch's known trap)
        "x = torch.ones(3, requires_grad=True); y = (x * x).sum(); x.data.mul_(2)\n"
        "y.backward(); rec('grad', x.grad); rec('version', x._version)",
        # gradients through a view changed in place, and through its base
        "x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True); y = x.exp()\n"
        "v = y[1:3]; v.mul_(torch.tensor([2.0, 3.0])); (y * y).sum().backward()\n"
        "rec('g', x.grad); rec('y', y)",
        # in-place on a view of a leaf that requires grad
        "x = torch.ones(3, requires_grad=True); x[0:2].add_(1)",
        # shape in-place ops
        "b = torch.arange(6.0).reshape(2, 3) * 1.0; b.t_(); rec('b', b); b.unsqueeze_(0)\n"
        "rec('b2', b); b.squeeze_(); b.transpose_(0, 1); rec('b3', b)",
        # dtype rules of in-place ops
        "b = torch.tensor([1, 2, 3]); b.add_(2); rec('b', b); b[0] = 1.7; rec('b2', b)\n"
        "b.add_(1.5)",
        # detach_ cuts a non-leaf from the graph; a view cannot be detached in place
        "x = torch.ones(3, requires_grad=True); y = x * 2; y.detach_(); rec('y', y)\n"
        "rec('state', (y.requires_grad, y.is_leaf, y.grad_fn is None)); (x * 2)[0:2].detach_()",
        # requires_grad_ makes a leaf that later in-place changes must respect
        "t = torch.zeros(3); t.add_(1); t.requires_grad_(); rec('t', t); t.mul_(2)",
        # assignments whose value does not fit the indexed part
        "b = torch.zeros(2, 3); b[torch.tensor([0, 1])] = torch.ones(3); rec('b', b)\n"
        "b[torch.tensor([0, 1])] = torch.ones(4)",
        "b = torch.zeros(2, 3); b[0] = torch.ones(4)",
        "b = torch.zeros(2, 3); b[0] = torch.ones(2, 3)",
        # copy_ broadcasts the source to self, never self to a larger shape
        "b = torch.zeros(3); b.copy_(torch.ones(1, 3))",
        # broadcasting into self, and a result that does not fit
        "b = torch.zeros(2, 3); b.add_(torch.tensor([1.0, 2.0, 3.0])); rec('b', b)\n"
        "b.add_(torch.ones(4, 2, 3))",
    ],
    ids=[
        "view-and-base",
        "view-of-view",
        "narrow-select",
        "expand",
        "view-noncontiguous",
        "detach-clone",
        "data-untracked",
        "grad-through-view",
        "view-of-leaf",
        "shape-ops",
        "dtypes",
        "detach_",
        "requires_grad_",
        "setitem-advanced-mismatch",
        "setitem-basic-mismatch",
        "setitem-basic-extra-dims",
        "copy_-source-larger",
        "broadcast",
    ],
)
def test_view_rules(script):
    check_script(script)


def test_changing_the_base_of_a_0d_view_that_tanh_saved_fails_at_backward():
    # found by the random programs below: numpy's 0-d math returns scalars, so the output Tanh
    # saved was once a scalar copy that no version counter watched
    check_script(
        """
x = torch.tensor([[0.3, -0.8], [0.5, 0.2]], requires_grad=True, dtype=torch.float64)
a = x * 1.5
c = a[0, 0]
c.tanh_()
a.add_(0.5)
rec("c", c)
(c * 1.0).backward()
""",
        error_contains="modified by an inplace operation",
    )


def test_optimizers_change_the_same_parameter_objects_and_zero_grad_sets_none():
    check_script("""
torch.manual_seed(0)
lin = torch.nn.Linear(3, 2)
with torch.no_grad():
    lin.weight.copy_(torch.tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]]))
    lin.bias.zero_()
w, view = lin.weight, lin.weight[0]
for opt in (torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9),
            torch.optim.Adam(lin.parameters(), lr=0.01)):
    for step in range(3):
        loss = lin(torch.tensor([[1.0, -1.0, 2.0]])).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    rec("grad_after_zero_grad", (opt.zero_grad(), lin.weight.grad)[1])
rec("same_object", lin.weight is w); rec("w", w); rec("view_sees_it", view)
rec("version", w._version > 0)
""")


def test_saved_tensor_error_names_the_op_scope_and_line_under_detect_anomaly():
    import numpy as np

    import tinygrad_seq as ts

    rnn = ts.nn.RNN(2, 3)
    x = ts.tensor(np.ones((4, 1, 2), dtype=np.float32))
    with ts.autograd.detect_anomaly():
        out, h = rnn(x)
    with ts.no_grad():
        rnn.weight_hh_l0.mul_(2.0)  # PyTorch's RNN layers raise here too (they save W_hh)
    with pytest.raises(RuntimeError) as err:
        out.sum().backward()
    msg = str(err.value)
    assert "modified by an inplace operation" in msg and "is at version 1" in msg
    assert "expected version 0" in msg and "Contiguous (scope rnn" in msg
    assert "test_tensor_inplace.py" in msg  # the user's line that created the op


def test_saved_tensor_error_names_the_time_step():
    import tinygrad_seq as ts

    x = ts.ones(3, requires_grad=True)
    with ts.autograd.scope("decoder"), ts.autograd.scope("t=7"):
        y = (x * 2).tanh()  # Tanh saves its output y
    with ts.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match=r"Tanh \(scope decoder t=7\), is at version 1"):
        y.sum().backward()


def test_from_numpy_and_numpy_share_memory_both_ways():
    check_script("""
a = np.arange(6.0).reshape(2, 3)
t = torch.from_numpy(a)
a[0, 0] = 10.0
t[1, 2] = -1.0
rec("t", t); rec("a_sees_t", torch.from_numpy(a.copy()))
t.numpy()[0, 1] = 7.0
rec("t2", t); rec("dtype_kept", torch.from_numpy(np.ones(2, dtype=np.int32)))
torch.from_numpy([1.0, 2.0])
""")


# ----------------------------------------------------------------------------- no_grad views

# A view made under no_grad (or inference_mode) of a tensor that requires grad: it requires
# grad, is a leaf, and no gradient flows through it; changed in place in grad mode it raises;
# once its memory changed in place (in any mode) it cannot be used in grad mode. The scripts
# record each step's outcome (a value, or the error's type and phrases), so a difference shows
# at the step where it begins rather than as the first error only.
NO_GRAD_VIEW_STEPS = """
def attempt(name, f):
    try:
        rec(name, f())
    except Exception as e:
        m = str(e)
        rec(name, (type(e).__name__,
                   "created in no_grad mode and is being modified inplace with grad mode "
                   "enabled" in m,
                   "created in no_grad mode and its base or another view of its base has been "
                   "modified inplace" in m,
                   "does not require grad and does not have a grad_fn" in m,
                   "appears to not have been used in the graph" in m))

def state(name, v):
    attempt(name + " requires_grad", lambda: v.requires_grad)
    attempt(name + " is_leaf", lambda: v.is_leaf)
    attempt(name + " no grad_fn", lambda: v.grad_fn is None)
    attempt(name + " repr invalid", lambda: "grad_fn=<Invalid>" in repr(v))
    attempt(name + " version", lambda: v._version)
    attempt(name + " values", lambda: v.detach())
    attempt(name + " op requires grad", lambda: (v * 2).requires_grad)
    with torch.no_grad():
        attempt(name + " op in no_grad", lambda: (v * 2).requires_grad)

def weights():
    return torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
"""

VIEW_KINDS = {
    "view": "w.view(6)",
    "reshape": "w.reshape(3, 2)",
    "slice": "w[0:1]",
    "int-index": "w[0]",
    "ellipsis-none": "w[..., None]",
    "transpose": "w.transpose(0, 1)",
    "permute": "w.permute(1, 0)",
    "t": "w.t()",
    "T": "w.T",
    "expand": "w[0:1].expand(3, 3)",
    "unsqueeze": "w.unsqueeze(0)",
    "squeeze": "w.unsqueeze(0).squeeze(0)",
    "squeeze-no-op": "w.squeeze(0)",
    "flatten": "w.flatten()",
    "narrow": "w.narrow(1, 0, 2)",
    "select": "w.select(0, 1)",
    "split": "w.split(1)[0]",
    "chunk": "w.chunk(3, dim=1)[1]",
    "unbind": "w.unbind(0)[1]",
    "Tensor(w)": "torch.Tensor(w)",
    "of-non-leaf": "(w * 2)[0]",
    "detach": "w.detach()",
    "data": "w.data",
    "advanced-index": "w[[1, 0]]",
    "contiguous": "w.contiguous()",
}


# inference_mode is no_grad here: tensors it copies are ordinary ones, PyTorch's are inference
# tensors without a version (docs/pytorch.md), so the copy (advanced indexing) is left out there
MODES = [
    pytest.param(make, mode, id=f"{kind}-{mode}")
    for mode in ("no_grad", "inference_mode")
    for kind, make in VIEW_KINDS.items()
    if (kind, mode) != ("advanced-index", "inference_mode")
]


@pytest.mark.parametrize("make, mode", MODES)
def test_view_made_under_no_grad_requires_grad_and_reaches_no_gradient(make, mode):
    check_script(
        NO_GRAD_VIEW_STEPS
        + f"""
w = weights()
h = w * 2
with torch.{mode}():
    v = {make.replace("(w * 2)", "h")}
state("v", v)
rec("base", (v._base is w, v._base is h, v is w))
y = (v * 3).sum()
rec("y", (y.requires_grad, y.grad_fn is None))
if y.requires_grad:
    y.backward()
rec("grads", (w.grad, v.grad))
attempt("grad wrt v", lambda: torch.autograd.grad((v * 3).sum(), v))
attempt("grad wrt w", lambda: torch.autograd.grad((v * 3).sum(), w, allow_unused=True))
attempt("v.backward(g)", lambda: v.backward(torch.ones(v.shape)))
rec("grads after", (w.grad, v.grad))
with torch.no_grad():
    vv = v.reshape(-1)[1:]
state("view of it", vv)
"""
    )


# .data is left out: its changes are counted by a version of its own in PyTorch, by none here
CHANGED = {kind: make for kind, make in VIEW_KINDS.items() if kind != "data"}


@pytest.mark.parametrize("make", CHANGED.values(), ids=CHANGED.keys())
def test_view_made_under_no_grad_changed_in_place(make):
    check_script(
        NO_GRAD_VIEW_STEPS
        + f"""
w = weights()
h = w * 2
with torch.no_grad():
    v = {make.replace("(w * 2)", "h")}
attempt("add_", lambda: v.add_(1))
attempt("mul_", lambda: v.mul_(2))
attempt("zero_", lambda: v.zero_())
attempt("copy_", lambda: v.copy_(torch.ones(v.shape)))
attempt("setitem", lambda: v.__setitem__(0, 5.0))
attempt("unsqueeze_", lambda: v.unsqueeze_(0))
rec("unchanged", (w.detach(), h.detach(), w._version))
state("v before", v)
with torch.no_grad():
    attempt("add_ in no_grad", lambda: v.add_(1) is v)
    rec("seen by both", (w.detach(), h.detach(), v.detach()))
    rec("versions", (w._version, h._version))
    state("v in no_grad", v)
state("v after", v)
(w * h).sum().backward()
rec("grad", w.grad)
attempt("backward through v", lambda: (v * 3).sum().backward())
with torch.no_grad():
    u = v.reshape(-1)[0:1]
state("new view of it", u)
"""
    )


@pytest.mark.parametrize(
    "script",
    [
        # the base changed in place, by an optimizer, through a sibling view, .data, detach()
        "w = weights()\nwith torch.no_grad(): v = w[0]; x = w.t()\n"
        "with torch.no_grad(): w.add_(100)\nstate('v', v); state('x', x)",
        "w = weights()\nwith torch.no_grad(): v = w[0]\nopt = torch.optim.SGD([w], lr=0.1)\n"
        "(w * w).sum().backward(); opt.step(); state('v', v)",
        "w = weights()\nwith torch.no_grad(): v = w[0]; u = w[1]\n"
        "with torch.no_grad(): u.zero_()\nstate('v', v); state('u', u)",
        "w = weights()\nwith torch.no_grad(): v = w[0]\nw.data.add_(1); state('v', v)",
        "w = weights()\nwith torch.no_grad(): v = w[0]\nw.detach().add_(1); state('v', v)",
        # a non-leaf base changed in grad mode (its other views follow it; this one cannot)
        "w = weights(); h = w * 2\nwith torch.no_grad(): v = h[0]\nh.mul_(3)\nstate('v', v)\n"
        "(h * 1).sum().backward(); rec('g', w.grad)",
        "w = weights(); h = w * 2\nwith torch.no_grad(): v = h[0]\nu = h[1]; u.mul_(3)\n"
        "state('v', v); state('u', u); (h * 1).sum().backward(); rec('g', w.grad)",
        "w = weights(); h = w * 2; u = h[1]\nwith torch.no_grad(): v = u[1:]\nstate('v', v)",
        # views of it made in grad mode: they have a grad_fn, and reach nothing either
        "w = weights()\nwith torch.no_grad(): v = w[0]\n"
        "vs = [v[0:2], v.view(3), v.t(), v.expand(2, 3), v.unsqueeze(0), v.squeeze(0)]\n"
        "for i, x in enumerate(vs):\n"
        "    rec(f'vv{i}', (x.requires_grad, x.is_leaf, x.grad_fn is None, x._base is w))\n"
        "    (x * 2).sum().backward(); rec(f'g{i}', (w.grad, v.grad))\n"
        "vv = vs[0]\nattempt('vv.backward', lambda: vv.backward(torch.ones(2)))\n"
        "attempt('grad through vv', lambda: torch.autograd.grad((vv * 2).sum(), w))\n"
        "attempt('vv add_', lambda: vv.add_(1))\n"
        "attempt('vv[0] =', lambda: vv.__setitem__(0, 1.0))\n"
        "with torch.no_grad(): attempt('vv add_ in no_grad', lambda: vv.add_(1) is vv)\n"
        "rec('w', w.detach()); state('v', v); state('vv', vs[1])\n"
        "attempt('a view of it now', lambda: v[1:])",
        # views of a view changed under no_grad: new ones are usable until the next change
        "w = weights()\nwith torch.no_grad(): v = w[0]; v.add_(1); vv = v[1:]\n"
        "state('vv', vv); state('v', v)\nwith torch.no_grad(): w.mul_(2)\nstate('vv2', vv)",
        # with other inputs, written into a buffer, as autograd.grad's output, in a Function
        "w = weights(); x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\n"
        "with torch.no_grad(): v = w[0]; m = w.t()\n"
        "y = torch.cat([v, x]).sum() + torch.stack([v, x]).pow(2).sum() + (x @ m).sum()\n"
        "y = y + torch.where(x > 0, v, x).sum(); y.backward()\n"
        "rec('g', (w.grad, x.grad, v.grad, m.grad))\n"
        "buf = torch.zeros(2, 3); buf[0] = v; buf[1] = x\n"
        "rec('buf', (buf.requires_grad, buf.is_leaf)); buf.sum().backward()\n"
        "rec('g2', (w.grad, x.grad))\n"
        "attempt('out v', lambda: torch.autograd.grad(v, w, torch.ones(3)))\n"
        "def unused(out, o): return torch.autograd.grad(out, w, o, allow_unused=True)\n"
        "attempt('out v unused', lambda: unused(v, torch.ones(3)))\n"
        "attempt('out v in v', lambda: torch.autograd.grad(v, v, torch.ones(3)))\n"
        "vv = v[1:]; attempt('out vv', lambda: torch.autograd.grad(vv, w, torch.ones(2)))\n"
        "attempt('out vv unused', lambda: unused(vv, torch.ones(2)))\n"
        "attempt('clone', lambda: v.clone().requires_grad)\n"
        "attempt('to', lambda: v.to(torch.float32).requires_grad)\n"
        "attempt('contiguous', lambda: v.contiguous() is v)\n"
        "class Double(torch.autograd.Function):\n"
        "    @staticmethod\n    def forward(ctx, a): return a * 2\n"
        "    @staticmethod\n    def backward(ctx, g): return g * 2\n"
        "y = Double.apply(v); rec('fn', (y.requires_grad, y.grad_fn is None))\n"
        "y.sum().backward(); rec('g3', (w.grad, v.grad))",
        # changed in place in grad mode after its memory changed: the first error still
        "w = weights()\nwith torch.no_grad(): v = w[0]; vv = v[1:]\nvg = v[0:2]\n"
        "with torch.no_grad(): w.add_(1)\nattempt('add_', lambda: v.add_(1))\n"
        "attempt('vv add_', lambda: vv.add_(1)); attempt('vg add_', lambda: vg.add_(1))\n"
        "attempt('vg[0] =', lambda: vg.__setitem__(0, 1.0))\n"
        "attempt('unsqueeze_', lambda: v.unsqueeze_(0)); rec('w', w.detach())\n"
        "state('v', v); state('vg', vg)",
        # requires_grad_ on it: False changes nothing, True makes it collect its own .grad
        "w = weights()\nwith torch.no_grad(): v = w[0]\n"
        "attempt('off', lambda: v.requires_grad_(False).requires_grad)\n"
        "(v * 2).sum().backward(); rec('g', (w.grad, v.grad))\n"
        "attempt('on', lambda: v.requires_grad_(True).requires_grad)\n"
        "(v * 2).sum().backward(); rec('g2', (w.grad, v.grad)); state('v', v)\n"
        "attempt('grad wrt v', lambda: torch.autograd.grad((v * 3).sum(), v))\n"
        "attempt('off again', lambda: v.requires_grad_(False).requires_grad)\n"
        "(v * 2).sum().backward(); rec('g3', (w.grad, v.grad))\n"
        "attempt('add_', lambda: v.add_(1))",
        # hooks and retain_grad on it are accepted and never called; .grad can be set
        "w = weights()\nwith torch.no_grad(): v = w[0]\ncalls = []\n"
        "attempt('retain', lambda: v.retain_grad()); attempt('retains', lambda: v.retains_grad)\n"
        "attempt('hook', lambda: v.register_hook(lambda g: calls.append(g)) is None)\n"
        "(v * 3).sum().backward(); rec('calls', len(calls)); rec('v.grad', v.grad)\n"
        "attempt('numpy', lambda: v.numpy()); attempt('detach_', lambda: v.detach_())\n"
        "v.grad = torch.ones(3); rec('set grad', v.grad)",
        # a 0-d view formats as its number; repr shows requires_grad
        "w = weights()\nwith torch.no_grad(): s = w[0, 0]\nrec('fmt', f'{s} {s:.2f}')\n"
        "rec('repr', 'requires_grad=True' in repr(s))",
        # nn.Parameter of it is a new leaf; torch.Tensor(p) under no_grad aliases p
        "p = torch.nn.Parameter(torch.ones(2, 3))\nwith torch.no_grad(): v = p[0]\n"
        "rec('v', (type(v).__name__, v.requires_grad, v.is_leaf, v.grad_fn is None))\n"
        "q = torch.nn.Parameter(v)\n"
        "rec('q', (type(q).__name__, q.requires_grad, q.is_leaf, q._base is p))\n"
        "with torch.no_grad(): a = torch.Tensor(p)\n"
        "rec('a', (type(a).__name__, a.requires_grad, a.is_leaf, a._base is p))\n"
        "with torch.no_grad(): a.mul_(2)\nrec('p', p.detach()); state('a', a)",
        # evaluation under no_grad: views of the weights, then a training step
        "lin = torch.nn.Linear(3, 2)\n"
        "with torch.no_grad():\n"
        "    lin.weight.copy_(torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))\n"
        "    lin.bias.fill_(0.5)\n"
        "with torch.no_grad():\n    wt = lin.weight.t(); out = torch.ones(1, 3) @ wt + lin.bias\n"
        "rec('out', (out.requires_grad, wt.requires_grad, out))\n"
        "opt = torch.optim.SGD(lin.parameters(), lr=0.1)\n"
        "lin(torch.ones(1, 3)).sum().backward(); opt.step(); state('wt', wt)",
    ],
    ids=[
        "base-changed", "optimizer-step", "sibling-view", "data", "detach", "non-leaf-base",
        "non-leaf-sibling", "of-a-grad-mode-view", "views-of-it", "views-after-a-change",
        "used-with-others", "written-after-a-change",
        "requires_grad_", "hooks", "0-d", "parameter", "eval-then-train",
    ],
)  # fmt: skip
def test_no_grad_view_rules(script):
    check_script(NO_GRAD_VIEW_STEPS + script)


def test_in_place_op_on_a_no_grad_view_in_grad_mode_raises_pytorchs_error():
    check_script(
        "w = torch.ones(2, 3, requires_grad=True)\nwith torch.no_grad(): v = w[0]\nv.mul_(2)",
        error_contains="A view was created in no_grad mode and is being modified inplace with "
        "grad mode enabled",
    )


def test_a_no_grad_view_whose_base_changed_cannot_be_used_in_grad_mode():
    check_script(
        "w = torch.ones(2, 3, requires_grad=True)\nwith torch.no_grad(): v = w[0]\n"
        "with torch.no_grad(): w.add_(1)\nrec('v', v.detach()); (v * 2).sum()",
        error_contains="A view was created in no_grad mode and its base or another view of its "
        "base has been modified inplace with grad mode enabled",
    )


def test_hooks_on_a_view_of_a_no_grad_view_are_a_clear_error():
    # PyTorch would call them with the gradient reaching the view's node and then drop it;
    # tinygrad_seq drops that gradient earlier, so it refuses instead of never calling them
    import tinygrad_seq as ts

    w = ts.ones(2, 3, requires_grad=True)
    with ts.no_grad():
        v = w[0]
    vv = v[1:]
    with pytest.raises(NotImplementedError, match="view of a view made under no_grad"):
        vv.register_hook(lambda g: g)
    with pytest.raises(NotImplementedError, match="view of a view made under no_grad"):
        vv.retain_grad()


def test_a_grad_mode_view_of_a_no_grad_view_made_to_require_grad_is_a_clear_error():
    # PyTorch lets gradients reach such a view's own .grad through the new view, but refuses
    # the new view once the memory changes, which tinygrad_seq could not see on every use
    import tinygrad_seq as ts

    w = ts.ones(2, 3, requires_grad=True)
    with ts.no_grad():
        v = w[0]
    v.requires_grad_(True)
    (v * 2).sum().backward()  # v itself collects its gradient, as in PyTorch
    assert v.grad.tolist() == [2.0, 2.0, 2.0] and w.grad is None
    with pytest.raises(NotImplementedError, match="requires_grad_\\(True\\) was called"):
        v[0:2]
    with ts.no_grad():
        assert v[0:2].requires_grad  # under no_grad it is a no_grad view of its own


def test_shape_changing_in_place_ops_count_as_changes():
    check_script(
        "a = torch.ones(3, requires_grad=True); x = a * 1; y = x.sin()\n"
        "x.unsqueeze_(0); rec('version', x._version); y.sum().backward()",
        error_contains="modified by an inplace operation",
    )
