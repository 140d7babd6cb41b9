"""Translation with a sequence-to-sequence network and attention, on a toy language.

Written in the style of the PyTorch tutorial "NLP From Scratch: Translation with a Sequence to
Sequence Network and Attention", in both of its versions:

- the older one: an EncoderRNN fed one token at a time, whose outputs are written into a
  `max_length` buffer, and an AttnDecoderRNN whose attention is a Linear layer over
  `max_length` positions; trained one sentence pair at a time with SGD, teacher forcing chosen
  at random per pair;
- the newer one: batch_first GRUs over padded index tensors from a DataLoader, a decoder with
  Bahdanau (additive) attention, trained with Adam.

The corpus is made here: English sentences ("She sees two very big cats.") and their
translation into a small made-up language with subject-object-verb order and adjectives after
the noun ("sa du katoj grandaj multe vidas"). Both directions of the tutorial's pipeline are
kept: normalizeString, Lang, filterPairs, tensorFromSentence, greedy evaluation returning the
decoded words and the attention matrix.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import time
import unicodedata

import numpy as np

import tinygrad_seq as torch

# a PyTorch user would write `import torch.nn as nn`, `import torch.nn.functional as F`, ...
nn = torch.nn
F = torch.nn.functional
optim = torch.optim
DataLoader = torch.utils.data.DataLoader
RandomSampler = torch.utils.data.RandomSampler
TensorDataset = torch.utils.data.TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

SOS_token = 0
EOS_token = 1
MAX_LENGTH = 10

# ----------------------------------------------------------------------------- the corpus

SUBJECTS = {"I": "mi", "you": "vi", "he": "li", "she": "sa", "we": "ni", "they": "ili"}
VERBS = {"see": "vidas", "have": "havas", "like": "sxatas", "want": "volas"}
NUMBERS = {"two": "du", "three": "tri", "four": "kvar", "five": "kvin", "six": "ses"}
ADJECTIVES = {"red": "rugxaj", "big": "grandaj", "small": "malgrandaj", "old": "maljunaj"}
NOUNS = {"cats": "katoj", "dogs": "hundoj", "birds": "birdoj", "books": "libroj"}
THIRD_PERSON = {"he", "she"}

eng_prefixes = ("i ", "you ", "he ", "she ", "we ")  # "they ..." pairs are filtered out


def make_sentence(subject, verb, number, adjective, noun, very, also):
    """One English sentence and its translation; `also` makes it too long for MAX_LENGTH."""
    english_verb = verb + "s" if subject in THIRD_PERSON else verb
    english = [subject, english_verb, number] + (["very"] if very else []) + [adjective, noun]
    other = [SUBJECTS[subject], NUMBERS[number], NOUNS[noun], ADJECTIVES[adjective]]
    other += (["multe"] if very else []) + [VERBS[verb]]
    if also:
        english += ["and", "the", "other", "ones", "too"]
        other += ["kaj", "la", "aliaj", "ankaux"]
    return " ".join(english) + ".", " ".join(other) + " !"


def make_corpus(n_pairs=400, seed=0):
    """A deterministic list of n_pairs [English, other] sentence pairs, as a data file would be."""
    rng = random.Random(seed)
    grid = list(
        itertools.product(SUBJECTS, VERBS, NUMBERS, ADJECTIVES, NOUNS, (False, True), (False,))
    )
    rng.shuffle(grid)
    chosen = grid[:n_pairs]
    # a few sentences longer than MAX_LENGTH, which filterPairs drops
    chosen[: n_pairs // 20] = [row[:-1] + (True,) for row in chosen[: n_pairs // 20]]
    return [list(make_sentence(*row)) for row in chosen]


class Lang:
    """A vocabulary: word2index, word2count, index2word, with SOS and EOS first."""

    def __init__(self, name):
        self.name = name
        self.word2index = {}
        self.word2count = {}
        self.index2word = {0: "SOS", 1: "EOS"}
        self.n_words = 2  # Count SOS and EOS

    def addSentence(self, sentence):
        for word in sentence.split(" "):
            self.addWord(word)

    def addWord(self, word):
        if word not in self.word2index:
            self.word2index[word] = self.n_words
            self.word2count[word] = 1
            self.index2word[self.n_words] = word
            self.n_words += 1
        else:
            self.word2count[word] += 1


def unicodeToAscii(s):
    """Drop the accents of a unicode string."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def normalizeString(s):
    """Lowercase, trim, and keep letters and the punctuation .!? as separate words."""
    s = unicodeToAscii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z.!?]+", r" ", s)
    return s.strip()


