"""Tests of viz.explore and viz.record_backward: the recorded walk against the engine, the page's
data, the files; and the page itself in headless Chromium (marker `browser`), driven with
Playwright: offline, a click against the tensor's own gradient, the step slider, play backward.
"""

from __future__ import annotations

import base64
import gzip
import importlib
import json
import re
import shutil

import numpy as np
import pytest
from helpers import in_ci

import tinygrad_seq as ts
from tinygrad_seq import nn, ops, viz
from tinygrad_seq.autograd import Context, edge
from tinygrad_seq.cli import main

pytestmark = pytest.mark.skipif(shutil.which("dot") is None and not in_ci(), reason="needs dot")
explore_module = importlib.import_module("tinygrad_seq.viz.explore")  # viz.explore: the function


def page_data(page: str) -> dict:
    """The JSON payload of a saved page, plain or gzipped."""
    m = re.search(r'<script type="([^"]+)" id="explorer-data">(.*?)</script>', page, re.S)
    if m[1] == "application/gzip-base64":
        return json.loads(gzip.decompress(base64.b64decode(m[2])))
    assert m[1] == "application/json"
    return json.loads(m[2].replace("<\\/", "</"))


def lstm_loss(steps=5, layers=1, keep=True, seed=0, cls=nn.LSTM):
    """A small recurrent layer (retain_states: its h_t keep .grad) and mean(out^2)."""
    ts.manual_seed(seed)
    model = cls(2, 3, num_layers=layers, retain_states=True)
    x = ts.randn(steps, 1, 2)
    if keep:
        with viz.keep_values():
            out, _ = model(x)
            loss = (out * out).mean()
    else:
        out, _ = model(x)
        loss = (out * out).mean()
    return model, loss


def node_index(loss):
    return {id(n): i for i, n in enumerate(viz.walk([loss]))}


# ----------------------------------------------------------------------------- the recording


def test_recorded_order_is_the_engines_and_changes_nothing():
    model, loss = lstm_loss()
    nodes = viz.walk([loss])
    classes = {id(n): n.fn for n in nodes if type(n) is Context}
    with viz.record_backward(loss) as rec:
        loss.backward()
    ours = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    # the engine's rule: op nodes by decreasing creation number, each once; then the leaves
    visited_ops = [v.node for v in rec.visits if type(v.node) is Context]
    seqs = [n.seq for n in visited_ops]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    assert len(visited_ops) == sum(type(n) is Context for n in nodes)
    first_leaf = next(i for i, v in enumerate(rec.visits) if type(v.node) is not Context)
    assert all(type(v.node) is not Context for v in rec.visits[first_leaf:])
    # the ops' own classes are back, and the gradients are those of an unrecorded backward
    assert all(n.fn is classes[id(n)] for n in nodes if type(n) is Context)
    assert any(n.fn is ops.Tanh for n in nodes if type(n) is Context)
    model2, loss2 = lstm_loss()
    loss2.backward()
    for name, p in model2.named_parameters():
        np.testing.assert_array_equal(ours[name], p.grad.numpy(), err_msg=name)


def test_recorded_gradients_are_the_tensors_own():
    model, loss = lstm_loss(steps=4)
    with viz.record_backward(loss) as rec:
        loss.backward()
    hs = model.states["l0"]["h"]
    for t, h in enumerate(hs):
        np.testing.assert_allclose(rec.grad_of(edge(h)), h.grad.numpy(), rtol=1e-6, err_msg=t)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(rec.grad_of(p), p.grad.numpy(), rtol=1e-6, err_msg=name)


