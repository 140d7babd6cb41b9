"""Tests of tinygrad_seq.check.compare: autodiff == manual == finite differences, and the report.

For every cell and sequence layer (RNN tanh/relu, LSTM, GRU in PyTorch's and the course's
variant) the autodiff gradients through nn and the converters equal the hand-derived ones to
1e-10 in float64 and both equal central differences. A deliberately wrong manual backward must
make the report fail and point at the parameter, the gate and the first diverging step.
"""

from __future__ import annotations

import html
import inspect
import re

import numpy as np
import pytest
from helpers import CELLS, KIND_IDS, KINDS, LAYERS

import tinygrad_seq as ts
from tinygrad_seq import functional as F
from tinygrad_seq import nn
from tinygrad_seq.check.compare import GradientReport, compare_gradients, replay_bptt
from tinygrad_seq.manual import convert as cv
from tinygrad_seq.manual import (
    gru_backward,
    gru_forward,
    lstm,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)

SHAPES = [(1, 1, 1, 1), (3, 4, 2, 3), (2, 3, 3, 5)]  # (n_x, n_a, m, T_x)
EXACT = 1e-10  # autodiff vs manual, float64


def assert_agree(report: GradientReport) -> None:
    """autodiff == manual to 1e-10 on every row and step, and FD agrees with both."""
    assert report.ok, str(report)
    for row in report.rows + report.steps:
        assert row.diffs["autodiff-manual"][0] < EXACT, row.label
        for pair in ("autodiff-FD", "manual-FD"):
            assert pair not in row.diffs or row.diffs[pair][2], (row.label, pair)
    assert report.forward_diff < 1e-12 and report.first_divergent_step is None


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("n_x,n_a,m,T_x", SHAPES)
def test_layer_autodiff_equals_manual_equals_fd(kind, kwargs, n_x, n_a, m, T_x):
    ts.manual_seed(n_x + 10 * n_a)
    layer = LAYERS[kind](n_x, n_a, **kwargs)
    rng = np.random.default_rng(T_x)
    x = rng.standard_normal((T_x, m, n_x))
    h0 = rng.standard_normal((1, m, n_a))
    hx = (h0, rng.standard_normal((1, m, n_a))) if kind == "lstm" else h0
    report = compare_gradients(layer, x, h0=hx, atol=EXACT, rtol=0.0)
    assert_agree(report)
    links = cv.parameter_links(kind, kwargs.get("reset_after", True))
    assert len(report.steps) == T_x
    assert len(report.rows) == len(links) + (3 if kind == "lstm" else 2)


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("n_x,n_a,m", [(1, 1, 1), (3, 4, 2), (4, 2, 3)])
def test_cell_autodiff_equals_manual_equals_fd(kind, kwargs, n_x, n_a, m):
    cell = CELLS[kind](n_x, n_a, **kwargs)
    rng = np.random.default_rng(n_x)
    x, h = rng.standard_normal((m, n_x)), rng.standard_normal((m, n_a))
    hx = (h, rng.standard_normal((m, n_a))) if kind == "lstm" else h
    assert_agree(compare_gradients(cell, x, h0=hx, atol=EXACT, rtol=0.0))


def _lm_loss(W, b, targets):
    """A user loss on the output and the final state: cross-entropy of a linear read-out."""

    def loss(out, state):
        h_n = state[0] if isinstance(state, tuple) else state
        logits = out @ W.T + b  # (T, m, n_y)
        ce = F.cross_entropy(logits.reshape(-1, W.shape[0]), targets.reshape(-1), reduction="sum")
        return ce + (h_n * h_n).sum() * 0.5

    return loss


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_user_loss_feeds_the_same_upstream_gradient(kind, kwargs):
    rng = np.random.default_rng(11)
    layer = LAYERS[kind](3, 4, **kwargs)
    W, b = ts.tensor(rng.standard_normal((5, 4))), ts.tensor(rng.standard_normal(5))
    targets = rng.integers(0, 5, size=(4, 2))
    report = compare_gradients(layer, rng.standard_normal((4, 2, 3)), loss=_lm_loss(W, b, targets))
    assert_agree(report)
    assert "loss: loss" in str(report)


