/**
 * checkOutputFolder on a folder that a killed run left behind: the hidden temporary file of a
 * checkpoint or log write (writeFileAtomic) is ours, so `--resume` is not refused for it; the
 * temporary file of any other name is not. And JSON files read by path fail with a clear error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputFolder, loadTokenizer, readPromptFromDir } from './node';

describe('checkOutputFolder', () => {
  it('accepts the leftovers of an interrupted write of our files, and only those', async () => {
    const out = mkdtempSync(join(tmpdir(), 'output-folder-'));
    for (const f of ['checkpoint.safetensors', 'pretrain_log.jsonl', '.checkpoint.safetensors.4242.0123abcd.partial'])
      writeFileSync(join(out, f), 'x');
    await expect(checkOutputFolder(out)).resolves.toBeUndefined();
    writeFileSync(join(out, '.notes.txt.4242.0123abcd.partial'), 'x');
    await expect(checkOutputFolder(out)).rejects.toMatchObject({
      code: 'OUT_NOT_EMPTY',
      message: expect.stringContaining('.notes.txt.4242.0123abcd.partial'),
    });
  });
});

describe('JSON files the CLI reads by path', () => {
  it('a broken config.json or tokenizer.json is an EngineError naming the file, not a SyntaxError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-json-'));
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bert",');
    writeFileSync(join(dir, 'tokenizer.json'), '{not json');
    await expect(readPromptFromDir(dir)).rejects.toMatchObject({
      code: 'CHECKPOINT_BAD_JSON',
      message: expect.stringContaining(join(dir, 'config.json')),
    });
    await expect(loadTokenizer({ file: join(dir, 'tokenizer.json') })).rejects.toMatchObject({
      code: 'CHECKPOINT_BAD_JSON',
    });
    await expect(loadTokenizer({ modelDir: dir })).rejects.toMatchObject({
      code: 'CHECKPOINT_BAD_JSON',
      message: expect.stringContaining('tokenizer.json'),
    });
  });
});
