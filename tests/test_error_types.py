"""Bad calls raise the same type of exception as in PyTorch.

Each case is a line of PyTorch code that must fail. It runs under PyTorch and under
tinygrad_seq (`torch` bound to each, as in script_parity.py), and both must raise the same
exception type, so that `except RuntimeError:` (or IndexError, ValueError, TypeError) catches
ours where it catches PyTorch's. One of our own subclasses (GraphFreedError, StateDictError,
...) counts where PyTorch raises its base class. The messages differ on purpose: ours say what
was expected and what came.

What still differs is listed, each call with its reason, never dropped: DIFFERENT (PyTorch
accepts, tinygrad_seq refuses), ACCEPTED (the other way round) and OTHER_TYPE (both refuse,
with another type here). Tests check that each entry still behaves as listed, so the lists
cannot go stale, and that docs/pytorch.md ("Known differences") names every entry.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import require_torch

import tinygrad_seq as ts

PRELUDE = """\
nn, F = torch.nn, torch.nn.functional
rnn_utils = torch.nn.utils.rnn
x = torch.zeros(2, 3)
w = torch.zeros(3, requires_grad=True)
"""

# name -> one line (or a few) of PyTorch code that raises under PyTorch
CASES: dict[str, str] = {
    # creation, dtypes, factories
    "tensor ragged": "torch.tensor([[1, 2], [3]])",
    "tensor int requires_grad": "torch.tensor([1, 2], requires_grad=True)",
    "tensor string": "torch.tensor('abc')",
    "zeros negative size": "torch.zeros(-1)",
    "ones negative size": "torch.ones(2, -3)",
    "full negative size": "torch.full((-1,), 1.0)",
    "arange zero step": "torch.arange(0, 5, 0)",
    "arange wrong sign": "torch.arange(0, 5, -1)",
    "linspace negative steps": "torch.linspace(0, 1, -1)",
    "eye negative": "torch.eye(-1)",
    "randint low >= high": "torch.randint(5, 2, (3,))",
    "randint no size": "torch.randint(5)",
    "randperm negative": "torch.randperm(-1)",
    "randn negative": "torch.randn(-2)",
    "multinomial negative": "torch.multinomial(torch.tensor([-1.0, 2.0]), 1)",
    "multinomial zero sum": "torch.multinomial(torch.tensor([0.0, 0.0]), 1)",
    "multinomial too many": "torch.multinomial(torch.tensor([0.5, 0.5]), 3)",
    "multinomial 3d": "torch.multinomial(torch.ones(2, 2, 2), 1)",
    "bernoulli bad p": "torch.bernoulli(torch.tensor([1.5]))",
    "requires_grad_ int": "torch.zeros(2, dtype=torch.long).requires_grad_()",
    "item multi": "torch.zeros(2).item()",
    "item empty": "torch.zeros(0).item()",
    "float() multi": "float(torch.zeros(2))",
    "int() multi": "int(torch.zeros(2))",
    "bool() multi": "bool(torch.zeros(2))",
    "len 0-d": "len(torch.tensor(1.0))",
    "iter 0-d": "iter(torch.tensor(1.0))",
    "numpy requires grad": "w.numpy()",
    "from_numpy list": "torch.from_numpy([1, 2])",
    # shape ops and views
    "view bad size": "x.view(4)",
    "view two -1": "x.view(-1, -1)",
    "view noncontiguous": "x.t().view(6)",
    "reshape bad size": "x.reshape(4)",
    "reshape two -1": "x.reshape(-1, -1)",
    "permute wrong count": "x.permute(0)",
    "permute repeated": "x.permute(0, 0)",
    "permute dim out of range": "x.permute(0, 2)",
    "transpose dim": "x.transpose(0, 5)",
    "t on 3-d": "torch.zeros(2, 2, 2).t()",
    "squeeze dim": "x.squeeze(4)",
    "unsqueeze dim": "x.unsqueeze(5)",
    "flatten dims": "x.flatten(0, 4)",
    "expand smaller": "x.expand(3)",
    "expand bad size": "x.expand(4, 3)",
    "expand_as bad": "x.expand_as(torch.zeros(4, 3))",
    "repeat fewer dims": "x.repeat(2)",
    "narrow out of range": "x.narrow(1, 2, 3)",
    "narrow dim": "x.narrow(3, 0, 1)",
    "select index": "x.select(0, 5)",
    "select dim": "x.select(4, 0)",
    "size dim": "x.size(4)",
    "contiguous-free view of expand": "torch.zeros(3, 1).expand(3, 4).view(12)",
    "unflatten bad": "nn.Unflatten(1, (2, 2))(x)",
    "flip dim": "x.flip(3)",
    "roll dim": "x.roll(1, 4)",
    "diag 3-d": "torch.diag(torch.zeros(2, 2, 2))",
    "tril 1-d": "torch.tril(torch.zeros(3))",
    # indexing
    "index out of range": "x[5]",
    "index too many": "x[0, 0, 0]",
    "index tensor out of range": "x[torch.tensor([5])]",
    "index float tensor": "x[torch.tensor([0.0])]",
    "bool mask wrong shape": "x[torch.tensor([True, False, True])]",
    "setitem wrong shape": "x[0] = torch.zeros(4)",
    "setitem out of range": "x[7] = 1.0",
    "gather index out of range": "x.gather(1, torch.tensor([[5]]))",
    "gather float index": "x.gather(1, torch.tensor([[0.0]]))",
    "gather dims differ": "x.gather(1, torch.tensor([0]))",
    "scatter index out of range": "x.scatter(1, torch.tensor([[5]]), 1.0)",
    "scatter_add src dims": "x.scatter_add(1, torch.tensor([[0]]), torch.ones(1))",
    "index_select out of range": "x.index_select(0, torch.tensor([5]))",
    "index_select 2-d index": "x.index_select(0, torch.tensor([[0]]))",
    "index_select float": "x.index_select(0, torch.tensor([0.0]))",
    "masked_fill float mask": "x.masked_fill(torch.zeros(2, 3), 1.0)",
    "masked_fill mask shape": "x.masked_fill(torch.zeros(4, 3, dtype=torch.bool), 1.0)",
    "masked_select shape": "x.masked_select(torch.zeros(4, dtype=torch.bool))",
    "index_fill out of range": "x.index_fill(1, torch.tensor([7]), 1.0)",
    # reductions
    "sum dim": "x.sum(5)",
    "mean dim": "x.mean(-3)",
    "mean int": "torch.tensor([1, 2]).mean()",
    "max dim": "x.max(dim=2)",
    "max empty": "torch.zeros(0).max()",
    "argmax dim": "x.argmax(3)",
    "softmax dim": "torch.softmax(x, dim=4)",
    "log_softmax dim": "F.log_softmax(x, dim=-3)",
    "F.softmax dim": "F.softmax(x, dim=2)",
    "cumsum dim": "x.cumsum(2)",
    "topk too many": "x.topk(4)",
    "topk dim": "x.topk(1, dim=3)",
    "sort dim": "x.sort(dim=2)",
    "var dim": "x.var(2)",
    "norm dim": "x.norm(dim=2)",
    "logsumexp dim": "x.logsumexp(2)",
    "prod dim": "x.prod(2)",
    "split dim": "x.split(1, dim=2)",
    "split sizes": "x.split([1, 1], dim=1)",
    "chunk zero": "x.chunk(0)",
    "chunk dim": "x.chunk(2, dim=3)",
    "unbind dim": "x.unbind(2)",
    # binary ops, matmul
    "add broadcast": "x + torch.zeros(4, 3)",
    "mul broadcast": "x * torch.zeros(2, 2)",
    "where shapes": (
        "torch.where(torch.tensor([True, False, True]), torch.zeros(2), torch.zeros(2))"
    ),
    "where float cond": "torch.where(torch.zeros(2), torch.zeros(2), torch.zeros(2))",
    "maximum shapes": "torch.maximum(torch.zeros(2), torch.zeros(3))",
    "matmul shapes": "torch.zeros(2, 3) @ torch.zeros(4, 5)",
    "matmul 0-d": "torch.matmul(torch.tensor(1.0), torch.zeros(2))",
    "matmul batch": "torch.zeros(2, 2, 3) @ torch.zeros(3, 3, 4)",
    "matmul 1-d": "torch.matmul(torch.zeros(2, 3), torch.zeros(2))",
    "bmm shapes": "torch.bmm(torch.zeros(2, 3, 4), torch.zeros(2, 5, 6))",
    "bmm batch": "torch.bmm(torch.zeros(2, 3, 4), torch.zeros(3, 4, 6))",
    "bmm 2-d": "torch.bmm(torch.zeros(3, 4), torch.zeros(4, 6))",
    "baddbmm shapes": (
        "torch.baddbmm(torch.zeros(2, 3, 6), torch.zeros(2, 3, 4), torch.zeros(2, 5, 6))"
    ),
    "addmm shapes": "torch.addmm(torch.zeros(2, 2), torch.zeros(2, 3), torch.zeros(4, 2))",
    "outer 2-d": "torch.outer(torch.zeros(2, 2), torch.zeros(2))",
    "einsum shapes": "torch.einsum('ij,jk->ik', torch.zeros(2, 3), torch.zeros(4, 5))",
    "einsum operand count": "torch.einsum('ij,jk->ik', torch.zeros(2, 3))",
    "einsum bad subscripts": "torch.einsum('ij->ik', torch.zeros(2, 3))",
    # cat, stack
    "cat shapes": "torch.cat([torch.zeros(2, 3), torch.zeros(2, 4)])",
    "cat empty list": "torch.cat([])",
    "cat 0-d": "torch.cat([torch.tensor(1.0), torch.tensor(2.0)])",
    "cat dim": "torch.cat([x, x], dim=2)",
    "cat ndim differ": "torch.cat([torch.zeros(2, 3), torch.zeros(3)])",
    "stack shapes": "torch.stack([torch.zeros(2), torch.zeros(3)])",
    "stack empty": "torch.stack([])",
    "stack dim": "torch.stack([x, x], dim=4)",
    # in-place
    "in-place on leaf": "w.add_(1)",
    "in-place broadcast grows": "torch.zeros(3).add_(torch.zeros(2, 3))",
    "copy_ grows": "torch.zeros(3).copy_(torch.zeros(2, 3))",
    "copy_ shapes": "torch.zeros(3).copy_(torch.zeros(4))",
    "in-place int from float": "torch.zeros(2, dtype=torch.long).add_(0.5)",
    "in-place of saved": "a = w * 1; b = a * a; a.mul_(2); b.sum().backward()",
    "unsqueeze_ dim": "torch.zeros(2).unsqueeze_(3)",
    "fill_ non-scalar": "x.fill_(torch.zeros(2))",
    "setitem leaf": "w[0] = 1.0",
    # autograd misuse
    "backward non-scalar": "(w * 2).backward()",
    "backward twice": "y = w.exp().sum(); y.backward(); y.backward()",
    "backward no grad": "torch.zeros(2).sum().backward()",
    "backward grad shape": "(w * 2).backward(torch.ones(2))",
    "grad unused": "torch.autograd.grad((w * 2).sum(), [w, torch.zeros(1, requires_grad=True)])",
    "grad of no-grad input": "torch.autograd.grad((w * 2).sum(), [torch.zeros(1)])",
    "grad non-scalar": "torch.autograd.grad(w * 2, [w])",
    "detach_ of view": "v = w[0:2]; v.detach_()",
    "retain_grad no grad": "torch.zeros(2).retain_grad()",
    "register_hook no grad": "torch.zeros(2).register_hook(lambda g: g)",
    "Function too many grads": (
        "class G(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, a):\n"
        "        return a * 2\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        return g, g\n"
        "G.apply(w).sum().backward()"
    ),
    # nn layers
    "Linear in features": "nn.Linear(3, 4)(torch.zeros(2, 5))",
    "Linear 0-d": "nn.Linear(3, 4)(torch.tensor(1.0))",
    "F.linear weight": "F.linear(torch.zeros(2, 3), torch.zeros(4, 5))",
    "F.linear bias": "F.linear(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(5))",
    "Embedding out of range": "nn.Embedding(3, 4)(torch.tensor([5]))",
    "Embedding negative": "nn.Embedding(3, 4)(torch.tensor([-1]))",
    "Embedding float index": "nn.Embedding(3, 4)(torch.tensor([0.0]))",
    "Embedding padding_idx": "nn.Embedding(3, 4, padding_idx=5)",
    "LayerNorm shape": "nn.LayerNorm(4)(torch.zeros(2, 3))",
    "F.layer_norm weight": "F.layer_norm(x, (3,), torch.zeros(4))",
    "Dropout p": "nn.Dropout(1.5)",
    "F.dropout p": "F.dropout(x, p=-0.1)",
    "RNN input size": "nn.RNN(3, 4)(torch.zeros(5, 2, 6))",
    "RNN 1-d input": "nn.RNN(3, 4)(torch.zeros(3))",
    "RNN h0 shape": "nn.RNN(3, 4)(torch.zeros(5, 2, 3), torch.zeros(1, 3, 4))",
    "RNN nonlinearity": "nn.RNN(3, 4, nonlinearity='gelu')",
    "RNN dropout range": "nn.RNN(3, 4, num_layers=2, dropout=1.5)",
    "GRU input size": "nn.GRU(3, 4)(torch.zeros(5, 2, 6))",
    "GRU h0 shape": "nn.GRU(3, 4, num_layers=2)(torch.zeros(5, 2, 3), torch.zeros(1, 2, 4))",
    "LSTM 1-d input": "nn.LSTM(3, 4)(torch.zeros(3))",
    "LSTM input size": "nn.LSTM(3, 4, batch_first=True)(torch.zeros(2, 5, 6))",
    "LSTM c0 shape": (
        "nn.LSTM(3, 4)(torch.zeros(5, 2, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 3, 4)))"
    ),
    "LSTM proj_size": "nn.LSTM(3, 4, proj_size=4)",
    "RNNCell input size": "nn.RNNCell(3, 4)(torch.zeros(2, 5))",
    "RNNCell hx shape": "nn.RNNCell(3, 4)(torch.zeros(2, 3), torch.zeros(3, 4))",
    "GRUCell input size": "nn.GRUCell(3, 4)(torch.zeros(2, 5))",
    "LSTMCell input size": "nn.LSTMCell(3, 4)(torch.zeros(2, 5))",
    "LSTMCell 3-d": "nn.LSTMCell(3, 4)(torch.zeros(1, 2, 3))",
    "RNN int input": "nn.RNN(3, 4)(torch.zeros(5, 2, 3, dtype=torch.long))",
    "RNN dtype mismatch": "nn.RNN(3, 4)(torch.zeros(5, 2, 3, dtype=torch.float64))",
    "RNN hidden_size 0": "nn.RNN(3, 0)",
    "GRU proj_size": "nn.GRU(3, 4, proj_size=2)",
    "RNNCell nonlinearity": "nn.RNNCell(3, 4, nonlinearity='gelu')(torch.zeros(2, 3))",
    "Linear negative features": "nn.Linear(-1, 3)",
    "Linear float features": "nn.Linear(2.5, 3)",
    "Embedding negative size": "nn.Embedding(-1, 3)",
    "Embedding from_pretrained 1-d": "nn.Embedding.from_pretrained(torch.zeros(3))",
    "MHA embed_dim 0": "nn.MultiheadAttention(0, 1)",
    "pad_packed total_length": (
        "p = rnn_utils.pack_sequence([torch.zeros(3, 1), torch.zeros(2, 1)])\n"
        "rnn_utils.pad_packed_sequence(p, total_length=2)"
    ),
    "pack 1-d input": "rnn_utils.pack_padded_sequence(torch.zeros(3), torch.tensor([3]))",
    "pad_sequence 0-d": "rnn_utils.pad_sequence([torch.tensor(1.0)])",
    "MHA embed dim": "nn.MultiheadAttention(4, 2)(*[torch.zeros(3, 1, 5)] * 3)",
    "MHA heads divide": "nn.MultiheadAttention(5, 2)",
    "MHA mask shape": (
        "nn.MultiheadAttention(4, 2)(*[torch.zeros(3, 1, 4)] * 3, attn_mask=torch.zeros(2, 2))"
    ),
    "MHA key padding shape": (
        "nn.MultiheadAttention(4, 2)(*[torch.zeros(3, 1, 4)] * 3, "
        "key_padding_mask=torch.zeros(1, 4, dtype=torch.bool))"
    ),
    "EncoderLayer d_model": "nn.TransformerEncoderLayer(4, 2)(torch.zeros(3, 1, 5))",
    "EncoderLayer activation": "nn.TransformerEncoderLayer(4, 2, activation='swish')",
    "DecoderLayer memory": (
        "nn.TransformerDecoderLayer(4, 2)(torch.zeros(3, 1, 4), torch.zeros(2, 1, 5))"
    ),
    "Transformer batch": (
        "nn.Transformer(4, 2, 1, 1, 8)(torch.zeros(3, 1, 4), torch.zeros(3, 2, 4))"
    ),
    "sdpa shapes": (
        "F.scaled_dot_product_attention(torch.zeros(1, 3, 4), *[torch.zeros(1, 3, 5)] * 2)"
    ),
    "Sequential index": "nn.Sequential(nn.Tanh())[3]",
    "ModuleList index": "nn.ModuleList([nn.Tanh()])[3]",
    "Module missing attr": "nn.Linear(2, 2).nothing",
    "Module bad parameter assignment": "m = nn.Linear(2, 2); m.weight = torch.zeros(2, 2)",
    "register_buffer bad name": "nn.Linear(2, 2).register_buffer('a.b', torch.zeros(1))",
    "load_state_dict missing": "nn.Linear(2, 2).load_state_dict({'weight': torch.zeros(2, 2)})",
    "load_state_dict shape": (
        "nn.Linear(2, 2).load_state_dict({'weight': torch.zeros(3, 2), 'bias': torch.zeros(2)})"
    ),
    "load_state_dict unexpected": (
        "m = nn.Linear(2, 2); sd = m.state_dict(); sd['extra'] = torch.zeros(1);"
        " m.load_state_dict(sd)"
    ),
    # losses
    "cross_entropy batch": "F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1, 2]))",
    "cross_entropy target range": "F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 5]))",
    "cross_entropy negative target": "F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, -2]))",
    "cross_entropy float target shape": "F.cross_entropy(torch.zeros(2, 3), torch.zeros(2, 4))",
    "cross_entropy int input": (
        "F.cross_entropy(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1]))"
    ),
    "cross_entropy reduction": (
        "F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), reduction='avg')"
    ),
    "cross_entropy label_smoothing": (
        "F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), label_smoothing=2.0)"
    ),
    "cross_entropy weight size": (
        "F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(4))"
    ),
    "nll_loss 1-d": "F.nll_loss(torch.zeros(3), torch.tensor([0, 1, 2]))",
    "nll_loss target range": "F.nll_loss(torch.zeros(2, 3), torch.tensor([0, 3]))",
    "nll_loss float target": "F.nll_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))",
    "NLLLoss 3-d target": "nn.NLLLoss()(torch.zeros(2, 3, 4), torch.zeros(2, 5, dtype=torch.long))",
    "mse shapes": "F.mse_loss(torch.zeros(2, 3), torch.zeros(3, 2))",
    "MSELoss reduction": "nn.MSELoss(reduction='avg')(x, x)",
    "bce_with_logits shapes": (
        "F.binary_cross_entropy_with_logits(torch.zeros(2, 3), torch.zeros(3))"
    ),
    "BCEWithLogitsLoss shapes": "nn.BCEWithLogitsLoss()(torch.zeros(2), torch.zeros(3))",
    "one_hot class range": "F.one_hot(torch.tensor([3]), 2)",
    "one_hot negative": "F.one_hot(torch.tensor([-1]), 3)",
    "one_hot float": "F.one_hot(torch.tensor([1.0]), 3)",
    "pad odd length": "F.pad(x, (1,))",
    "pad too long": "F.pad(x, (1, 1, 1, 1, 1, 1))",
    # sequences
    "pad_sequence trailing": "rnn_utils.pad_sequence([torch.zeros(2, 3), torch.zeros(2, 4)])",
    "pad_sequence empty": "rnn_utils.pad_sequence([])",
    "pack unsorted": "rnn_utils.pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([1, 3]))",
    "pack zero length": (
        "rnn_utils.pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([3, 0]))"
    ),
    "pack lengths count": (
        "rnn_utils.pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([3, 2, 1]))"
    ),
    "pack_sequence unsorted": "rnn_utils.pack_sequence([torch.zeros(1), torch.zeros(3)])",
    # optimizers and schedulers
    "SGD empty": "torch.optim.SGD([], lr=0.1)",
    "SGD negative lr": "torch.optim.SGD([w], lr=-0.1)",
    "SGD momentum": "torch.optim.SGD([w], lr=0.1, momentum=-1)",
    "SGD nesterov": "torch.optim.SGD([w], lr=0.1, nesterov=True)",
    "SGD tensor params": "torch.optim.SGD(w, lr=0.1)",
    "SGD non-leaf": "torch.optim.SGD([w * 2], lr=0.1)",
    "Adam betas": "torch.optim.Adam([w], betas=(1.5, 0.9))",
    "Adam eps": "torch.optim.Adam([w], eps=-1)",
    "AdamW weight decay": "torch.optim.AdamW([w], weight_decay=-1)",
    "RMSprop alpha": "torch.optim.RMSprop([w], alpha=-1)",
    "Adagrad lr_decay": "torch.optim.Adagrad([w], lr_decay=-1)",
    "add_param_group duplicate": (
        "o = torch.optim.SGD([w], lr=0.1); o.add_param_group({'params': [w]})"
    ),
    "optimizer load_state_dict groups": (
        "o = torch.optim.SGD([w], lr=0.1)\no.load_state_dict({'state': {}, 'param_groups': []})"
    ),
    "StepLR bad optimizer": "torch.optim.lr_scheduler.StepLR(object(), 1)",
    "ExponentialLR bad optimizer": "torch.optim.lr_scheduler.ExponentialLR(None, 0.9)",
    "LambdaLR lambda count": (
        "torch.optim.lr_scheduler.LambdaLR(torch.optim.SGD([w], lr=0.1), [lambda e: 1, "
        "lambda e: 1])"
    ),
    "ReduceLROnPlateau mode": (
        "torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD([w], lr=0.1), mode='up')"
    ),
    "ReduceLROnPlateau factor": (
        "torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD([w], lr=0.1), factor=2.0)"
    ),
    "OneCycleLR no total": "torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD([w], lr=0.1), 1.0)",
    "OneCycleLR past end": (
        "s = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD([w], lr=0.1), 1.0, "
        "total_steps=1)\n"
        "s.step(); s.step()"
    ),
    "LinearLR start factor": (
        "torch.optim.lr_scheduler.LinearLR(torch.optim.SGD([w], lr=0.1), start_factor=2.0)"
    ),
    "CosineAnnealingLR no T_max": (
        "torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD([w], lr=0.1))"
    ),
    "clip_grad_norm nonfinite": (
        "w.grad = torch.tensor([float('inf'), 0.0, 0.0])\n"
        "torch.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)"
    ),
    "clip_grad_norm bad norm type": (
        "w.grad = torch.ones(3); torch.nn.utils.clip_grad_norm_([w], 1.0, norm_type='x')"
    ),
    # data
    "random_split lengths": "torch.utils.data.random_split(range(10), [3, 3])",
    "random_split fractions": "torch.utils.data.random_split(range(10), [0.5, 0.6])",
    "TensorDataset sizes": "torch.utils.data.TensorDataset(torch.zeros(3), torch.zeros(4))",
    "DataLoader batch_size": "torch.utils.data.DataLoader(range(4), batch_size=0)",
    "DataLoader shuffle sampler": (
        "torch.utils.data.DataLoader(range(4), shuffle=True, "
        "sampler=torch.utils.data.SequentialSampler(range(4)))"
    ),
    "DataLoader batch_sampler options": (
        "bs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(4)), 2, "
        "False)\n"
        "torch.utils.data.DataLoader(range(4), batch_size=2, batch_sampler=bs)"
    ),
    "DataLoader drop_last with batch_size None": (
        "torch.utils.data.DataLoader(range(4), batch_size=None, drop_last=True)"
    ),
    "BatchSampler batch_size": (
        "torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(4)), 0, False)"
    ),
    "RandomSampler num_samples": "torch.utils.data.RandomSampler(range(4), num_samples=0)",
    "WeightedRandomSampler negative": (
        "list(torch.utils.data.WeightedRandomSampler([-1.0, 1.0], 2))"
    ),
    "Subset index": "torch.utils.data.Subset(range(3), [5])[0]",
    "default_collate sizes": "torch.utils.data.default_collate([torch.zeros(2), torch.zeros(3)])",
    "to unknown device": "x.to('tpu')",
    # more tensor methods and factories
    "clamp without bounds": "x.clamp()",
    "norm bad p": "x.norm(p='x')",
    "type bad name": "x.type('bad')",
    "pow string": "x.pow('a')",
    "logsumexp no dim": "x.logsumexp()",
    "index of float tensor": "[1, 2][torch.tensor(0.0)]",
    "index_fill float index": "x.index_fill(1, torch.tensor([0.0]), 1.0)",
    "lerp shapes": "torch.zeros(2).lerp(torch.zeros(3), 0.5)",
    "addcmul shapes": "torch.zeros(2).addcmul(torch.zeros(3), torch.zeros(3))",
    "expand -1 new dim": "torch.zeros(3).expand(-1, 3)",
    "repeat_interleave negative": "x.repeat_interleave(-1)",
    "new_zeros negative": "x.new_zeros(-1)",
    "full_like bad dtype": "torch.full_like(x, 1.0, dtype='x')",
    "tensor bad dtype": "torch.tensor([1.0], dtype='x')",
    "set_default_dtype int": "torch.set_default_dtype(torch.int64)",
    "manual_seed string": "torch.manual_seed('a')",
    "normal negative std": "torch.normal(torch.zeros(2), -torch.ones(2))",
    "randint float size": "torch.randint(0, 5, (2.5,))",
    "topk negative": "x.topk(-1)",
    "sort of 0-d dim": "torch.tensor(1.0).sort(dim=1)",
    "manual_seed float": "torch.manual_seed(1.5); torch.manual_seed([1])",
    "squeeze_ dim": "x.squeeze_(3)",
    "t_ on 3-d": "torch.zeros(2, 2, 2).t_()",
    "transpose_ dim": "x.transpose_(0, 3)",
    "masked_fill_ shape": "x.masked_fill_(torch.zeros(3, 3, dtype=torch.bool), 1.0)",
    "index_select dim": "x.index_select(3, torch.tensor([0]))",
    "gather dim": "x.gather(3, torch.tensor([[0]]))",
    "cumprod dim": "x.cumprod(3)",
    "amax dim": "x.amax(3)",
    "any dim": "x.any(3)",
    "std dim": "x.std(4)",
    "repeat negative": "x.repeat(-1, 1)",
    "diag dim of 0-d": "torch.diag(torch.tensor(1.0))",
    # more nn
    "Flatten dims": "nn.Flatten(0, 5)(x)",
    "ModuleDict bad key": "nn.ModuleDict({'a.b': nn.Tanh()})",
    "ModuleList not modules": "nn.ModuleList([1])",
    "Sequential add not module": "nn.Sequential().append(3)",
    "F.gelu approximate": "F.gelu(x, approximate='x')",
    "F.softmax int": "F.softmax(torch.tensor([1, 2]), dim=0)",
    "LSTM bidirectional h0": (
        "nn.LSTM(3, 4, bidirectional=True)(torch.zeros(5, 2, 3), "
        "(torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))"
    ),
    "GRU batch_first h0": (
        "nn.GRU(3, 4, batch_first=True)(torch.zeros(2, 5, 3), torch.zeros(1, 5, 4))"
    ),
    "Transformer nhead": "nn.Transformer(d_model=6, nhead=4)",
    "TransformerEncoder mask shape": (
        "enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), 1)\n"
        "enc(torch.zeros(3, 1, 4), mask=torch.zeros(2, 2))"
    ),
    "MHA batch_first batch": (
        "nn.MultiheadAttention(4, 2, batch_first=True)"
        "(torch.zeros(1, 3, 4), torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))"
    ),
    "MHA key value length": (
        "nn.MultiheadAttention(4, 2)(torch.zeros(3, 1, 4), torch.zeros(3, 1, 4), "
        "torch.zeros(2, 1, 4))"
    ),
    "LayerNorm int shape": "nn.LayerNorm(-1)",
    "Dropout string": "nn.Dropout('a')",
    "init on 1-d": "nn.init.xavier_uniform_(torch.zeros(3))",
    "init bad nonlinearity": "nn.init.kaiming_uniform_(torch.zeros(3, 3), nonlinearity='swish')",
    "orthogonal_ on 1-d": "nn.init.orthogonal_(torch.zeros(3))",
    "load_state_dict not a mapping": "nn.Linear(2, 2).load_state_dict([1, 2])",
    "cross_entropy probs shape": "F.cross_entropy(torch.zeros(2, 3), torch.zeros(2, 3, 1))",
    "nll_loss weight int": (
        "F.nll_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.tensor([1, 1, 1]))"
    ),
    "unpad_sequence lengths": (
        "rnn_utils.unpad_sequence(torch.zeros(3, 2, 1), torch.tensor([3, 2, 1]))"
    ),
    "pad_packed not packed": "rnn_utils.pad_packed_sequence(torch.zeros(3, 2))",
    # more optim and data
    "Adam negative lr": "torch.optim.Adam([w], lr=-1)",
    "SGD no lr param": "torch.optim.SGD([{'params': [w]}], lr=-0.5)",
    "optimizer int params": "torch.optim.SGD([1, 2], lr=0.1)",
    "scheduler state_dict keys": (
        "s = torch.optim.lr_scheduler.StepLR(torch.optim.SGD([w], lr=0.1), 1)\n"
        "s.load_state_dict(None)"
    ),
    "DataLoader num_workers": "torch.utils.data.DataLoader(range(4), num_workers=-1)",
    "WeightedRandomSampler num_samples": ("torch.utils.data.WeightedRandomSampler([1.0, 1.0], 0)"),
    "ConcatDataset empty": "torch.utils.data.ConcatDataset([])",
    "TensorDataset index": "torch.utils.data.TensorDataset(torch.zeros(3))[5]",
    "DataLoader len of iterable": (
        "class It(torch.utils.data.IterableDataset):\n"
        "    def __iter__(self):\n"
        "        return iter([1])\n"
        "torch.utils.data.DataLoader(It(), shuffle=True)"
    ),
    "clip_grad_norm max_norm string": (
        "w.grad = torch.ones(3); torch.nn.utils.clip_grad_norm_([w], 'a')"
    ),
}

# calls PyTorch accepts but tinygrad_seq refuses on purpose: name -> (code, reason)
DIFFERENT: dict[str, tuple[str, str]] = {
    "mse_loss broadcasting": (
        "F.mse_loss(torch.zeros(2, 3), torch.zeros(3))",
        "PyTorch warns and broadcasts target to input; almost always a bug, so we raise",
    ),
    "autograd.grad extra grad_outputs": (
        "torch.autograd.grad([w.sum()], [w], grad_outputs=[torch.ones(()), torch.ones(())])",
        "PyTorch ignores grad_outputs beyond the outputs; we ask for one per output",
    ),
    "normalize p <= 0": (
        "F.normalize(x, p=0)",
        "only p > 0 (and inf) norms are implemented",
    ),
    "pack_padded_sequence length > T": (
        "rnn_utils.pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([4, 1]))",
        "PyTorch packs a length longer than the padded time axis without a word; we raise",
    ),
    "clip_grad_value_ negative": (
        "w.grad = torch.ones(3); torch.nn.utils.clip_grad_value_([w], -1.0)",
        "PyTorch clamps to [1, -1], which sets every gradient to -1; we raise",
    ),
    "RNNCell unknown nonlinearity": (
        "nn.RNNCell(3, 4, nonlinearity='gelu')",
        "PyTorch accepts it when the cell is made and raises (RuntimeError) at the first call; "
        "we raise the same type when it is made",
    ),
    "StepLR step_size 0": (
        "torch.optim.lr_scheduler.StepLR(torch.optim.SGD([w], lr=0.1), 0)",
        "PyTorch accepts it and fails with ZeroDivisionError at the second step(); we raise a "
        "ValueError when the scheduler is made",
    ),
    "random_split negative lengths": (
        "torch.utils.data.random_split(range(10), [-1, 11])",
        "PyTorch accepts lengths that sum to the dataset's length even when one is negative",
    ),
    "optimizer duplicate parameters": (
        "torch.optim.SGD([w, w], lr=0.1)",
        "PyTorch warns (and says it will raise in future) and then updates the tensor twice",
    ),
}

# calls PyTorch refuses and tinygrad_seq accepts on purpose: name -> (code, reason)
ACCEPTED: dict[str, tuple[str, str]] = {
    "requires_grad = True on an integer tensor": (
        "t = torch.zeros(2, dtype=torch.long); t.requires_grad = True",
        "requires_grad is a plain attribute (read on every op); requires_grad_() and "
        "torch.tensor(..., requires_grad=True) do check the dtype",
    ),
    "dtype names in to()": (
        "x.to('float64')",
        "dtypes are numpy dtypes, so their names are accepted where PyTorch takes a device string",
    ),
}

# calls both refuse, with another exception type here on purpose: name -> (code, ours, reason)
OTHER_TYPE: dict[str, tuple[str, type, str]] = {
    "LSTM hidden state not a tuple": (
        "nn.LSTM(3, 4)(torch.zeros(5, 2, 3), torch.zeros(1, 2, 4))",
        TypeError,
        "PyTorch indexes the tensor as if it were the tuple (h_0, c_0) and raises whatever that "
        "indexing raises (IndexError for this shape); we say that a tuple is needed",
    ),
}


def _error_type(code: str, framework) -> type | None:
    """The type of exception the code raises under framework, or None if it runs."""
    namespace = {"torch": framework, "np": np}
    try:
        with warnings.catch_warnings():  # some calls warn first (duplicate parameters, ...)
            warnings.simplefilter("ignore")
            exec(compile(PRELUDE + code, "<case>", "exec"), namespace)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e)
    return None


def _same_kind(ours: type, theirs: type) -> bool:
    """ours is PyTorch's exception type, or one of our subclasses of it."""
    if ours is theirs:
        return True
    return issubclass(ours, theirs) and ours.__module__.startswith("tinygrad_seq")


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_exception_type(name: str) -> None:
    torch = require_torch()
    theirs = _error_type(CASES[name], torch)
    ours = _error_type(CASES[name], ts)
    assert theirs is not None, f"{name}: PyTorch does not raise; the case is wrong"
    assert ours is not None, f"{name}: PyTorch raises {theirs.__name__}, tinygrad_seq does not"
    assert _same_kind(ours, theirs), f"{name}: {ours.__name__}, PyTorch {theirs.__name__}"


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_refused_here_only(name: str) -> None:
    torch = require_torch()
    code, _reason = DIFFERENT[name]
    assert _error_type(code, torch) is None, f"{name}: PyTorch raises now; move it to CASES"
    assert _error_type(code, ts) is not None, f"{name}: tinygrad_seq accepts it now; drop it"


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_here_only(name: str) -> None:
    torch = require_torch()
    code, _reason = ACCEPTED[name]
    assert _error_type(code, torch) is not None, f"{name}: PyTorch accepts it now; drop it"
    assert _error_type(code, ts) is None, f"{name}: tinygrad_seq raises now; move it to CASES"


@pytest.mark.parametrize("name", sorted(OTHER_TYPE))
def test_other_exception_type(name: str) -> None:
    torch = require_torch()
    code, kind, _reason = OTHER_TYPE[name]
    theirs, ours = _error_type(code, torch), _error_type(code, ts)
    assert theirs is not None and theirs is not kind, f"{name}: PyTorch raises {theirs}"
    assert ours is kind, f"{name}: tinygrad_seq raises {ours}, documented {kind.__name__}"


def test_differences_are_in_the_docs() -> None:
    """Every documented difference is named on docs/pytorch.md's list of known differences."""
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "pytorch.md").read_text()
    for name in [*DIFFERENT, *ACCEPTED, *OTHER_TYPE]:
        assert name in page, f"docs/pytorch.md does not mention {name!r}"
