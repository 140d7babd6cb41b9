"""The explorer on a Transformer: one collapsible box per layer, as an RNN has one per time step.

The data (which ops each layer box holds, its attention, heads and feed-forward parts, the
per-layer gradient flow), and the page in headless Chromium (marker `browser`): layers drawn
closed, opened in place with a box per head, a node's gradient against the tensor's own, play
backward in the recorded order.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from helpers import in_ci
from test_viz_explore import browser, open_page, page_data, panel_norm  # noqa: F401

import tinygrad_seq as ts
from tinygrad_seq import nn, viz
from tinygrad_seq.autograd import Context, edge
from tinygrad_seq.errors import format_scope

pytestmark = pytest.mark.skipif(shutil.which("dot") is None and not in_ci(), reason="needs dot")
TOP = "transformerencoder.layers"


def encoder_loss(layers=2, heads=2, separate=True):
    """A small encoder, its input, the outputs of its layers (retain_grad) and a loss.

    The loss is against a random target: mean(LayerNorm(x)^2) would be nearly constant, and
    the gradient reaching the first layer close to zero.
    """
    ts.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, heads, 16, dropout=0.0)
    enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
    outs = []
    for mod in enc.layers:  # keep each layer's output, to compare with the page's flow plot
        mod.forward = _keeping(mod.forward, outs)
    x = ts.randn(5, 1, 8)
    target = ts.randn(5, 1, 8)
    with viz.separate_heads(separate):
        loss = ((enc(x) - target) ** 2).mean()
    return enc, loss, outs


def _keeping(forward, outs):
    def run(*args, **kwargs):
        y = forward(*args, **kwargs)
        y.retain_grad()
        outs.append(y)
        return y

    return run


def ops_under(loss, prefix: str) -> list:
    """The op nodes of the graph recorded in the scope `prefix` or below it."""
    out = []
    for n in viz.walk([loss]):
        s = format_scope(n.scope).split(" ")[0] if type(n) is Context else ""
        if s == prefix or s.startswith(prefix + "."):
            out.append(n)
    return out


def test_each_layer_is_one_cell_holding_exactly_its_ops():
    enc, loss, outs = encoder_loss(layers=2)
    ex = viz.explore(loss, params=enc)
    d = ex.data
    index = {id(n): i for i, n in enumerate(viz.walk([loss]))}
    cells = d["cells"]
    assert [(c["kind"], c["index"], c["layer"]) for c in cells] == [
        ("layer", 0, TOP),
        ("layer", 1, TOP),
    ]
    assert [c["title"] for c in cells] == [f"TransformerEncoderLayer layers.{i}" for i in (0, 1)]
    assert all(c["step"] is None for c in cells) and d["steps"] == []
    for c in cells:
        ops = ops_under(loss, f"{TOP}.{c['index']}")
        assert sorted(c["nodes"]) == sorted(index[id(n)] for n in ops)
        assert all(d["nodes"][i]["cell"] == c["id"] for i in c["nodes"])
    assert len(cells[0]["nodes"]) == len(cells[1]["nodes"]) == 66  # 2 heads, post-norm
    # outside the layers: the loss's few ops
    outside = [n for n in d["nodes"] if n["cell"] is None and n["kind"] == "op"]
    assert sorted(n["label"] for n in outside) == ["Div", "Pow", "Sub", "Sum"]  # mean = sum / n
    # each weight belongs to its layer's box: not drawn in the overview, drawn when it opens
    for name, p in enc.named_parameters():
        i = index[id(p)]
        assert d["nodes"][i]["cell"] == int(name.split(".")[1]), name
        assert f'id="n{i}"' not in d["overview"]
        c = cells[d["nodes"][i]["cell"]]
        inner_name = name.split(".", 2)[2]  # 'self_attn.in_proj_weight'
        assert i in c["stubs"] and f">{inner_name}</text>" in d["templates"][c["template"]]
    # the closed boxes say what they are and how many ops they hold
    for c in cells:
        assert f"{c['title']}</text>" in d["overview"]
        assert f">{len(c['nodes'])} ops</text>" in d["overview"]
    assert re.findall(r'<g id="c(\d)" class="node cell">', d["overview"]) == ["0", "1"]
    assert ex.title == f"TransformerEncoderLayer: {len(d['nodes'])} nodes, 2 layers"


def test_a_layer_has_its_attention_heads_and_feed_forward_as_parts():
    enc, loss, _ = encoder_loss(layers=2, heads=2)
    ex = viz.explore(loss, params=enc)
    for c in ex.data["cells"]:
        parts = dict(c["parts"])
        prefix = f"{TOP}.{c['index']}"
        for part in ("self_attn", "ffn", "norm1", "norm2"):
            assert parts[part] == len(ops_under(loss, f"{prefix}.{part}")) > 0, part
        for h in (0, 1):  # a head's ops: recorded in the scope '... self_attn head h'
            scope = f"{prefix}.self_attn head {h}"
            want = [n for n in ops_under(loss, prefix) if format_scope(n.scope) == scope]
            assert parts[f"self_attn.head {h}"] == len(want) > 0
        assert parts["self_attn.head 0"] == parts["self_attn.head 1"] == 8
        # the opened layer's drawing: a shaded box per head inside the self_attn box
        svg = ex.data["templates"][c["template"]]
        first_text = r'<g id="clust\d+" class="cluster">.*?<text[^>]*>([^<]*)</text>'
        labels = re.findall(first_text, svg, re.S)  # each box's label
        assert {"self_attn", "head 0", "head 1", "ffn", "norm1", "norm2"} <= set(labels)
        assert "TransformerEncoderLayer" not in svg  # the page writes the title itself
    # without separate_heads, the heads are one batched computation: no head parts
    enc, loss, _ = encoder_loss(layers=1, separate=False)
    (cell,) = viz.explore(loss, params=enc).data["cells"]
    assert not any("head" in p for p, _ in cell["parts"])
    assert dict(cell["parts"])["self_attn"] == len(ops_under(loss, f"{TOP}.0.self_attn"))


def test_gradient_flow_is_the_norm_of_each_layers_output():
    enc, loss, outs = encoder_loss(layers=3)
    ex = viz.explore(loss, params=enc)
    flow = ex.data["flow"]
    assert list(flow) == [TOP] and ex.data["flow_axis"] == "layer"
    assert [p[0] for p in flow[TOP]] == [0, 1, 2]
    for (k, norm, j), out in zip(flow[TOP], outs):
        assert norm == pytest.approx(np.linalg.norm(out.grad.numpy()), rel=1e-3), k
        assert ex.data["cells"][j]["index"] == k
        assert ex.data["cells"][j]["norm"] == norm  # the box's colour: what it hands on


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")  # nn.Transformer's, as PyTorch's
def test_a_decoder_layer_has_cross_attention_and_an_rnn_keeps_its_steps():
    ts.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    with viz.separate_heads():
        loss = (model(ts.randn(5, 1, 8), ts.randn(4, 1, 8)) ** 2).mean()
    d = viz.explore(loss, params=model).data
    by_title = {c["title"]: c for c in d["cells"]}
    assert set(by_title) == {"TransformerEncoderLayer layers.0", "TransformerDecoderLayer layers.0"}
    dec = by_title["TransformerDecoderLayer layers.0"]
    assert dec["layer"] == "transformer.decoder.layers"
    parts = dict(dec["parts"])
    assert parts["multihead_attn.head 1"] == parts["self_attn.head 0"] == 8
    assert len(dec["nodes"]) == len(ops_under(loss, "transformer.decoder.layers.0"))
    assert list(d["flow"]) == ["transformer.encoder.layers", "transformer.decoder.layers"]
    # without params=model the page cannot name the layers' classes, only their scopes
    ex = viz.explore(loss)
    assert sorted(c["title"] for c in ex.data["cells"]) == ["layers.0", "layers.0"]
    assert ex.title.startswith("Transformer: ")
    # the memory the decoder reads comes in from the encoder's final norm, a stub of the drawing
    memory = [s for s in dec["stubs"] if d["nodes"][s]["scope"] == "transformer.encoder.norm"]
    assert len(memory) == 1 and d["nodes"][memory[0]]["shape"] == [5, 1, 8]
    svg = d["templates"][dec["template"]]
    assert ">multihead_attn</text>" in svg and ">Add (5, 1, 8)</text>" in svg
    assert ">self_attn.in_proj_weight</text>" in svg  # weights named inside their layer
    # an LSTM's page still has time steps and no layers
    ts.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    out, _ = lstm(ts.randn(4, 1, 2))
    lstm_loss = (out * out).mean()
    d = viz.explore(lstm_loss, params=lstm).data
    assert [c["kind"] for c in d["cells"]] == ["step"] * 4 and d["flow_axis"] == "t"
    assert [c["index"] for c in d["cells"]] == [c["step"] for c in d["cells"]]
    assert all(c["parts"] == [] for c in d["cells"])
    assert viz.explore(lstm_loss).title == f"LSTM: {len(d['nodes'])} nodes, 4 steps"


# ----------------------------------------------------------------------------- in a browser


@pytest.mark.browser
def test_transformer_explorer_in_chromium(browser, tmp_path):  # noqa: F811
    enc, loss, outs = encoder_loss(layers=2, heads=2)
    with viz.record_backward(loss) as rec:
        loss.backward()
    path = viz.explore(loss, params=enc).save(tmp_path / "transformer.html")
    data = page_data(path.read_text(encoding="utf-8"))
    nodes = viz.walk([loss])
    index = {id(n): i for i, n in enumerate(nodes)}
    page, seen = open_page(browser, path)

    # the layers are drawn closed, one box each, left to right in order
    boxes = page.locator("g.node[data-cell]")
    assert boxes.count() == 2 and page.locator("g.card").count() == 0
    assert "TransformerEncoderLayer layers.0" in boxes.nth(0).text_content()
    assert "66 ops" in boxes.nth(0).text_content()
    x = [b.bounding_box()["x"] for b in (boxes.nth(0), boxes.nth(1))]
    assert x[0] < x[1]
    assert "per layer" in page.locator("#flow").inner_text()

    # click layer 1: it opens in place, with its parts in the panel and a box per head
    page.locator('g.node[data-cell="1"]').click()
    card = page.locator('g.card[data-card="1"]')
    assert card.count() == 1 and not page.locator('g.node[data-cell="1"]').is_visible()
    assert "TransformerEncoderLayer layers.1" in page.locator("#info h3").inner_text()
    assert "self_attn.head 0: 8 ops" in page.locator("#info").inner_text()
    heads = card.locator("g.cluster text", has_text=re.compile(r"^head \d$"))
    assert sorted(heads.all_text_contents()) == ["head 0", "head 1"]
    assert card.locator("g.node[data-nid]").count() == 66 + 12  # its ops and its 12 weights

    # a softmax of head 1: its gradient in the panel is the tensor's own
    soft = next(
        n
        for n in ops_under(loss, f"{TOP}.1.self_attn")
        if n.fn.__name__ == "Softmax" and n.scope[-1] == "head 1"
    )
    page.locator(f'g.card g.node[data-nid="{index[id(soft)]}"]').click()
    assert page.locator("#info h3").inner_text() == "Softmax"
    assert "layers.1.self_attn head 1" in page.locator("#info").inner_text()
    assert panel_norm(page) == pytest.approx(np.linalg.norm(rec.grad_of(soft)), rel=1e-3)
    # a weight of layer 1 is drawn in its box: its norm is its .grad's
    w = enc.layers[1].self_attn.in_proj_weight
    page.locator(f'g.card g.node[data-nid="{index[id(w)]}"]').click()
    assert page.locator("#info h3").inner_text() == "layers.1.self_attn.in_proj_weight"
    assert panel_norm(page) == pytest.approx(np.linalg.norm(w.grad.numpy()), rel=1e-3)
    # and layer 0's output (the node handed to layer 1): its norm is the retained .grad
    out0 = index[id(edge(outs[0]))]
    page.evaluate(f"window.__explorer.select({out0}, true)")
    assert page.locator('g.card[data-card="0"]').count() == 1  # opened to show it
    assert panel_norm(page) == pytest.approx(np.linalg.norm(outs[0].grad.numpy()), rel=1e-3)
    assert "TransformerEncoderLayer layers.0" in page.locator("#info").inner_text()

    # colours: a closed layer takes the colour of what it hands on
    page.locator('g.card[data-card="0"] g.close').click()
    fill = page.locator('g.node[data-cell="0"]').locator("polygon, path").first
    assert fill.get_attribute("fill") == data["cells"][0]["color"]

    # play backward: the recorded order, with layer 1 open and layer 0 closed
    page.locator("#speed").fill("100")
    page.locator("#play-backward").click()
    page.wait_for_function("window.__explorer.state === 'done'", timeout=30_000)
    visited = page.evaluate("window.__explorer.visited")
    assert visited == [index[id(v.node)] for v in rec.visits] == data["walks"]["backward"]
    assert page.locator('g.node[data-cell="0"].lit').count() == 1
    assert page.locator("g.card g.node.lit").count() == 66 + 12  # its ops and its weights
    # the weight's gradient arrived from its three row blocks (q, k, v), summed
    badge = page.locator(f'g.card g.node[data-nid="{index[id(w)]}"] text.badge').text_content()
    assert badge.startswith("\u03a3 3: ")
    assert float(badge.split()[-1]) == pytest.approx(np.linalg.norm(w.grad.numpy()), rel=1e-2)

    # the flow plot's point for layer 0 opens that layer
    page.locator('#flow-plot circle[data-cell="0"]').click()
    assert page.locator('g.card[data-card="0"]').count() == 1
    page.locator("#collapse-all").click()
    assert page.locator("g.card").count() == 0
    page.locator("#expand-window").click()  # no time steps: every layer
    assert page.locator("g.card").count() == 2

    page.screenshot(path=str(tmp_path / "transformer.png"))
    assert (tmp_path / "transformer.png").stat().st_size > 10_000
    assert seen["errors"] == []
    assert seen["requests"] == [path.as_uri()]
    page.close()
