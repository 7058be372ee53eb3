import { EngineError, type TruncationStrategy } from '../../engine/studio';
import { loadTokenizer } from '../../engine/studio/node';
import { UsageError, intFlag, stringFlag } from '../args';
import type { Command } from '../context';
import { readInputText } from '../io';

const STRATEGIES: TruncationStrategy[] = ['longest_first', 'only_first', 'only_second'];

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'tokenize JSONL ({"text", "text_pair"?} per line) into ids, type ids, tokens and offsets',
  usage:
    'fewshot tokenize (--model DIR | --tokenizer FILE) [--input FILE.jsonl] [--max-length N --truncation longest_first]',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'model folder with vocab.txt / tokenizer.json' },
    tokenizer: { type: 'string', placeholder: 'FILE', help: 'a tokenizer.json or vocab.txt' },
    input: { type: 'string', placeholder: 'FILE', help: 'JSONL input (default: stdin)' },
    'max-length': { type: 'string', placeholder: 'N', help: 'truncate to N tokens (special tokens included)' },
    truncation: {
      type: 'string',
      placeholder: 'STRATEGY',
      help: 'longest_first (default) | only_first | only_second',
    },
  },
  async run(args, io) {
    const modelDir = stringFlag(args, 'model');
    const file = stringFlag(args, 'tokenizer');
    if (!modelDir && !file) throw new UsageError('Give --model DIR or --tokenizer FILE (tokenizer.json or vocab.txt).');
    const tokenizer = await loadTokenizer({ modelDir, file });
    const strategy = (stringFlag(args, 'truncation') ?? 'longest_first') as TruncationStrategy;
    if (!STRATEGIES.includes(strategy)) throw new UsageError(`--truncation must be one of ${STRATEGIES.join(', ')}.`);
    const maxLength = stringFlag(args, 'max-length')
      ? intFlag(args, 'max-length', 512, { min: 2, max: 1_000_000 })
      : undefined;
    const source = stringFlag(args, 'input') ?? 'stdin';
    const lines = (await readInputText(stringFlag(args, 'input'))).split(/\r?\n/);
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      let record: { text?: unknown; text_pair?: unknown };
      try {
        record = JSON.parse(line);
      } catch {
        throw new EngineError(
          'TOKENIZE_BAD_JSONL',
          `${source} line ${i + 1} is not valid JSON. Each line must be an object like {"text": "...", "text_pair": "..."}.`,
        );
      }
      if (typeof record.text !== 'string')
        throw new EngineError('TOKENIZE_BAD_JSONL', `${source} line ${i + 1} has no string "text" field.`);
      const pair = typeof record.text_pair === 'string' ? record.text_pair : null;
      const enc = tokenizer.encode(record.text, pair, maxLength ? { truncation: strategy, maxLength } : {});
      io.stdout(
        `${JSON.stringify({ ids: enc.ids, type_ids: enc.tokenTypeIds, attention_mask: enc.attentionMask, tokens: enc.tokens, offsets: enc.offsets })}\n`,
      );
    }
    return 0;
  },
};
