"""`tinygrad-seq demo`: the whole project in under a minute.

Trains the character language model on the bundled US census first names, compares it with the
unigram baseline, samples new names, and writes the checkpoint, the loss curve, a drawing of the
unrolled graph with gradient colours, the interactive graph explorer (graph.html) and an
RNN-versus-LSTM gradient-flow plot into one folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import nn, viz
from ..autograd import no_grad
from ..data import load_names
from ..random import manual_seed
from ..tensor import Tensor
from .charlm import save_lm, unigram_baseline
from .graph import graph_command
from .sample import sample
from .train import EarlyStopping, train_char_lm


def _grad_flow_models(seed: int, steps: int = 60) -> dict:
    """An RNN and an LSTM at initialisation, a loss on the last step only, backward done."""
    layers = {}
    for name, cls in (("RNN", nn.RNN), ("LSTM, forget-gate bias 1", nn.LSTM)):
        manual_seed(seed)
        layer = cls(8, 32, retain_states=True)
        if cls is nn.LSTM:  # forget-gate bias 1 (Jozefowicz et al.): the cell starts by remembering
            with no_grad():
                layer.bias_ih_l0[32:64] = 1.0
                layer.bias_hh_l0[32:64] = 0.0
        data = np.random.default_rng(seed).standard_normal((steps, 4, 8)).astype(np.float32)
        x = Tensor._make(data, False, None)
        out, _ = layer(x)
        out[-1].sum().backward()
        layers[name] = layer
    return layers


def run_demo(
    out: Path, seconds: float = 60.0, cell: str = "lstm", seed: int = 0, progress: bool = True
) -> list[tuple[Path, str]]:
    """Train, sample and draw; returns [(path written, what it is)] in the order written."""
    out.mkdir(parents=True, exist_ok=True)
    train = [r.name for r in load_names("train", seed=seed)]
    val = [r.name for r in load_names("val", seed=seed)]
    print(
        f"names: {len(train)} for training, {len(val)} for validation; training a {cell.upper()}"
        f" for up to {seconds:.0f} s (it stops early once validation loss stops improving)"
    )
    stopper = EarlyStopping(patience=3)
    result = train_char_lm(
        train,
        cell=cell,
        hidden_size=128,
        num_layers=2,
        dropout=0.25,  # between the layers: it keeps a minute of training from overfitting
        epochs=1000,
        lr=3e-3,
        batch_size=64,
        val_texts=val,
        seed=seed,
        progress=progress,
        time_limit=seconds,
        callback=stopper,
    )
    stopper.restore(result.model)
    base = unigram_baseline(train, val, result.vocab)
    h = result.history
    print(
        f"validation loss {stopper.best:.3f} nats/symbol (best of {len(h['val_loss'])} "
        f"epochs, kept; unigram baseline {base:.3f})"
    )
    known = set(train)
    names = [
        sample(result.model, result.vocab, max_len=20, temperature=0.8, seed=seed + i)
        for i in range(20)
    ]
    novel = sum(n not in known for n in names)
    print("sampled names: " + ", ".join(names))
    print(f"{novel} of {len(names)} are not in the training set")
    written = []
    ckpt = out / "names_lm.safetensors"
    save_lm(result, ckpt)
    written.append((ckpt, "checkpoint (safetensors): tinygrad-seq sample/score read it"))
    samples = out / "samples.txt"
    samples.write_text("\n".join(names) + "\n", encoding="utf-8")
    written.append((samples, f"20 sampled names, {novel} novel"))
    curve = out / "loss.png"
    viz.plot_losses(
        h["train_loss"],
        val=h["val_loss"],
        path=curve,
        xlabel="epoch",
        ylabel="cross-entropy (nats per symbol)",
    )
    written.append((curve, "training and validation loss per epoch"))
    graph = Path(
        graph_command(
            cell=cell,
            steps=3,
            layers=1,
            collapse="none",
            output=str(out / "graph.svg"),
            show_grads=True,
        )
    )
    written.append((graph, "the unrolled graph of 3 steps, coloured by gradient norm"))
    flow = out / "grad_flow.png"
    viz.plot_grad_flow(_grad_flow_models(seed), path=flow)
    written.append((flow, "||dL/dh_t|| over t: RNN vanishes, LSTM carries"))
    page = Path(graph_command(cell=cell, steps=6, output=str(out / "graph.html")))
    written.append((page, "the explorer: 6 steps to open, inspect and play backward (a browser)"))
    return written
