"""Every example runs in a tiny configuration, returns sane results and writes its pictures.

The examples are written in PyTorch's spelling under one framework line,
`import tinygrad_seq as torch`; tinygrad_seq's own tools are imported on lines marked
`# tinygrad_seq's own tools`. The parity tests below run the portable examples' code under
PyTorch with that one line changed to `import torch`, from the same weights, and compare.
"""

import ast
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAMES = [
    "char_lm_names",
    "name_classifier",
    "date_translation",
    "vanishing_gradients",
    "path_length",
]
ALL_EXAMPLES = [*NAMES, "manual_vs_autodiff", "draw_graphs"]
FRAMEWORK_LINE = "import tinygrad_seq as torch"
TOOLS_MARK = "# tinygrad_seq's own tools"
# examples whose models and training loops are PyTorch code (checked under PyTorch below)
PORTABLE = [
    "char_lm_names",
    "name_classifier",
    "date_translation",
    "vanishing_gradients",
    "path_length",
]


def load_example(name: str):
    """Import examples/<name>.py from its file path (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_example_as(name: str, framework: str) -> types.ModuleType:
    """examples/<name>.py with its framework line set to `import <framework>`, as a module."""
    lines = (EXAMPLES / f"{name}.py").read_text().splitlines()
    hits = [i for i, line in enumerate(lines) if line.strip() == FRAMEWORK_LINE]
    assert len(hits) == 1, f"{name}.py must have exactly one line {FRAMEWORK_LINE!r}"
    if framework == "torch":
        lines[hits[0]] = "import torch"
    module = types.ModuleType(f"example_{name}_{framework}")
    module.__file__ = str(EXAMPLES / f"{name}.py")
    sys.modules[module.__name__] = module
    exec(compile("\n".join(lines) + "\n", module.__file__, "exec"), module.__dict__)
    return module


def run(name: str, tmp_path: Path, *extra: str) -> dict:
    return load_example(name).main(["--tiny", "--no-progress", "--out", str(tmp_path), *extra])


def assert_png(path) -> None:
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000, path


@pytest.mark.parametrize("name", NAMES)
def test_help_describes_the_example(name, capsys):
    with pytest.raises(SystemExit) as e:
        load_example(name).main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--out" in out and "--tiny" in out


def test_char_lm_names(tmp_path):
    import tinygrad_seq

    res = run("char_lm_names", tmp_path, "--cell", "gru")
    assert len(res["train_loss"]) == len(res["val_loss"]) == 2
    assert all(np.isfinite(res["val_loss"])) and res["baseline"] > 0
    assert len(res["samples"]) == 5 and 0.0 <= res["novel_share"] <= 1.0
    assert all(isinstance(s, str) for s in res["samples"])
    assert_png(res["figure"])
    state = tinygrad_seq.load(res["checkpoint"])  # torch.save(model.state_dict(), ...)
    vocab_size, hidden = state["head.weight"].shape
    assert state["rnn.weight_hh_l0"].shape == (3 * hidden, hidden) and vocab_size > 20
    model = load_example("char_lm_names").CharLM(vocab_size, hidden, "gru")
    model.load_state_dict(state)


def test_name_classifier(tmp_path):
    res = run("name_classifier", tmp_path)
    assert 0.0 <= res["accuracy"] <= 1.0 and 0.5 < res["baseline"] < 0.9
    assert len(res["train_loss"]) == len(res["val_acc"]) == 1
    assert {"female_acc", "male_acc"} <= set(res)
    assert_png(res["figure"])


def test_date_translation(tmp_path):
    res = run("date_translation", tmp_path, "--heads", "2")
    assert 0.0 <= res["accuracy"] <= 1.0 and np.isfinite(res["train_loss"]).all()
    (human, iso), pred = res["examples"][0]
    assert len(iso) == 10 and isinstance(pred, str)
    assert_png(res["figure"])


@pytest.mark.parametrize("heads", [1, 2])
def test_date_translation_attention_weights_are_distributions(heads):
    mod = load_example("date_translation")
    data, _ = mod.make_data(6, 2, seed=0)
    vocabs = (mod.Vocab.build([h for h, _ in data]), mod.Vocab.build([i for _, i in data]))
    model = mod.DateTranslator(len(vocabs[0]), len(vocabs[1]), 4, 4, 8, heads)
    assert isinstance(model.attention, mod.nn.MultiheadAttention)
    src, lengths, tgt_in, tgt = mod.encode_batch(data, *vocabs)
    assert model(src, lengths, tgt_in).shape == (10, 6, len(vocabs[1]))
    ids, alpha = model.greedy(src, lengths, vocabs[1].bos_index)
    assert ids.shape == (10, 6) and alpha.shape == (10, 6, heads, src.shape[0])
    alpha = alpha.numpy()
    np.testing.assert_allclose(alpha.sum(-1), 1.0, rtol=1e-5)
    pad = np.arange(src.shape[0])[None, :] >= lengths.numpy()[:, None]  # (N, T_x)
    assert pad.any() and np.all(alpha.transpose(0, 2, 1, 3)[:, :, pad] == 0.0)  # no attention
    assert np.all(alpha.transpose(0, 2, 1, 3)[:, :, ~pad] > 0.0)


def test_vanishing_gradients(tmp_path):
    res = run("vanishing_gradients", tmp_path)
    assert set(res["accuracy"]) == {"rnn", "gru", "lstm"}
    flows = res["flows"]
    assert all(len(v) == 12 for v in flows.values())
    assert flows["RNN"][0] < flows["RNN"][-1]  # the gradient shrinks going back in time
    no_clip, clipped = res["exploding"].values()
    assert not np.isfinite(no_clip["loss"]).all() and np.isfinite(clipped["loss"]).all()
    for path in res["figures"].values():
        assert_png(path)


def _path_length_facts_at_init(results: dict) -> None:
    """What the path-length study shows at initialisation, with margins (fixed seeds)."""
    ratio = {k: r["init"][0] / r["init"][-1] for k, r in results.items()}
    # the RNN's gradient at t=0 is orders of magnitude below the Transformer's, relative to t=T-1
    assert ratio["rnn"] < 1e-2 * ratio["transformer"], ratio
    assert ratio["lstm"] < 1e-2 * ratio["transformer"], ratio
    # RNN and LSTM fall geometrically with the distance, the LSTM more slowly
    mod = load_example("path_length")
    slope = {k: mod.decay_per_step(r["init"]) for k, r in results.items()}
    assert slope["rnn"] > 0.2 and slope["lstm"] > 0.1, slope
    assert slope["lstm"] < slope["rnn"] - 0.03, slope
    # the Transformer's does not depend on the distance: every position is one step away
    assert abs(slope["transformer"]) < 0.02, slope
    earlier = results["transformer"]["init"][:-1]  # t = 0..T-2: no trend, only noise
    assert earlier.max() < 4.0 * earlier.min(), earlier
    far, near = np.array_split(earlier, 2)
    assert 0.5 < far.mean() / near.mean() < 2.0, earlier


def test_path_length(tmp_path):
    res = run("path_length", tmp_path)
    results = res["results"]
    assert set(results) == {"rnn", "lstm", "transformer"}
    for r in results.values():
        assert r["init"].shape == r["trained"].shape == (res["T"],)
        assert np.isfinite(r["loss"]).all() and len(r["loss"]) == 5
        assert np.all(r["init"] > 0) and not np.array_equal(r["init"], r["trained"])
    assert all(0.0 < f < 1.0 for f in results["lstm"]["forget_gate"])
    _path_length_facts_at_init(results)
    assert_png(res["figure"])


@pytest.mark.slow
def test_path_length_default_run(tmp_path):
    """T = 50 and 300 training steps (the documented run): the facts before and after."""
    res = load_example("path_length").main(["--no-progress", "--out", str(tmp_path)])
    results = res["results"]
    _path_length_facts_at_init(results)
    assert results["rnn"]["init"][0] < 1e-12 < results["lstm"]["init"][0] < 1e-6
    # trained, the Transformer reads position 0: its gradient is the largest of the inputs
    trained = results["transformer"]["trained"]
    assert results["transformer"]["accuracy"] > 0.9 and np.argmax(trained) == 0, trained
    assert trained[0] > 10 * np.median(trained)
    # neither recurrent model has learnt to recall across 49 steps
    assert results["rnn"]["accuracy"] < 0.3 and results["lstm"]["accuracy"] < 0.3


@pytest.mark.parametrize("name", ["manual_vs_autodiff", "draw_graphs"])
def test_tool_examples_have_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        load_example(name).main(["--help"])
    assert e.value.code == 0 and "--out" in capsys.readouterr().out


def test_manual_vs_autodiff(tmp_path):
    results = run("manual_vs_autodiff", tmp_path)
    assert set(results) == {"rnn-tanh", "rnn-relu", "gru", "gru-course", "lstm"}
    assert all(results.values())
    assert "Wf" in (tmp_path / "lstm.md").read_text()


def test_draw_graphs(tmp_path):
    import shutil

    from helpers import in_ci

    if shutil.which("dot") is None:
        if in_ci():
            pytest.fail("graphviz's dot is missing in CI")
        pytest.skip("graphviz's dot is not installed: the example renders PNGs")
    result = run("draw_graphs", tmp_path)
    assert len(result["paths"]) == 3
    for path in result["paths"]:
        assert_png(path)
    assert result["nodes"]["cells"] < result["nodes"]["full"]


# --------------------------------------------------------------- PyTorch spellings


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_example_imports_follow_the_convention(name):
    """tinygrad_seq is imported as `torch` on the one framework line, or as marked tools."""
    text = (EXAMPLES / f"{name}.py").read_text()
    lines = text.splitlines()
    framework, unmarked = [], []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            assert not (isinstance(node, ast.Name) and node.id in ("ts", "tinygrad_seq")), (
                f"{name}.py line {node.lineno}: use the framework line's `torch`"
            )
            continue
        if not any(m.split(".")[0] == "tinygrad_seq" for m in modules):
            continue
        line = lines[node.lineno - 1]
        if line.strip() == FRAMEWORK_LINE:
            framework.append(node.lineno)
        elif TOOLS_MARK not in line:
            unmarked.append(node.lineno)
    assert not unmarked, f"{name}.py imports tinygrad_seq without {TOOLS_MARK!r}: {unmarked}"
    assert len(framework) <= 1 and (framework or name not in PORTABLE), framework


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("name", ["char_lm_names", "name_classifier", "date_translation"])
def test_portable_example_runs_on_pytorch(name, tmp_path, capsys):
    """The whole example, with `import torch` as its framework line, runs and reports."""
    from helpers import require_torch

    require_torch()
    args = ["--tiny", "--no-progress", "--out", str(tmp_path)]
    res = load_example_as(name, "torch").main(args)
    assert np.isfinite(res["train_loss"]).all() and len(res["train_loss"]) > 0
    assert_png(res["figure"])


def _pair(name: str, make) -> tuple:
    """(example under tinygrad_seq, under PyTorch, our model, PyTorch's): the same weights."""
    from compat.harness import same_start
    from helpers import require_torch

    import tinygrad_seq

    require_torch()
    ours, theirs = load_example_as(name, "tinygrad_seq"), load_example_as(name, "torch")
    theirs.torch.manual_seed(0)
    theirs_model, ours_model = make(theirs), make(ours)
    same_start(ours_model, theirs_model, tinygrad_seq)
    return ours, theirs, ours_model, theirs_model


@pytest.mark.parity
def test_char_lm_names_trains_and_samples_as_on_pytorch():
    """From the same weights: the same losses, validation loss and greedy names as PyTorch."""
    from compat.harness import assert_agree

    ours = load_example_as("char_lm_names", "tinygrad_seq")
    names = ours.names_dataset()[0][::50][:64]
    vocab = ours.Vocab.build(names)
    ours, theirs, *models = _pair("char_lm_names", lambda mod: mod.CharLM(len(vocab), 12, "lstm"))
    losses, val, greedy = [], [], []
    for mod, model in zip((ours, theirs), models):
        opt = mod.torch.optim.Adam(model.parameters(), lr=1e-2)
        criterion = mod.nn.CrossEntropyLoss(ignore_index=mod.IGNORE_INDEX)
        batches = [mod.collate(names[i : i + 16], vocab) for i in range(0, len(names), 16)]
        losses.append([mod.train_step(model, opt, criterion, b, 5.0) for b in batches * 2])
        val.append([mod.evaluate(model, batches)])
        greedy.append(mod.sample(model, vocab, 0.0, seed=0, max_len=8))
    assert_agree(*losses, rtol=1e-4)
    assert_agree(*val, rtol=1e-4, what="validation loss")
    assert greedy[0] == greedy[1]


@pytest.mark.parity
def test_name_classifier_trains_as_on_pytorch():
    """From the same weights, the example's train_step gives PyTorch's losses and logits."""
    from compat.harness import assert_agree, to_numpy

    ours = load_example_as("name_classifier", "tinygrad_seq")
    records = ours.load_names("train")[::97][:48]
    vocab = ours.Vocab.build([r.name for r in records])
    ours, theirs, *models = _pair(
        "name_classifier", lambda mod: mod.NameClassifier(len(vocab), emb=6, hidden=7)
    )
    losses, logits = [], []
    for mod, model in zip((ours, theirs), models):
        pairs = mod.encode(records, vocab)
        opt = mod.torch.optim.Adam(model.parameters(), lr=1e-2)
        criterion = mod.nn.CrossEntropyLoss()
        batches = [mod.collate(pairs[i : i + 16]) for i in range(0, len(pairs), 16)]
        losses.append([mod.train_step(model, opt, criterion, b) for b in batches * 2])
        logits.append(to_numpy(mod.predict(model, pairs)))
    assert_agree(*losses, rtol=1e-4)
    np.testing.assert_allclose(*logits, rtol=1e-4, atol=1e-5)


@pytest.mark.parity
@pytest.mark.parametrize("heads", [1, 7])
def test_date_translation_trains_as_on_pytorch(heads):
    """From the same weights: the same teacher-forced losses and greedy attention weights."""
    from compat.harness import assert_agree, to_numpy

    ours = load_example_as("date_translation", "tinygrad_seq")
    data, val = ours.make_data(48, 8, seed=0)
    vocabs = (ours.Vocab.build([h for h, _ in data]), ours.Vocab.build([i for _, i in data]))
    sizes = (len(vocabs[0]), len(vocabs[1]), 6, 5, 7, heads)
    ours, theirs, *models = _pair("date_translation", lambda mod: mod.DateTranslator(*sizes))
    losses, alphas = [], []
    for mod, model in zip((ours, theirs), models):
        opt = mod.torch.optim.Adam(model.parameters(), lr=1e-2)
        criterion = mod.nn.CrossEntropyLoss()
        batches = [mod.encode_batch(data[i : i + 16], *vocabs) for i in range(0, len(data), 16)]
        losses.append([mod.train_step(model, opt, criterion, b, 1.0) for b in batches * 2])
        src, lengths, _, _ = mod.encode_batch(val, *vocabs)
        alphas.append(to_numpy(model.greedy(src, lengths, vocabs[1].bos_index, steps=2)[1]))
    assert_agree(*losses, rtol=1e-4)
    np.testing.assert_allclose(*alphas, rtol=1e-3, atol=1e-5)


@pytest.mark.parity
def test_vanishing_gradients_trains_as_on_pytorch():
    """The training loop (fit) and the exploding run give PyTorch's numbers."""
    from compat.harness import assert_agree

    ours = load_example_as("vanishing_gradients", "tinygrad_seq")
    args = ours.parse_args(["--tiny"])
    ours, theirs, *models = _pair(
        "vanishing_gradients",
        lambda mod: mod.LastStepClassifier("lstm", args.K, args.hidden, args.gate_bias),
    )
    bar = ours.progress_bar(0, False)
    runs = [mod.fit(model, "lstm", args, bar) for mod, model in zip((ours, theirs), models)]
    assert_agree(runs[0]["loss"], runs[1]["loss"], rtol=1e-4)
    assert abs(runs[0]["accuracy"] - runs[1]["accuracy"]) <= 0.002  # 2 of 1000 may flip
    # the exploding run seeds its own model: same behaviour, not the same weights
    clipped = theirs.exploding_run(args, args.clip)
    assert np.isfinite(clipped["loss"]).all() and len(clipped["loss"]) == args.explode_steps


@pytest.mark.parity
@pytest.mark.slow
def test_path_length_runs_on_pytorch(tmp_path):
    """The whole study, with `import torch` as its framework line, shows the same facts."""
    from helpers import require_torch

    require_torch()
    args = ["--tiny", "--no-progress", "--out", str(tmp_path)]
    res = load_example_as("path_length", "torch").main(args)
    _path_length_facts_at_init(res["results"])
    assert_png(res["figure"])


@pytest.mark.parity
@pytest.mark.parametrize("kind", ["rnn", "lstm", "transformer"])
def test_path_length_gradient_norms_as_on_pytorch(kind):
    """From the same weights, in float64: the same ||dL/dx<t>||, then the same training."""
    from compat.harness import assert_agree

    ours = load_example_as("path_length", "tinygrad_seq")
    args = ours.parse_args(["--tiny", "--T", "24"])
    ours, theirs, *models = _pair(
        "path_length", lambda mod: mod.Recall(kind, args.K, args).double()
    )
    norms, losses, gates = [], [], []
    for mod, model in zip((ours, theirs), models):
        probe = mod.recall_batch(np.random.default_rng(3), 12, args.T, args.K)
        norms.append(mod.gradient_norms(model, *probe))
        losses.append(mod.train(model, args, ours.progress_bar(0, False)))
        norms.append(mod.gradient_norms(model, *probe))
        gates.append(mod.mean_forget_gate(model, probe[0]) if kind == "lstm" else 0.0)
    assert norms[0][0] < 1e-3 * norms[0][-1] or kind == "transformer"  # a real range of scales
    np.testing.assert_allclose(norms[0], norms[2], rtol=1e-12)  # at init
    assert_agree(*losses, rtol=1e-12)
    np.testing.assert_allclose(norms[1], norms[3], rtol=1e-12)  # after training
    np.testing.assert_allclose(*gates, rtol=1e-12)
