"""A word-level language model trained with truncated BPTT, in the style of the PyTorch examples.

This is the word_language_model example of the PyTorch examples repository (its data.py,
model.py, main.py and generate.py) in one file: a Dictionary and Corpus turn text into word ids
with `<eos>` at each line's end; batchify lays the id stream out as (seq_len, batch) columns;
RNNModel is dropout -> embedding -> LSTM / GRU / RNN (tanh or relu) -> linear decoder returning
log-probabilities, with optionally tied encoder and decoder weights, and TransformerModel (a
subclass of nn.Transformer whose decoder stack is replaced by a linear layer) is embedding ->
sinusoidal positions -> causal Transformer encoder -> linear decoder; training is truncated BPTT
with detached hidden states, gradient clipping and a hand-written SGD update, the learning rate
divided by 4 whenever the validation loss stops improving; the best model's state_dict is
checkpointed, reloaded for the test set, and sampled word by word.

The corpus is a small synthetic English-like text made from a tiny grammar with a seeded
random generator (or three files train.txt, valid.txt and test.txt in the folder --data), so the
program needs no download. Run `python tests/compat/word_language_model.py --help`.
"""

import argparse
import math
import os
import random
import tempfile
import time

import tinygrad_seq as torch

# A PyTorch user would write `import torch.nn as nn` and `import torch.nn.functional as F`.
nn = torch.nn
F = torch.nn.functional

# ---------------------------------------------------------------------------------- data (data.py)

_WORDS = {
    "DET": ["the", "a", "every", "some", "this", "that", "no", "one"],
    "ADJ": ["old", "young", "quiet", "bright", "small", "heavy", "green", "clever", "slow"],
    "NOUN": ["cat", "dog", "river", "teacher", "city", "garden", "machine", "song", "boat"],
    "VERB": ["sees", "follows", "builds", "likes", "carries", "paints", "hears", "finds"],
    "ADV": ["slowly", "often", "never", "quietly", "again", "today", "happily"],
    "PREP": ["near", "under", "behind", "with", "beside", "across"],
}
_SYLLABLES = ["ba", "ko", "ri", "mu", "te", "sa", "lo", "ne", "vi", "du", "ga", "pe", "zo"]


def make_lexicon(vocab_size, seed=0):
    """Word lists by part of speech, grown with made-up words to about vocab_size words."""
    rng = random.Random(seed)
    lexicon = {tag: list(words) for tag, words in _WORDS.items()}
    known = {w for words in lexicon.values() for w in words}
    growable = ["NOUN", "NOUN", "NOUN", "ADJ", "VERB", "ADV"]  # open classes, nouns most
    while len(known) < vocab_size - 1:  # leave room for <eos>
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if word not in known:
            known.add(word)
            lexicon[rng.choice(growable)].append(word)
    return lexicon


def make_sentence(rng, lexicon):
    """One sentence of the grammar S -> NP VP [PP], NP -> DET [ADJ] NOUN, VP -> VERB (NP | ADV)."""

    def noun_phrase():
        words = [rng.choice(lexicon["DET"])]
        if rng.random() < 0.5:
            words.append(rng.choice(lexicon["ADJ"]))
        return words + [rng.choice(lexicon["NOUN"])]

    words = noun_phrase() + [rng.choice(lexicon["VERB"])]
    words += noun_phrase() if rng.random() < 0.7 else [rng.choice(lexicon["ADV"])]
    if rng.random() < 0.3:
        words += [rng.choice(lexicon["PREP"])] + noun_phrase()
    return " ".join(words)


