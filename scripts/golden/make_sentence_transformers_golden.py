#!/usr/bin/env python3
"""Golden sentence-embedding fixtures: a micro BERT in sentence-transformers layout, run by PyTorch.

Run once (outputs are committed; never needed at runtime or in CI):

    /usr/bin/python3 scripts/golden/make_sentence_transformers_golden.py   # Debian python3-torch + numpy

The encoder is the independent PyTorch micro BERT of make_bert_golden.py (torch.nn.TransformerEncoderLayer,
cross-checked against plain matmuls), here with max_position_embeddings 16. The sentence-transformers
package is not used: the pooling modes (CLS token, attention-masked mean, attention-masked max) and the
Normalize module (L2) are written below, as the sentence-transformers folder format defines them.

Writes tests/fixtures/golden-st/:
  mean-normalize/  Transformer + Pooling(mean) + Normalize, sentence_bert_config max_seq_length 12
  cls/             Transformer + Pooling(cls), max_seq_length 64 (more than the model's 16: capped)
  max/             Transformer + Pooling(max), no sentence_bert_config.json (the model's 16)
  each with config.json (BertModel), model.safetensors (names without "bert.", as BertModel saves
  them), vocab.txt, tokenizer_config.json, special_tokens_map.json, modules.json, 1_Pooling/config.json;
  golden.json with each variant's token ids (after truncation) and embeddings.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_bert_golden as mb  # noqa: E402  (same folder: the micro BERT and file writers)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden-st")
MAX_POS = 16
CONFIG = {**mb.CONFIG, "max_position_embeddings": MAX_POS}

TEXTS = [
    "the cat sat on the mat .",
    "a big dog ran down the road",
    "i loved this movie !",
    # 18 words: 20 tokens, longer than every variant's limit; "man" and "fly" are not in the vocabulary.
    "the old man saw a red bird fly over the green tree by the river at night .",
    "good",
]
UNKNOWN = {"man", "fly"}

VARIANTS = [
    # name, pooling mode, Normalize module, sentence_bert_config.json (None = file absent)
    ("mean-normalize", "mean", True, {"max_seq_length": 12, "do_lower_case": False}),
    ("cls", "cls", False, {"max_seq_length": 64, "do_lower_case": False}),
    ("max", "max", False, None),
]


def tokenize(text, max_len):
    words = text.split()
    for w in words:
        if w in UNKNOWN:
            # WordPiece gives [UNK] only when no prefix of the word is in the vocabulary (no ## pieces here).
            assert not any(w[:k] in mb.TOK for k in range(1, len(w) + 1)), w
        else:
            assert w in mb.TOK, w
    ids = [mb.TOK.get(w, mb.UNK) for w in words]
    return [mb.CLS] + ids[: max_len - 2] + [mb.SEP]


def pool(hidden, mask, mode):
    """hidden [B, T, H], mask [B, T] (1 real token, 0 padding) -> [B, H]."""
    m = mask.unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
    if mode == "cls":
        return hidden[:, 0]
    if mode == "mean":
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    if mode == "max":
        return hidden.masked_fill(m == 0, -1e9).max(1).values
    raise ValueError(mode)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def pooling_config(mode):
    return {
        "word_embedding_dimension": CONFIG["hidden_size"],
        "pooling_mode_cls_token": mode == "cls",
        "pooling_mode_mean_tokens": mode == "mean",
        "pooling_mode_max_tokens": mode == "max",
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }


def main():
    torch.manual_seed(mb.SEED)
    model = mb.MicroBert(CONFIG)
    mb.randomise(model)
    model.train(False)
    full = model.hf_state_dict()
    # BertModel (what sentence-transformers saves as module 0): encoder and pooler, no heads, no "bert.".
    sd = {k[len("bert."):]: v for k, v in full.items() if k.startswith("bert.")}

    golden = {
        "description": "Sentence embeddings of a micro BERT in sentence-transformers layout, from PyTorch "
                       "(scripts/golden/make_sentence_transformers_golden.py). All texts of a variant run as "
                       "one right-padded batch; embeddings {shape, data(flat row-major)}.",
        "torch_version": torch.__version__,
        "texts": TEXTS,
        "variants": {},
    }
    for name, mode, normalize, sbc in VARIANTS:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        mb.write_safetensors(os.path.join(d, "model.safetensors"), sd)
        write_json(os.path.join(d, "config.json"), {
            "architectures": ["BertModel"], "model_type": "bert", **CONFIG,
            "position_embedding_type": "absolute", "torch_dtype": "float32",
            "transformers_version": "4.40.0",
        })
        with open(os.path.join(d, "vocab.txt"), "w") as f:
            f.write("\n".join(mb.VOCAB) + "\n")
        write_json(os.path.join(d, "tokenizer_config.json"), {
            "do_lower_case": True, "model_max_length": MAX_POS, "tokenizer_class": "BertTokenizer",
            "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
            "mask_token": "[MASK]"})
        write_json(os.path.join(d, "special_tokens_map.json"), {
            "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
            "mask_token": "[MASK]"})
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ]
        if normalize:
            modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                            "type": "sentence_transformers.models.Normalize"})
        write_json(os.path.join(d, "modules.json"), modules)
        write_json(os.path.join(d, "1_Pooling", "config.json"), pooling_config(mode))
        if sbc is not None:
            write_json(os.path.join(d, "sentence_bert_config.json"), sbc)
        if name == "mean-normalize":
            # Written by sentence-transformers too; informational, the studio does not need it.
            write_json(os.path.join(d, "config_sentence_transformers.json"), {
                "__version__": {"sentence_transformers": "3.0.1", "transformers": "4.40.0",
                                "pytorch": "2.3.0"},
                "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"})

        max_len = min(sbc["max_seq_length"] if sbc else MAX_POS, MAX_POS)
        rows = [tokenize(t, max_len) for t in TEXTS]
        T = max(len(r) for r in rows)
        ids, types, mask = mb.batch_from([(r, [0] * len(r)) for r in rows], T)
        with torch.no_grad():
            hidden = model.encode(ids, types, mask)  # [B, T, H]
            manual = mb.manual_encode(full, CONFIG, ids, types, mask)
            diff = (hidden - manual).abs().max().item()
            assert diff < 1e-5, f"TransformerEncoderLayer vs manual BERT differ by {diff}"
            emb = pool(hidden, mask, mode)  # [B, H]
            if normalize:
                emb = F.normalize(emb, p=2, dim=1)
        golden["variants"][name] = {
            "dir": name, "pooling": mode, "normalize": normalize, "max_length": max_len,
            "input_ids": rows, "embeddings": mb.t_json(emb),
        }
        print(name, "max_len", max_len, "encoder check", diff, "norm of row 0", emb[0].norm().item())
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