def readLangs(lang1, lang2, reverse=False, n_pairs=400, seed=0):
    """The corpus as normalized pairs and two empty Langs (reverse: translate lang2 -> lang1)."""
    pairs = [[normalizeString(s) for s in pair] for pair in make_corpus(n_pairs, seed)]
    if reverse:
        pairs = [list(reversed(p)) for p in pairs]
        return Lang(lang2), Lang(lang1), pairs
    return Lang(lang1), Lang(lang2), pairs


def filterPair(p, reverse=False):
    english = p[1] if reverse else p[0]
    return (
        len(p[0].split(" ")) < MAX_LENGTH
        and len(p[1].split(" ")) < MAX_LENGTH
        and english.startswith(eng_prefixes)
    )


def filterPairs(pairs, reverse=False):
    """The pairs short enough for MAX_LENGTH whose English side starts with eng_prefixes."""
    return [pair for pair in pairs if filterPair(pair, reverse)]


def prepareData(lang1, lang2, reverse=False, n_pairs=400, seed=0, verbose=False):
    """(input_lang, output_lang, pairs): the filtered corpus and its two vocabularies."""
    input_lang, output_lang, pairs = readLangs(lang1, lang2, reverse, n_pairs, seed)
    n_read = len(pairs)
    pairs = filterPairs(pairs, reverse)
    for pair in pairs:
        input_lang.addSentence(pair[0])
        output_lang.addSentence(pair[1])
    if verbose:
        print(f"Read {n_read} sentence pairs, trimmed to {len(pairs)}")
        print(f"Counted words: {input_lang.name} {input_lang.n_words}, ", end="")
        print(f"{output_lang.name} {output_lang.n_words}")
    return input_lang, output_lang, pairs


def indexesFromSentence(lang, sentence):
    return [lang.word2index[word] for word in sentence.split(" ")]


def tensorFromSentence(lang, sentence):
    """(L+1, 1) long: the sentence's word indexes and EOS, one per row (the older tutorial)."""
    indexes = indexesFromSentence(lang, sentence)
    indexes.append(EOS_token)
    return torch.tensor(indexes, dtype=torch.long, device=device).view(-1, 1)


def tensorsFromPair(input_lang, output_lang, pair):
    return (tensorFromSentence(input_lang, pair[0]), tensorFromSentence(output_lang, pair[1]))


# ----------------------------------------------------------------------------- the older version


