"""word_language_model.py under tinygrad_seq and under PyTorch, from the same state_dict.

Float64 and dropout 0, so the two runs can agree to 1e-6 relative step by step: truncated-BPTT
training of every rnn_type (tied and untied weights), the validation loss, the trained weights,
whole epochs with learning-rate annealing and the best model's checkpoint, the state_dict
round trip, and sampling (ours draws valid words; fed PyTorch's draws, our model
gives the same distribution at every step); the same for the example's TransformerModel, a
subclass of nn.Transformer. The last test runs the program as a script.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import assert_agree, load_pair, same_start, to_numpy

NAME = "word_language_model"
ROOT = Path(__file__).resolve().parents[2]
SIZES = {"emsize": 12, "nhid": 12, "nlayers": 2}
TRAIN_ARGS = ["--batch_size", "4", "--bptt", "7", "--lr", "5", "--log-interval", "1000"]

pytestmark = pytest.mark.parity


@pytest.fixture(scope="module")
def pair():
    """(the program under tinygrad_seq, under PyTorch)."""
    return load_pair(NAME)


@pytest.fixture
def float64(pair):
    """Both frameworks' default dtype float64 for one test; PyTorch's float32 again after."""
    ours, theirs = pair
    ours.torch.set_default_dtype(ours.torch.float64)  # conftest restores ours
    theirs.torch.set_default_dtype(theirs.torch.float64)
    try:
        yield
    finally:
        theirs.torch.set_default_dtype(theirs.torch.float32)


def _corpora(ours, theirs):
    """The same synthetic corpus tokenized by both copies (plain Python, so identical)."""
    corpus_o = ours.Corpus(None, nsentences=300, vocab_size=40, seed=7)
    corpus_t = theirs.Corpus(None, nsentences=300, vocab_size=40, seed=7)
    assert corpus_o.dictionary.idx2word == corpus_t.dictionary.idx2word
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(
            to_numpy(getattr(corpus_o, split)), to_numpy(getattr(corpus_t, split))
        )
    return corpus_o, corpus_t


def _models(ours, theirs, ntokens, rnn_type, tied, seed=0):
    """PyTorch's RNNModel (dropout 0) built first under its seed, ours started from its weights."""
    theirs.torch.manual_seed(seed)
    model_t = theirs.RNNModel(rnn_type, ntokens, dropout=0.0, tie_weights=tied, **_sizes())
    model_o = ours.RNNModel(rnn_type, ntokens, dropout=0.0, tie_weights=tied, **_sizes())
    same_start(model_o, model_t, ours.torch)
    return model_o, model_t


def _sizes():
    return {"ninp": SIZES["emsize"], "nhid": SIZES["nhid"], "nlayers": SIZES["nlayers"]}


def _train_both(ours, theirs, rnn_type, tied, steps=24):
    """Both models trained `steps` truncated-BPTT steps; -> models, per-step losses, data."""
    corpus_o, corpus_t = _corpora(ours, theirs)
    ntokens = len(corpus_t.dictionary)
    model_o, model_t = _models(ours, theirs, ntokens, rnn_type, tied)
    args = ours.parse_args(TRAIN_ARGS)
    out = {}
    for key, prog, model, corpus in (
        ("ours", ours, model_o, corpus_o),
        ("theirs", theirs, model_t, corpus_t),
    ):
        device = prog.torch.device("cpu")
        train_data = prog.batchify(corpus.train, args.batch_size, device)
        assert (train_data.size(0) - 1) // args.bptt >= steps
        losses = prog.train(model, prog.nn.NLLLoss(), train_data, args.lr, args, max_steps=steps)
        valid = prog.batchify(corpus.valid, 5, device)
        val_loss = prog.evaluate(model, prog.nn.NLLLoss(), valid, args.bptt, 5)
        out[key] = (model, losses, val_loss)
    return out


@pytest.mark.parametrize(
    "rnn_type, tied",
    [("LSTM", True), ("LSTM", False), ("GRU", False), ("RNN_TANH", True), ("RNN_RELU", False)],
)
def test_training_agrees_with_pytorch(pair, float64, rnn_type, tied):
    ours, theirs = pair
    out = _train_both(ours, theirs, rnn_type, tied)
    (model_o, losses_o, val_o), (model_t, losses_t, val_t) = out["ours"], out["theirs"]
    assert len(losses_t) == 24 and losses_t[-1] < losses_t[0]  # it learns something
    assert_agree(losses_o, losses_t, rtol=1e-6)
    assert_agree([val_o], [val_t], rtol=1e-6, what="validation loss")
    state_o, state_t = model_o.state_dict(), model_t.state_dict()
    assert list(state_o) == list(state_t)
    for key, value in state_t.items():
        np.testing.assert_allclose(to_numpy(state_o[key]), to_numpy(value), rtol=1e-6, atol=1e-9)
    # tying survives training (and load_state_dict in same_start) exactly as in PyTorch
    assert (model_t.decoder.weight is model_t.encoder.weight) is tied
    assert (model_o.decoder.weight is model_o.encoder.weight) is tied
    params_o, params_t = list(model_o.parameters()), list(model_t.parameters())
    assert len(params_o) == len(params_t) == len(state_t) - int(tied)


