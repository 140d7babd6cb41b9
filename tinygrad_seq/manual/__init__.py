"""Hand-derived numpy forward and backward passes of RNN, LSTM and GRU, in the course's notation.

`tinygrad_seq.manual` is the independent reference the autodiff engine is checked against: every
gradient here is written out by hand from the chain rule (derivations in docs/backward.md), in
the notation of the deeplearning.ai sequence-models course (a<t>, Wax, Waa, ...), with
column-major batches x (n_x, m, T_x), a (n_a, m, T_x), a0 (n_a, m). It imports numpy and
nothing from the engine (tensor, ops, autograd, nn), so a bug there cannot hide here.

    rnn     rnn_cell_forward/backward, rnn_forward/backward (tanh or relu)
    lstm    lstm_cell_forward/backward, lstm_forward/backward (optional c0, returns dc0)
    gru     gru_cell_forward/backward, gru_forward/backward, variant='course' | 'pytorch'
    output  softmax, sigmoid, output_forward/backward, cross_entropy_loss, clip
    lm      lm_training_step: forward, loss, BPTT, clipping and one SGD update by hand
    convert nn (PyTorch-named) parameters <-> course dicts: module_to_course,
            course_to_module, state_dict_to_course, course_to_state_dict, grads_to_course,
            grads_to_nn, parameter_links; layouts sequence_to/from_course, state_to/from_course
"""

from . import convert
from .convert import (
    Link,
    ModuleSpec,
    course_to_module,
    course_to_state_dict,
    grads_to_course,
    grads_to_nn,
    module_spec,
    module_to_course,
    parameter_links,
    sequence_from_course,
    sequence_to_course,
    state_dict_to_course,
    state_from_course,
    state_to_course,
)
from .gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from .lm import lm_training_step
from .lstm import lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from .output import (
    clip,
    cross_entropy_loss,
    output_backward,
    output_forward,
    predict_step,
    sigmoid,
    softmax,
)
from .rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__all__ = [
    "Link",
    "ModuleSpec",
    "clip",
    "convert",
    "course_to_module",
    "course_to_state_dict",
    "grads_to_course",
    "grads_to_nn",
    "module_spec",
    "module_to_course",
    "parameter_links",
    "sequence_from_course",
    "sequence_to_course",
    "state_dict_to_course",
    "state_from_course",
    "state_to_course",
    "cross_entropy_loss",
    "gru_backward",
    "gru_cell_backward",
    "gru_cell_forward",
    "gru_forward",
    "lm_training_step",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "output_backward",
    "output_forward",
    "predict_step",
    "rnn_backward",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "rnn_forward",
    "sigmoid",
    "softmax",
]
