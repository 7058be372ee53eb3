/**
 * The CLI on a disk that fills up (a real 1 MiB tmpfs; needs root, skipped with a message
 * otherwise): `predict --output` exits 1 with a clear sentence and leaves the previous predictions
 * byte for byte, on both of its write paths (a whole file to CSV, texts to JSONL); `pretrain`
 * keeps its previous checkpoint whole when the next does not fit, and stops with a clear sentence
 * when its log cannot grow. Kill mid-write: src/engine/checkpoint/node-file.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GOLDEN_VOCAB, syntheticLines } from '../engine/pretrain/test-support';
import { readStateStep } from '../engine/studio/node';
import { runCli } from './test-support';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';

/** 600 rows of ~2,000 characters: their predictions (the text is repeated in the output) exceed 1 MiB. */
function bigInput(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'disk-full-input-')), 'texts.csv');
  const text = (i: number) => `${syntheticLines(60, i).join(' ')}`.slice(0, 2000);
  writeFileSync(path, `text\n${Array.from({ length: 600 }, (_, i) => text(i)).join('\n')}\n`);
  return path;
}

describe('the CLI on a full disk (a 1 MiB tmpfs)', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'cli-tmpfs-'));
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
  } catch {
    console.warn(`Cannot mount a tmpfs at ${mountPoint} (needs root): skipping the CLI disk-full tests.`);
  }
  afterEach(() => {
    for (const f of readdirSync(mountPoint)) rmSync(join(mountPoint, f), { recursive: true, force: true });
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
  });

  for (const format of ['csv', 'jsonl']) {
    it.skipIf(!mounted)(
      `predict --output pred.${format}: exit 1, a clear message, the previous file intact`,
      async () => {
        const output = join(mountPoint, `pred.${format}`);
        const previous = Buffer.from('row,text,predicted_label\n2,an earlier run,positive\n'.repeat(200));
        writeFileSync(output, previous);
        const result = await runCli(['predict', '--model', GOLDEN_DIR, '--input', bigInput(), '--output', output]);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(
            `\\nfewshot predict: Could not write ${output}: the disk is full; free some space or write elsewhere \\(ENOSPC\\)\\. ` +
              'The previous predictions file is unchanged\\. \\[OUTPUT_WRITE_FAILED\\]\\n$',
          ),
        );
        expect(result.stderr).not.toMatch(/\n\s+at /);
        expect(readFileSync(output).equals(previous)).toBe(true);
        expect(readdirSync(mountPoint)).toEqual([`pred.${format}`]);
      },
    );
  }

  function pretrainArgs(out: string): string[] {
    const corpus = join(mkdtempSync(join(tmpdir(), 'disk-full-corpus-')), 'corpus.txt');
    writeFileSync(corpus, `${syntheticLines(300, 1).join('\n')}\n`);
    return [
      'pretrain',
      ...['--corpus', corpus, '--out', out, '--preset', 'micro', '--vocab', GOLDEN_VOCAB],
      ...['--steps', '4', '--max-len', '32', '--batch-size', '4', '--held-out', '4', '--eval-every', '2'],
    ];
  }

  it.skipIf(!mounted)('pretrain: a checkpoint that does not fit leaves the previous one whole', async () => {
    // The micro model's checkpoint is ~580 KB: the one of step 2 fits, a second beside it does not.
    const out = join(mountPoint, 'out');
    const result = await runCli([...pretrainArgs(out), '--checkpoint-every-steps', '2']);
    expect(result.code).toBe(1);
    const checkpoint = join(out, 'checkpoint.safetensors');
    expect(result.stderr).toMatch(
      new RegExp(
        `\\nfewshot pretrain: Could not write ${checkpoint}: the disk is full; free some space or write elsewhere \\(ENOSPC\\)\\. ` +
          'The previous checkpoint is unchanged\\. \\[PRETRAIN_CHECKPOINT_WRITE_FAILED\\]\\n$',
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // The step-2 checkpoint, whole: it reads back as a complete training state.
    expect(await readStateStep(checkpoint)).toBe(2);
    expect(readdirSync(out).sort()).toEqual(['checkpoint.safetensors', 'pretrain_log.jsonl']);
  });

  it.skipIf(!mounted)('pretrain stops with a clear message when its log cannot grow', async () => {
    const out = join(mountPoint, 'out');
    mkdirSync(out);
    // Take every free block, so the first line appended to the log (at step 2) finds no room.
    const { bavail, bsize } = statfsSync(mountPoint);
    writeFileSync(join(mountPoint, 'filler'), new Uint8Array(bavail * bsize));
    const result = await runCli(pretrainArgs(out));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `\\nfewshot pretrain: Could not add to the log ${join(out, 'pretrain_log.jsonl')}: the disk is full; free some space or write elsewhere \\(ENOSPC\\)\\. ` +
          'No checkpoint was saved yet\\. \\[PRETRAIN_LOG_WRITE_FAILED\\]\\n$',
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(out)).toEqual(['pretrain_log.jsonl']);
  });
});
