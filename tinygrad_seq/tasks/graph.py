"""`tinygrad-seq graph`: unroll a small RNN / GRU / LSTM, run it, draw its graph to a file.

The command exists so a learner can look at backpropagation through time without writing any
code: `tinygrad-seq graph --cell lstm --steps 4 -o graph.svg` shows every op of four unrolled
LSTM steps, `--collapse cell` one node per step, `--grads` the gradient norms in colour, and
`-o graph.html` writes the interactive explorer (viz.explore) instead of a picture.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..autograd import keep_values
from ..random import get_generator, manual_seed
from ..tensor import Tensor
from ..viz import draw_graph, explore, record_grads, save
from .charlm import CELLS


def graph_command(
    cell: str = "lstm",
    steps: int = 4,
    layers: int = 1,
    collapse: str = "none",
    output: str | os.PathLike = "graph.svg",
    hidden: int = 3,
    inputs: int = 2,
    show_grads: bool = False,
    seed: int = 0,
) -> Path:
    """Build cell ('rnn'|'gru'|'lstm') unrolled over steps, draw its graph -> the path written.

    The loss is the mean square of the outputs, so every step gets a gradient. With
    show_grads the graph is drawn after backward, coloured by gradient norm. Without graphviz's
    `dot` program the .dot source is written instead (see viz.save). An output ending in .html
    gets the interactive explorer (viz.explore: values kept, backward recorded).
    """
    if cell not in CELLS:
        raise ValueError(f"graph: cell must be one of {', '.join(CELLS)}, got {cell!r}")
    for name, v in (("steps", steps), ("layers", layers), ("hidden", hidden), ("inputs", inputs)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"graph: {name} must be a positive int, got {v!r}")
    manual_seed(seed)
    model = CELLS[cell](inputs, hidden, num_layers=layers)
    data = get_generator().standard_normal((steps, 1, inputs)).astype("float32")
    x = Tensor._make(data, False, None)
    with keep_values():  # the explorer shows every op's value; a drawing ignores them
        out, _ = model(x)
        loss = (out * out).mean()
    kind = cell.upper()
    title = f"{kind}, {layers} layer(s), {steps} steps: loss = mean(output^2)"
    if Path(output).suffix.lower() in (".html", ".htm"):
        return explore(loss, model, title=title).save(output)
    if show_grads:
        record_grads(loss)
        loss.backward()
    graph = draw_graph(loss, model, collapse=collapse, show_grads=show_grads, title=title)
    return save(graph, output)
