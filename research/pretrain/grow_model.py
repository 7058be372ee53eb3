#!/usr/bin/env python3
"""Grows a pretrained BERT into a wider and deeper one that starts from what the small one learned.

Training a bigger default from scratch on 2 CPU cores throws away the ~99 M tokens the current
default has seen (research/PRETRAINING-LOG.md: BERT-mini from scratch was still at held-out loss 5.95 after
8 M tokens). Growing the trained model instead keeps that knowledge and adds capacity, the idea of
Net2Net (Chen et al. 2016) and bert2BERT (Chen et al. 2022); the code is ours.

Width (`--width-factor F`): every hidden unit, attention head and FFN unit of the source is copied F
times. Copies of one unit carry equal values, so each weight that reads them is divided by F (the sum
over the copies is the old sum), and LayerNorm sees F copies of the same vector, whose mean and
variance are the old ones: with `--noise 0` the grown model computes exactly the source's logits.
The MLM head's LayerNorm is divided by F as well, because the decoder is tied to the (copied) word
embeddings and reads F copies of each column.

Copies that start equal get equal gradients, and AdamW's per-weight normalisation keeps them equal
for ever (an uneven split of the reading weights is not enough under Adam), so the grown model would
never use its extra units. `--noise S` adds Gaussian noise of S times each weight matrix's standard
deviation, which breaks the tie at a small, measured cost at step 0 (the script prints it).

Depth (`--layers 0,1,0,1`): the grown encoder's layers are copies of the source's layers in this
order (stacking, as in Gong et al. 2019's progressive stacking). This is not function-preserving;
`torch_pretrain.py --evaluate` measures what it costs before training goes on.

  python3 research/pretrain/grow_model.py --source public/models/fewshot-tiny --width-factor 2 \
    --layers 0,1,0,1 --noise 0.01 --out /work/fewshot-pretrain/mini-grown

Then continue MLM pretraining with `torch_pretrain.py --template OUT --init`.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_pretrain import BertForMaskedLM, copy_tokenizer_files, read_safetensors, write_safetensors  # noqa: E402


def widen_out(t, factor):  # copies along dim 0: [O, ...] -> [O*F, ...], copy k of unit i at row k*O + i
    return torch.cat([t] * factor, dim=0)


def widen_in(w, factor):  # [O, I] -> [O, I*F], each copy reads 1/F of the old weight
    return torch.cat([w / factor] * factor, dim=1)


def grow_state(state, config, factor, layer_sources):
    """Returns the grown state dict (Hugging Face names) for `config` widened by `factor`, with the
    encoder's layer i copied from source layer layer_sources[i]. The tied decoder is left out: it is
    the word-embedding matrix, and loaders tie it (as torch_pretrain.py's export leaves it out)."""
    hidden = config['hidden_size']
    out = {}
    for name in ('word_embeddings', 'position_embeddings', 'token_type_embeddings'):  # [N, H] -> [N, H*F]
        out[f'bert.embeddings.{name}.weight'] = torch.cat([state[f'bert.embeddings.{name}.weight']] * factor, dim=1)
    for part in ('weight', 'bias'):
        out[f'bert.embeddings.LayerNorm.{part}'] = widen_out(state[f'bert.embeddings.LayerNorm.{part}'], factor)

    def linear(dst, src, wide_in=True, wide_out=True):
        w, b = state[f'{src}.weight'], state[f'{src}.bias']  # [O, I], [O]
        if wide_in:
            w = widen_in(w, factor)
        if wide_out:
            w, b = widen_out(w, factor), widen_out(b, factor)
        out[f'{dst}.weight'], out[f'{dst}.bias'] = w, b

    def layer_norm(dst, src, scale=1.0):
        for part in ('weight', 'bias'):
            out[f'{dst}.{part}'] = widen_out(state[f'{src}.{part}'], factor) * scale

    for new_index, old_index in enumerate(layer_sources):
        dst, src = f'bert.encoder.layer.{new_index}', f'bert.encoder.layer.{old_index}'
        # Q, K, V: heads are copied whole (the head size stays), so each copy's scores are the old head's.
        for proj in ('query', 'key', 'value'):
            linear(f'{dst}.attention.self.{proj}', f'{src}.attention.self.{proj}')
        linear(f'{dst}.attention.output.dense', f'{src}.attention.output.dense')  # reads the F head copies
        layer_norm(f'{dst}.attention.output.LayerNorm', f'{src}.attention.output.LayerNorm')
        linear(f'{dst}.intermediate.dense', f'{src}.intermediate.dense')
        linear(f'{dst}.output.dense', f'{src}.output.dense')
        layer_norm(f'{dst}.output.LayerNorm', f'{src}.output.LayerNorm')
    linear('bert.pooler.dense', 'bert.pooler.dense')
    linear('cls.predictions.transform.dense', 'cls.predictions.transform.dense')
    # The tied decoder sums F equal columns per hidden unit: scale its input by 1/F to keep the logits.
    layer_norm('cls.predictions.transform.LayerNorm', 'cls.predictions.transform.LayerNorm', 1.0 / factor)
    out['cls.predictions.bias'] = state['cls.predictions.bias'].clone()

    grown = dict(config, hidden_size=hidden * factor, intermediate_size=config['intermediate_size'] * factor,
                 num_attention_heads=config['num_attention_heads'] * factor, num_hidden_layers=len(layer_sources))
    return out, grown


def add_noise_(state, relative, generator):
    """Adds N(0, (relative * std(W))^2) to every weight matrix (not biases or LayerNorm), in place."""
    for tensor in state.values():
        if tensor.ndim >= 2:
            tensor.add_(torch.randn(tensor.shape, generator=generator) * (relative * float(tensor.std())))


def logits_of(state, config, ids):  # ids [B, T] -> MLM logits [B, T, V], dropout off
    model = BertForMaskedLM(dict(config, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith('classifier.')}, strict=False)
    model.eval()
    with torch.no_grad():
        hidden = model.bert(ids)  # [B, T, H]
        return model.cls.predictions(hidden.reshape(-1, hidden.shape[-1])).view(*ids.shape, -1)


def self_test():
    config = {'vocab_size': 40, 'hidden_size': 16, 'num_hidden_layers': 2, 'num_attention_heads': 2,
              'intermediate_size': 32, 'hidden_act': 'gelu', 'max_position_embeddings': 20, 'type_vocab_size': 2,
              'layer_norm_eps': 1e-12, 'hidden_dropout_prob': 0.0, 'attention_probs_dropout_prob': 0.0,
              'initializer_range': 0.3}  # a large init so the layers do visible work
    torch.manual_seed(0)
    source = BertForMaskedLM(config).state_dict()
    ids = torch.randint(5, 40, (3, 9))  # [B, T]
    ids[0, 6:] = 0  # padding is masked out of attention in both models
    before = logits_of(source, config, ids)
    for factor in (2, 3):
        grown, grown_config = grow_state(source, config, factor, [0, 1])
        assert grown_config['hidden_size'] == 16 * factor and grown_config['num_attention_heads'] == 2 * factor
        after = logits_of(grown, grown_config, ids)
        assert torch.allclose(before, after, atol=1e-4), float((before - after).abs().max())
    noisy = {k: v.clone() for k, v in grown.items()}
    add_noise_(noisy, 0.01, torch.Generator().manual_seed(1))
    half = 16  # a copy of unit 0 no longer reads exactly like unit 0: the tie is broken
    q = noisy['bert.encoder.layer.0.attention.self.query.weight']
    assert not torch.equal(q[0], q[half]) and not torch.equal(q[0], q[2 * half])
    drift = float((logits_of(noisy, grown_config, ids) - before).abs().max())
    assert 0 < drift < 0.5, drift
    deeper, deeper_config = grow_state(source, config, 2, [0, 1, 0, 1])
    assert deeper_config['num_hidden_layers'] == 4
    assert torch.equal(deeper['bert.encoder.layer.2.output.dense.weight'], deeper['bert.encoder.layer.0.output.dense.weight'])
    print('grow_model self-test passed', file=sys.stderr)


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--source', required=True, help='Hugging Face BERT folder (config.json, vocab.txt, model.safetensors)')
    p.add_argument('--out', required=True)
    p.add_argument('--width-factor', type=int, default=2)  # 2: tiny (H 128, 2 heads) -> mini width (H 256, 4 heads)
    p.add_argument('--layers', default=None, help='source layer of each grown layer, e.g. 0,1,0,1 (default: the source order)')
    p.add_argument('--noise', type=float, default=0.01)  # x each matrix's std: breaks the copies' tie, costs little
    p.add_argument('--seed', type=int, default=7)
    args = p.parse_args()

    for name in ('config.json', 'model.safetensors'):
        if not os.path.exists(os.path.join(args.source, name)):
            sys.exit(f'{os.path.join(args.source, name)} not found: --source must be a Hugging Face BERT folder '
                     '(config.json, vocab.txt, model.safetensors in F16 or F32)')
    with open(os.path.join(args.source, 'config.json')) as f:
        config = json.load(f)
    layers = config['num_hidden_layers']
    sources = [int(x) for x in args.layers.split(',')] if args.layers else list(range(layers))
    if any(i < 0 or i >= layers for i in sources):
        sys.exit(f'--layers {args.layers}: {args.source} has layers 0..{layers - 1}')
    if args.width_factor < 1:
        sys.exit('--width-factor must be 1 or more')
    state = read_safetensors(os.path.join(args.source, 'model.safetensors'))
    grown, grown_config = grow_state(state, config, args.width_factor, sources)
    if args.noise > 0:
        add_noise_(grown, args.noise, torch.Generator().manual_seed(args.seed))
    classifier_rows = len(config.get('id2label', {})) or 2
    grown['classifier.weight'] = torch.zeros(classifier_rows, grown_config['hidden_size'])  # fine-tuning replaces it
    grown['classifier.bias'] = torch.zeros(classifier_rows)

    os.makedirs(args.out, exist_ok=True)
    copy_tokenizer_files(args.source, args.out)
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(dict(grown_config, torch_dtype='float32'), f, indent=2)
    write_safetensors(os.path.join(args.out, 'model.safetensors'), grown, 'F32')
    with open(os.path.join(args.out, 'grow.json'), 'w') as f:
        json.dump({'source': args.source, 'widthFactor': args.width_factor, 'layers': sources,
                   'noise': args.noise, 'seed': args.seed}, f, indent=2)
    params = sum(v.numel() for v in grown.values())
    print(f'{args.out}: {grown_config["num_hidden_layers"]} layers, hidden {grown_config["hidden_size"]}, '
          f'{grown_config["num_attention_heads"]} heads, {params / 1e6:.2f} M parameters', file=sys.stderr)


if __name__ == '__main__':
    main()
