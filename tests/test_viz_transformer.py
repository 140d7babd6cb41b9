"""Drawing a Transformer: one box per layer and its parts, one per head inside separate_heads()."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn, viz
from tinygrad_seq.autograd import Context
from tinygrad_seq.errors import format_scope
from tinygrad_seq.viz import _graph_model as gm


def clusters(source: str) -> dict[str, list[str]]:
    """DOT source -> {cluster label: first label lines of the nodes drawn directly inside}."""
    out: dict[str, list[str]] = {"": []}
    stack = [""]
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster_"):
            stack.append(None)
        elif s == "}":
            stack.pop()
        elif stack[-1] is None and "labeljust" in s:
            stack[-1] = re.search(r'label="([^"]*)"', s).group(1)
            out[stack[-1]] = []
        elif re.match(r"n\d+ \[label=", s):
            out[stack[-1]].append(re.search(r'label="([^"\\]*)', s).group(1))
    return out


def _encoder(layers: int = 2, heads: int = 2, d: int = 8):
    ts.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, dtype=ts.float64)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def _run(enc, separate: bool):
    """(output, loss, inputs) of a causal, padded forward pass, inside separate_heads or not."""
    rng = np.random.default_rng(1)
    x = ts.tensor(rng.standard_normal((5, 3, 8)), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=ts.float64)
    padded = np.arange(5)[None, :] >= np.array([5, 3, 4])[:, None]
    padding = ts.tensor(np.where(padded, -np.inf, 0.0))  # float, as the mask: no warning
    with viz.separate_heads(separate):
        y = enc(x, mask=mask, src_key_padding_mask=padding)
    loss = (y * ts.tensor(rng.standard_normal(y.shape))).sum()
    return y, loss, x


def test_a_two_layer_encoder_draws_one_cluster_per_layer_and_per_head():
    enc = _encoder(layers=2, heads=2)
    _, loss, _ = _run(enc, separate=True)
    boxes = clusters(viz.draw_graph(loss, enc).source)
    top = "transformerencoder.layers"
    layer_boxes = [k for k in boxes if re.fullmatch(rf"{top}\.\d+ \(TransformerEncoderLayer\)", k)]
    assert sorted(layer_boxes) == [f"{top}.{i} (TransformerEncoderLayer)" for i in range(2)]
    head_boxes = sorted(k for k in boxes if " head " in k)
    want = [f"{top}.{i}.self_attn head {h}" for i in range(2) for h in range(2)]
    assert head_boxes == want
    for box in head_boxes:  # each head box holds that head's own softmax attention
        assert boxes[box].count("Softmax") == 1 and boxes[box].count("MatMul") == 2
    for i in range(2):  # the parts of a layer, each with its parameters inside
        assert (
            f"layers.{i}.self_attn.in_proj_weight"
            in boxes[f"{top}.{i}.self_attn (MultiheadAttention)"]
        )
        assert f"layers.{i}.linear1.weight" in boxes[f"{top}.{i}.ffn.linear1"]
        assert "Relu" in boxes[f"{top}.{i}.ffn"]


def test_without_separate_heads_the_heads_stay_one_batched_op():
    enc = _encoder(layers=2, heads=2)
    _, loss, _ = _run(enc, separate=False)
    boxes = clusters(viz.draw_graph(loss, enc).source)
    assert not any(" head " in k for k in boxes)
    softmaxes = [t for t in gm.walk([loss]) if type(t) is Context and t.fn.__name__ == "Softmax"]
    assert len(softmaxes) == 2  # one per layer, all heads at once
    assert sorted(format_scope(t.scope) for t in softmaxes) == [
        f"transformerencoder.layers.{i}.self_attn" for i in (0, 1)
    ]


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("average", [False, True])
def test_separate_heads_gives_the_same_numbers(need_weights, average):
    ts.manual_seed(0)
    mha = nn.MultiheadAttention(8, 4, dtype=ts.float64)
    rng = np.random.default_rng(0)
    q = rng.standard_normal((5, 2, 8))
    kv = rng.standard_normal((6, 2, 8))
    mask = rng.standard_normal((5, 6))
    padding = np.where([[False] * 6, [False] * 4 + [True] * 2], -np.inf, 0.0)
    direction = ts.tensor(rng.standard_normal((5, 2, 8)))
    results = []
    for separate in (False, True):
        qt, kt = ts.tensor(q, requires_grad=True), ts.tensor(kv, requires_grad=True)
        mha.zero_grad()
        with viz.separate_heads(separate):
            out, w = mha(
                qt, kt, kt, key_padding_mask=ts.tensor(padding), attn_mask=ts.tensor(mask),
                need_weights=need_weights, average_attn_weights=average,
            )  # fmt: skip
        (out * direction).sum().backward()
        grads = [qt.grad.numpy(), kt.grad.numpy()] + [p.grad.numpy() for p in mha.parameters()]
        results.append((out.detach().numpy(), None if w is None else w.detach().numpy(), grads))
    (o1, w1, g1), (o2, w2, g2) = results
    np.testing.assert_allclose(o2, o1, rtol=1e-12, atol=1e-14)
    if need_weights:
        assert w2.shape == w1.shape == ((2, 5, 6) if average else (2, 4, 5, 6))
        np.testing.assert_allclose(w2, w1, rtol=1e-12, atol=1e-14)
    for a, b in zip(g2, g1):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_an_encoder_gives_the_same_numbers_with_heads_apart():
    enc = _encoder(layers=2, heads=2)
    y1, loss1, x1 = _run(enc, separate=False)
    loss1.backward()
    g1 = [p.grad.numpy().copy() for p in enc.parameters()] + [x1.grad.numpy()]
    enc.zero_grad()
    y2, loss2, x2 = _run(enc, separate=True)
    loss2.backward()
    g2 = [p.grad.numpy() for p in enc.parameters()] + [x2.grad.numpy()]
    np.testing.assert_allclose(y2.detach().numpy(), y1.detach().numpy(), rtol=1e-12, atol=1e-14)
    for a, b in zip(g2, g1):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_separate_heads_restores_the_mode_and_names_heads_in_errors():
    from tinygrad_seq.nn import attention

    with viz.separate_heads():
        assert attention._per_head
        with viz.separate_heads(False):
            assert not attention._per_head
        assert attention._per_head
    assert not attention._per_head
    assert (
        format_scope(("lm", "layers", "0", "self_attn", "head 1")) == "lm.layers.0.self_attn head 1"
    )


def test_a_whole_transformer_splits_the_heads_of_all_three_attentions():
    ts.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True, dtype=ts.float64)
    rng = np.random.default_rng(0)
    src, tgt = ts.tensor(rng.standard_normal((2, 5, 8))), ts.tensor(rng.standard_normal((2, 4, 8)))
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=ts.float64)
    outs = []
    for separate in (False, True):
        with viz.separate_heads(separate):
            y = model(src, tgt, tgt_mask=tgt_mask)
        outs.append(y)
    np.testing.assert_allclose(outs[1].detach().numpy(), outs[0].detach().numpy(), rtol=1e-12)
    scopes = {format_scope(t.scope) for t in gm.walk([outs[1]]) if type(t) is Context}
    for part in ("encoder.layers.0.self_attn", "decoder.layers.0.self_attn",
                 "decoder.layers.0.multihead_attn"):  # fmt: skip
        assert {f"transformer.{part} head {h}" for h in (0, 1)} <= scopes
    assert "transformer.decoder.layers.0.ffn.linear1" in scopes
