#!/usr/bin/env python3
"""PyTorch reference of the benchmark's training step (docs/BENCHMARKS.md, "PyTorch reference").

The same step as src/engine/bench/train-step.ts, written directly in PyTorch (no transformers
package): a post-LN BERT with dropout 0.1, one of three losses (classifier head, prompt = MLM head at
one [MASK] per row scored over one word per label, MLM = 15 % of the tokens gathered and scored over
the vocabulary), backward, global-norm clipping at 1.0 and AdamW (lr 5e-5, weight decay 0.01).
Each timed step ends with `loss.item()`, as the TypeScript benchmark ends with the loss read back.

  python3 bench/torch_step.py '{"layers":4,"hidden":256,"heads":4,"intermediate":1024,"vocab":30522,
      "batch":16,"seq":128,"objective":"classifier","warmup":1,"steps":3,"device":"cpu"}'

Prints one line: RESULT <json> (or ERROR <json>).
"""
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class Layer(nn.Module):
    def __init__(self, h, a, i, p):
        super().__init__()
        self.a, self.p = a, p
        self.qkv = nn.ModuleList(nn.Linear(h, h) for _ in range(3))
        self.attn_out = nn.Linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.inter = nn.Linear(h, i)
        self.out = nn.Linear(i, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x, bias):
        b, t, h = x.shape
        q, k, v = (m(x).view(b, t, self.a, h // self.a).transpose(1, 2) for m in self.qkv)  # [B, A, T, D]
        scores = q @ k.transpose(-1, -2) / math.sqrt(h // self.a) + bias  # [B, A, T, T]
        probs = F.dropout(scores.softmax(-1), self.p, self.training)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, h)  # [B, T, H]
        x = self.ln1(x + F.dropout(self.attn_out(ctx), self.p, self.training))
        return self.ln2(x + F.dropout(self.out(F.gelu(self.inter(x))), self.p, self.training))


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, v = c["hidden"], c["vocab"]
        self.word = nn.Embedding(v, h)
        self.pos = nn.Embedding(max(512, c["seq"]), h)
        self.token_type = nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer(h, c["heads"], c["intermediate"], 0.1) for _ in range(c["layers"]))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, 2)
        self.transform = nn.Linear(h, h)
        self.mlm_ln = nn.LayerNorm(h, eps=1e-12)
        self.mlm_bias = nn.Parameter(torch.zeros(v))

    def encode(self, ids, types, mask):
        t = ids.shape[1]
        x = self.word(ids) + self.pos.weight[:t] + self.token_type(types)
        x = F.dropout(self.ln(x), 0.1, self.training)
        bias = ((1 - mask.float()) * -1e9)[:, None, None, :]  # [B, 1, 1, T]
        for layer in self.layers:
            x = layer(x, bias)
        return x  # [B, T, H]

    def mlm_logits(self, rows):
        return self.mlm_ln(F.gelu(self.transform(rows))) @ self.word.weight.T + self.mlm_bias  # [N, V]


def main():
    c = json.loads(sys.argv[1])
    device = torch.device(c.get("device", "cpu"))
    torch.manual_seed(0)
    torch.set_num_threads(c.get("threads") or os.cpu_count() or 1)
    model = Bert(c).to(device).train()
    b, t, v = c["batch"], c["seq"], c["vocab"]
    ids = torch.randint(1000 if v > 2000 else 4, v, (b, t), device=device)
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    labels = torch.arange(b, device=device) % 2
    objective = c.get("objective", "classifier")
    if objective == "classifier":
        params = [p for n, p in model.named_parameters() if not n.startswith(("transform", "mlm_"))]
    else:
        params = [p for n, p in model.named_parameters() if not n.startswith(("pooler", "classifier"))]
    masked = torch.rand(b, t, device=device) < 0.15
    masked[:, 0] = False
    positions = masked.flatten().nonzero().squeeze(1)  # [N]
    word_ids = torch.tensor([v - 1, v - 2], device=device)

    def loss_fn():
        hidden = model.encode(ids, types, mask)  # [B, T, H]
        if objective == "classifier":
            pooled = torch.tanh(model.pooler(hidden[:, 0]))
            return F.cross_entropy(model.classifier(F.dropout(pooled, 0.1, True)), labels)
        if objective == "prompt":
            logits = model.mlm_logits(hidden[:, t - 2])  # [B, V]
            return F.cross_entropy(logits[:, word_ids], labels)
        rows = hidden.reshape(b * t, -1)[positions]  # [N, H]
        return F.cross_entropy(model.mlm_logits(rows), ids.flatten()[positions])

    decay = [p for p in params if p.dim() > 1]
    no_decay = [p for p in params if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=5e-5)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    for _ in range(c.get("warmup", 1)):
        step()
    times = []
    for _ in range(c.get("steps", 3)):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    print("RESULT " + json.dumps({
        "device": str(device),
        "deviceName": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "objective": objective,
        "stepMs": times,
        "medianMs": statistics.median(times),
        "meanMs": sum(times) / len(times),
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # reported to the caller, which records the case as skipped
        print("ERROR " + json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