def test_arrivals_add_up_to_the_shared_nodes_gradient():
    model, loss = lstm_loss(steps=6)
    with viz.record_backward(loss) as rec:
        loss.backward()
    by_node: dict = {}
    for a in rec.arrivals:
        by_node.setdefault(id(a.node), []).append(a)
    assert by_node, "an LSTM has shared nodes (W_hh^T, the input projection)"
    for arrivals in by_node.values():
        node = arrivals[0].node
        assert [a.count for a in arrivals] == list(range(1, len(arrivals) + 1))
        assert all(a.at < len(rec.visits) for a in arrivals)
        whole = np.linalg.norm(rec.grad_of(node).astype(np.float64))
        assert arrivals[-1].total == pytest.approx(whole, rel=1e-5)
    # W_hh^T (the Contiguous copy every step multiplies by) receives one gradient per step
    shared_w = [a for a in by_node.values() if type(a[0].node) is Context
                and a[0].node.fn.__name__ == "Contiguous"]  # fmt: skip
    assert [len(a) for a in shared_w] == [6]


def test_record_backward_refuses_a_walked_graph_and_restores_on_error():
    _, loss = lstm_loss(keep=False)
    loss.backward()
    with pytest.raises(RuntimeError, match="already walked"):
        with viz.record_backward(loss):
            pass
    _, loss = lstm_loss(keep=False)
    nodes = [n for n in viz.walk([loss]) if type(n) is Context]
    before = [n.fn for n in nodes]
    with pytest.raises(ZeroDivisionError):
        with viz.record_backward(loss):
            raise ZeroDivisionError
    assert [n.fn for n in nodes] == before


# ----------------------------------------------------------------------------- explore's data


def test_explore_runs_backward_itself_and_describes_every_node():
    model, loss = lstm_loss(steps=4)
    ex = viz.explore(loss, params=model)
    d = ex.data
    order = viz.walk([loss])
    assert len(d["nodes"]) == len(order) and len(d["cells"]) == 4 and d["recorded"]
    w = model.weight_hh_l0
    i = node_index(loss)[id(w)]
    node = d["nodes"][i]
    assert node["label"] == "weight_hh_l0" and node["kind"] == "param"
    assert node["shape"] == list(w.shape) and node["dtype"] == "float32"
    assert node["grad"]["norm"] == pytest.approx(np.linalg.norm(w.grad.numpy()), rel=1e-3)
    assert node["value"]["max"] == pytest.approx(w.detach().numpy().max(), rel=1e-2)
    for j, n in enumerate(d["nodes"]):  # parents and children are each other's inverse
        assert all(j in d["nodes"][p]["children"] for p in n["parents"])
        assert all(j in d["nodes"][c]["parents"] for c in n["children"])
    tanh = next(n for n in d["nodes"] if n["label"] == "Tanh")
    assert "1 - tanh" in d["rules"]["Tanh"] and tanh["step"] is not None
    assert tanh["scope"].startswith("lstm.l0 t=") and tanh["value"]["hist"]
    assert sum(tanh["value"]["hist"]) == int(np.prod(tanh["shape"]))
    # every step's h is named, and the flow plot has ||dL/dh_t|| of each
    flow = d["flow"]["lstm.l0"]
    assert [p[0] for p in flow] == [0, 1, 2, 3]
    hs = model.states["l0"]["h"]
    for (t, norm, _), h in zip(flow, hs):
        assert norm == pytest.approx(np.linalg.norm(h.grad.numpy()), rel=1e-3), t


def test_explore_walk_order_and_cells_match_the_graph():
    _, loss = lstm_loss(steps=3, layers=2, cls=nn.GRU)
    with viz.record_backward(loss) as rec:
        loss.backward()
    ex = viz.explore(loss)  # finds the recording on the loss's node
    index = node_index(loss)
    assert ex.data["walks"]["backward"] == [index[id(v.node)] for v in rec.visits]
    cells = ex.data["cells"]
    assert sorted((c["layer"], c["step"]) for c in cells) == [
        (f"gru.l{k}", t) for k in range(2) for t in range(3)
    ]
    assert set(ex.data["flow"]) == {"gru.l0", "gru.l1"}
    for c in cells:  # a cell's nodes are exactly the ops recorded in its step
        assert {ex.data["nodes"][i]["scope"] for i in c["nodes"]} == {f"{c['layer']} t={c['step']}"}
    # steps of one layer share their layout where they share their structure
    assert len(ex.data["templates"]) < len(cells)
    forward = ex.data["walks"]["forward"]
    assert sorted(forward) == list(range(len(ex.data["nodes"])))


