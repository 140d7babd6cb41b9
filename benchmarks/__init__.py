"""Performance harness: one char-LM training step of tinygrad_seq against reference implementations.

Run it with `python -m benchmarks` (or `make bench`); `--help` lists the options. This file
imports nothing on purpose: `python -m benchmarks` imports the package before `__main__`, and
`__main__` must set the BLAS thread variables before numpy is first imported.

Modules: `common` (configurations, weights, the agreement check), `numpy_ref` (the hand-written
numpy forward and BPTT: the numpy limit), `competitors` (tinygrad_seq, the matmul floor),
`external` (HIPS autograd, PyTorch), `harness` (timing, memory, scaling, the CLI), `report`
(tables, targets, RESULTS.md), `profiling` (cProfile of the tinygrad_seq step) and `threads`
(the BLAS / OpenMP thread variables, set before numpy loads).

`python -m benchmarks.word_lm` (`word_lm`) is a second benchmark: tokens per second of the
word-level language model of tests/compat/word_language_model.py, one training step under
tinygrad_seq and under PyTorch in the same process; it writes its own section of RESULTS.md.
"""