def test_lstm_loss_on_final_cell_state_reaches_dc_last():
    rng = np.random.default_rng(12)
    layer = nn.LSTM(2, 3)
    report = compare_gradients(layer, rng.standard_normal((3, 2, 2)), loss=lambda o, s: s[1].sum())
    assert_agree(report)


def test_batch_first_float32_and_tensor_inputs_leave_the_module_untouched():
    ts.set_default_dtype(ts.float32)
    layer = nn.GRU(3, 4, batch_first=True, retain_states=True)
    x32 = ts.tensor(np.random.default_rng(13).standard_normal((2, 5, 3)).astype(np.float32))
    layer(x32)  # a previous call: retained states that must not be copied or changed
    states_before = layer.states
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    rng_before = ts.random.get_generator().bit_generator.state
    report = compare_gradients(layer, x32, atol=EXACT, rtol=0.0)
    assert_agree(report)
    assert report.title.startswith("GRU n_x=3 n_a=4, variant 'pytorch', T_x=5, m=2")
    for k, p in layer.named_parameters():
        assert p.dtype == np.float32 and p.grad is None
        np.testing.assert_array_equal(p.data, before[k])
    assert layer.states is states_before
    assert ts.random.get_generator().bit_generator.state == rng_before


def test_fd_options():
    rng = np.random.default_rng(14)
    layer = nn.LSTM(3, 4)
    x = rng.standard_normal((3, 2, 3))
    off = compare_gradients(layer, x, fd=False)
    assert off.ok and "FD off" in str(off)
    assert all(set(r.diffs) == {"autodiff-manual"} for r in off.rows)
    sampled = compare_gradients(layer, x, fd_max_entries=3, fd_inputs=False)
    assert sampled.ok and "at most 3 entries per array" in str(sampled)
    assert "autodiff-FD" in sampled.rows[0].diffs
    assert "autodiff-FD" not in [r for r in sampled.rows if r.nn_label == "input"][0].diffs


def test_bias_free_module():
    rng = np.random.default_rng(15)
    report = compare_gradients(nn.GRU(2, 3, bias=False), rng.standard_normal((3, 2, 2)))
    assert report.ok and not any("bias" in r.label for r in report.rows)


# ------------------------------------------------------------------------- the replayed BPTT


@pytest.mark.parametrize("kind,kwargs", KINDS, ids=KIND_IDS)
def test_replayed_bptt_equals_the_manual_sequence_backward(kind, kwargs):
    rng = np.random.default_rng(16)
    spec_module = LAYERS[kind](3, 4, **kwargs)
    spec, p = cv.module_spec(spec_module), cv.module_to_course(spec_module)
    x, a0, da = rng.standard_normal((3, 2, 5)), rng.standard_normal((4, 2)), None
    da = rng.standard_normal((4, 2, 5))
    dc_last = None
    if kind == "lstm":
        dc_last = rng.standard_normal((4, 2))
        expected = lstm_backward(da, lstm_forward(x, a0, p)[3], dc_last=dc_last)
        caches = lstm_forward(x, a0, p)[3]
    elif kind == "gru":
        caches = gru_forward(x, a0, p, variant=spec.variant)[2]
        expected = gru_backward(da, caches)
    else:
        caches = rnn_forward(x, a0, p)[2]
        expected = rnn_backward(da, caches)
    got = replay_bptt(kind, da, caches, dc_last)
    for k, v in expected.items():
        np.testing.assert_array_equal(got[k], v, err_msg=k)
    # the totals: the last step gets only its own upstream gradient
    np.testing.assert_array_equal(got["totals"][-1], da[:, :, -1])


# ------------------------------------------------------------------------- a broken backward


def _flipped_forget_gate():
    """A copy of manual.lstm.lstm_cell_backward with the forget-gate term's sign flipped."""
    source = inspect.getsource(lstm.lstm_cell_backward)
    assert '"f": dc * c_prev' in source
    namespace = dict(vars(lstm))
    exec(source.replace('"f": dc * c_prev', '"f": -dc * c_prev'), namespace)
    return namespace["lstm_cell_backward"]


