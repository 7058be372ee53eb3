#!/usr/bin/env python3
"""Golden parity fixtures for the tfjs BERT (src/engine/bert) from an INDEPENDENT PyTorch model.

Run once (outputs are committed; never needed at runtime or in CI):

    /usr/bin/python3 scripts/golden/make_bert_golden.py      # Debian python3-torch 1.13 + numpy

The micro BERT here is built from torch.nn.TransformerEncoderLayer (post-LN, exact erf GELU,
eps 1e-12), which computes exactly a BERT layer, plus hand-written embeddings, pooler, MLM head
and classifier. None of our TypeScript is involved. The script also re-computes the encoder with
plain matmuls and asserts the two agree, which checks the name mapping below.

Writes tests/fixtures/golden-micro/:
  model/config.json, vocab.txt, tokenizer_config.json, special_tokens_map.json,
  model/model.safetensors (F32, hand-written format), model/pytorch_model.bin (torch.save),
  golden.json (inputs, outputs, loss, gradients, fill-mask, 10-step AdamW trajectory).

Tensors in golden.json are {"shape": [...], "data": [flat row-major floats, 8 significant digits]}.
Gradients of weights are in PyTorch orientation (Linear.weight is [out, in]).
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden-micro")
MODEL_DIR = os.path.join(OUT, "model")

SEED = 1234
INIT_STD = 0.2  # large on purpose: outputs must not be near zero

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = (
    "the a an and or but of to in on at by for with from up down over under is was are were be "
    "been has have had do did not no yes this that these those it its he she they we you i me my "
    "your our their cat dog bird fish horse cow mouse lion tiger bear sat ran jumped slept ate saw "
    "liked loved hated found big small red blue green old new good bad happy sad fast slow hot cold "
    "house tree car road river sea sky sun moon day night food water milk bread apple mat hat box "
    "bed chair table door window book movie film story great terrible awful fine . , ! ?"
).split()
VOCAB = SPECIALS + WORDS
assert len(VOCAB) == len(set(VOCAB)), "duplicate vocab entry"
TOK = {w: i for i, w in enumerate(VOCAB)}
PAD, UNK, CLS, SEP, MASK = (TOK[s] for s in SPECIALS)

CONFIG = dict(
    vocab_size=len(VOCAB),
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    hidden_act="gelu",
    max_position_embeddings=64,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    initializer_range=0.02,
    pad_token_id=PAD,
)
LABELS = ["negative", "neutral", "positive"]


class MicroBert(nn.Module):
    """BERT for sequence classification + MLM head, built without Hugging Face."""

    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.c = c
        self.word = nn.Embedding(c["vocab_size"], h)
        self.pos = nn.Embedding(c["max_position_embeddings"], h)
        self.typ = nn.Embedding(c["type_vocab_size"], h)
        self.emb_ln = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model=h,
                nhead=c["num_attention_heads"],
                dim_feedforward=c["intermediate_size"],
                dropout=0.0,
                activation="gelu",
                layer_norm_eps=c["layer_norm_eps"],
                batch_first=True,
                norm_first=False,
            )
            for _ in range(c["num_hidden_layers"])
        )
        self.pooler = nn.Linear(h, h)
        self.mlm_dense = nn.Linear(h, h)
        self.mlm_ln = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.mlm_bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.classifier = nn.Linear(h, len(LABELS))

    def encode(self, ids, types, mask):
        B, T = ids.shape
        pos = torch.arange(T).unsqueeze(0).expand(B, T)
        x = self.emb_ln(self.word(ids) + self.pos(pos) + self.typ(types))  # [B, T, H]
        nh = self.c["num_attention_heads"]
        # Additive key mask, one [T, T] slab per (batch, head): 0 keep, -1e9 drop.
        add = (1.0 - mask.float()) * -1e9  # [B, T]
        attn_mask = add[:, None, None, :].expand(B, nh, T, T).reshape(B * nh, T, T)
        for layer in self.layers:
            x = layer(x, src_mask=attn_mask)
        return x

    def pool(self, hidden):
        return torch.tanh(self.pooler(hidden[:, 0]))

    def mlm(self, hidden):
        t = self.mlm_ln(F.gelu(self.mlm_dense(hidden)))
        return t @ self.word.weight.T + self.mlm_bias  # tied decoder

    def classify(self, hidden):
        return self.classifier(self.pool(hidden))

    def hf_state_dict(self):
        """Hugging Face names -> tensors (PyTorch orientation). decoder.weight IS word embeddings."""
        h = self.c["hidden_size"]
        sd = {}
        sd["bert.embeddings.word_embeddings.weight"] = self.word.weight
        sd["bert.embeddings.position_embeddings.weight"] = self.pos.weight
        sd["bert.embeddings.token_type_embeddings.weight"] = self.typ.weight
        sd["bert.embeddings.LayerNorm.weight"] = self.emb_ln.weight
        sd["bert.embeddings.LayerNorm.bias"] = self.emb_ln.bias
        for i, L in enumerate(self.layers):
            p = f"bert.encoder.layer.{i}."
            w, b = L.self_attn.in_proj_weight, L.self_attn.in_proj_bias
            for j, n in enumerate(["query", "key", "value"]):
                sd[p + f"attention.self.{n}.weight"] = w[j * h:(j + 1) * h]
                sd[p + f"attention.self.{n}.bias"] = b[j * h:(j + 1) * h]
            sd[p + "attention.output.dense.weight"] = L.self_attn.out_proj.weight
            sd[p + "attention.output.dense.bias"] = L.self_attn.out_proj.bias
            sd[p + "attention.output.LayerNorm.weight"] = L.norm1.weight
            sd[p + "attention.output.LayerNorm.bias"] = L.norm1.bias
            sd[p + "intermediate.dense.weight"] = L.linear1.weight
            sd[p + "intermediate.dense.bias"] = L.linear1.bias
            sd[p + "output.dense.weight"] = L.linear2.weight
            sd[p + "output.dense.bias"] = L.linear2.bias
            sd[p + "output.LayerNorm.weight"] = L.norm2.weight
            sd[p + "output.LayerNorm.bias"] = L.norm2.bias
        sd["bert.pooler.dense.weight"] = self.pooler.weight
        sd["bert.pooler.dense.bias"] = self.pooler.bias
        sd["cls.predictions.transform.dense.weight"] = self.mlm_dense.weight
        sd["cls.predictions.transform.dense.bias"] = self.mlm_dense.bias
        sd["cls.predictions.transform.LayerNorm.weight"] = self.mlm_ln.weight
        sd["cls.predictions.transform.LayerNorm.bias"] = self.mlm_ln.bias
        sd["cls.predictions.bias"] = self.mlm_bias
        sd["cls.predictions.decoder.weight"] = self.word.weight
        sd["classifier.weight"] = self.classifier.weight
        sd["classifier.bias"] = self.classifier.bias
        return sd


def manual_encode(sd, c, ids, types, mask):
    """Plain-matmul BERT encoder from the HF state dict: cross-checks the name mapping."""
    B, T = ids.shape
    h, nh = c["hidden_size"], c["num_attention_heads"]
    d = h // nh
    eps = c["layer_norm_eps"]
    g = lambda n: sd["bert." + n]
    lin = lambda x, n: x @ g(n + ".weight").T + g(n + ".bias")
    ln = lambda x, n: F.layer_norm(x, (h,), g(n + ".weight"), g(n + ".bias"), eps)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:T] \
        + g("embeddings.token_type_embeddings.weight")[types]
    x = ln(x, "embeddings.LayerNorm")
    add = ((1.0 - mask.float()) * -1e9)[:, None, None, :]
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        split = lambda t: t.view(B, T, nh, d).transpose(1, 2)
        q, k, v = (split(lin(x, p + f"attention.self.{n}")) for n in ["query", "key", "value"])
        probs = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5 + add, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, h)
        x = ln(x + lin(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        inter = F.gelu(lin(x, p + "intermediate.dense"))
        x = ln(x + lin(inter, p + "output.dense"), p + "output.LayerNorm")
    return x


def randomise(model):
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln" in name or "norm" in name:
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(INIT_STD * torch.randn(p.shape, generator=g))


def t_json(t):
    a = t.detach().cpu().double().numpy()
    return {"shape": list(a.shape), "data": [float(f"{v:.8g}") for v in a.reshape(-1)]}


def write_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for name, t in sd.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # pad header so data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def encode_text(text):
    return [CLS] + [TOK.get(w, UNK) for w in text.split()] + [SEP]


def batch_from(rows, T):
    """rows: list of (ids, types). Right-pads with [PAD] to T."""
    ids = torch.full((len(rows), T), PAD, dtype=torch.long)
    types = torch.zeros((len(rows), T), dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for r, (a, t) in enumerate(rows):
        ids[r, :len(a)] = torch.tensor(a)
        types[r, :len(t)] = torch.tensor(t)
        mask[r, :len(a)] = 1
    return ids, types, mask


def main():
    torch.manual_seed(SEED)
    os.makedirs(MODEL_DIR, exist_ok=True)
    c = CONFIG
    model = MicroBert(c)
    randomise(model)
    model.train(False)
    sd = model.hf_state_dict()

    # ---- fixed inputs: row 0 single sentence with padding, row 1 sentence pair (types 0/1)
    T = 12
    a0 = encode_text("the cat sat on the mat .")  # 9 tokens -> 3 pads
    p1a, p1b = encode_text("a big dog ran"), [TOK[w] for w in "down the road".split()] + [SEP]
    a1 = p1a + p1b  # 6 + 4 = 10 tokens -> 2 pads
    t1 = [0] * len(p1a) + [1] * len(p1b)
    ids, types, mask = batch_from([(a0, [0] * len(a0)), (a1, t1)], T)
    labels = torch.tensor([2, 0])

    hidden = model.encode(ids, types, mask)  # grad enabled: no fast path
    manual = manual_encode(sd, c, ids, types, mask)
    diff = (hidden - manual).abs().max().item()
    assert diff < 1e-5, f"TransformerEncoderLayer vs manual BERT differ by {diff}"
    pooled = model.pool(hidden)
    mlm = model.mlm(hidden)
    cls_logits = model.classify(hidden)
    loss = F.cross_entropy(cls_logits, labels)
    model.zero_grad()
    loss.backward()
    m = mask.unsqueeze(-1).float()
    mean_pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    grad_names = [
        "bert.embeddings.word_embeddings.weight",
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.0.attention.self.query.bias",
        "bert.encoder.layer.1.output.LayerNorm.weight",
        "bert.embeddings.LayerNorm.weight",
        "classifier.weight",
        "classifier.bias",
    ]
    # query.weight is a view into in_proj_weight: take the matching slice of that grad.
    h = c["hidden_size"]
    L0 = model.layers[0].self_attn
    grads = {
        "bert.embeddings.word_embeddings.weight": model.word.weight.grad,
        "bert.encoder.layer.0.attention.self.query.weight": L0.in_proj_weight.grad[:h],
        "bert.encoder.layer.0.attention.self.query.bias": L0.in_proj_bias.grad[:h],
        "bert.encoder.layer.1.output.LayerNorm.weight": model.layers[1].norm2.weight.grad,
        "bert.embeddings.LayerNorm.weight": model.emb_ln.weight.grad,
        "classifier.weight": model.classifier.weight.grad,
        "classifier.bias": model.classifier.bias.grad,
    }
    assert list(grads) == grad_names
    # Copy now: .grad tensors are zeroed and refilled in place by the training loop below.
    grads = {k: v.detach().clone() for k, v in grads.items()}

    # ---- fill-mask: one [MASK]; raw softmax over the whole vocabulary (specials included)
    # First candidate whose top-6 probabilities are well separated (ranking robust to 1e-4 noise).
    candidates = ["the dog ate the [MASK] .", "the cat sat on the [MASK] .", "i liked the [MASK] a lot .",
                  "she saw a [MASK] in the sky .", "the [MASK] was great ."]
    for fm_text in candidates:
        fm_ids = encode_text(fm_text)
        with torch.no_grad():
            fi = torch.tensor([fm_ids])
            fh = model.encode(fi, torch.zeros_like(fi), torch.ones_like(fi))
            pos = fm_ids.index(MASK)
            logits = model.mlm(fh)[0, pos]
            probs = torch.softmax(logits, -1)
            top = torch.topk(probs, 6)
        gaps = (top.values[:-1] - top.values[1:]).tolist()
        if min(gaps) > 1e-3:
            break
    else:
        raise AssertionError("no fill-mask candidate has well separated top-6 probabilities")
    fill_mask = {
        "text": fm_text,
        "input_ids": fm_ids,
        "mask_position": pos,
        "top5": [{"token": VOCAB[i], "token_id": int(i), "prob": float(f"{p:.8g}")}
                 for p, i in zip(top.values[:5].tolist(), top.indices[:5].tolist())],
        "logits_at_mask": t_json(logits),
    }

    # ---- write the checkpoint BEFORE training changes anything
    write_safetensors(os.path.join(MODEL_DIR, "model.safetensors"), sd)
    # torch.save keeps decoder.weight sharing storage with word embeddings, as HF files do.
    bin_sd = {k: v.detach().clone().contiguous() for k, v in sd.items()}
    bin_sd["cls.predictions.decoder.weight"] = bin_sd["bert.embeddings.word_embeddings.weight"]
    torch.save(bin_sd, os.path.join(MODEL_DIR, "pytorch_model.bin"))
    hf_config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        **c,
        "position_embedding_type": "absolute",
        "use_cache": True,
        "classifier_dropout": None,
        "id2label": {str(i): l for i, l in enumerate(LABELS)},
        "label2id": {l: i for i, l in enumerate(LABELS)},
        "torch_dtype": "float32",
        "transformers_version": "4.40.0",
    }
    with open(os.path.join(MODEL_DIR, "config.json"), "w") as f:
        json.dump(hf_config, f, indent=2)
        f.write("\n")
    with open(os.path.join(MODEL_DIR, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(MODEL_DIR, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": c["max_position_embeddings"],
                   "tokenizer_class": "BertTokenizer", "strip_accents": None,
                   "tokenize_chinese_chars": True, "unk_token": "[UNK]", "sep_token": "[SEP]",
                   "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}, f, indent=2)
        f.write("\n")
    with open(os.path.join(MODEL_DIR, "special_tokens_map.json"), "w") as f:
        json.dump({"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                   "cls_token": "[CLS]", "mask_token": "[MASK]"}, f, indent=2)
        f.write("\n")

    # ---- training trajectory: 10 AdamW steps on fixed classification batches, dropout off
    g = torch.Generator().manual_seed(SEED + 1)
    batches = []
    for _ in range(10):
        rows, labs = [], []
        for _ in range(4):
            n = int(torch.randint(2, 9, (1,), generator=g))  # words per sentence
            words = torch.randint(len(SPECIALS), len(VOCAB), (n,), generator=g).tolist()
            rows.append(([CLS] + words + [SEP], [0] * (n + 2)))
            labs.append(int(torch.randint(0, len(LABELS), (1,), generator=g)))
        bi, bt, bm = batch_from(rows, 10)
        batches.append({"input_ids": bi.tolist(), "token_type_ids": bt.tolist(),
                        "attention_mask": bm.tolist(), "labels": labs})
    hp = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}
    named = dict(model.named_parameters())
    trained = {k: v for k, v in named.items() if not k.startswith("mlm")}  # MLM head not in the loss
    no_decay = [v for k, v in trained.items() if k.endswith("bias") or "ln" in k or "norm" in k]
    decay = [v for k, v in trained.items() if not (k.endswith("bias") or "ln" in k or "norm" in k)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": hp["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=hp["lr"], betas=tuple(hp["betas"]), eps=hp["eps"])
    model.train(True)  # dropout is 0.0 everywhere, so train mode == eval mode numerically
    losses = []
    for b in batches:
        opt.zero_grad()
        bi, bt, bm = (torch.tensor(b[k]) for k in ("input_ids", "token_type_ids", "attention_mask"))
        out = model.classify(model.encode(bi, bt, bm))
        l = F.cross_entropy(out, torch.tensor(b["labels"]))
        l.backward()
        opt.step()
        losses.append(float(f"{l.item():.8g}"))

    golden = {
        "description": "Micro BERT golden values from PyTorch (scripts/golden/make_bert_golden.py). "
                       "Tensors: {shape, data(flat row-major)}. Weight gradients in PyTorch [out, in] "
                       "orientation. Attention mask: additive -1e9 on padded keys; padded query rows "
                       "are computed normally (compare all positions).",
        "torch_version": torch.__version__,
        "seed": SEED,
        "model_dir": "model",
        "inputs": {"input_ids": ids.tolist(), "token_type_ids": types.tolist(),
                   "attention_mask": mask.tolist(), "labels": labels.tolist(),
                   "texts": ["the cat sat on the mat .", ["a big dog ran", "down the road"]]},
        "last_hidden_state": t_json(hidden),
        "pooled_output": t_json(pooled),
        "mlm_logits": t_json(mlm),
        "classifier_logits": t_json(cls_logits),
        "mean_pooled": t_json(mean_pooled),
        "loss": float(f"{loss.item():.8g}"),
        "loss_kind": "cross_entropy mean over batch on classifier_logits vs inputs.labels",
        "grads": {k: t_json(v) for k, v in grads.items()},
        "fill_mask": fill_mask,
        "training": {
            "optimizer": "torch.optim.AdamW",
            **hp,
            "param_groups": "weight_decay 0.01 on all weights except biases and LayerNorm weights "
                            "(those 0.0); AdamW decoupled decay p -= lr*wd*p before the Adam update; "
                            "bias-corrected moments",
            "trained_params": "all of bert.* and classifier.* (cls.predictions.* not in the loss)",
            "grad_clipping": None,
            "lr_schedule": "constant",
            "dropout": 0.0,
            "loss": "cross_entropy mean over batch; losses[i] is the loss of batch i before step i",
            "batches": batches,
            "losses": losses,
        },
    }
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print("encoder check max diff", diff)
    print("loss", loss.item(), "fill-mask top5", [(t["token"], t["prob"]) for t in fill_mask["top5"]])
    print("training losses", losses)


if __name__ == "__main__":
    main()
