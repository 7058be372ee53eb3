#!/usr/bin/env node
// The `fewshot` CLI. The engine is TypeScript; tsx compiles it on the fly so the CLI always runs
// exactly the code the studio runs, with no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