def _check_broken_report(report: GradientReport, T_x: int) -> None:
    assert not report.ok
    assert report.first_divergent_step == T_x - 1  # the very first step of BPTT
    forget = {"weight_hh[f] ~ Wf[:, :n_a]", "weight_ih[f] ~ Wf[:, n_a:]"}
    forget.add("bias_ih[f] + bias_hh[f] ~ bf")
    assert forget <= set(report.first_divergent_params)
    assert not any(f"[{g}]" in p for g in "igo" for p in report.first_divergent_params)
    assert "dL/dc[t-1] ~ dc_prev" not in report.first_divergent_params  # dc_prev = dc * ft holds
    text = str(report)
    assert f"first divergent step (BPTT order, t = T_x-1..0): t={T_x - 1} ~ a<{T_x}>" in text
    assert "weight_hh[f] ~ Wf[:, :n_a]" in text and "FAIL" in text
    bad = {r.nn_label for r in report.rows if not r.ok}
    assert {"weight_hh[f]", "weight_ih[f]"} <= bad
    # the total dL/dh[t] agrees at the last step and parts at the one before
    assert report.steps[-1].ok and not report.steps[-2].ok


def test_wrong_manual_backward_is_caught_and_localised():
    rng = np.random.default_rng(17)
    layer = nn.LSTM(3, 4)
    x = rng.standard_normal((4, 2, 3))
    hx = (rng.standard_normal((1, 2, 4)), rng.standard_normal((1, 2, 4)))
    report = compare_gradients(layer, x, h0=hx, manual_backward=_flipped_forget_gate())
    _check_broken_report(report, 4)
    assert report.to_markdown().count("differs: weight_hh[f], weight_ih[f]") == 4


def test_report_as_html_has_a_row_per_parameter_and_step():
    """_repr_html_ (what a notebook shows): escaped tables, FAIL in red, same rows as the text."""
    rng = np.random.default_rng(17)
    layer, x = nn.LSTM(3, 4), rng.standard_normal((4, 2, 3))
    good = compare_gradients(layer, x, fd=False)
    bad = compare_gradients(layer, x, fd=False, manual_backward=_flipped_forget_gate())
    for report in (good, bad):
        page = report._repr_html_()
        assert page == report.to_html() and page.count("<table>") == 2
        rows = re.findall(r"<tr>(.*?)</tr>", page)
        assert len(rows) == 2 + len(report.rows) + len(report.steps)  # two header rows
        labels = [re.search(r"<td[^>]*>(.*?)</td>", r)[1] for r in rows if "<td" in r]
        expected = [r.label for r in report.rows + report.steps]
        assert labels == [html.escape(label) for label in expected]
        assert "dL/dh[t=0] ~ da&lt;1&gt;" in page and "da<1>" not in page  # escaped
        assert "<th>ok</th>" in page  # a header is never coloured
    assert 'color:#1a7f37"><b>LSTM' in good.to_html() and "FAIL" not in good.to_html()
    failing = bad.to_html()
    assert 'color:#cf222e"><b>LSTM' in failing
    assert failing.count('<td style="color:#cf222e;font-weight:bold">FAIL</td>') == len(
        [r for r in bad.rows if not r.ok]
    ) + sum(not r.ok or t in bad.local for t, r in enumerate(bad.steps))
    assert "first divergent step" in failing

    class Printer:  # IPython's pretty printer, as far as _repr_pretty_ uses it
        written: list[str] = []

        @classmethod
        def text(cls, s: str) -> None:
            cls.written.append(s)

    good._repr_pretty_(Printer, cycle=False)
    assert Printer.written == [str(good)]


def test_monkeypatched_manual_cell_backward_is_used(monkeypatch):
    rng = np.random.default_rng(18)
    monkeypatch.setattr(lstm, "lstm_cell_backward", _flipped_forget_gate())
    report = compare_gradients(nn.LSTM(2, 3), rng.standard_normal((3, 2, 2)), fd=False)
    _check_broken_report(report, 3)


def test_wrong_gru_update_gate_names_the_z_rows():
    from tinygrad_seq.manual import gru

    source = inspect.getsource(gru.gru_cell_backward)
    namespace = dict(vars(gru))
    exec(
        source.replace("dzu = dc_next * (cct - c_prev)", "dzu = dc_next * (c_prev - cct)"),
        namespace,
    )
    rng = np.random.default_rng(19)
    report = compare_gradients(
        nn.GRU(2, 3), rng.standard_normal((3, 2, 2)), fd=False,
        manual_backward=namespace["gru_cell_backward"],
    )  # fmt: skip
    assert report.first_divergent_step == 2
    assert "weight_hh[z] ~ -Wu[:, :n_a]" in report.first_divergent_params
    assert not any("[r]" in p or "[n]" in p for p in report.first_divergent_params)