def test_epochs_with_annealing_and_best_checkpoint_agree_with_pytorch(pair, float64, tmp_path):
    ours, theirs = pair
    corpora = dict(zip(("ours", "theirs"), _corpora(ours, theirs)))
    ntokens = len(corpora["theirs"].dictionary)
    models = dict(zip(("ours", "theirs"), _models(ours, theirs, ntokens, "LSTM", tied=True)))
    out = {}
    for key, prog in (("ours", ours), ("theirs", theirs)):
        args = prog.parse_args(TRAIN_ARGS + ["--lr", "10", "--epochs", "4"])
        args.save = str(tmp_path / f"{key}.pt")
        device = prog.torch.device("cpu")
        train_data = prog.batchify(corpora[key].train, args.batch_size, device)
        valid = prog.batchify(corpora[key].valid, 5, device)
        test = prog.batchify(corpora[key].test, 5, device)
        criterion = prog.nn.NLLLoss()
        history = prog.fit(models[key], criterion, train_data, valid, args, 5, max_steps=12)
        prog.load_checkpoint(models[key], args.save, device)  # the best epoch's weights
        best = prog.evaluate(models[key], criterion, valid, args.bptt, 5)
        assert best == pytest.approx(min(history["valid"]), rel=1e-12)
        out[key] = history, prog.evaluate(models[key], criterion, test, args.bptt, 5)
    (hist_o, test_o), (hist_t, test_t) = out["ours"], out["theirs"]
    assert hist_o["lr"] == hist_t["lr"] and hist_t["lr"][-1] < hist_t["lr"][0]  # annealed
    assert_agree(hist_o["train"], hist_t["train"], rtol=1e-6)
    assert len(hist_t["train"]) == 4 * 12
    assert_agree(hist_o["valid"], hist_t["valid"], rtol=1e-6, what="validation loss")
    assert_agree([test_o], [test_t], rtol=1e-6, what="test loss of the best checkpoint")


def test_checkpoint_round_trip(pair, tmp_path):
    ours, _ = pair
    torch = ours.torch
    corpus = ours.Corpus(None, nsentences=200, vocab_size=30, seed=1)
    device = torch.device("cpu")
    ntokens = len(corpus.dictionary)
    args = ours.parse_args(TRAIN_ARGS)
    torch.manual_seed(1)
    model = ours.RNNModel("LSTM", ntokens, dropout=0.0, tie_weights=True, **_sizes())
    criterion = torch.nn.NLLLoss()
    ours.train(model, criterion, ours.batchify(corpus.train, 4, device), 5.0, args, max_steps=5)
    valid = ours.batchify(corpus.valid, 5, device)
    expected = ours.evaluate(model, criterion, valid, args.bptt, 5)

    path = tmp_path / "model.pt"
    ours.save_checkpoint(model, path)
    torch.manual_seed(2)
    fresh = ours.RNNModel("LSTM", ntokens, dropout=0.0, tie_weights=True, **_sizes())
    assert ours.evaluate(fresh, criterion, valid, args.bptt, 5) != expected
    ours.load_checkpoint(fresh, path, device)
    assert ours.evaluate(fresh, criterion, valid, args.bptt, 5) == expected
    assert fresh.decoder.weight is fresh.encoder.weight
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy())


def test_generation_draws_valid_words_and_matches_pytorch_distributions(pair, float64):
    ours, theirs = pair
    out = _train_both(ours, theirs, "GRU", tied=True, steps=10)
    model_o, model_t = out["ours"][0], out["theirs"][0]
    corpus_o, _ = _corpora(ours, theirs)
    ntokens = len(corpus_o.dictionary)

    ours.torch.manual_seed(3)
    ids_o, weights_o = ours.generate(model_o, ntokens, 30, 0.8, ours.torch.device("cpu"))
    assert len(ids_o) == 30 and all(0 <= i < ntokens for i in ids_o)
    words = [corpus_o.dictionary.idx2word[i] for i in ids_o]
    assert all(isinstance(w, str) and w for w in words)
    for i, w in zip(ids_o, weights_o):
        assert w.shape == (ntokens,) and float(w[i]) > 0  # a word the model gave weight to
    assert len(set(ids_o)) > 1

    theirs.torch.manual_seed(3)
    ids_t, weights_t = theirs.generate(model_t, ntokens, 30, 0.8, "cpu", start=4)
    _, replayed = ours.generate(
        model_o, ntokens, 30, 0.8, "cpu", start=4, choose=lambda i, w: ids_t[i]
    )
    for step, (a, b) in enumerate(zip(replayed, weights_t)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-6, err_msg=f"step {step}")


