/**
 * checkOutputFolder on a folder that a killed run left behind: the hidden temporary file of a
 * checkpoint or log write (writeFileAtomic) is ours, so `--resume` is not refused for it; the
 * temporary file of any other name is not.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputFolder } from './node';

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
