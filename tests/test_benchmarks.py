"""The benchmark harness: it runs (--quick), its references agree, its checks catch errors.

No timing is asserted here: timings live in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import require_torch

from tinygrad_seq.check.finite_diff import directional

# benchmarks/ is not an installed package: import it from the repository root
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import competitors as comp  # noqa: E402
from benchmarks import harness, report, word_lm  # noqa: E402
from benchmarks import transformer as tr  # noqa: E402
from benchmarks.common import (  # noqa: E402
    CELLS,
    PARAM_NAMES,
    AgreementError,
    Config,
    check_agreement,
    init_params,
    make_batch,
)
from benchmarks.numpy_ref import train_step  # noqa: E402
from benchmarks.transformer_ref import TConfig  # noqa: E402
from benchmarks.transformer_ref import init_params as init_transformer  # noqa: E402
from benchmarks.transformer_ref import train_step as transformer_step  # noqa: E402

TINY = Config("tiny", H=5, N=3, T=7, V=9, E=4)


def _result(name: str, cell: str, dtype=np.float64, cfg: Config = TINY) -> tuple:
    params = init_params(cell, cfg, dtype)
    x, y = make_batch(cfg)
    c = comp.build(name, cell, params, x, y)
    c.step()
    loss, grads = c.result()
    return loss, {k: np.array(v) for k, v in grads.items()}


def test_quick_run_writes_results(tmp_path, capsys):
    path = tmp_path / "RESULTS.md"
    argv = ["--quick", "--threads", "1", "--write-results", "--results-path", str(path)]
    assert harness.main(argv) == 0
    text = path.read_text()
    for heading in ("## Targets", "## Timings", "## Peak memory", "## Scaling", "## Agreement"):
        assert heading in text
    assert "### TQ (layers=2" in text  # the Transformer configuration runs by default
    for name in ("numpy_ref", "tinygrad_seq", "torch_nn", "matmul_floor"):
        assert f"| transformer | {name} |" in text
    assert "Command: `" in text and "-m benchmarks --quick" in text
    assert "OPENBLAS_CORETYPE=" in capsys.readouterr().out


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_ref_equals_tinygrad_seq_in_float64(cell):
    ref = _result("numpy_ref", cell)
    ours = _result("tinygrad_seq", cell)
    diffs = check_agreement("tinygrad_seq", ours, ref, loss_rtol=1e-8, grad_rtol=1e-8)
    assert set(diffs) == {"loss", *PARAM_NAMES}


@pytest.mark.parity
@pytest.mark.parametrize("cell", CELLS)
def test_numpy_ref_equals_torch_in_float64(cell):
    require_torch()
    ref = _result("numpy_ref", cell)
    for name in ("torch_nn", "torch_cell_loop"):
        check_agreement(name, _result(name, cell), ref, loss_rtol=1e-10, grad_rtol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_hips_autograd_equals_numpy_ref_in_float64(cell):
    pytest.importorskip("autograd")
    ref = _result("numpy_ref", cell)
    check_agreement("hips_autograd", _result("hips_autograd", cell), ref, 1e-10, 1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_ref_matches_finite_differences(cell):
    cfg = Config("fd", H=3, N=2, T=4, V=5, E=2)
    params = init_params(cell, cfg, np.float64)
    x, y = make_batch(cfg)
    _, grads = train_step(cell, params, x, y)
    rng = np.random.default_rng(0)
    for name in PARAM_NAMES:
        direction = rng.standard_normal(params[name].shape)
        # train_step reads params and leaves them alone: directional perturbs one in place
        numeric = directional(lambda: train_step(cell, params, x, y)[0], params[name], direction)
        assert numeric == pytest.approx(float(np.sum(grads[name] * direction)), rel=1e-6)


def test_numpy_ref_reuses_its_buffers_across_steps():
    params = init_params("lstm", TINY, np.float64)
    x, y = make_batch(TINY)
    ws = comp.build("numpy_ref", "lstm", params, x, y)
    ws.step()
    loss1, g1 = ws.result()
    g1 = {k: v.copy() for k, v in g1.items()}
    ws.step()
    loss2, g2 = ws.result()
    assert loss1 == loss2
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(g1[k], g2[k])


@pytest.mark.parametrize("what", ["w_hh", "emb", "b_out", "loss"])
def test_agreement_check_detects_a_perturbed_gradient(what):
    ref = _result("numpy_ref", "gru", np.float32)
    loss, grads = ref[0], {k: v.copy() for k, v in ref[1].items()}
    if what == "loss":
        loss *= 1 + 1e-3
    else:
        grads[what].flat[0] += 1e-2 * np.abs(grads[what]).max()
    with pytest.raises(AgreementError, match=what if what != "loss" else "loss"):
        check_agreement("perturbed", (loss, grads), ref)
    check_agreement("unperturbed", ref, ref)


def test_agreement_check_rejects_nan_and_missing_gradients():
    ref = _result("numpy_ref", "rnn", np.float32)
    grads = {k: v.copy() for k, v in ref[1].items()}
    grads["w_ih"][0, 0] = np.nan
    with pytest.raises(AgreementError, match="w_ih"):
        check_agreement("nan", (ref[0], grads), ref)
    del grads["w_ih"]
    with pytest.raises(AgreementError, match="no gradient for w_ih"):
        check_agreement("missing", (ref[0], grads), ref)


def test_harness_fails_loudly_on_a_wrong_competitor(monkeypatch, capsys):
    original = comp.TinygradSeqCompetitor.result

    def wrong(self):
        loss, grads = original(self)
        grads = dict(grads, w_hh=grads["w_hh"] * 1.01)
        return loss, grads

    monkeypatch.setattr(comp.TinygradSeqCompetitor, "result", wrong)
    argv = ["--quick", "--threads", "1", "--only", "tinygrad_seq", "--cells", "lstm"]
    assert harness.main(argv + ["--no-scaling", "--no-memory"]) == 1
    assert "AGREEMENT FAILURE" in capsys.readouterr().err


def test_matmul_floor_runs_and_has_no_result():
    params = init_params("lstm", TINY)
    x, y = make_batch(TINY)
    floor = comp.build("matmul_floor", "lstm", params, x, y)
    floor.step()
    assert floor.result() is None


def test_targets_pass_and_fail_from_measurements():
    args = harness.parse_args(["--cells", "lstm", "--configs", "B"])
    run = harness.Run(args, [], {})
    res = harness.CellResult(Config("B", H=4, N=1, T=2), "lstm")
    res.times = {
        "numpy_ref": [1.0],
        "tinygrad_seq": [1.2],
        "torch_cell_loop": [1.1],
        "hips_autograd": [3.0],
    }
    run.cells.append(res)
    rows = {target: result for target, _, result in report.targets(run)}
    assert rows["B lstm: time / numpy_ref <= 1.3"] == "pass"
    assert rows["B lstm: faster than torch LSTMCell loop (time ratio < 1)"] == "**FAIL**"
    assert rows["B lstm: >= 3x faster than HIPS autograd"] == "**FAIL**"
    assert rows["A lstm: time / numpy_ref <= 4.0"] == "not run"


def test_cli_rejects_unknown_names():
    with pytest.raises(SystemExit):
        harness.parse_args(["--cells", "transformer"])
    with pytest.raises(SystemExit):
        harness.parse_args(["--only", "jax"])


def test_quick_profile_breaks_the_step_down_by_op(capsys):
    from tinygrad_seq import ops

    forward = ops.AddMM.__dict__["forward"]
    assert harness.main(["--quick", "--threads", "1", "--cells", "lstm", "--profile"]) == 0
    out = capsys.readouterr().out
    assert "Function.apply calls" in out and "per-op breakdown" in out
    assert "| AddMM forward |" in out and "the rest" in out
    assert ops.AddMM.__dict__["forward"] is forward  # the timers are taken off again


# ----------------------------------------------------------------------------- word_lm

WORD_LM_TINY = ["--sentences", "120", "--vocab", "30", "--emsize", "8", "--nhid", "8"]
WORD_LM_TINY += ["--bptt", "5", "--batch-size", "3", "--warmup", "2", "--repeats", "2"]


@pytest.mark.parity
def test_word_lm_reports_tokens_per_second_and_keeps_its_section(tmp_path, capsys):
    require_torch()
    path = tmp_path / "RESULTS.md"
    argv = WORD_LM_TINY + ["--threads", "1", "--write-results", "--results-path", str(path)]
    res = word_lm.main(argv)
    assert res["ratio"] > 0 and res["best_ratio"] > 0 and min(res["tokens_per_s"].values()) > 0
    assert res["loss_diff"] <= word_lm.LOSS_RTOL
    out = capsys.readouterr().out
    assert "tinygrad_seq / PyTorch tokens/s: **" in out and "| torch |" in out
    section = word_lm.find_section(path.read_text())
    assert "-m benchmarks.word_lm --sentences 120" in section and "V=" in section
    # the main harness rewrites RESULTS.md and keeps the word-LM section
    quick = ["--quick", "--threads", "1", "--only", "tinygrad_seq", "--cells", "lstm"]
    quick += ["--no-scaling", "--no-memory", "--write-results", "--results-path", str(path)]
    assert harness.main(quick) == 0
    text = path.read_text()
    assert "## Timings" in text and word_lm.find_section(text) == section
    assert text.count(word_lm.SECTION) == 1


def test_word_lm_notes_a_shared_machine():
    assert word_lm.shared_note("1.50/1.00/0.90", 2) == ""
    assert "load average 7.9 on 2 cores" in word_lm.shared_note("7.93/8.22/7.56", 2)


def test_word_lm_section_is_replaced_not_repeated():
    first = word_lm.replace_section("# R\n\n## A\n\na\n", word_lm.SECTION + "\n\none\n")
    again = word_lm.replace_section(first + "\n## Z\n\nz\n", word_lm.SECTION + "\n\ntwo")
    assert again == f"# R\n\n## A\n\na\n\n{word_lm.SECTION}\n\ntwo\n\n## Z\n\nz\n"
    assert word_lm.find_section("# R\n") == ""


def test_word_lm_agreement_check_stops_on_diverging_losses():
    def runners(ours, theirs):
        return {
            "tinygrad_seq": SimpleNamespace(losses=ours),
            "torch": SimpleNamespace(losses=theirs),
        }

    assert word_lm.check_losses(runners([2.0, 1.0], [2.0, 1.0 + 1e-7]), 0.0) < 1e-6
    with pytest.raises(SystemExit, match="AGREEMENT FAILURE"):
        word_lm.check_losses(runners([2.0, 1.01], [2.0, 1.0]), 0.0)
    assert word_lm.check_losses(runners([2.0, 1.01], [2.0, 1.0]), 0.2) > 1e-3  # dropout: no check


# ----------------------------------------------------------------------------- the Transformer

T_TINY = TConfig("tiny", layers=2, d=8, heads=2, ff=12, T=5, N=3, V=7)


def _t_result(name: str, cfg: TConfig = T_TINY) -> tuple:
    c = tr.build(name, cfg, np.float64)
    c.step()
    loss, grads = c.result()
    return loss, {k: np.array(v) for k, v in grads.items()}


def test_transformer_numpy_ref_equals_autodiff_in_float64():
    ref = _t_result("numpy_ref")
    diffs = tr.check("tinygrad_seq", _t_result("tinygrad_seq"), ref, T_TINY,
                     loss_rtol=1e-10, grad_rtol=1e-10)  # fmt: skip
    assert len(diffs) == 1 + 4 + 2 + 12 * T_TINY.layers  # loss and every parameter


@pytest.mark.parity
def test_transformer_numpy_ref_equals_torch_in_float64():
    require_torch()
    ref = _t_result("numpy_ref")
    tr.check("torch_nn", _t_result("torch_nn"), ref, T_TINY, loss_rtol=1e-10, grad_rtol=1e-10)


def test_transformer_numpy_ref_matches_finite_differences():
    cfg = TConfig("fd", layers=1, d=4, heads=2, ff=6, T=4, N=2, V=5)
    params = init_transformer(cfg, np.float64)
    x, y = make_batch(cfg)
    _, grads = transformer_step(params, x, y, cfg)
    rng = np.random.default_rng(0)
    for name, p in params.items():
        direction = rng.standard_normal(p.shape)
        numeric = directional(lambda: transformer_step(params, x, y, cfg)[0], p, direction)
        assert numeric == pytest.approx(float(np.sum(grads[name] * direction)), rel=1e-6), name


def test_transformer_check_catches_a_wrong_gradient():
    ref = _t_result("numpy_ref")
    loss, grads = _t_result("tinygrad_seq")
    name = "transformer.encoder.layers.1.self_attn.in_proj_weight"
    grads[name] = grads[name] * 1.01
    with pytest.raises(AgreementError, match="in_proj_weight"):
        tr.check("wrong", (loss, grads), ref, T_TINY)


def test_transformer_matmul_floor_runs_and_has_no_result():
    floor = tr.build("matmul_floor", T_TINY)
    floor.step()
    assert floor.result() is None


def test_scope_overhead_runs_and_puts_the_scopes_back(capsys):
    import tinygrad_seq.nn.transformer as layers
    from benchmarks import scope_overhead
    from tinygrad_seq import autograd

    assert scope_overhead.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "with scopes: median" in out and "without: median" in out
    assert layers.autograd is autograd
