#!/usr/bin/env python3
"""Generates the small weights-I/O fixtures under tests/fixtures/checkpoint/.

Run once with Debian's python3-torch (1.13) and numpy:  /usr/bin/python3 scripts/golden/make_checkpoint_fixtures.py
The outputs are committed; neither torch nor python is needed at test time.

What it writes (all tiny, a few KB):
  pytorch_model.bin            torch.save of a mixed state dict: tied weights (two names, one storage), a view
                               with a storage offset, a transposed (non-contiguous) view, float16, bfloat16,
                               int64 and a 0-d scalar.
  parameter.bin                torch.save of an nn.Parameter (exercises torch._utils._rebuild_parameter).
  module_state_protocol4.bin   a real Module.state_dict() (with `_metadata`, set by BUILD) saved with pickle protocol 4.
  model_f32/_f16/_bf16.safetensors  safetensors written by hand (json header + raw bytes, no safetensors package)
                               from the float tensors of the same state dict, in three dtypes.
  sharded/                     a Hugging Face folder whose weights are split into two safetensors shards + index.
  malicious_system.bin         a torch-layout zip whose pickle would call os.system via __reduce__.
  malicious_eval.bin           same idea through builtins.eval, written with pickle protocol 4 opcodes.
  expected.json                every tensor as torch decodes it to float32, stored as uint32 bit patterns so that
                               NaN/inf/-0 survive JSON and comparisons can be bit-exact.
  f16_rounding.json            float32 inputs and numpy's float16 result (round-to-nearest-even), as bit patterns.
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'fixtures', 'checkpoint')
OUT = os.path.normpath(OUT)
os.makedirs(os.path.join(OUT, 'sharded'), exist_ok=True)

torch.manual_seed(1234)

SAFETENSORS_DTYPE = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64'}


def float32_bits(t):
    """Float32 bit patterns of a tensor after torch's own conversion to float32 (exact, JSON-safe)."""
    return t.detach().to(torch.float32).contiguous().numpy().view(np.uint32).reshape(-1).tolist()