def test_explore_refuses_unrecorded_walked_graphs_and_bad_arguments(tmp_path):
    _, loss = lstm_loss(keep=False)
    loss.backward()
    with pytest.raises(ValueError, match="record_backward"):
        viz.explore(loss)
    with pytest.raises(ValueError, match="require grad"):
        viz.explore(ts.ones(3).sum())
    with pytest.raises(TypeError, match="explore: roots must be Tensors, got ndarray"):
        viz.explore(np.ones(3))
    with pytest.raises(TypeError, match="record_backward: roots must be Tensors"):
        viz.record_backward("loss")
    _, loss = lstm_loss(keep=False)
    with pytest.raises(ValueError, match="window"):
        viz.explore(loss, window=0)
    ex = viz.explore(loss)
    with pytest.raises(ValueError, match=".html"):
        ex.save(tmp_path / "graph.svg")
    out = ex.save(tmp_path / "sub" / "graph.html")
    assert out.read_text(encoding="utf-8") == ex.html


def test_page_is_self_contained_and_small(tmp_path):
    _, loss = lstm_loss(steps=6)
    ex = viz.explore(loss)
    page = ex.html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and not re.search(r"<script[^>]+src", page)
    assert "@import" not in page and "url(" not in page
    assert page_data(page) == json.loads(json.dumps(ex.data))
    assert len(page) < 400_000, f"a 6-step LSTM page is {len(page)} bytes"
    frame = ex._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "<script" not in frame  # escaped inside


