"""Tests of tinygrad_seq.viz.graph: draw_graph / save / record_grads: clusters per time step,
collapsing, windows, colours (with its private parts, _graph_model.py and _colors.py)."""

from __future__ import annotations

import pathlib
import re
import shutil
import sys
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from helpers import in_ci  # noqa: E402

import tinygrad_seq as ts  # noqa: E402
from tinygrad_seq import nn, viz  # noqa: E402
from tinygrad_seq.viz import _graph_model as gm  # noqa: E402

NODE = re.compile(r"^\s*(n\d+) \[label=\"([^\"]*)\"(.*)\]$", re.M)


def run(cls=nn.LSTM, T=3, grads=False, loss_at_end=False, **kw):
    """A layer, its loss over T steps of a (T, 1, 2) input; backward (with grads kept) if asked."""
    ts.manual_seed(0)
    m = cls(2, 3, **kw)
    out, _ = m(ts.randn(T, 1, 2))
    loss = (out[-1] ** 2).sum() if loss_at_end else (out**2).mean()
    if grads:
        viz.record_grads(loss)
        loss.backward()
    return m, loss


def nodes(source: str) -> dict[str, tuple[str, str]]:
    """{node id: (label, attributes)} of every node statement in a DOT source."""
    return {m[1]: (m[2], m[3]) for m in NODE.finditer(source)}


def fill_position(attrs: str) -> float:
    """Where a node's fillcolor lies on the gradient scale, 0 (smallest) .. 1 (largest)."""
    color = re.search(r'fillcolor="(#[0-9a-f]{6})"', attrs)[1]
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    grid = np.linspace(0, 1, 1001)
    dist = [np.abs(np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) - rgb).sum()
            for c in (viz.grad_color(f) for f in grid)]  # fmt: skip
    return float(grid[int(np.argmin(dist))])


def need_dot() -> None:
    if shutil.which("dot") is None:
        if in_ci():
            pytest.fail("graphviz's dot is not installed in CI (apt-get install graphviz)")
        pytest.skip("graphviz's dot program is not installed (apt-get install graphviz)")


# ----------------------------------------------------------------------------- structure


def test_one_cluster_per_time_step_with_scope_labels():
    m, loss = run(T=3)
    src = viz.draw_graph(loss, m).source
    steps = re.findall(r'label="(lstm\.l0 t=\d+)"', src)
    assert steps == ["lstm.l0 t=0", "lstm.l0 t=1", "lstm.l0 t=2"]  # clusters in time order
    assert 'label="lstm.l0"' in src and 'label="lstm (LSTM)"' in src
    assert "rankdir=LR" in src
    assert re.search(r"n\d+ -> n\d+ \[label=h\]", src) and re.search(r"\[label=c\]", src)
    assert "style=invis" in src  # ordering edges keep the step boxes in time order
    labels = [lab for lab, _ in nodes(src).values()]
    assert any(lab.startswith("Sigmoid\\n(1, 12) float32") for lab in labels)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_node_count_grows_linearly_with_steps(cls):
    counts = [len(nodes(viz.draw_graph(run(cls, T)[1]).source)) for T in (5, 10, 20)]
    per_step = (counts[1] - counts[0]) / 5
    assert per_step > 1
    assert counts[2] - counts[1] == 10 * per_step


def test_collapse_and_window_reduce_the_graph():
    m, loss = run(T=12)
    full = len(nodes(viz.draw_graph(loss, m).source))
    cell_src = viz.draw_graph(loss, m, collapse="cell").source
    window_src = viz.draw_graph(loss, m, steps=(4, 6)).source
    both_src = viz.draw_graph(loss, m, collapse="cell", steps=(4, 6)).source
    sizes = [len(nodes(s)) for s in (cell_src, window_src, both_src)]
    assert full > sizes[1] > sizes[0] > sizes[2]
    assert re.findall(r'label="(LSTM cell l0 t=\d+)', cell_src) == [
        f"LSTM cell l0 t={t}" for t in range(12)
    ]
    assert re.findall(r'label="lstm\.l0 t=(\d+)"', window_src) == ["4", "5"]
    assert re.search(r'label="t=0\.\.3: \d+ ops"', window_src)
    assert re.search(r'label="t=6\.\.11: \d+ ops"', window_src)


def test_cell_edges_carry_h_and_c():
    m, loss = run(T=3)
    src = viz.draw_graph(loss, m, collapse="cell").source
    ids = {lab.split("\\n")[0]: nid for nid, (lab, _) in nodes(src).items()}
    a, b = ids["LSTM cell l0 t=0"], ids["LSTM cell l0 t=1"]
    labels = sorted(re.findall(rf"{a} -> {b} \[label=(\w)", src))
    assert labels == ["c", "h"]
    # the parameter reaches each cell through its transpose, copied once into C order
    transpose = re.search(rf"{ids['weight_hh_l0']} -> (n\d+)", src)[1]
    copy = re.search(rf"{transpose} -> (n\d+)", src)[1]
    assert nodes(src)[transpose][0].startswith("Permute") and nodes(src)[copy][0].startswith(
        "Contiguous"
    )
    assert all(f"{copy} -> {ids[f'LSTM cell l0 t={t}']}" in src for t in range(3))


