"""Every example runs in a tiny configuration, returns sane results and writes its pictures."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAMES = ["char_lm_names", "name_classifier", "date_translation", "vanishing_gradients"]


def load_example(name: str):
    """Import examples/<name>.py from its file path (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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
    from tinygrad_seq.tasks import load_lm

    res = run("char_lm_names", tmp_path, "--cell", "gru")
    assert len(res["train_loss"]) == len(res["val_loss"]) == 2
    assert all(np.isfinite(res["val_loss"])) and res["baseline"] > 0
    assert len(res["samples"]) == 5 and 0.0 <= res["novel_share"] <= 1.0
    assert all(isinstance(s, str) for s in res["samples"])
    assert_png(res["figure"])
    model, vocab = load_lm(res["checkpoint"])
    assert model.config["cell"] == "gru" and len(vocab) > 20


def test_name_classifier(tmp_path):
    res = run("name_classifier", tmp_path)
    assert 0.0 <= res["accuracy"] <= 1.0 and 0.5 < res["baseline"] < 0.9
    assert len(res["train_loss"]) == len(res["val_acc"]) == 1
    assert {"female_acc", "male_acc"} <= set(res)
    assert_png(res["figure"])


def test_date_translation(tmp_path):
    res = run("date_translation", tmp_path, "--attention", "dot")
    assert 0.0 <= res["accuracy"] <= 1.0 and np.isfinite(res["train_loss"]).all()
    (human, iso), pred = res["examples"][0]
    assert len(iso) == 10 and isinstance(pred, str)
    assert_png(res["figure"])


def test_date_translation_attention_weights_are_distributions():
    mod = load_example("date_translation")
    data, _ = mod.make_data(6, 2, seed=0)
    vocabs = (mod.Vocab.build([h for h, _ in data]), mod.Vocab.build([i for _, i in data]))
    model = mod.DateTranslator(len(vocabs[0]), len(vocabs[1]), 4, 4, 8, "additive")
    src, lengths, tgt_in, tgt = mod.encode_batch(data, *vocabs)
    assert model(src, lengths, tgt_in).shape == (10, 6, len(vocabs[1]))
    ids, alpha = model.greedy(src, lengths, vocabs[1].bos_index)
    assert ids.shape == (10, 6) and alpha.shape == (10, src.shape[0], 6)
    np.testing.assert_allclose(alpha.sum(1), 1.0, rtol=1e-5)
    pad = np.arange(src.shape[0])[:, None] >= lengths[None, :]
    assert np.all(alpha[:, pad] < 1e-6)  # padding gets no attention


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
