/** Node-only prompt helpers. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPromptConfig, type PromptConfig } from './config';

/** The `fewshot_prompt` saved in DIR/config.json, or null. */
export async function readPromptFromDir(dir: string): Promise<PromptConfig | null> {
  return readPromptConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
}