def test_cell_kind_is_guessed_without_a_module():
    for cls, name in ((nn.RNN, "RNN"), (nn.GRU, "GRU"), (nn.LSTM, "LSTM")):
        src = viz.draw_graph(run(cls, T=2)[1], collapse="cell").source
        assert f"{name} cell l0 t=1" in src
        assert "weight_ih_l0" not in src and 'label="input\\n' in src  # unnamed leaves


def test_parameter_names_from_module_and_mapping():
    m, loss = run(T=2)
    src = viz.draw_graph(loss, m).source
    for name, p in m.named_parameters():
        assert f'label="{name}\\n{tuple(p.shape)} float32"' in src
    # the input is a leaf that needs no grad: it shows as "input" with its (L, N, in) shape
    assert 'label="input\\n(2, 1, 2) float32"' in src
    src2 = viz.draw_graph(loss, {"W": m.weight_hh_l0}).source
    assert 'label="W\\n(12, 3) float32"' in src2


def test_nested_module_clusters_and_bidirectional_layers():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(2, 3, bidirectional=True)
            self.head = nn.Linear(6, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    ts.manual_seed(0)
    model = Tagger()
    y = model(ts.randn(2, 1, 2))
    src = viz.draw_graph(y.sum(), model).source
    for label in ("tagger (Tagger)", "tagger.rnn (GRU)", "tagger.head (Linear)",
                  "tagger.rnn.l0_reverse t=1", "tagger.rnn.l0 t=0"):  # fmt: skip
        assert f'label="{label}"' in src
    assert "rnn.weight_hh_l0_reverse" in src and "head.weight" in src
    sub = viz.draw_graph(y.sum(), model.rnn).source  # a sub-module's parameters find their box
    assert 'label="weight_hh_l0_reverse' in sub and 'label="rnn"' not in sub


def test_show_values_and_several_roots():
    m, _ = run(T=2)
    with pytest.raises(ValueError, match=r"with viz.keep_values\(\)"):
        out, (h, c) = m(ts.randn(2, 1, 2))
        viz.draw_graph((out, (h, c)), m, show_values=True)
    with viz.keep_values():
        out, (h, c) = m(ts.randn(2, 1, 2))
    src = viz.draw_graph((out, (h, c)), m, show_values=True).source
    assert src.count("penwidth=2.5") == 3  # the three roots are outlined
    assert re.search(r"min -?[\d.e-]+ mean -?[\d.e-]+ max -?[\d.e-]+", src)


def test_options_are_checked():
    m, loss = run(T=2)
    with pytest.raises(ValueError, match="collapse"):
        viz.draw_graph(loss, collapse="layer")
    with pytest.raises(ValueError, match="steps must be"):
        viz.draw_graph(loss, steps=(3, 1))
    with pytest.raises(TypeError, match="Tensors"):
        viz.draw_graph([loss, 3])


def test_size_guard_explains_how_to_narrow():
    m, loss = run(T=140)
    with pytest.raises(ValueError) as e:
        viz.draw_graph(loss, m)
    msg = str(e.value)
    assert "140 time steps" in msg and "max_nodes=1500" in msg
    assert "collapse='cell'" in msg and "steps=(a, b)" in msg
    assert viz.draw_graph(loss, m, collapse="cell").source  # narrowed, it draws


# ----------------------------------------------------------------------------- gradients


def test_record_grads_keeps_every_intermediate_gradient():
    ts.manual_seed(0)
    out, _ = nn.LSTM(2, 3)(ts.randn(3, 1, 2))
    squares = out**2
    loss = squares.mean()
    assert viz.record_grads(loss) > 30
    loss.backward()
    assert all(gm.grad_norm(t) is not None for t in gm.walk([loss]) if t.requires_grad)
    # what is kept is dL/d(output) of each op; near the loss it has a closed form
    n = out.numel()
    assert gm.grad_norm(loss.grad_fn) == pytest.approx(1.0)  # dL/dL
    assert gm.grad_norm(squares.grad_fn) == pytest.approx(np.sqrt(n) / n)  # mean: 1/n each
    dl_dout = 2 * out.detach().numpy() / n
    assert gm.grad_norm(out.grad_fn) == pytest.approx(np.linalg.norm(dl_dout), rel=1e-6)
    np.testing.assert_allclose(np.asarray(out.grad_fn.grad), dl_dout, rtol=1e-6)


def test_grad_colours_follow_gradient_norms():
    small = ts.tensor(np.ones(3), requires_grad=True)
    big = ts.tensor(np.ones(3), requires_grad=True)
    loss = (small * 1e-3).sum() + (big * 10.0).sum()
    viz.record_grads(loss)
    loss.backward()
    src = viz.draw_graph(loss, {"small": small, "big": big}, show_grads=True).source
    by_label = {lab.split("\\n")[0]: attrs for lab, attrs in nodes(src).values()}
    lo, hi = fill_position(by_label["small"]), fill_position(by_label["big"])
    assert lo == pytest.approx(0.0, abs=0.01) and hi == pytest.approx(1.0, abs=0.01)
    assert "|grad| 1.73e-03" in src and "legend" in src and "-2.8" in src  # log10(1.73e-3)


def test_vanishing_gradient_shows_as_colour_along_time():
    m, loss = run(nn.RNN, T=12, grads=True, loss_at_end=True)
    src = viz.draw_graph(loss, m, collapse="cell", show_grads=True).source
    by_label = {lab.split("\\n")[0]: attrs for lab, attrs in nodes(src).values()}
    pos = [fill_position(by_label[f"RNN cell l0 t={t}"]) for t in range(12)]
    assert pos[0] < pos[5] < pos[11]  # gradients shrink going back in time: colder colours
    assert re.search(r"n\d+ -> n\d+ \[label=h color=\"#[0-9a-f]{6}\"", src)


def test_show_grads_without_recorded_grads_says_what_to_do():
    m, loss = run(T=2)
    loss.backward()
    with pytest.raises(ValueError, match=r"record_grads\(loss\) before loss.backward"):
        viz.draw_graph(loss, m, show_grads=True)


# ----------------------------------------------------------------------------- long graphs


def test_500_steps_draw_without_recursion():
    m, loss = run(T=500, grads=True)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(__import__("inspect").stack()) + 120)
    try:
        cell = viz.draw_graph(loss, m, collapse="cell", show_grads=True).source
        window = viz.draw_graph(loss, m, steps=(250, 253)).source
        full = viz.draw_graph(loss, m, max_nodes=100_000).source
    finally:
        sys.setrecursionlimit(limit)
    assert "LSTM cell l0 t=499" in cell and 'label="to 500 nodes"' in cell
    assert 'label="t=253..499: ' in window and len(nodes(window)) < 80
    # 11 ops per composed LSTM step (AddMM, Sigmoid, 4 gate slices, Tanh, Mul, AddCMul, Tanh,
    # Mul), every one of them drawn
    ops = [n for n in viz.walk([loss]) if type(n) is ts.autograd.Context]
    assert len(ops) > 500 * 11 and len(nodes(full)) >= len(ops)


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_save_renders_images(tmp_path, suffix):
    need_dot()
    m, loss = run(T=2, grads=True)
    path = viz.save(viz.draw_graph(loss, m, show_grads=True), tmp_path / f"g{suffix}")
    data = path.read_bytes()
    if suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert ET.fromstring(data).tag.endswith("svg")
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed away


