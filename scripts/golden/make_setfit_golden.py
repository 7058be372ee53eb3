#!/usr/bin/env python3
"""Golden SetFit fixtures: the contrastive pair loss with its gradients, and the logistic-regression head.

Run once (outputs are committed; never needed at runtime or in CI):

    /usr/bin/python3 scripts/golden/make_setfit_golden.py   # Debian python3-torch + numpy

Independent of the TypeScript engine and of the setfit / sentence-transformers packages (not used):

(a) CosineSimilarityLoss, as the SetFit paper describes it: for a batch of sentence pairs (a, b) with target
    t (1 = same label, 0 = different labels), loss = mean_i (cos(u_i, v_i) - t_i)^2 where u, v are the pooled
    sentence embeddings of a and b. The encoder is the plain-matmul micro BERT of make_bert_golden.py
    (manual_encode, over leaf tensors so every Hugging Face parameter has its own gradient), checked against
    the torch.nn.TransformerEncoderLayer model; dropout off. Weights: tests/fixtures/golden-st (the
    sentence-transformers micro model), for its mean-pooling and CLS-pooling variants.
(b) Multinomial logistic regression with L2, sklearn's convention: minimise
        C * sum_i CE(softmax(W x_i + b), y_i) + 1/2 ||W||^2        (intercept b not penalised),
    here divided by C*N (same minimiser): mean CE + ||W||^2 / (2 C N). Solved in float64 with torch.optim.LBFGS
    (strong Wolfe line search) from zeros to a gradient max-norm below 1e-8; intercepts reported centred
    (sum 0: softmax is unchanged by a common shift, the penalty does not pin it down).

Writes tests/fixtures/golden-setfit/golden.json.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_bert_golden as mb  # noqa: E402
import make_sentence_transformers_golden as mst  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden-setfit")

PAIRS = [
    ("the cat sat on the mat .", "a small cat slept on the bed", 1.0),
    ("i loved this movie !", "this film was terrible", 0.0),
    ("a big dog ran down the road", "the dog ran up the road .", 1.0),
    ("good", "the old horse was sad and slow", 0.0),
    ("we liked the story", "they hated the book , it was awful", 0.0),
]
GRAD_NAMES = [
    "bert.embeddings.word_embeddings.weight",
    "bert.embeddings.LayerNorm.weight",
    "bert.encoder.layer.0.attention.self.query.weight",
    "bert.encoder.layer.0.attention.self.value.bias",
    "bert.encoder.layer.1.intermediate.dense.weight",
    "bert.encoder.layer.1.output.LayerNorm.bias",
]


def pair_loss_case(model, full, mode, max_len):
    rows_a = [mst.tokenize(a, max_len) for a, _, _ in PAIRS]
    rows_b = [mst.tokenize(b, max_len) for _, b, _ in PAIRS]
    rows = rows_a + rows_b  # [2B] rows: all a sides, then all b sides
    T = max(len(r) for r in rows)
    ids, types, mask = mb.batch_from([(r, [0] * len(r)) for r in rows], T)
    target = torch.tensor([t for _, _, t in PAIRS], dtype=torch.float32)
    B = len(PAIRS)
    leaf = {k: v.detach().clone().requires_grad_(True) for k, v in full.items() if k.startswith("bert.")}
    hidden = mb.manual_encode(leaf, mst.CONFIG, ids, types, mask)  # [2B, T, H]
    with torch.no_grad():
        ref = model.encode(ids, types, mask)
        diff = (ref - hidden).abs().max().item()
        assert diff < 1e-5, f"manual vs TransformerEncoderLayer differ by {diff}"
    pooled = mst.pool(hidden, mask, mode)  # [2B, H]
    cos = F.cosine_similarity(pooled[:B], pooled[B:], dim=1)  # [B]
    loss = F.mse_loss(cos, target)
    loss.backward()
    return {
        "pooling": mode,
        "max_length": max_len,
        "pairs": [{"a": a, "b": b, "target": t} for a, b, t in PAIRS],
        "input_ids_a": rows_a,
        "input_ids_b": rows_b,
        "cosine": [float(f"{v:.8g}") for v in cos.tolist()],
        "loss": float(loss.item()),
        "grads": {n: mb.t_json(leaf[n].grad) for n in GRAD_NAMES},
    }


def fit_logreg(X, y, K, C):
    """X [N, D] float64, y [N] -> (W [K, D], b [K], objective, gradient max-norm)."""
    N, D = X.shape
    W = torch.zeros(K, D, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(K, dtype=torch.float64, requires_grad=True)

    def objective():
        return F.cross_entropy(X @ W.T + b, y) + (W * W).sum() / (2 * C * N)

    opt = torch.optim.LBFGS([W, b], lr=1, max_iter=10000, tolerance_grad=1e-12, tolerance_change=1e-16,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = objective()
        f.backward()
        return f

    for _ in range(5):
        opt.step(closure)
    f = objective()
    gW, gb = torch.autograd.grad(f, [W, b])
    gnorm = max(gW.abs().max().item(), gb.abs().max().item())
    assert gnorm < 1e-8, gnorm
    with torch.no_grad():
        bc = b - b.mean()
    return W.detach(), bc, f.item(), gnorm


def head_cases():
    g = torch.Generator().manual_seed(7)
    cases = []
    for name, N, D, K, C, spread in [("three-classes-C1", 30, 6, 3, 1.0, 1.0),
                                     ("two-classes-C0.5", 20, 5, 2, 0.5, 0.8),
                                     ("four-classes-C10", 24, 8, 4, 10.0, 1.5)]:
        centres = spread * torch.randn(K, D, generator=g, dtype=torch.float64)
        y = torch.arange(N) % K
        X = centres[y] + torch.randn(N, D, generator=g, dtype=torch.float64)
        W, b, f, gnorm = fit_logreg(X, y, K, C)
        cases.append({
            "name": name, "C": C, "num_classes": K,
            "x": [[float(f"{v:.17g}") for v in row] for row in X.tolist()],
            "y": y.tolist(),
            "coef": [[float(f"{v:.17g}") for v in row] for row in W.tolist()],
            "intercept": [float(f"{v:.17g}") for v in b.tolist()],
            "objective": f,
            "grad_max_norm": gnorm,
        })
        print(name, "objective", f, "grad", gnorm)
    return cases


def main():
    torch.manual_seed(mb.SEED)
    model = mb.MicroBert(mst.CONFIG)
    mb.randomise(model)
    model.train(False)
    full = model.hf_state_dict()
    # Same weights as tests/fixtures/golden-st (rebuilt from the same seed): checked against its safetensors.
    st_sd = mb_read(os.path.join(ROOT, "tests", "fixtures", "golden-st", "mean-normalize", "model.safetensors"))
    for k, v in st_sd.items():
        assert torch.equal(full["bert." + k].detach().float(), v), k
    golden = {
        "description": "SetFit goldens from PyTorch (scripts/golden/make_setfit_golden.py): CosineSimilarityLoss "
                       "and gradients of one pair batch on tests/fixtures/golden-st (dropout off); multinomial "
                       "L2 logistic regression (sklearn's C convention, intercept unpenalised, centred) by LBFGS.",
        "torch_version": torch.__version__,
        "pair_loss": {
            "mean-normalize": pair_loss_case(model, full, "mean", 12),
            "cls": pair_loss_case(model, full, "cls", 16),
        },
        "head": head_cases(),
    }
    for k, v in golden["pair_loss"].items():
        print(k, "loss", v["loss"], "cos", v["cosine"])
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


def mb_read(path):
    import numpy as np
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, m in header.items():
        if k == "__metadata__":
            continue
        s, e = m["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[s:e], dtype="<f4").reshape(m["shape"]).copy())
    return out


if __name__ == "__main__":
    main()