def test_cli_writes_the_explorer(tmp_path, capsys):
    out = tmp_path / "graph.html"
    assert main(["graph", "--cell", "lstm", "--steps", "6", "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    data = page_data(out.read_text(encoding="utf-8"))
    assert len(data["cells"]) == 6 and data["recorded"]
    assert all(n["value"] is not None for n in data["nodes"])  # the forward kept its values


# ----------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system (Debian's package) through Playwright."""
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "playwright is not installed (pip install playwright; the dev extra has it)"
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if why is None and exe is None:
        why = "no chromium on PATH (apt-get install chromium; .ci/run installs it)"
    if why is not None:
        if in_ci():
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(why)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(browser, path):
    """The saved page in a new tab, with every request and console error collected."""
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    seen = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("window.__explorer && window.__explorer.ready")
    return page, seen


def panel_norm(page) -> float:
    return float(page.locator("#info .gnorm").get_attribute("data-value"))


@pytest.mark.browser
def test_explorer_in_chromium(browser, tmp_path):
    model, loss = lstm_loss(steps=6)
    with viz.record_backward(loss) as rec:
        loss.backward()
    path = viz.explore(loss, params=model).save(tmp_path / "graph.html")
    index = node_index(loss)
    page, seen = open_page(browser, path)

    # click a parameter in the overview: the panel's gradient norm is the tensor's own
    w = model.weight_hh_l0
    node = page.locator(f'g.node[data-nid="{index[id(w)]}"]')
    node.click()
    assert page.locator("#info h3").inner_text() == "weight_hh_l0"
    assert panel_norm(page) == pytest.approx(np.linalg.norm(w.grad.numpy()), rel=1e-3)
    # its colour is its gradient's on the scale, or its kind's when that box is unticked
    fill = node.locator("polygon, path").first
    expected = page.evaluate(f"window.__explorer.data.nodes[{index[id(w)]}].color")
    assert fill.get_attribute("fill") == expected and expected.startswith("#")
    assert page.locator("#legend .swatches span").count() == 7
    page.locator("#color-grad").uncheck()
    assert fill.get_attribute("fill") == "#fff2cc"
    page.locator("#color-grad").check()
    # its child in the panel is a link: W_hh^T, made by Permute
    page.locator("#info a[data-goto]", has_text="Permute").click()
    assert page.locator("#info h3").inner_text() == "Permute"

    # wheel zooms in around the pointer, dragging pans
    before = page.evaluate("window.__explorer.view()")
    page.mouse.move(500, 400)
    page.mouse.wheel(0, -400)
    zoomed = page.evaluate("window.__explorer.view()")
    assert zoomed["w"] < before["w"] * 0.8
    page.mouse.down()
    page.mouse.move(700, 400, steps=4)
    page.mouse.up()
    panned = page.evaluate("window.__explorer.view()")
    assert panned["x"] < zoomed["x"] and panned["w"] == pytest.approx(zoomed["w"])
    page.locator("#fit").click()

    # open step 2's cell in place and click the op that makes h_2
    h2 = model.states["l0"]["h"][2]
    page.locator('g.node[data-cell="2"]').click()
    op = page.locator(f'g.card g.node[data-nid="{index[id(edge(h2))]}"]')
    assert op.count() == 1
    op.click()
    assert "t=2" in page.locator("#info").inner_text()
    assert panel_norm(page) == pytest.approx(np.linalg.norm(h2.grad.numpy()), rel=1e-3)
    assert "derivative rule" in page.locator("#info").inner_text()
    page.locator('g.card[data-card="2"] g.close').click()  # and closed again
    assert page.locator("g.card").count() == 0
    assert page.locator('g.node[data-cell="2"]').is_visible()
    page.locator('g.node[data-cell="2"]').click()

    # the step window: 2 steps from t=3
    page.locator("#window-size").fill("2")
    page.locator("#window-size").dispatch_event("change")
    page.locator("#window-start").fill("3")
    assert page.locator("#window-label").inner_text() == "t=3..4 of 6"
    outside = page.eval_on_selector_all(
        "g.node[data-cell].outside", "gs => gs.map(g => +g.dataset.cell)"
    )
    assert sorted(outside) == [0, 1, 2, 5]

    # play backward: the page lights the nodes up in the engine's recorded order
    page.locator("#speed").fill("100")
    page.locator("#play-backward").click()
    page.wait_for_function("window.__explorer.state === 'done'", timeout=30_000)
    visited = page.evaluate("window.__explorer.visited")
    assert visited == [index[id(v.node)] for v in rec.visits]
    nodes = viz.walk([loss])
    ops_seq = [nodes[i].seq for i in visited if type(nodes[i]) is Context]
    assert ops_seq == sorted(ops_seq, reverse=True)
    # the shared W_hh^T shows the sum of all six steps' gradients, as its own gradient
    w_t = next(i for i, n in enumerate(nodes) if type(n) is Context and n.fn is ops.Contiguous)
    badge = page.eval_on_selector(f'g.node[data-nid="{w_t}"] text.badge', "t => t.textContent")
    total = np.linalg.norm(rec.grad_of(nodes[w_t]))
    assert badge.startswith("\u03a3 6: ") and float(badge.split()[-1]) == pytest.approx(
        total, rel=1e-2
    )

    page.screenshot(path=str(tmp_path / "explorer.png"))
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
    assert seen["errors"] == []
    assert all(u.startswith(("file:", "data:", "about:")) for u in seen["requests"])
    assert seen["requests"] == [path.as_uri()]
    page.close()


def test_large_payloads_are_gzipped(monkeypatch):
    _, loss = lstm_loss(steps=12, keep=False)
    monkeypatch.setattr(explore_module, "COMPRESS_ABOVE", 10_000)
    ex = viz.explore(loss)
    assert 'type="application/gzip-base64"' in ex.html
    assert page_data(ex.html) == json.loads(json.dumps(ex.data))


@pytest.mark.browser
def test_long_sequence_window_and_flow_plot(browser, tmp_path, monkeypatch):
    model, loss = lstm_loss(steps=120, keep=False)
    monkeypatch.setattr(explore_module, "COMPRESS_ABOVE", 100_000)  # the gzipped page, too
    path = viz.explore(loss, params=model).save(tmp_path / "long.html")
    assert 'type="application/gzip-base64"' in path.read_text(encoding="utf-8")
    page, seen = open_page(browser, path)
    assert page.locator("g.node[data-cell]").count() == 120
    assert page.locator("g.card").count() == 0  # cells drawn collapsed until opened
    page.locator("#window-start").fill("50")
    assert page.locator("#window-label").inner_text() == "t=50..57 of 120"
    # a point of the gradient-flow plot jumps to its step and opens it
    page.locator('#flow-plot circle[data-step="90"]').click()
    win = page.evaluate("window.__explorer.window()")
    assert win["start"] <= 90 < win["start"] + win["size"]
    assert page.locator("g.card").count() == 1
    assert "t=90" in page.locator("#info h3").inner_text()
    page.locator("#speed").fill("100")
    page.locator("#play-forward").click()
    page.wait_for_function("window.__explorer.state === 'done'", timeout=60_000)
    visited = page.evaluate("window.__explorer.visited")
    nodes = viz.walk([loss])
    assert sorted(visited) == list(range(len(nodes)))  # every node once: leaves, then ops
    seqs = [nodes[i].seq for i in visited if type(nodes[i]) is Context]
    assert seqs == sorted(seqs) and type(nodes[visited[0]]) is not Context
    page.screenshot(path=str(tmp_path / "long.png"))
    assert seen["errors"] == [] and seen["requests"] == [path.as_uri()]
    page.close()


def test_recording_a_users_function():
    class Cube(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    x = ts.randn(4, requires_grad=True)
    loss = Cube.apply(x.tanh()).sum()
    ex = viz.explore(loss)
    labels = [ex.data["nodes"][i]["label"] for i in ex.data["walks"]["backward"]]
    assert labels == ["Sum", "Cube", "Tanh", "input"]
    expected = 3 * np.tanh(x.detach().numpy()) ** 2 * (1 - np.tanh(x.detach().numpy()) ** 2)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)


def test_recording_a_users_function_with_two_outputs():
    class SumProd(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a + b, a * b, a.argmax()

        @staticmethod
        def backward(ctx, g_sum, g_prod, g_index):
            a, b = ctx.saved_tensors
            return g_sum + g_prod * b, g_sum + g_prod * a

    a, b = ts.randn(3, requires_grad=True), ts.randn(3, requires_grad=True)
    s, p, _ = SumProd.apply(a, b)
    loss = (s * p).sum()
    with viz.record_backward(loss) as rec:
        loss.backward()
    ex = viz.explore(loss, recording=rec)
    labels = [ex.data["nodes"][i]["label"] for i in ex.data["walks"]["backward"]]
    # each output's node, then the Function's node with both outputs' gradients, then the leaves
    assert labels == ["Sum", "Mul", "SumProd", "SumProd", "SumProd", "input", "input"]
    fn_node = rec.visits[4]
    gs, gp = p.detach().numpy(), s.detach().numpy()  # d(s p)/ds = p, d(s p)/dp = s
    np.testing.assert_allclose(fn_node.norm, np.linalg.norm(np.concatenate([gs, gp, [0.0]])))
    a_, b_ = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), gs + gp * b_, rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), gs + gp * a_, rtol=1e-5)


@pytest.mark.browser
def test_jupyter_view_runs_in_its_iframe(browser):
    _, loss = lstm_loss(steps=3)
    ex = viz.explore(loss)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_content(ex._repr_html_())
    frame = page.frames[1]
    frame.wait_for_function("window.__explorer && window.__explorer.ready")
    assert frame.evaluate("window.__explorer.data.nodes.length") == len(ex.data["nodes"])
    assert frame.locator("g.node[data-cell]").count() == 3 and errors == []
    page.close()