# ------------------------------------------------------------------------- the printed report


def test_report_text_and_markdown_labels():
    rng = np.random.default_rng(20)
    report = compare_gradients(nn.LSTM(3, 2), rng.standard_normal((2, 2, 3)))
    text, md = str(report), report.to_markdown()
    for label in [
        "weight_ih[f] ~ Wf[:, n_a:]",
        "weight_hh[f] ~ Wf[:, :n_a]",
        "bias_ih[f] + bias_hh[f] ~ bf",
        "weight_ih[g] ~ Wc[:, n_a:]",
        "input ~ x",
        "h_0 ~ a0",
        "c_0 ~ c0",
        "dL/dh[t=0] ~ da<1>",
        "dL/dh[t=1] ~ da<2>",
        "autodiff-manual abs / rel",
        "manual-FD abs / rel",
    ]:
        assert label in text and label in md, label
    assert text.splitlines()[0] == "LSTM n_x=3 n_a=2, T_x=2, m=2, loss: sum of outputs: OK"
    assert "| --- |" in md and md.count("\n| weight_") == 8
    gru_text = str(compare_gradients(nn.GRUCell(2, 2), rng.standard_normal((1, 2)), fd=False))
    for label in ["weight_hh[z] ~ -Wu[:, :n_a]", "bias_hh[n] ~ bhc", "weight_ih[n] ~ Wcx"]:
        assert label in gru_text
    rnn_text = str(compare_gradients(nn.RNN(2, 2), rng.standard_normal((2, 1, 2))))
    assert "bias_ih + bias_hh ~ ba" in rnn_text and "weight_hh ~ Waa" in rnn_text


def test_worst_entry_names_gate_row_and_column():
    rng = np.random.default_rng(21)
    report = compare_gradients(
        nn.LSTM(3, 4), rng.standard_normal((3, 2, 3)), manual_backward=_flipped_forget_gate()
    )
    row = next(r for r in report.rows if r.nn_label == "weight_ih[f]")
    assert row.worst.startswith("autodiff-manual: gate f, row ")
    r, c = (int(v) for v in row.worst.split("row ")[1].split(":")[0].split(", col "))
    assert f"weight_ih_l0[{4 + r}, {c}] ~ Wf[{r}, {4 + c}]" in row.worst


# ------------------------------------------------------------------------- errors


def test_bad_modules_and_inputs_are_rejected():
    x = np.zeros((2, 1, 3))
    with pytest.raises(ValueError, match="num_layers=2"):
        compare_gradients(nn.LSTM(3, 4, num_layers=2), x)
    with pytest.raises(ValueError, match="bidirectional"):
        compare_gradients(nn.RNN(3, 4, bidirectional=True), x)
    with pytest.raises(TypeError, match="got Linear"):
        compare_gradients(nn.Linear(3, 4), x)
    with pytest.raises(ValueError, match=r"inputs must be \(T, m, n_x\) with n_x=3, got \(2, 3\)"):
        compare_gradients(nn.RNN(3, 4), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"inputs must be \(m, n_x\)"):
        compare_gradients(nn.RNNCell(3, 4), x)
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 1, 4\)"):
        compare_gradients(nn.RNN(3, 4), x, h0=np.zeros((1, 4)))
    with pytest.raises(TypeError, match="one-element Tensor"):
        compare_gradients(nn.RNN(3, 4), x, loss=lambda out: out)


def test_docs_example_is_the_real_output():
    """docs/compare.md prints a real report: its labels and title are today's output."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "compare.md").read_text()
    ts.manual_seed(0)
    layer = nn.LSTM(3, 2)
    x = np.random.default_rng(0).standard_normal((3, 2, 3))
    text = str(compare_gradients(layer, x))
    assert "report = compare_gradients(layer, x)" in doc
    for line in text.splitlines():
        label = line.split("  ")[0]
        assert label in doc, label


def test_a_loss_that_casts_to_float32_is_refused():
    x = np.random.default_rng(0).standard_normal((3, 2, 2))
    with pytest.raises(TypeError, match="loss returned a float32 value"):
        compare_gradients(nn.RNN(2, 3), x, loss=lambda out: out.sum().float())