class EncoderRNN(nn.Module):
    """Embedding + GRU, one token at a time: (1,) index, (1, 1, H) -> (1, 1, H), (1, 1, H)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, input, hidden):
        embedded = self.embedding(input).view(1, 1, -1)
        output = embedded
        output, hidden = self.gru(output, hidden)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, 1, self.hidden_size, device=device)


class AttnDecoderRNN(nn.Module):
    """Decoder attending over max_length encoder outputs: log-probs (1, V), hidden, weights."""

    def __init__(self, hidden_size, output_size, dropout_p=0.1, max_length=MAX_LENGTH):
        super().__init__()
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.dropout_p = dropout_p
        self.max_length = max_length

        self.embedding = nn.Embedding(self.output_size, self.hidden_size)
        self.attn = nn.Linear(self.hidden_size * 2, self.max_length)
        self.attn_combine = nn.Linear(self.hidden_size * 2, self.hidden_size)
        self.dropout = nn.Dropout(self.dropout_p)
        self.gru = nn.GRU(self.hidden_size, self.hidden_size)
        self.out = nn.Linear(self.hidden_size, self.output_size)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input).view(1, 1, -1)
        embedded = self.dropout(embedded)

        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))

        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = self.attn_combine(output).unsqueeze(0)

        output = F.relu(output)
        output, hidden = self.gru(output, hidden)

        output = F.log_softmax(self.out(output[0]), dim=1)
        return output, hidden, attn_weights


teacher_forcing_ratio = 0.5


def train(
    input_tensor,
    target_tensor,
    encoder,
    decoder,
    encoder_optimizer,
    decoder_optimizer,
    criterion,
    max_length=MAX_LENGTH,
    use_teacher_forcing=None,
):
    """One SGD step on one pair; returns the loss per target token (a float)."""
    encoder_hidden = encoder.initHidden()

    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()

    input_length = input_tensor.size(0)
    target_length = target_tensor.size(0)

    encoder_outputs = torch.zeros(max_length, encoder.hidden_size, device=device)

    loss = 0

    for ei in range(input_length):
        encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
        encoder_outputs[ei] = encoder_output[0, 0]

    decoder_input = torch.tensor([[SOS_token]], device=device)

    decoder_hidden = encoder_hidden

    if use_teacher_forcing is None:
        use_teacher_forcing = True if random.random() < teacher_forcing_ratio else False

    if use_teacher_forcing:
        # Teacher forcing: Feed the target as the next input
        for di in range(target_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs
            )
            loss += criterion(decoder_output, target_tensor[di])
            decoder_input = target_tensor[di]  # Teacher forcing
    else:
        # Without teacher forcing: use its own predictions as the next input
        for di in range(target_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs
            )
            topv, topi = decoder_output.topk(1)
            decoder_input = topi.squeeze().detach()  # detach from history as input

            loss += criterion(decoder_output, target_tensor[di])
            if decoder_input.item() == EOS_token:
                break

    loss.backward()

    encoder_optimizer.step()
    decoder_optimizer.step()

    return loss.item() / target_length


def trainIters(
    encoder,
    decoder,
    pairs,
    input_lang,
    output_lang,
    n_iters,
    print_every=0,
    learning_rate=0.01,
    teacher_forcing=None,
):
    """n_iters steps of train() on random.choice(pairs); the per-step losses.

    teacher_forcing: None draws each step's choice with random.random(); a list of booleans
    gives them (one per step).
    """
    start = time.time()
    losses = []
    print_loss_total = 0  # Reset every print_every

    encoder_optimizer = optim.SGD(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.SGD(decoder.parameters(), lr=learning_rate)
    training_pairs = [
        tensorsFromPair(input_lang, output_lang, random.choice(pairs)) for i in range(n_iters)
    ]
    criterion = nn.NLLLoss()

    for iter in range(1, n_iters + 1):
        training_pair = training_pairs[iter - 1]
        input_tensor = training_pair[0]
        target_tensor = training_pair[1]
        forcing = None if teacher_forcing is None else teacher_forcing[iter - 1]

        loss = train(
            input_tensor,
            target_tensor,
            encoder,
            decoder,
            encoder_optimizer,
            decoder_optimizer,
            criterion,
            max_length=decoder.max_length,
            use_teacher_forcing=forcing,
        )
        losses.append(loss)
        print_loss_total += loss

        if print_every and iter % print_every == 0:
            print_loss_avg = print_loss_total / print_every
            print_loss_total = 0
            elapsed = time.time() - start
            print(f"{elapsed:.1f}s ({iter} {iter / n_iters * 100:.0f}%) {print_loss_avg:.4f}")
    return losses


def evaluate(encoder, decoder, input_lang, output_lang, sentence, max_length=MAX_LENGTH):
    """Greedy decoding: (decoded words ending in '<EOS>', attentions (steps, max_length))."""
    with torch.no_grad():
        input_tensor = tensorFromSentence(input_lang, sentence)
        input_length = input_tensor.size()[0]
        encoder_hidden = encoder.initHidden()

        encoder_outputs = torch.zeros(max_length, encoder.hidden_size, device=device)

        for ei in range(input_length):
            encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
            encoder_outputs[ei] += encoder_output[0, 0]

        decoder_input = torch.tensor([[SOS_token]], device=device)  # SOS

        decoder_hidden = encoder_hidden

        decoded_words = []
        decoder_attentions = torch.zeros(max_length, max_length)

        for di in range(max_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_attentions[di] = decoder_attention.data
            topv, topi = decoder_output.data.topk(1)
            if topi.item() == EOS_token:
                decoded_words.append("<EOS>")
                break
            else:
                decoded_words.append(output_lang.index2word[topi.item()])

            decoder_input = topi.squeeze().detach()

        return decoded_words, decoder_attentions[: di + 1]


# ----------------------------------------------------------------------------- the newer version


class BatchEncoderRNN(nn.Module):
    """Embedding + batch_first GRU: (B, L) indexes -> outputs (B, L, H), hidden (1, B, H)."""

    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.hidden_size = hidden_size

        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    """Bahdanau: query (B, 1, H), keys (B, L, H) -> context (B, 1, H), weights (B, 1, L)."""

    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)

        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)

        return context, weights


class BahdanauDecoderRNN(nn.Module):
    """GRU decoder with Bahdanau attention: log-probs (B, MAX_LENGTH, V), hidden, (B, T, L)."""

    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []

        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)

            if target_tensor is not None:
                # Teacher forcing: Feed the target as the next input
                decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
            else:
                # Without teacher forcing: use its own predictions as the next input
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()  # detach from history as input

        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)

        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))

        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)

        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)

        return output, hidden, attn_weights


def tensorFromSentenceBatch(lang, sentence):
    """(1, L+1) long: the sentence's indexes and EOS as a batch of one (the newer tutorial)."""
    indexes = indexesFromSentence(lang, sentence)
    indexes.append(EOS_token)
    return torch.tensor(indexes, dtype=torch.long, device=device).view(1, -1)


