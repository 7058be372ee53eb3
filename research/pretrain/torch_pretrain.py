#!/usr/bin/env python3
"""Masked-language-model pretraining of a small BERT with PyTorch (CPU or CUDA).

The same objective as `fewshot pretrain` (dynamic 15 % masking, 80/10/10, optional whole-word
masking, loss on the masked rows only, AdamW with linear warmup and decay, global-norm clipping),
for machines where PyTorch is faster than the wasm trainer: on the 2-core CI-class machine it is
several times faster (research/PRETRAINING-LOG.md has the measurement), and on a GPU machine it is the
recipe for bigger defaults. It needs only `torch` (no transformers, no safetensors package).

Input: the packed sequences written by `research/pretrain/count-tokens.ts --out` (uint16 ids,
sequences x max_len, [PAD]=0), so both trainers see the same token stream.
Output: a Hugging Face folder (`config.json`, `vocab.txt`, tokenizer files, `model.safetensors`
with the standard `BertForMaskedLM` tensor names, less the tied decoder copy, as save_pretrained writes
it) that `loadModelFromDir` and transformers read.

  python3 research/pretrain/torch_pretrain.py --sequences /tmp/corpus-128.u16 \
    --template public/models/fewshot-tiny --out /tmp/tiny-torch --steps 6000 --batch-size 64 \
    --lr 1e-3 --warmup 300 --whole-word --seed 42 --minutes 90

`--template DIR` gives the shape (its config.json), the vocabulary and tokenizer files; with
`--init` its weights are the starting point, otherwise the weights start from the BERT initialiser
(normal, std = initializer_range). `--minutes` stops early at a step boundary and still writes the
folder; the linear decay is planned over `--steps`, so pick `--steps` that fit the minutes.
`--salient-prob P` masks names (words the corpus capitalises mid-sentence) with probability P
instead of `--mask-prob` (salient-word masking; measured in research/PRETRAINING-LOG.md, stages 5 and 6).

On a CUDA GPU add `--amp` (bfloat16 autocast); with `--minutes M --time-decay` the decay ends at the
time limit whatever the machine's speed, and `--keep-best` exports the best held-out weights.
`research/pretrain/gpu-mini.sh` ran the first stage of the default `fewshot-mini` this way.
"""
import argparse
import contextlib
from collections import Counter
import json
import math
import os
import re
import shutil
import struct
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

PAD, UNK, CLS, SEP, MASK = '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'
# torch >= 2.0 has a fused attention kernel; the Debian torch 1.13 used on the CPU machines does not.
FUSED_ATTENTION = hasattr(F, 'scaled_dot_product_attention')
TIED_DECODER = 'cls.predictions.decoder.weight'  # the same tensor as the word embeddings
# The tokenizer files a Hugging Face BERT folder may hold next to config.json and the weights.
TOKENIZER_FILES = ('vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json')


def copy_tokenizer_files(source, out, skip=()):
    """Copies those of TOKENIZER_FILES that `source` has (less `skip`) into the folder `out`."""
    for name in TOKENIZER_FILES:
        src, dst = os.path.join(source, name), os.path.join(out, name)
        if name not in skip and os.path.exists(src) and os.path.abspath(src) != os.path.abspath(dst):
            shutil.copyfile(src, dst)


# ---------------------------------------------------------------------------------------------
# safetensors without the package: 8-byte header length, JSON header, raw little-endian data.
DTYPES = {'F32': (torch.float32, 4), 'F16': (torch.float16, 2), 'BF16': (torch.bfloat16, 2)}


def read_safetensors(path):
    with open(path, 'rb') as f:
        header_len = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        dtype, _ = DTYPES[info['dtype']]
        start, end = info['data_offsets']
        flat = torch.frombuffer(bytearray(data[start:end]), dtype=dtype)
        tensors[name] = flat.reshape(info['shape']).float()
    return tensors


def write_safetensors(path, tensors, dtype='F16'):
    torch_dtype, _ = DTYPES[dtype]
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().to('cpu', torch_dtype).contiguous().numpy().tobytes()
        header[name] = {'dtype': dtype, 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(',', ':')).encode('utf8')
    encoded += b' ' * ((8 - len(encoded) % 8) % 8)  # align the data section to 8 bytes
    tmp = path + '.partial'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(encoded)))
        f.write(encoded)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)  # a failed write leaves the previous file intact


