"""tinygrad_seq.tasks: the applications, on top of nn, optim, data, io and viz.

- `charlm`: the course's character language model (`CharLM`), its batches, evaluation, the
  unigram yardstick and its checkpoint file (`save_lm` / `load_lm`);
- `transformer_lm`: the causal Transformer body CharLM uses with cell="transformer";
- `train`: the training loop (`train_char_lm`), `EarlyStopping`, progress bars, BLAS threads;
- `sample`: sampling new sequences and scoring whole ones (`sample`, `log_likelihood`);
- `graph`: a small unrolled network drawn to a file (`tinygrad-seq graph`);
- `demo`: the one-minute tour (`tinygrad-seq demo`).
"""

from .charlm import (
    CELLS,
    IGNORE_INDEX,
    LM_CELLS,
    CharLM,
    evaluate_lm,
    lm_batch,
    load_lm,
    save_lm,
    unigram_baseline,
)
from .graph import graph_command
from .sample import log_likelihood, sample
from .train import EarlyStopping, TrainResult, limit_blas_threads, progress_bar, train_char_lm

__all__ = [
    "CELLS",
    "IGNORE_INDEX",
    "LM_CELLS",
    "CharLM",
    "EarlyStopping",
    "TrainResult",
    "evaluate_lm",
    "graph_command",
    "limit_blas_threads",
    "lm_batch",
    "load_lm",
    "log_likelihood",
    "progress_bar",
    "sample",
    "save_lm",
    "train_char_lm",
    "unigram_baseline",
]
