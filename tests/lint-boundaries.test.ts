/**
 * The layer arrows of docs/ARCHITECTURE.md ("Layers") are enforced by ESLint. These tests lint fixture sources as if
 * they lived in each layer and expect the boundary rule to fire (or not).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function lintFixtureAs(fixture: string, virtualPath: string) {
  const source = readFileSync(resolve('tests/fixtures/lint', fixture), 'utf8');
  const [result] = await eslint.lintText(source, { filePath: resolve(virtualPath) });
  return result.messages.map((m) => m.ruleId);
}

describe('layer boundaries', () => {
  it('fails when the UI imports engine code at runtime', async () => {
    expect(await lintFixtureAs('ui-imports-engine.ts.txt', 'src/ui/fixture.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
  });

  it('allows the UI to import engine types', async () => {
    expect(await lintFixtureAs('ui-imports-engine-type.ts.txt', 'src/ui/fixture.ts')).toEqual([]);
  });

  it('fails when the engine imports React', async () => {
    expect(await lintFixtureAs('engine-imports-react.ts.txt', 'src/engine/fixture.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
  });

  it('fails when the engine touches the DOM', async () => {
    expect(await lintFixtureAs('engine-uses-document.ts.txt', 'src/engine/fixture.ts')).toContain(
      'no-restricted-globals',
    );
  });

  it('fails when the worker imports the UI', async () => {
    expect(await lintFixtureAs('worker-imports-ui.ts.txt', 'src/worker/fixture.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
  });

  it('fails when the CLI imports the worker', async () => {
    expect(await lintFixtureAs('cli-imports-worker.ts.txt', 'src/cli/fixture.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
  });

  it('the worker and the CLI may import the engine door', async () => {
    expect(await lintFixtureAs('imports-engine-door.ts.txt', 'src/worker/fixture.ts')).toEqual([]);
    expect(await lintFixtureAs('imports-engine-door.ts.txt', 'src/cli/fixture.ts')).toEqual([]);
    expect(await lintFixtureAs('imports-engine-node-door.ts.txt', 'src/cli/commands/fixture.ts')).toEqual([]);
  });

  it('fails when the worker or the CLI import engine internals past the door', async () => {
    const rule = '@typescript-eslint/no-restricted-imports';
    expect(await lintFixtureAs('imports-engine-internal.ts.txt', 'src/worker/fixture.ts')).toContain(rule);
    expect(await lintFixtureAs('imports-engine-internal.ts.txt', 'src/cli/fixture.ts')).toContain(rule);
    // The UI's engine import (a runtime one) is internal too.
    expect(await lintFixtureAs('ui-imports-engine.ts.txt', 'src/worker/fixture.ts')).toContain(rule);
  });

  it('fails when the browser worker imports the Node entry of the door', async () => {
    expect(await lintFixtureAs('imports-engine-node-door.ts.txt', 'src/worker/fixture.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
  });
});
