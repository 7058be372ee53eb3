/**
 * Writing one file is all-or-nothing: the new content replaces the file whole, a process killed
 * mid-write and a write that fails part-way both leave the previous file byte for byte, the
 * temporary file of a killed writer is removed by the next write, and a path that cannot be
 * written is a clear EngineError. (A full disk, through the real CLI: src/cli/disk-full.test.ts.)
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { atomicTempTarget, writeFileAtomic } from './node-file';

const folder = (prefix: string) => mkdtempSync(join(tmpdir(), `write-file-${prefix}-`));

describe('writeFileAtomic', () => {
  it('replaces the content whole, keeps the permissions, and leaves nothing beside it', async () => {
    const dir = folder('replace');
    const path = join(dir, 'pred.csv');
    await writeFileAtomic(path, 'first\n');
    expect(readFileSync(path, 'utf8')).toBe('first\n');
    chmodSync(path, 0o640);
    await writeFileAtomic(path, new TextEncoder().encode('second, longer\n'));
    expect(readFileSync(path, 'utf8')).toBe('second, longer\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    await writeFileAtomic(path, '');
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(readdirSync(dir)).toEqual(['pred.csv']);
  });

  it('through a symlink, replaces the file it points to and keeps the link', async () => {
    const dir = folder('link');
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'pred.csv'), 'old');
    symlinkSync(join(dir, 'real', 'pred.csv'), join(dir, 'link.csv'));
    await writeFileAtomic(join(dir, 'link.csv'), 'new');
    expect(readFileSync(join(dir, 'real', 'pred.csv'), 'utf8')).toBe('new');
    expect(lstatSync(join(dir, 'link.csv')).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(dir, 'real'))).toEqual(['pred.csv']);
  });

  it('a write that fails part-way leaves the previous file and no temporary file', async () => {
    const dir = folder('fail');
    const path = join(dir, 'pred.csv');
    writeFileSync(path, 'previous\n');
    async function* failing() {
      yield 'row,text\n'.repeat(10_000);
      throw new Error('the source broke');
    }
    const error = await writeFileAtomic(path, failing()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({
      code: 'OUTPUT_WRITE_FAILED',
      message: `Could not write ${path}: the source broke. The previous file is unchanged.`,
    });
    expect(readFileSync(path, 'utf8')).toBe('previous\n');
    expect(readdirSync(dir)).toEqual(['pred.csv']);
  });

  it('a folder as the target, or a missing folder, is a clear EngineError and writes nothing', async () => {
    const dir = folder('errors');
    mkdirSync(join(dir, 'out.csv'));
    await expect(writeFileAtomic(join(dir, 'out.csv'), 'x', { what: 'predictions file' })).rejects.toMatchObject({
      code: 'OUTPUT_WRITE_FAILED',
      message: `Could not write ${join(dir, 'out.csv')}: it is a folder, not a predictions file; give a file name. Nothing was written.`,
    });
    const missing = join(dir, 'no', 'such', 'out.csv');
    await expect(writeFileAtomic(missing, 'x')).rejects.toMatchObject({
      code: 'OUTPUT_WRITE_FAILED',
      message: `Could not write ${missing}: the folder ${join(dir, 'no', 'such')} does not exist; create it first. Nothing was written.`,
    });
    expect(readdirSync(dir)).toEqual(['out.csv']);
    expect(readdirSync(join(dir, 'out.csv'))).toEqual([]);
  });

  it('a process killed mid-write leaves the previous file byte for byte; the next write tidies up', async () => {
    const dir = folder('kill');
    const path = join(dir, 'pred.csv');
    const previous = Buffer.from('row,text,predicted_label\n2,the old text,neg\n'.repeat(1000));
    writeFileSync(path, previous);
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/write-file-child.ts', path, '20000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolveExit) => child.on('exit', () => resolveExit()));
    await new Promise<void>((resolveWriting, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('writing') && resolveWriting());
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before writing`)));
    });
    // Mid-write: the first chunk is in the temporary file, the rest is still to come.
    const temps = readdirSync(dir).filter((f) => f !== 'pred.csv');
    expect(temps).toHaveLength(1);
    expect(atomicTempTarget(temps[0])).toBe('pred.csv');
    expect(temps[0]).toMatch(new RegExp(`^\\.pred\\.csv\\.${child.pid}\\.`));
    expect(statSync(join(dir, temps[0])).size).toBeGreaterThan(previous.length);
    child.kill('SIGKILL');
    await exited;

    expect(readFileSync(path).equals(previous)).toBe(true);
    // The killed writer's hidden temporary file is the only other thing there, and the next write
    // of the same file removes it.
    expect(readdirSync(dir).sort()).toEqual([temps[0], 'pred.csv']);
    await writeFileAtomic(path, 'new\n');
    expect(readdirSync(dir)).toEqual(['pred.csv']);
    expect(readFileSync(path, 'utf8')).toBe('new\n');
  });

  it('leaves the temporary files of live writers and of other files alone', async () => {
    const dir = folder('others');
    // process.ppid is alive (it started this worker); 2^22 + 1 is above Linux's largest pid.
    const live = `.pred.csv.${process.ppid}.0123abcd.partial`;
    const dead = `.pred.csv.${2 ** 22 + 1}.0123abcd.partial`;
    const other = `.other.csv.${2 ** 22 + 1}.0123abcd.partial`;
    for (const f of [live, dead, other]) writeFileSync(join(dir, f), 'partial');
    await writeFileAtomic(join(dir, 'pred.csv'), 'x');
    expect(readdirSync(dir).sort()).toEqual([live, other, 'pred.csv'].sort());
  });
});