def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer: 8-byte LE header length, JSON header padded with spaces to 8 bytes, raw LE data."""
    header = {}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()  # numpy has no bfloat16; reinterpret the 2-byte words
        else:
            raw = t.numpy().tobytes()
        header[name] = {'dtype': SAFETENSORS_DTYPE[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata is not None:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


# ---- the mixed state dict for pytorch_model.bin ----------------------------------------------------------------
word = torch.randn(8, 4)
backing = torch.randn(10)
special_half = torch.tensor([[1.0, -2.5, float('inf')], [-float('inf'), 6.0e-8, -0.0]], dtype=torch.float16)
special_half_nan = torch.tensor([float('nan'), 65504.0, 1.0e-4], dtype=torch.float16)
bf16 = (torch.randn(2, 3) * 1000).to(torch.bfloat16)

state = collections.OrderedDict()
state['bert.embeddings.word_embeddings.weight'] = word
state['bert.embeddings.position_ids'] = torch.arange(6, dtype=torch.int64).unsqueeze(0)
state['bert.embeddings.LayerNorm.gamma'] = torch.randn(4)
state['bert.encoder.layer.0.attention.self.query.weight'] = torch.randn(4, 4)
state['cls.predictions.decoder.weight'] = word  # tied: same storage as the word embeddings
state['sliced'] = backing[3:7]  # storage offset 3 into a 10-element storage
state['transposed'] = torch.randn(3, 5).t()  # shape [5, 3], strides (1, 5): not contiguous
state['half_weight'] = special_half
state['half_nan'] = special_half_nan
state['bf16_weight'] = bf16
state['scalar'] = torch.tensor(3.5)
torch.save(state, os.path.join(OUT, 'pytorch_model.bin'))
torch.save({'w': torch.nn.Parameter(torch.randn(2, 2))}, os.path.join(OUT, 'parameter.bin'))
parameter_value = torch.load(os.path.join(OUT, 'parameter.bin'))['w']
# A real Module.state_dict() carries a `_metadata` attribute (pickled with BUILD); protocol 4 adds FRAME, MEMOIZE,
# SHORT_BINUNICODE and STACK_GLOBAL, which newer writers may emit.
module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
module_state = module.state_dict()
torch.save(module_state, os.path.join(OUT, 'module_state_protocol4.bin'), pickle_protocol=4)

expected = {'pytorch_model.bin': {}, 'parameter.bin': {}}
for name, t in state.items():
    expected['pytorch_model.bin'][name] = {'shape': list(t.shape), 'f32_bits': float32_bits(t)}
expected['parameter.bin']['w'] = {'shape': [2, 2], 'f32_bits': float32_bits(parameter_value)}
expected['module_state_protocol4.bin'] = {n: {'shape': list(t.shape), 'f32_bits': float32_bits(t)} for n, t in module_state.items()}

# ---- safetensors in three dtypes from the float tensors ---------------------------------------------------------
float_tensors = collections.OrderedDict(
    (name, t) for name, t in state.items() if t.dtype == torch.float32
)
for dtype, tag in ((torch.float32, 'f32'), (torch.float16, 'f16'), (torch.bfloat16, 'bf16')):
    converted = collections.OrderedDict((name, t.to(dtype)) for name, t in float_tensors.items())
    file = f'model_{tag}.safetensors'
    write_safetensors(os.path.join(OUT, file), converted, {'format': 'pt', 'made_by': 'make_checkpoint_fixtures.py'})
    expected[file] = {name: {'shape': list(t.shape), 'f32_bits': float32_bits(t)} for name, t in converted.items()}

# ---- sharded folder ---------------------------------------------------------------------------------------------
names = list(float_tensors)
shards = {'model-00001-of-00002.safetensors': names[:3], 'model-00002-of-00002.safetensors': names[3:]}
weight_map = {}
total = 0
for file, shard_names in shards.items():
    write_safetensors(os.path.join(OUT, 'sharded', file),
                      collections.OrderedDict((n, float_tensors[n]) for n in shard_names), {'format': 'pt'})
    for n in shard_names:
        weight_map[n] = file
        total += float_tensors[n].numel() * 4
with open(os.path.join(OUT, 'sharded', 'model.safetensors.index.json'), 'w') as f:
    json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)
with open(os.path.join(OUT, 'sharded', 'config.json'), 'w') as f:
    json.dump({'model_type': 'bert', 'hidden_size': 4, 'num_hidden_layers': 1, 'vocab_size': 8}, f, indent=2)
with open(os.path.join(OUT, 'sharded', 'vocab.txt'), 'w') as f:
    f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s']) + '\n')
expected['sharded'] = {n: {'shape': list(float_tensors[n].shape), 'f32_bits': float32_bits(float_tensors[n])} for n in names}


# ---- malicious pickles: written, never loaded --------------------------------------------------------------------
class CallsSystem:
    def __reduce__(self):
        return (os.system, ('echo PWNED-by-pickle > /tmp/fewshot-pwned',))


def write_torch_like_zip(path, pickle_bytes, prefix='archive'):
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED) as z:
        z.writestr(f'{prefix}/data.pkl', pickle_bytes)
        z.writestr(f'{prefix}/version', '3\n')


# A real torch.save of a dict holding a tensor and the evil object (so the zip layout is genuine).
buffer = io.BytesIO()
torch.save(collections.OrderedDict([('ok.weight', torch.ones(2)), ('evil', CallsSystem())]), buffer)
with open(os.path.join(OUT, 'malicious_system.bin'), 'wb') as f:
    f.write(buffer.getvalue())


class CallsEval:
    def __reduce__(self):
        import builtins
        return (builtins.eval, ("__import__('os').system('echo PWNED')",))


write_torch_like_zip(os.path.join(OUT, 'malicious_eval.bin'), pickle.dumps({'x': CallsEval()}, protocol=4), prefix='evil_model')

# ---- float16 rounding reference from numpy -------------------------------------------------------------------------
rng = np.random.default_rng(7)
edge = np.array([
    0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 1e6, -1e6, float('inf'), -float('inf'),
    2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 2.0 ** -26, 3 * 2.0 ** -25, 1e-10,
    1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -11 + 2.0 ** -20, 2049.0, 2051.0, 0.1, 1 / 3,
    6.1e-5, 6.0e-5, 5.96e-8, -5.96e-8,
], dtype=np.float32)
randoms = np.concatenate([
    rng.standard_normal(300).astype(np.float32),
    (rng.standard_normal(200) * 1e-6).astype(np.float32),  # subnormal half range
    (rng.standard_normal(100) * 3e4).astype(np.float32),   # near overflow
])
inputs = np.concatenate([edge, randoms]).astype(np.float32)
nan_bits = np.array([0x7fc00000, 0xffc00000, 0x7f800001], dtype=np.uint32)  # quiet, negative quiet, signalling
with open(os.path.join(OUT, 'f16_rounding.json'), 'w') as f:
    json.dump({
        'input_f32_bits': inputs.view(np.uint32).tolist(),
        'expected_f16_bits': inputs.astype(np.float16).view(np.uint16).tolist(),
        'nan_input_f32_bits': nan_bits.tolist(),
    }, f)

with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump(expected, f, indent=1)
print('wrote fixtures to', OUT)