def test_save_without_dot_writes_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    graph = viz.draw_graph(run(T=2)[1])
    with pytest.warns(viz.GraphvizNotFoundWarning) as rec:
        path = viz.save(graph, tmp_path / "g.svg")
    assert path == tmp_path / "g.dot" and path.read_text().startswith("digraph")
    msg = str(rec[0].message)
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg
    assert "Python package" in msg


def test_save_when_graphviz_cannot_run_dot(tmp_path, monkeypatch):
    def missing(*a, **k):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    with pytest.warns(viz.GraphvizNotFoundWarning, match="apt-get install graphviz"):
        path = viz.save(viz.draw_graph(run(T=1)[1]), tmp_path / "g.png")
    assert path.suffix == ".dot" and path.exists()


def test_graph_shows_itself_as_svg_in_a_notebook():
    need_dot()
    graph = viz.draw_graph(run(T=2)[1], collapse="cell")
    assert isinstance(graph, graphviz.Digraph)
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    svg = bundle["image/svg+xml"]
    assert ET.fromstring(svg.encode("utf-8")).tag.endswith("svg")
    assert "LSTM cell l0 t=0" in svg and "LSTM cell l0 t=1" in svg


def test_graph_without_dot_shows_its_source_and_how_to_install(monkeypatch):
    graph = viz.draw_graph(run(T=1)[1])
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert bundle["text/plain"].endswith(graph.source)

    def missing(*a, **k):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    assert "brew install graphviz" in graph._repr_mimebundle_()["text/plain"]


def test_save_dot_source_and_unknown_suffix(tmp_path):
    graph = viz.draw_graph(run(T=1)[1])
    assert viz.save(graph, tmp_path / "sub" / "g.dot").read_text() == graph.source
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf"):
        viz.save(graph, tmp_path / "g.jpeg")
