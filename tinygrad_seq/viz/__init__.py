"""tinygrad_seq.viz: drawings of the unrolled graph and figures of gradient flow through time.

`explore` writes one self-contained interactive HTML page of the graph (laid out by `dot`).
`draw_graph` / `save` / `record_grads` need only the `graphviz` Python package (and graphviz's
`dot` program to make images); the figures of `plots` import matplotlib lazily, from the `plot`
extra (`pip install tinygrad_seq[plot]`). Inside `separate_heads()` attention computes each head
on its own ("head <i>" scopes), so a drawing shows one box per head, with the same numbers.
"""

from ..autograd import keep_values
from ..nn.attention import separate_heads
from ._colors import grad_color
from ._graph_model import walk
from ._recorder import BackwardRecording, record_backward
from .explore import Explorer, explore
from .graph import GraphvizNotFoundWarning, draw_graph, record_grads, save
from .plots import (
    grad_flow,
    lstm_gate_activations,
    plot_attention,
    plot_gates,
    plot_grad_flow,
    plot_losses,
)

__all__ = [
    "BackwardRecording",
    "Explorer",
    "GraphvizNotFoundWarning",
    "draw_graph",
    "explore",
    "grad_color",
    "grad_flow",
    "keep_values",
    "lstm_gate_activations",
    "plot_attention",
    "plot_gates",
    "plot_grad_flow",
    "plot_losses",
    "record_backward",
    "record_grads",
    "save",
    "separate_heads",
    "walk",
]
