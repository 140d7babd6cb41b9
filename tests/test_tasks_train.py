"""Tests of tinygrad_seq.tasks.train: the training loop (history, determinism, callbacks, time
limit, clipping), EarlyStopping, and a real run that beats the unigram baseline."""

import numpy as np
import pytest
from helpers import LM_TEXTS

import tinygrad_seq as ts
from tinygrad_seq import optim
from tinygrad_seq.data import Vocab, names_dataset
from tinygrad_seq.tasks import CharLM, EarlyStopping, TrainResult, train_char_lm, unigram_baseline
from tinygrad_seq.tasks.charlm import batch_loss


def test_history_and_determinism(tiny_lm):
    h = tiny_lm.history
    assert set(h) == {"train_loss", "val_loss", "grad_norm", "seconds"}
    assert len(h["train_loss"]) == len(h["grad_norm"]) == len(h["seconds"]) == 2
    assert h["val_loss"] == []
    again = train_char_lm(LM_TEXTS * 4, hidden_size=8, epochs=2, batch_size=4, progress=False)
    assert again.history["train_loss"] == h["train_loss"]
    assert isinstance(tiny_lm, TrainResult) and not tiny_lm.model.training


def test_callback_stops_and_time_limit_stops():
    seen = []
    r = train_char_lm(
        LM_TEXTS,
        cell="gru",
        hidden_size=4,
        epochs=5,
        progress=False,
        val_texts=["ab"],
        callback=lambda e, res: seen.append(e) or e == 1,
    )
    assert seen == [0, 1] and len(r.history["val_loss"]) == 2
    r = train_char_lm(
        LM_TEXTS * 20,
        cell="rnn",
        hidden_size=4,
        epochs=50,
        batch_size=2,
        progress=False,
        time_limit=0.0,
    )
    assert len(r.history["train_loss"]) == 1


def _train_by_hand(texts, epochs, lr, clip_value):
    """train_char_lm's loop written out (one batch per epoch): its losses and gradient norms."""
    vocab = Vocab.build(texts)
    ts.manual_seed(0)
    model = CharLM(len(vocab), 4, "rnn")
    opt = optim.Adam(model.parameters(), lr=lr)
    order_rng = np.random.default_rng(0)
    losses, norms = [], []
    for _ in range(epochs):
        order = order_rng.permutation(len(texts))
        loss, _ = batch_loss(model, vocab, [texts[i] for i in order])
        opt.zero_grad()
        loss.backward()
        grads = [p.grad.numpy() for p in model.parameters()]
        norms.append(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)))
        if clip_value is not None:
            for g in grads:
                np.clip(g, -clip_value, clip_value, out=g)  # in place: the optimizer reads it
        opt.step()
        losses.append(loss.item())
    return losses, norms


@pytest.mark.parametrize("clip_value", [0.01, None], ids=["clip_value", "no-clipping"])
def test_clip_value_and_no_clipping_run(clip_value):
    """Loss and pre-clipping gradient norm of every epoch are those of the loop done by hand."""
    kw = {} if clip_value is None else {"clip_value": clip_value}
    r = train_char_lm(LM_TEXTS, cell="rnn", hidden_size=4, epochs=4, lr=0.05, clip=None,
                      progress=False, **kw)  # fmt: skip
    losses, norms = _train_by_hand(LM_TEXTS, 4, 0.05, clip_value)
    np.testing.assert_allclose(r.history["train_loss"], losses, rtol=1e-6)
    np.testing.assert_allclose(r.history["grad_norm"], norms, rtol=1e-6)
    # the element-wise clip changes the run: by epoch 4 the two settings' losses differ
    other, _ = _train_by_hand(LM_TEXTS, 4, 0.05, 0.01 if clip_value is None else None)
    assert abs(losses[-1] - other[-1]) > 1e-3


def test_empty_texts_rejected():
    with pytest.raises(ValueError, match="no training texts"):
        train_char_lm([], progress=False)


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    vocab = Vocab.build(["ab"])
    model = CharLM(len(vocab), 3, "gru")
    result = TrainResult(model, vocab, {"val_loss": []})
    stopper = EarlyStopping(patience=2)
    kept = {}
    for epoch, val in enumerate([3.0, 2.0, 2.5, 2.1]):
        with ts.no_grad():
            model.head.bias.fill_(float(epoch))  # tells the epochs' weights apart
        kept[epoch] = model.head.bias.detach().numpy().copy()
        result.history["val_loss"].append(val)
        stop = stopper(epoch, result)
        assert stop == (epoch == 3), epoch  # epoch 3 is the second without improvement
    assert (stopper.best, stopper.best_epoch) == (2.0, 1)
    stopper.restore(model)
    np.testing.assert_array_equal(model.head.bias.detach().numpy(), kept[1])
    EarlyStopping(patience=1).restore(model)  # nothing recorded: the model is left alone
    np.testing.assert_array_equal(model.head.bias.detach().numpy(), kept[1])


def test_names_lm_beats_unigram_baseline():
    # about a second on 2 cores: full names, 2 epochs of a small LSTM
    train, val = names_dataset(seed=0)
    vocab = Vocab.build(train)
    baseline = unigram_baseline(train, val, vocab)
    r = train_char_lm(
        train,
        vocab,
        hidden_size=32,
        epochs=2,
        batch_size=64,
        lr=1e-2,
        val_texts=val,
        progress=False,
    )
    assert r.history["val_loss"][-1] < baseline - 0.4, (r.history, baseline)
    assert r.history["val_loss"][-1] < r.history["val_loss"][0] + 1e-9