def get_dataloader(input_lang, output_lang, pairs, batch_size, sampler=None, generator=None):
    """A DataLoader of (input_ids, target_ids), each (B, MAX_LENGTH) long, zero-padded.

    sampler: None samples with a RandomSampler (drawing from `generator` if given); any other
    iterable of row indexes fixes the order.
    """
    n = len(pairs)
    input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)

    for idx, (inp, tgt) in enumerate(pairs):
        inp_ids = indexesFromSentence(input_lang, inp)
        tgt_ids = indexesFromSentence(output_lang, tgt)
        inp_ids.append(EOS_token)
        tgt_ids.append(EOS_token)
        input_ids[idx, : len(inp_ids)] = inp_ids
        target_ids[idx, : len(tgt_ids)] = tgt_ids

    train_data = TensorDataset(
        torch.LongTensor(input_ids).to(device), torch.LongTensor(target_ids).to(device)
    )

    train_sampler = RandomSampler(train_data, generator=generator) if sampler is None else sampler
    return DataLoader(train_data, sampler=train_sampler, batch_size=batch_size)


def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    """One pass over the dataloader; the per-batch losses."""
    losses = []
    for data in dataloader:
        input_tensor, target_tensor = data

        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)

        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
        loss.backward()

        encoder_optimizer.step()
        decoder_optimizer.step()

        losses.append(loss.item())
    return losses


def train_batched(train_dataloader, encoder, decoder, n_epochs, learning_rate=0.001, print_every=0):
    """n_epochs of Adam on both models; the per-batch losses of all epochs."""
    start = time.time()
    losses = []

    encoder_optimizer = optim.Adam(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=learning_rate)
    criterion = nn.NLLLoss()

    for epoch in range(1, n_epochs + 1):
        epoch_losses = train_epoch(
            train_dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion
        )
        losses += epoch_losses

        if print_every and epoch % print_every == 0:
            elapsed = time.time() - start
            mean = sum(epoch_losses) / len(train_dataloader)
            print(f"{elapsed:.1f}s (epoch {epoch} {epoch / n_epochs * 100:.0f}%) {mean:.4f}")
    return losses


def evaluate_batched(encoder, decoder, sentence, input_lang, output_lang):
    """Greedy decoding: (decoded words, up to '<EOS>'; attentions (1, MAX_LENGTH, L+1))."""
    with torch.no_grad():
        input_tensor = tensorFromSentenceBatch(input_lang, sentence)

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)

        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()

        decoded_words = []
        for idx in decoded_ids:
            if idx.item() == EOS_token:
                decoded_words.append("<EOS>")
                break
            decoded_words.append(output_lang.index2word[idx.item()])
    return decoded_words, decoder_attn


# ----------------------------------------------------------------------------- the program


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--pairs", type=int, default=400, help="sentence pairs to make")
    parser.add_argument("--iters", type=int, default=300, help="older version: SGD steps")
    parser.add_argument("--epochs", type=int, default=10, help="newer version: epochs")
    parser.add_argument("--lr", type=float, default=0.01, help="newer version: Adam's rate")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--print-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    input_lang, output_lang, pairs = prepareData("eng", "toy", False, args.pairs, verbose=True)
    print(random.choice(pairs))

    print("older tutorial: one pair at a time, attention over MAX_LENGTH positions, SGD")
    encoder1 = EncoderRNN(input_lang.n_words, args.hidden_size).to(device)
    attn_decoder1 = AttnDecoderRNN(args.hidden_size, output_lang.n_words, dropout_p=0.1).to(device)
    trainIters(
        encoder1,
        attn_decoder1,
        pairs,
        input_lang,
        output_lang,
        args.iters,
        print_every=args.print_every,
    )
    encoder1.eval()
    attn_decoder1.eval()
    pair = random.choice(pairs)
    output_words, attentions = evaluate(encoder1, attn_decoder1, input_lang, output_lang, pair[0])
    print(">", pair[0])
    print("=", pair[1])
    print("<", " ".join(output_words), tuple(attentions.shape))

    print("newer tutorial: batches, Bahdanau attention, Adam")
    train_dataloader = get_dataloader(input_lang, output_lang, pairs, args.batch_size)
    encoder2 = BatchEncoderRNN(input_lang.n_words, args.hidden_size).to(device)
    decoder2 = BahdanauDecoderRNN(args.hidden_size, output_lang.n_words).to(device)
    train_batched(train_dataloader, encoder2, decoder2, args.epochs, args.lr, print_every=1)
    encoder2.eval()
    decoder2.eval()
    output_words, attentions = evaluate_batched(
        encoder2, decoder2, pair[0], input_lang, output_lang
    )
    print(">", pair[0])
    print("=", pair[1])
    print("<", " ".join(output_words), tuple(attentions.shape))


if __name__ == "__main__":
    main()