# ---------------------------------------------------------------------------------------------
# BERT, post-LayerNorm, attribute names chosen so that state_dict() keys are the Hugging Face ones.
class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.heads = c['num_attention_heads']
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c['attention_probs_dropout_prob'])

    def forward(self, x, keep):  # x [B, T, H], keep [B, 1, 1, T] (False at [PAD] keys)
        b, t, h = x.shape
        d = h // self.heads

        def split(y):  # [B, T, H] -> [B, heads, T, d]
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        if FUSED_ATTENTION:  # torch >= 2.0: one fused kernel on a GPU (flash / memory-efficient)
            p = self.dropout.p if self.training else 0.0
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=p)  # [B, heads, T, d]
        else:
            scores = q @ k.transpose(-1, -2) / math.sqrt(d)  # [B, heads, T, T]
            scores = scores.masked_fill(~keep, -1e9)  # no attention to [PAD]
            out = self.dropout(scores.softmax(-1)) @ v  # [B, heads, T, d]
        return out.transpose(1, 2).reshape(b, t, h)  # [B, T, H]


class AddNorm(nn.Module):
    def __init__(self, c, fan_in):
        super().__init__()
        self.dense = nn.Linear(fan_in, c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, y, residual):
        return self.LayerNorm(self.dropout(self.dense(y)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = AddNorm(c, c['hidden_size'])

    def forward(self, x, keep):
        return self.output(self.self(x, keep), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact (erf) GELU, as "gelu" in Hugging Face configs


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = AddNorm(c, c['intermediate_size'])

    def forward(self, x, keep):
        a = self.attention(x, keep)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c['num_hidden_layers'])])


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.word_embeddings = nn.Embedding(c['vocab_size'], h)
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], h)
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, ids):  # ids [B, T]
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))  # [B, T, H]


class Pooler(nn.Module):  # unused by MLM, kept so the folder has every BertForMaskedLM tensor
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, ids):  # [B, T] -> [B, T, H]
        keep = (ids != 0)[:, None, None, :]  # [B, 1, 1, T]; no attention to [PAD]
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return x


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])


class MaskedLmCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of `rows @ weight.T + bias` against `targets`, in chunks of rows.

    The [N, V] logits are the largest tensor of a step (V = 30,522). Each chunk's softmax gradient
    (softmax - onehot) is formed while the chunk is still in cache, so the backward pass is two
    matmuls and no separate log-softmax passes over memory (measured: ~2x faster steps on 2 cores).
    """

    @staticmethod
    def forward(ctx, rows, weight, bias, targets, chunk=128):  # rows [N, H], weight [V, H], bias [V], targets [N]
        n = rows.shape[0]
        grad_logits = torch.empty(n, weight.shape[0], dtype=rows.dtype, device=rows.device)  # [N, V]
        total = rows.new_zeros(())
        weight_t = weight.t().contiguous()  # [H, V], once: a transposed operand would be copied per chunk
        for i in range(0, n, chunk):
            logits = grad_logits[i:i + chunk]  # [C, V], a view: the chunk's softmax gradient is formed in place
            torch.mm(rows[i:i + chunk], weight_t, out=logits).add_(bias)  # addmm(out=) copies the bias first, slowly
            picked = logits.gather(1, targets[i:i + chunk, None])[:, 0]  # [C]
            lse = torch.logsumexp(logits, dim=1)  # [C]
            total += (lse - picked).sum()
            logits.sub_(lse[:, None]).exp_()  # softmax, in place
            logits[torch.arange(logits.shape[0], device=rows.device), targets[i:i + chunk]] -= 1.0
        grad_logits.div_(n)
        ctx.save_for_backward(rows, weight, grad_logits)
        return total / n

    @staticmethod
    def backward(ctx, grad_loss):
        rows, weight, grad_logits = ctx.saved_tensors
        g = grad_logits * grad_loss if grad_loss.item() != 1.0 else grad_logits  # [N, V]
        return g @ weight, g.t() @ rows, g.sum(0), None, None


class Predictions(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.transform = Transform(c)
        self.bias = nn.Parameter(torch.zeros(c['vocab_size']))
        self.decoder = nn.Linear(c['hidden_size'], c['vocab_size'], bias=False)
        self.decoder.weight = word_embeddings.weight  # tied, as in BERT

    def transformed(self, rows):  # rows [N, H] -> [N, H], the input of the vocabulary projection
        return self.transform.LayerNorm(F.gelu(self.transform.dense(rows)))

    def forward(self, rows):  # rows [N, H] -> logits [N, V]
        return self.decoder(self.transformed(rows)) + self.bias


class Cls(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.predictions = Predictions(c, word_embeddings)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c)
        self.cls = Cls(c, self.bert.embeddings.word_embeddings)
        std = c['initializer_range']
        for m in self.modules():  # the BERT initialiser
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=std)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def mlm_loss(self, ids, labels):  # ids [B, T] (masked input), labels [B, T] (-1 = not masked)
        hidden = self.bert(ids)  # [B, T, H]
        where = labels >= 0
        rows = hidden[where]  # [N, H]: only the masked positions reach the vocabulary projection
        targets = labels[where]  # [N]
        predictions = self.cls.predictions
        # The fused chunked loss pays on a CPU (cache); a GPU computes the [N, V] logits in one matmul.
        if self.training and rows.is_cpu:  # accuracy is only needed at evaluation
            t = predictions.transformed(rows)  # [N, H]
            loss = MaskedLmCrossEntropy.apply(t, predictions.decoder.weight, predictions.bias, targets)
            return loss, 0, targets.numel()
        logits = predictions(rows)  # [N, V]
        loss = F.cross_entropy(logits.float(), targets)
        if self.training:
            return loss, 0, targets.numel()
        hits = logits.argmax(-1) == targets  # [N], in the order of labels[labels >= 0]
        return loss, hits, targets.numel()


# (layers, hidden, heads) of the Google BERT miniatures (Turc et al. 2019) and BERT-base, as in src/engine/bert/config.ts
PRESETS = {'tiny': (2, 128, 2), 'mini': (4, 256, 4), 'small': (4, 512, 8), 'medium': (8, 512, 8), 'base': (12, 768, 12)}


def sinusoidal_positions_(embeddings):
    """Overwrites the learned position table with the sin/cos table of Vaswani et al., in place.

    Measured after 6,000 steps (stage 2 of research/PRETRAINING-LOG.md): its position rows had stayed at random-init
    scale (mean row norm 0.18 against 0.82 for word rows; cosine of neighbouring rows 0.056, of rows 10 apart 0.054) and fill-mask answered the same for a
    sentence and its shuffled words, i.e. the model had learned no word order. With sin/cos rows the dot
    product of two positions depends only on their distance, so "look at the neighbours" is one linear map
    away. The table stays an ordinary trainable nn.Embedding (the Hugging Face layout is unchanged).
    """
    table = embeddings.position_embeddings.weight  # [P, H]
    p, h = table.shape
    position = torch.arange(p, dtype=torch.float32)[:, None]  # [P, 1]
    frequency = torch.exp(torch.arange(0, h, 2, dtype=torch.float32) * (-math.log(10000.0) / h))  # [H/2]
    rows = torch.zeros(p, h)
    rows[:, 0::2] = torch.sin(position * frequency)
    rows[:, 1::2] = torch.cos(position * frequency)  # each row has norm sqrt(H/2)
    target = embeddings.word_embeddings.weight.detach().norm(dim=1).mean()
    with torch.no_grad():
        table.copy_(rows * (target / math.sqrt(h / 2)))


# ---------------------------------------------------------------------------------------------
def load_vocab(path):
    with open(path, encoding='utf8') as f:
        return [line.rstrip('\n') for line in f]


# A word is sentence-initial after one of these (or at the start of a line), so its capital says nothing.
SENTENCE_OPENERS = set('.!?:;"(`\'')
WORD_OR_OPENER = re.compile(r"[A-Za-z]+|[.!?:;\"(`']")


def salient_words(files, vocab, min_count=5, min_share=0.8):
    """Whole-word pieces that name things, found from capitalisation: a cheap stand-in for the
    named-entity tagger of salient span masking (Guu et al. 2020, REALM).

    A vocabulary word is salient when, away from the start of a sentence, the corpus writes it
    capitalised ("Paris", "France", "Congress") at least `min_count` times and in at least `min_share`
    of its occurrences. The vocabulary is lower-cased, so this is read from the raw text files.
    Returns the sorted list of such vocabulary words (single pieces; a word cut into pieces is left out).
    """
    capitalised, lower = Counter(), Counter()
    for path in files:
        with open(path, encoding='utf8', errors='replace') as f:
            for line in f:
                initial = True
                for token in WORD_OR_OPENER.findall(line):
                    if token in SENTENCE_OPENERS:
                        initial = True
                        continue
                    if len(token) > 1 and not initial:
                        if token[0].isupper() and token[1:].islower():
                            capitalised[token.lower()] += 1
                        elif token.islower():
                            lower[token] += 1
                    initial = False
    in_vocab = set(vocab)
    return sorted(w for w, n in capitalised.items()
                  if n >= min_count and n >= min_share * (n + lower[w]) and w in in_vocab)


class Masker:
    """Dynamic masking: p of the non-special pieces (or whole words), 80 % [MASK], 10 % random, 10 % kept.

    With `salient` (vocabulary words from salient_words) and `salient_prob`, a one-piece word that is
    salient is chosen with `salient_prob` instead of `mask_prob`: more of the loss falls on predicting
    names from their context (what "the capital of france is [MASK]" asks), and the rest is unchanged.
    """

    def __init__(self, vocab, mask_prob, whole_word, device, salient=(), salient_prob=None):
        self.mask_prob, self.whole_word = mask_prob, whole_word
        self.salient_prob = mask_prob if salient_prob is None else salient_prob
        index = {w: i for i, w in enumerate(vocab)}
        self.mask_id = index[MASK]
        self.vocab_size = len(vocab)
        special = torch.zeros(len(vocab), dtype=torch.bool)
        for w in (PAD, UNK, CLS, SEP, MASK):
            special[index[w]] = True
        self.special = special.to(device)
        self.continuation = torch.tensor([w.startswith('##') for w in vocab], dtype=torch.bool, device=device)
        salient = set(salient)
        self.salient = torch.tensor([w in salient for w in vocab], dtype=torch.bool, device=device)  # [V]
        # Without a different rate for names the per-step masking stays the plain (cheaper) path.
        self.boosts_salient = bool(salient) and self.salient_prob != mask_prob
        # random replacements are drawn from the ordinary pieces only (not [PAD], [unusedN], …)
        self.ordinary = torch.tensor(
            [i for i, w in enumerate(vocab) if not (w.startswith('[') and w.endswith(']'))], device=device
        )

    def salient_starts(self, ids, starts, continued):  # -> [B, T]: the pieces that are one-piece names
        next_continues = torch.cat([continued[:, 1:], torch.zeros_like(continued[:, :1])], dim=1)  # [B, T]
        return starts & self.salient[ids] & ~next_continues

    def __call__(self, ids, generator):  # ids [B, T] -> (masked ids [B, T], labels [B, T])
        candidate = ~self.special[ids]  # [B, T]
        continued = self.continuation[ids]  # [B, T]
        starts = candidate & ~continued  # a word starts at a non-## piece
        if self.whole_word:
            word = torch.cumsum(starts.long(), dim=1)  # [B, T] word number within the row
            threshold = self.mask_prob
            if self.boosts_salient:
                word_is_salient = torch.zeros(ids.shape[0], ids.shape[1] + 1, dtype=torch.long, device=ids.device)
                word_is_salient.scatter_add_(1, word, self.salient_starts(ids, starts, continued).long())  # [B, T + 1]
                threshold = torch.where(word_is_salient > 0, self.salient_prob, self.mask_prob)  # [B, T + 1]
            chosen_word = torch.rand(ids.shape[0], ids.shape[1] + 1, generator=generator, device=ids.device) < threshold
            chosen = candidate & chosen_word.gather(1, word)
        else:
            threshold = self.mask_prob
            if self.boosts_salient:
                threshold = torch.where(self.salient_starts(ids, starts, continued), self.salient_prob, self.mask_prob)  # [B, T]
            chosen = candidate & (torch.rand(ids.shape, generator=generator, device=ids.device) < threshold)
        labels = torch.where(chosen, ids, torch.full_like(ids, -1))
        roll = torch.rand(ids.shape, generator=generator, device=ids.device)
        masked = ids.clone()
        masked[chosen & (roll < 0.8)] = self.mask_id
        random_slot = chosen & (roll >= 0.8) & (roll < 0.9)
        picks = torch.randint(0, self.ordinary.numel(), ids.shape, generator=generator, device=ids.device)
        masked[random_slot] = self.ordinary[picks][random_slot]
        return masked, labels


def self_test():
    """Checks the fused loss against F.cross_entropy and the safetensors writer against the reader."""
    torch.manual_seed(0)
    rows = torch.randn(300, 16, requires_grad=True)  # [N, H]
    weight = torch.randn(1000, 16, requires_grad=True)  # [V, H]
    bias = torch.randn(1000, requires_grad=True)  # [V]
    targets = torch.randint(0, 1000, (300,))  # [N]
    fused = MaskedLmCrossEntropy.apply(rows, weight, bias, targets, 64)
    (2 * fused).backward()  # a non-unit upstream gradient
    fused_grads = [t.grad.clone() for t in (rows, weight, bias)]
    for t in (rows, weight, bias):
        t.grad = None
    reference = F.cross_entropy(rows @ weight.t() + bias, targets)
    (2 * reference).backward()
    assert abs(fused.item() - reference.item()) < 1e-5, (fused.item(), reference.item())
    for got, want in zip(fused_grads, (rows.grad, weight.grad, bias.grad)):
        assert torch.allclose(got, want, atol=1e-6), float((got - want).abs().max())
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'x.safetensors')
        tensors = {'a': torch.randn(3, 5), 'b.c': torch.arange(7.0)}
        write_safetensors(path, tensors, 'F32')
        back = read_safetensors(path)
        assert all(torch.equal(back[k], v) for k, v in tensors.items())
    config = {'vocab_size': 50, 'hidden_size': 16, 'max_position_embeddings': 40, 'type_vocab_size': 2,
              'layer_norm_eps': 1e-12, 'hidden_dropout_prob': 0.0}
    embeddings = Embeddings(config)
    sinusoidal_positions_(embeddings)
    table = embeddings.position_embeddings.weight.detach()  # [40, 16]
    norms = table.norm(dim=1)
    assert torch.allclose(norms, embeddings.word_embeddings.weight.detach().norm(dim=1).mean().expand(40), rtol=1e-5)
    # the product of two positions depends on their distance only
    assert torch.allclose(table[0] @ table[5], table[20] @ table[25], atol=1e-5)
    assert (table[10] @ table[11]) > (table[10] @ table[30])
    # salient-word masking: the capitalisation rule, then the masker
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'c.txt')
        with open(path, 'w') as f:  # "Paris" 5x mid-sentence; "Rome" only sentence-initial; "Bill" 5x but "bill" 2x
            f.write('we saw Paris and Bill. Rome was far.\n' * 5 + 'the bill passed; a bill failed\n')
        vocab = [PAD, UNK, CLS, SEP, MASK, 'we', 'saw', 'paris', 'and', 'bill', 'rome', 'was', 'far', '##ian', '.']
        assert salient_words([path], vocab, min_count=5, min_share=0.8) == ['paris'], salient_words([path], vocab)
        assert salient_words([path], vocab, min_count=5, min_share=0.7) == ['bill', 'paris']
    ids = torch.tensor([[2, 5, 6, 7, 8, 7, 13, 14, 3, 0]] * 400)  # [CLS] we saw paris and paris ##ian . [SEP] [PAD]
    for whole_word in (False, True):
        plain = Masker(vocab, 0.15, whole_word, 'cpu')
        absent = Masker(vocab, 0.15, whole_word, 'cpu', ['bill'], 1.0)  # boosted path, but no bill in these rows
        a, b = torch.Generator(), torch.Generator()
        a.manual_seed(3)
        b.manual_seed(3)
        assert all(torch.equal(x, y) for x, y in zip(plain(ids, a), absent(ids, b))), 'the boosted path draws the plain masks elsewhere'
        assert not Masker(vocab, 0.15, whole_word, 'cpu', ['paris'], None).boosts_salient, 'no salient rate = the plain path'
        labels = Masker(vocab, 0.15, whole_word, 'cpu', ['paris'], 1.0)(ids, a)[1]  # [400, 10]
        chosen = (labels >= 0).float().mean(0)  # [10] share of rows masking each position
        assert chosen[3] == 1.0, 'the one-piece salient word is always masked'
        assert chosen[5] < 0.3 and chosen[1] < 0.3, '"paris ##ian" is another word, and ordinary words keep 15 %'
        assert chosen[0] == 0 and chosen[8] == 0 and chosen[9] == 0, 'special pieces are never masked'
    # The fused attention kernel (torch >= 2.0) and the explicit softmax agree, [PAD] keys included.
    global FUSED_ATTENTION
    checked_attention = FUSED_ATTENTION
    if checked_attention:
        small = dict(config, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32,
                     attention_probs_dropout_prob=0.0, initializer_range=0.02)
        bert = Bert(small).eval()
        ids = torch.randint(5, 50, (3, 12))  # [B, T]
        ids[0, 7:] = 0
        ids[1, 3:] = 0
        with torch.no_grad():
            fused_out = bert(ids)  # [B, T, H]
            FUSED_ATTENTION = False
            try:
                plain_out = bert(ids)
            finally:
                FUSED_ATTENTION = True
        assert torch.allclose(fused_out, plain_out, atol=1e-5), float((fused_out - plain_out).abs().max())
    print('self-test passed: fused masked-LM loss and gradients match F.cross_entropy; safetensors round trip; '
          'sinusoidal positions; salient-word list and masking'
          + ('; fused attention matches the explicit softmax' if checked_attention else ' (no fused attention in this torch)'))


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sequences', required=True, help='uint16 file from count-tokens.ts --out')
    p.add_argument('--template', required=True, help='Hugging Face folder giving config.json and the tokenizer files')
    p.add_argument('--init', action='store_true', help="start from the template's weights (else the BERT initialiser)")
    p.add_argument('--out', required=True)
    p.add_argument('--steps', type=int, default=6000)  # optimizer steps the schedule is planned over
    p.add_argument('--batch-size', type=int, default=64)  # sequences per step
    p.add_argument('--lr', type=float, default=1e-3)  # peak rate; small BERTs tolerate 1e-3
    p.add_argument('--warmup', type=int, default=300)  # linear warmup steps, then linear decay to 0
    p.add_argument('--weight-decay', type=float, default=0.01)  # AdamW, not on biases / LayerNorm
    p.add_argument('--clip', type=float, default=1.0)  # global gradient-norm clip
    p.add_argument('--mask-prob', type=float, default=0.15)
    p.add_argument('--whole-word', action='store_true')
    # Salient-word masking: 0 = off (every word at --mask-prob). Else the chance that a one-piece word
    # the corpus capitalises mid-sentence (a name: paris, france, congress) is masked; see salient_words.
    p.add_argument('--salient-prob', type=float, default=0)
    p.add_argument('--salient-min-count', type=int, default=5)  # capitalised mid-sentence at least this often
    p.add_argument('--salient-min-share', type=float, default=0.8)  # and in at least this share of its uses
    p.add_argument('--salient-list', default=None,
                   help='a file of salient words, one per line (a salient_words.txt written by an earlier run), '
                        'instead of reading the raw corpus files: for machines that have only the packed sequences')
    # Dropout during pretraining (the exported config keeps the template's 0.1 for fine-tuning).
    # A short run is far from overfitting, so 0 learns faster per step and saves the mask sampling.
    p.add_argument('--dropout', type=float, default=None, help="default: the template config's rates")
    p.add_argument('--preset', choices=sorted(PRESETS), default=None,
                   help="replace the template's shape (layers, hidden, heads, FFN = 4 x hidden) with a Google BERT "
                        'size, keeping its vocabulary; only from scratch (not with --init)')
    p.add_argument('--position-init', choices=['keep', 'sinusoidal'], default='keep',
                   help='sinusoidal: overwrite the (still trainable) position table with sin/cos rows scaled to '
                        'the word embeddings\' mean row norm, so neighbouring positions are similar from step 0')
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--held-out', type=int, default=256)  # sequences 0, K, 2K, … are held out
    p.add_argument('--held-out-every', type=int, default=100)
    p.add_argument('--eval-every', type=int, default=500)
    p.add_argument('--minutes', type=float, default=0)  # stop at a step boundary after this long (0 = no limit)
    # With --minutes: the linear decay ends at the time limit instead of at --steps, so a run on a
    # machine of unknown speed still ends at lr 0 (the step count then depends on the machine).
    p.add_argument('--time-decay', action='store_true')
    # Export the weights of the best held-out loss seen at an evaluation (for runs of many passes
    # over the corpus, where the last weights may have begun to overfit) instead of the last ones.
    p.add_argument('--keep-best', action='store_true')
    p.add_argument('--amp', action='store_true', help='bfloat16 autocast on a CUDA GPU (weights and optimizer stay float32)')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--dtype', choices=['F16', 'F32'], default='F16')
    p.add_argument('--evaluate', action='store_true', help="only print the held-out score of the template's weights (with --init)")
    args = p.parse_args()
    if args.time_decay and not args.minutes:
        p.error('--time-decay plans the decay over --minutes; give --minutes too')
    if args.salient_list and not args.salient_prob:
        p.error('--salient-list gives the names for --salient-prob; give --salient-prob too')

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.amp and device != 'cuda':
        sys.exit('--amp is for a CUDA GPU (bfloat16 autocast); this machine has none')
    torch.backends.cuda.matmul.allow_tf32 = True  # float32 matmuls outside autocast (eval, optimizer) on tensor cores
    autocast = (lambda: torch.autocast('cuda', dtype=torch.bfloat16)) if args.amp else contextlib.nullcontext
    with open(os.path.join(args.template, 'config.json')) as f:
        config = json.load(f)
    if args.preset:
        if args.init:
            sys.exit('--preset changes the shape, so it cannot start from the template\'s weights (--init)')
        layers, hidden, heads = PRESETS[args.preset]
        config.update(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads, intermediate_size=4 * hidden)
    vocab = load_vocab(os.path.join(args.template, 'vocab.txt'))
    assert len(vocab) == config['vocab_size'], 'vocab.txt and config.json disagree on the vocabulary size'
    with open(args.sequences + '.json') as f:
        meta = json.load(f)
    seq_len = meta['maxLength']
    data = torch.frombuffer(bytearray(open(args.sequences, 'rb').read()), dtype=torch.int16)
    data = data.view(-1, seq_len).long() & 0xFFFF  # [S, T] uint16 ids
    if int(data.max()) >= len(vocab):
        sys.exit(f'{args.sequences}: token id {int(data.max())} is outside the {len(vocab)}-piece vocabulary of {args.template}')

    held_index = torch.arange(args.held_out) * args.held_out_every
    held_index = held_index[held_index < data.shape[0]]
    is_train = torch.ones(data.shape[0], dtype=torch.bool)
    is_train[held_index] = False
    train, held = data[is_train].to(device), data[held_index].to(device)  # [S, T]; 16 MB for the whole corpus

    train_config = dict(config)
    if args.dropout is not None:
        train_config['hidden_dropout_prob'] = train_config['attention_probs_dropout_prob'] = args.dropout
    model = BertForMaskedLM(train_config).to(device)
    if args.init:
        state = read_safetensors(os.path.join(args.template, 'model.safetensors'))
        missing, unexpected = model.load_state_dict({k: v for k, v in state.items() if not k.startswith('classifier.')}, strict=False)
        missing = [k for k in missing if k != TIED_DECODER]  # tied to the word embeddings, which were loaded
        print(f'init from {args.template}; missing {missing}, unexpected {unexpected}', file=sys.stderr)
    if args.position_init == 'sinusoidal':
        sinusoidal_positions_(model.bert.embeddings)
    masker = Masker(vocab, args.mask_prob, args.whole_word, device)  # held-out masks: the same in every stage
    salient = []
    if args.salient_prob and args.salient_list:
        with open(args.salient_list, encoding='utf8') as f:
            listed = [w.strip() for w in f if w.strip()]
        in_vocab = set(vocab)
        salient = [w for w in listed if w in in_vocab]
        if len(salient) != len(listed):
            sys.exit(f'{args.salient_list}: {len(listed) - len(salient)} of its words are not in {args.template}/vocab.txt')
        print(f'{len(salient)} salient words from {args.salient_list}', file=sys.stderr)
    elif args.salient_prob:
        missing = [f for f in meta['files'] if not os.path.exists(f)]
        if missing:  # names are found from capitals, which only the raw text still has
            sys.exit(f'--salient-prob reads the corpus files listed in {args.sequences}.json, and these are missing: '
                     f'{", ".join(missing)}. Re-run count-tokens.ts where the corpus is, or drop --salient-prob.')
        salient = salient_words(meta['files'], vocab, args.salient_min_count, args.salient_min_share)
        print(f'{len(salient)} salient words, e.g. {", ".join(salient[::max(1, len(salient) // 12)])}', file=sys.stderr)
    train_masker = Masker(vocab, args.mask_prob, args.whole_word, device, salient, args.salient_prob or None)
    is_salient = train_masker.salient

    decay = [p_ for n, p_ in model.named_parameters() if p_.ndim >= 2]
    no_decay = [p_ for n, p_ in model.named_parameters() if p_.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{'params': decay, 'weight_decay': args.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
        lr=args.lr, betas=(0.9, 0.999), eps=1e-6,
    )

    warmup_ended = [None]  # time the warmup ended, for --time-decay

    def lr_at(step):  # step counts from 1
        if step <= args.warmup:
            return args.lr * step / max(1, args.warmup)
        if args.time_decay:
            if warmup_ended[0] is None:
                warmup_ended[0] = time.time()
            deadline = started + args.minutes * 60
            return args.lr * max(0.0, (deadline - time.time()) / max(1e-9, deadline - warmup_ended[0]))
        return args.lr * max(0.0, (args.steps - step) / max(1, args.steps - args.warmup))

    eval_gen = torch.Generator(device=device)

    def evaluate():
        """Held-out MLM loss, accuracy and the unigram baseline (the share of the most frequent masked token)."""
        eval_gen.manual_seed(12345)  # the same masks at every evaluation
        model.eval()
        total_loss, total_correct, total = 0.0, 0, 0
        salient_correct, salient_total = 0, 0
        label_counts = torch.zeros(len(vocab), dtype=torch.long)
        with torch.no_grad():
            for i in range(0, held.shape[0], 64):
                ids, labels = masker(held[i:i + 64], eval_gen)
                with autocast():
                    loss, hits, n = model.mlm_loss(ids, labels)
                total_loss += loss.item() * n
                total_correct += int(hits.sum())
                total += n
                targets = labels[labels >= 0]  # [N], the order of hits
                salient_correct += int(hits[is_salient[targets]].sum())
                salient_total += int(is_salient[targets].sum())
                label_counts += torch.bincount(targets.cpu(), minlength=len(vocab))
        model.train()
        result = {'loss': total_loss / total, 'accuracy': total_correct / total,
                  'unigramBaseline': int(label_counts.max()) / total, 'count': total}
        if salient:  # accuracy on the masked salient words alone (same masks as above)
            result.update(salientAccuracy=salient_correct / max(1, salient_total), salientCount=salient_total)
        return result

    if args.evaluate:
        print(json.dumps(evaluate()))
        return

    os.makedirs(args.out, exist_ok=True)
    copy_tokenizer_files(args.template, args.out)  # once: export() writes only the config and weights
    if salient:
        with open(os.path.join(args.out, 'salient_words.txt'), 'w') as f:
            f.write('\n'.join(salient) + '\n')
    log = open(os.path.join(args.out, 'pretrain_log.jsonl'), 'w')
    gen = torch.Generator(device='cpu')
    gen.manual_seed(args.seed)
    mask_gen = torch.Generator(device=device)
    mask_gen.manual_seed(args.seed + 1)
    order, cursor, epoch = torch.randperm(train.shape[0], generator=gen), 0, 0
    started = time.time()
    best = {'step': None, 'result': None}  # --keep-best: the evaluation whose weights were exported

    def keep_if_best(result):  # export only weights that beat every earlier evaluation
        if best['result'] is None or result['loss'] < best['result']['loss']:
            best.update(step=step, result=result)
            export(model, args, config)

    tokens = 0
    step = 0
    recent = []
    def log_eval(result):
        entry = {'step': step, 'heldOutLoss': result['loss'], 'heldOutAccuracy': result['accuracy'],
                 'unigramBaseline': result['unigramBaseline'], 'time': time.time()}
        if 'salientAccuracy' in result:
            entry['heldOutSalientAccuracy'] = result['salientAccuracy']
        log.write(json.dumps(entry) + '\n')
        log.flush()
        salient_note = f", salient words {result['salientAccuracy']:.3%} of {result['salientCount']}" if salient else ''
        print(f"step {step} held-out loss {result['loss']:.3f} acc {result['accuracy']:.3%} "
              f"(unigram baseline {result['unigramBaseline']:.3%}){salient_note}", file=sys.stderr, flush=True)

    log_eval(evaluate())
    while step < args.steps:
        if args.minutes and time.time() - started > args.minutes * 60:
            print(f'time limit reached at step {step}', file=sys.stderr)
            break
        if cursor + args.batch_size > order.numel():  # next pass over the corpus, a new order
            order, cursor, epoch = torch.randperm(train.shape[0], generator=gen), 0, epoch + 1
        batch = train[order[cursor:cursor + args.batch_size].to(device)]  # [B, T]
        cursor += args.batch_size
        step += 1
        lr = lr_at(step)
        for group in optimizer.param_groups:
            group['lr'] = lr
        ids, labels = train_masker(batch, mask_gen)
        with autocast():
            loss, _, _ = model.mlm_loss(ids, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        tokens += int((batch != 0).sum())
        recent.append(loss.item())
        log.write(json.dumps({'step': step, 'loss': recent[-1], 'lr': lr, 'tokens': tokens, 'time': time.time()}) + '\n')
        if step % 50 == 0:
            elapsed = time.time() - started
            print(f'step {step}/{args.steps} epoch {epoch} loss(50) {sum(recent) / len(recent):.3f} '
                  f'{tokens / elapsed:.0f} tok/s {elapsed / 60:.1f} min', file=sys.stderr, flush=True)
            recent = []
        if args.eval_every and step % args.eval_every == 0:
            result = evaluate()
            log_eval(result)
            if args.keep_best:
                keep_if_best(result)
            else:
                export(model, args, config)  # a usable folder at every evaluation

    final = evaluate()
    elapsed = time.time() - started
    summary = {
        'trainer': 'research/pretrain/torch_pretrain.py', 'torch': torch.__version__, 'device': device,
        'gpu': torch.cuda.get_device_name() if device == 'cuda' else None,
        'threads': args.threads, 'steps': step, 'plannedSteps': args.steps, 'epochs': epoch + cursor / max(1, order.numel()),
        'tokens': tokens, 'seconds': round(elapsed, 1), 'tokensPerSecond': round(tokens / elapsed),
        'heldOut': {'sequences': held.shape[0], **final},
        'corpus': meta['files'], 'corpusTokens': meta['tokens'], 'salientWords': len(salient),
        'args': vars(args),
    }
    if step % max(1, args.eval_every) != 0:
        log_eval(final)
    log.close()
    if args.keep_best:
        keep_if_best(final)
        summary.update(heldOut={'sequences': held.shape[0], **best['result']}, exportedStep=best['step'],
                       lastHeldOut=final)
    else:
        export(model, args, config)
    with open(os.path.join(args.out, 'pretrain_summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary), file=sys.stderr)


def export(model, args, config):
    """Writes the config (the template's, reshaped by --preset) and our weights; main() copied the tokenizer files."""
    with open(os.path.join(args.out, 'config.json.partial'), 'w') as f:
        json.dump(dict(config, torch_dtype='float16' if args.dtype == 'F16' else 'float32'), f, indent=2)
    os.replace(os.path.join(args.out, 'config.json.partial'), os.path.join(args.out, 'config.json'))
    state = dict(model.state_dict())
    # The decoder is tied to the word embeddings, so its copy is not stored (Hugging Face's
    # save_pretrained drops it too, and both transformers and our loader tie it at load time):
    # on a 30,522-piece vocabulary it is V x H of the file, 7.8 MB in F16 at hidden 128.
    del state[TIED_DECODER]
    # The classifier head is not trained here; a fresh 2-label head keeps the folder a complete
    # BertForMaskedLM + classifier layout like the template's (fine-tuning replaces it anyway).
    classifier = torch.empty(2, config['hidden_size']).normal_(std=config['initializer_range'])
    state['classifier.weight'] = classifier
    state['classifier.bias'] = torch.zeros(2)
    write_safetensors(os.path.join(args.out, 'model.safetensors'), state, args.dtype)


if __name__ == '__main__':
    main()