def synthetic_texts(nsentences=2000, vocab_size=100, seed=0):
    """{'train', 'valid', 'test'}: lists of sentences (80/10/10) from the seeded grammar."""
    rng = random.Random(seed)
    lexicon = make_lexicon(vocab_size, seed)
    lines = [make_sentence(rng, lexicon) for _ in range(nsentences)]
    n_valid = n_test = max(1, nsentences // 10)
    n_train = nsentences - n_valid - n_test
    return {
        "train": lines[:n_train],
        "valid": lines[n_train : n_train + n_valid],
        "test": lines[n_train + n_valid :],
    }


class Dictionary:
    """Words <-> ids, in order of first appearance."""

    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        """The id of word, added if new."""
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    """train / valid / test as 1-D int64 tensors of word ids, from files or the grammar."""

    def __init__(self, path=None, nsentences=2000, vocab_size=100, seed=0):
        self.dictionary = Dictionary()
        if path:
            texts = {}
            for split in ("train", "valid", "test"):
                with open(os.path.join(path, split + ".txt"), encoding="utf8") as f:
                    texts[split] = f.read().splitlines()
        else:
            texts = synthetic_texts(nsentences, vocab_size, seed)
        self.train = self.tokenize(texts["train"])
        self.valid = self.tokenize(texts["valid"])
        self.test = self.tokenize(texts["test"])

    def tokenize(self, lines):
        """(n_words,) int64 ids of the lines, each ending with <eos>; new words are added."""
        for line in lines:
            for word in line.split() + ["<eos>"]:
                self.dictionary.add_word(word)
        idss = []
        for line in lines:
            ids = [self.dictionary.word2idx[word] for word in line.split() + ["<eos>"]]
            idss.append(torch.tensor(ids).type(torch.int64))
        return torch.cat(idss)


# ---------------------------------------------------------------------------- the model (model.py)


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            except KeyError as e:
                raise ValueError(
                    "An invalid option for `--model` was supplied, "
                    "options are ['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']"
                ) from e
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        # "Using the Output Embedding to Improve Language Models" (Press & Wolf 2016) and
        # "Tying Word Vectors and Word Classifiers" (Inan et al. 2016)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight

        self.init_weights()

        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        """Encoder and decoder weights U(-0.1, 0.1), decoder bias 0."""
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        """(seq_len, batch) ids, hidden -> (seq_len * batch, ntoken) log-probs, new hidden."""
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        """Zero state (nlayers, bsz, nhid) in the weights' dtype and device; (h, c) for LSTM."""
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    """Sinusoidal positions added to the (seq_len, batch, d_model) input, then dropout.

    PE(pos, 2i) = sin(pos / 10000^(2i / d_model)), PE(pos, 2i + 1) = cos(the same angle).
    """

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)

        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        """(seq_len, batch, d_model) -> the same, positions added."""
        x = x + self.pe[: x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    """Container module with an encoder, a stack of causal Transformer encoder layers, a decoder."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__(
            d_model=ninp,
            nhead=nhead,
            dim_feedforward=nhid,
            num_encoder_layers=nlayers,
            dropout=dropout,
        )
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)

        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)  # replaces nn.Transformer's decoder stack

        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above."""
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def init_weights(self):
        """Embedding and decoder weights U(-0.1, 0.1), decoder bias 0."""
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        """(seq_len, batch) ids -> (seq_len, batch, ntoken) log-probs; causal when has_mask."""
        if has_mask:
            device = src.device
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                mask = self._generate_square_subsequent_mask(len(src)).to(device)
                self.src_mask = mask
        else:
            self.src_mask = None

        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def build_model(model_type, ntoken, emsize, nhid, nlayers, dropout=0.5, tied=False, nhead=2):
    """The example's choice: TransformerModel for 'Transformer', else RNNModel(model_type)."""
    if model_type == "Transformer":
        return TransformerModel(ntoken, emsize, nhead, nhid, nlayers, dropout)
    return RNNModel(model_type, ntoken, emsize, nhid, nlayers, dropout, tied)


# ------------------------------------------------------------------------------ training (main.py)


def batchify(data, bsz, device):
    """(n,) ids -> (n // bsz, bsz): bsz independent columns, leftover words dropped."""
    # Starting from sequential data, batchify arranges the dataset into columns.
    # For instance, with the alphabet as the sequence and batch size 4, we'd get
    # | a g m s |
    # | b h n t |
    # | c i o u |
    # | d j p v |
    # | e k q w |
    # | f l r x |.
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    """Rows i .. i+bptt of source (seq_len, batch) and the next words as (seq_len * batch,)."""
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def train_step(model, criterion, data, targets, hidden, lr, clip):
    """One truncated-BPTT step with clipping and plain SGD; -> (loss value, hidden)."""
    model.zero_grad()
    if isinstance(model, TransformerModel):
        output = model(data)
        output = output.view(-1, model.decoder.out_features)
    else:
        # Starting each batch, we detach the hidden state from how it was previously produced.
        # If we didn't, the model would try backpropagating all the way to start of the dataset.
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
    loss = criterion(output, targets)
    loss.backward()

    # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    for p in model.parameters():
        p.data.add_(p.grad, alpha=-lr)
    return loss.item(), hidden


def train(model, criterion, train_data, lr, args, epoch=1, max_steps=None):
    """One epoch (or max_steps steps) over train_data; -> the loss of every step."""
    model.train()
    total_loss = 0.0
    start_time = time.time()
    losses = []
    is_transformer = isinstance(model, TransformerModel)
    hidden = None if is_transformer else model.init_hidden(args.batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        if max_steps is not None and batch >= max_steps:
            break
        data, targets = get_batch(train_data, i, args.bptt)
        loss, hidden = train_step(model, criterion, data, targets, hidden, lr, args.clip)
        losses.append(loss)
        total_loss += loss

        if batch % args.log_interval == 0 and batch > 0:
            cur_loss = total_loss / args.log_interval
            elapsed = time.time() - start_time
            ms_per_batch = elapsed * 1000 / args.log_interval
            nbatches = len(train_data) // args.bptt
            print(
                f"| epoch {epoch:3d} | {batch:5d}/{nbatches:5d} batches | lr {lr:02.2f} | "
                f"ms/batch {ms_per_batch:5.2f} | loss {cur_loss:5.2f} | "
                f"ppl {math.exp(cur_loss):8.2f}"
            )
            total_loss = 0
            start_time = time.time()
    return losses


def evaluate(model, criterion, data_source, bptt, eval_batch_size):
    """Mean loss per word over data_source (seq_len, eval_batch_size), in eval mode."""
    # Turn on evaluation mode which disables dropout.
    model.eval()
    total_loss = 0.0
    is_transformer = isinstance(model, TransformerModel)
    hidden = None if is_transformer else model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            if is_transformer:
                output = model(data)
                output = output.view(-1, model.decoder.out_features)
            else:
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def fit(model, criterion, train_data, val_data, args, eval_batch_size, max_steps=None):
    """args.epochs epochs, the best model saved to args.save, lr / 4 when validation stalls.

    -> {"train": per-step losses of every epoch, "valid": losses, "lr": the lr of each epoch}.
    """
    lr = args.lr
    best_val_loss = None
    history = {"train": [], "valid": [], "lr": []}
    # At any point you can hit Ctrl + C to break out of training early.
    try:
        for epoch in range(1, args.epochs + 1):
            epoch_start_time = time.time()
            history["lr"].append(lr)
            history["train"] += train(model, criterion, train_data, lr, args, epoch, max_steps)
            val_loss = evaluate(model, criterion, val_data, args.bptt, eval_batch_size)
            history["valid"].append(val_loss)
            print("-" * 89)
            elapsed = time.time() - epoch_start_time
            print(
                f"| end of epoch {epoch:3d} | time: {elapsed:5.2f}s | valid loss {val_loss:5.2f} | "
                f"valid ppl {math.exp(val_loss):8.2f}"
            )
            print("-" * 89)
            # Save the model if the validation loss is the best we've seen so far.
            if not best_val_loss or val_loss < best_val_loss:
                save_checkpoint(model, args.save)
                best_val_loss = val_loss
            else:
                # Anneal the learning rate if no improvement has been seen in the validation set.
                lr /= 4.0
    except KeyboardInterrupt:
        print("-" * 89)
        print("Exiting from training early")
    return history


def save_checkpoint(model, path):
    """The model's state_dict written to path through a binary file object."""
    with open(path, "wb") as f:
        torch.save(model.state_dict(), f)


def load_checkpoint(model, path, device):
    """The state_dict at path loaded into model (strict); -> model."""
    with open(path, "rb") as f:
        state = torch.load(f, map_location=device, weights_only=True)
    model.load_state_dict(state)
    # After load the rnn params are not a continuous chunk of memory;
    # this makes them a continuous chunk, and will speed up the forward pass.
    # Currently, only rnn model supports flatten_parameters function.
    if isinstance(model, RNNModel):
        model.rnn.flatten_parameters()
    return model


# -------------------------------------------------------------------------- sampling (generate.py)


def generate(model, ntokens, nwords, temperature, device, start=None, choose=None):
    """nwords sampled word ids and, per step, the (ntokens,) weights they were drawn from.

    start (a word id) and choose ((step, weights) -> word id) replace the random start and
    the multinomial draw, to replay another run's choices.
    """
    model.eval()
    is_transformer = isinstance(model, TransformerModel)
    if not is_transformer:
        hidden = model.init_hidden(1)
    input = torch.randint(ntokens, (1, 1), dtype=torch.long).to(device)
    if start is not None:
        input.fill_(start)
    ids, weights = [], []
    with torch.no_grad():  # no tracking history
        for i in range(nwords):
            if is_transformer:
                output = model(input, False)
                word_weights = output[-1].squeeze().div(temperature).exp().cpu()
            else:
                output, hidden = model(input, hidden)
                word_weights = output.squeeze().div(temperature).exp().cpu()
            if choose is None:
                word_idx = torch.multinomial(word_weights, 1)[0]
            else:
                word_idx = choose(i, word_weights)
            if is_transformer:
                word_tensor = torch.Tensor([[word_idx]]).long().to(device)
                input = torch.cat([input, word_tensor], 0)
            else:
                input.fill_(word_idx)
            ids.append(int(word_idx))
            weights.append(word_weights)
    return ids, weights


# -------------------------------------------------------------------------------------------- main


def parse_args(argv=None):
    """The command line, with defaults that train briefly."""
    parser = argparse.ArgumentParser(description="RNN/LSTM/GRU word-level language model")
    parser.add_argument("--data", type=str, default="", help="folder with train/valid/test.txt")
    parser.add_argument("--sentences", type=int, default=1500, help="synthetic corpus size")
    parser.add_argument("--vocab", type=int, default=100, help="synthetic vocabulary size")
    parser.add_argument(
        "--model", type=str, default="LSTM", help="LSTM, GRU, RNN_TANH, RNN_RELU, Transformer"
    )
    parser.add_argument("--nhead", type=int, default=2, help="heads of the Transformer model")
    parser.add_argument("--emsize", type=int, default=32, help="size of word embeddings")
    parser.add_argument("--nhid", type=int, default=32, help="number of hidden units per layer")
    parser.add_argument("--nlayers", type=int, default=2, help="number of layers")
    parser.add_argument("--lr", type=float, default=20, help="initial learning rate")
    parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
    parser.add_argument("--epochs", type=int, default=4, help="upper epoch limit")
    parser.add_argument("--batch_size", type=int, default=20, metavar="N", help="batch size")
    parser.add_argument("--bptt", type=int, default=20, help="sequence length")
    parser.add_argument("--dropout", type=float, default=0.2, help="dropout (0 = no dropout)")
    parser.add_argument("--tied", action="store_true", help="tie the word embedding and softmax")
    parser.add_argument("--seed", type=int, default=1111, help="random seed")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N", help="report every")
    parser.add_argument(
        "--save",
        type=str,
        default=os.path.join(tempfile.gettempdir(), "word_lm_model.pt"),
        help="path to save the final model",
    )
    parser.add_argument("--words", type=int, default=20, help="number of words to generate")
    parser.add_argument("--temperature", type=float, default=1.0, help="higher: more diversity")
    return parser.parse_args(argv)


def main(argv=None):
    """Train, keep the best model by validation loss, test it, and sample from it."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    corpus = Corpus(args.data, args.sentences, args.vocab, seed=args.seed)
    eval_batch_size = 10
    train_data = batchify(corpus.train, args.batch_size, device)
    val_data = batchify(corpus.valid, eval_batch_size, device)
    test_data = batchify(corpus.test, eval_batch_size, device)

    ntokens = len(corpus.dictionary)
    model = build_model(
        args.model,
        ntokens,
        args.emsize,
        args.nhid,
        args.nlayers,
        args.dropout,
        args.tied,
        args.nhead,
    ).to(device)
    criterion = nn.NLLLoss()

    fit(model, criterion, train_data, val_data, args, eval_batch_size)

    # Load the best saved model.
    load_checkpoint(model, args.save, device)

    # Run on test data.
    test_loss = evaluate(model, criterion, test_data, args.bptt, eval_batch_size)
    print("=" * 89)
    print(f"| End of training | test loss {test_loss:5.2f} | test ppl {math.exp(test_loss):8.2f}")
    print("=" * 89)

    ids, _ = generate(model, ntokens, args.words, args.temperature, device)
    print("| Generated: " + " ".join(corpus.dictionary.idx2word[i] for i in ids))


if __name__ == "__main__":
    main()
