/**
 * Writing an exported folder is all-or-nothing: a second export replaces the whole folder (no file
 * of the previous one survives unless asked), a process killed mid-write and a disk that fills up
 * both leave the previous folder exactly as it was, and a swap interrupted between its two renames
 * is undone by the next load.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverFolder, writeFolder } from './node-dir';

const text = (s: string) => new TextEncoder().encode(s);
const listing = (dir: string) => readdirSync(dir).sort();

function previousExport(parent: string): string {
  const dir = join(parent, 'model');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"old": true}\n');
  writeFileSync(join(dir, 'model.safetensors'), 'old weights');
  writeFileSync(join(dir, 'metrics.json'), '{"old": true}\n');
  return dir;
}

describe('writeFolder', () => {
  it('replaces the whole folder; only the files asked for are carried over', async () => {
    const dir = previousExport(mkdtempSync(join(tmpdir(), 'write-folder-')));
    writeFileSync(join(dir, 'checkpoint.safetensors'), 'kept');
    await writeFolder(dir, new Map([['config.json', text('{"new": true}\n')]]), {
      preserve: (f) => f === 'checkpoint.safetensors',
    });
    expect(listing(dir)).toEqual(['checkpoint.safetensors', 'config.json']);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{"new": true}\n');
    expect(readFileSync(join(dir, 'checkpoint.safetensors'), 'utf8')).toBe('kept');
    // Nothing is left beside it.
    expect(readdirSync(resolve(dir, '..'))).toEqual(['model']);
  });

  it('a process killed mid-write leaves the previous folder exactly as it was', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'write-folder-kill-'));
    const dir = previousExport(parent);
    const before = listing(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/write-folder-child.ts', dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolveWritten, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('written') && resolveWritten());
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before writing`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(listing(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])).toEqual(before);
    // The half-written staging folder is tidied by the next write.
    expect(readdirSync(parent).length).toBe(2);
    await recoverFolder(dir);
    expect(readdirSync(parent)).toEqual(['model']);
  });

  it('a swap interrupted between its renames is undone: the previous folder comes back', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'write-folder-swap-'));
    const dir = previousExport(parent);
    renameSync(dir, join(parent, '.model.previous-1-1'));
    expect(existsSync(dir)).toBe(false);
    await recoverFolder(dir);
    expect(listing(dir)).toEqual(['config.json', 'metrics.json', 'model.safetensors']);
  });

  describe('on a disk that fills up (a 1 MiB tmpfs)', () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'write-folder-tmpfs-'));
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'ignore' });
      mounted = true;
    } catch {
      console.warn(`Cannot mount a tmpfs at ${mountPoint} (needs root): skipping the disk-full export test.`);
    }
    afterAll(() => {
      if (mounted) execFileSync('umount', [mountPoint]);
    });
    it.skipIf(!mounted)('the previous folder stays whole and the error says so', async () => {
      const dir = previousExport(mountPoint);
      const before = listing(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
      const big = new Map([
        ['config.json', text('{"new": true}\n')],
        ['model.safetensors', new Uint8Array(2 << 20)],
      ]);
      await expect(writeFolder(dir, big)).rejects.toMatchObject({
        code: 'EXPORT_WRITE_FAILED',
        message: expect.stringMatching(/ENOSPC.*The previous folder is unchanged/),
      });
      expect(listing(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])).toEqual(before);
      expect(readdirSync(mountPoint)).toEqual(['model']);
    });
  });
});