def _transformers(ours, theirs, ntokens, seed=0):
    """PyTorch's TransformerModel (dropout 0) built first under its seed, ours from its weights."""
    theirs.torch.manual_seed(seed)
    sizes = {"ninp": 12, "nhead": 2, "nhid": 20, "nlayers": 2, "dropout": 0.0}
    model_t = theirs.TransformerModel(ntokens, **sizes)
    model_o = ours.TransformerModel(ntokens, **sizes)
    assert list(model_o.state_dict()) == list(model_t.state_dict())  # nn.Transformer's keys
    same_start(model_o, model_t, ours.torch)
    return model_o, model_t


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # both warn alike
def test_transformer_model_trains_and_samples_as_on_pytorch(pair, float64):
    """The example's TransformerModel (a subclass of nn.Transformer): losses, weights, sampling."""
    ours, theirs = pair
    corpus_o, corpus_t = _corpora(ours, theirs)
    ntokens = len(corpus_t.dictionary)
    model_o, model_t = _transformers(ours, theirs, ntokens)
    args = ours.parse_args(TRAIN_ARGS + ["--lr", "0.5"])
    out = {}
    for key, prog, model, corpus in (
        ("ours", ours, model_o, corpus_o),
        ("theirs", theirs, model_t, corpus_t),
    ):
        train_data = prog.batchify(corpus.train, args.batch_size, "cpu")
        losses = prog.train(model, prog.nn.NLLLoss(), train_data, args.lr, args, max_steps=20)
        valid = prog.batchify(corpus.valid, 5, "cpu")
        out[key] = (losses, prog.evaluate(model, prog.nn.NLLLoss(), valid, args.bptt, 5))
    (losses_o, val_o), (losses_t, val_t) = out["ours"], out["theirs"]
    assert len(losses_t) == 20 and losses_t[-1] < losses_t[0]  # it learns something
    assert_agree(losses_o, losses_t, rtol=1e-6)
    assert_agree([val_o], [val_t], rtol=1e-6, what="validation loss")
    for key, value in model_t.state_dict().items():
        np.testing.assert_allclose(
            to_numpy(model_o.state_dict()[key]), to_numpy(value), rtol=1e-6, atol=1e-9
        )
    # sampling feeds the growing context back (torch.Tensor([[word_idx]]).long(), torch.cat)
    theirs.torch.manual_seed(5)
    ids_t, weights_t = theirs.generate(model_t, ntokens, 12, 0.8, "cpu", start=3)
    _, replayed = ours.generate(
        model_o, ntokens, 12, 0.8, "cpu", start=3, choose=lambda i, w: ids_t[i]
    )
    for step, (a, b) in enumerate(zip(replayed, weights_t)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-6, err_msg=f"step {step}")
    ours.torch.manual_seed(5)
    ids_o, _ = ours.generate(model_o, ntokens, 12, 0.8, "cpu")
    assert len(ids_o) == 12 and all(0 <= i < ntokens for i in ids_o)


@pytest.mark.parametrize("which", ["ours", "theirs"])
def test_bad_configurations_raise_value_error(pair, which):
    prog = dict(zip(("ours", "theirs"), pair))[which]
    with pytest.raises(ValueError, match="nhid must be equal to emsize"):
        prog.RNNModel("LSTM", 10, 8, 6, 2, tie_weights=True)
    with pytest.raises(ValueError, match="invalid option"):
        prog.RNNModel("TRANSFORMER", 10, 8, 8, 2)


def test_runs_as_a_script(pair, tmp_path):
    ours, _ = pair
    data = tmp_path / "data"
    data.mkdir()
    for split, lines in ours.synthetic_texts(240, 40, seed=2).items():
        (data / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    argv = ["--data", str(data), "--model", "GRU", "--tied", "--emsize", "8", "--nhid", "8"]
    argv += ["--bptt", "5", "--batch_size", "4", "--epochs", "2", "--log-interval", "10"]
    argv += ["--save", str(tmp_path / "model.pt"), "--words", "6"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(f"{NAME}.py")), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("| end of epoch") == 2
    assert "loss" in proc.stdout and "| End of training | test loss" in proc.stdout
    generated = proc.stdout.split("| Generated: ")[1].split()
    assert len(generated) == 6
    assert (tmp_path / "model.pt").exists()
