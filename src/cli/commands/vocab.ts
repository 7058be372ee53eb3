import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { trainVocabulary, writeFileAtomic } from '../../engine/studio/node';
import { UsageError, intFlag, requireString, type ParsedArgs } from '../args';
import { printJson, wantsJson, type Command } from '../context';

/** Corpus paths from repeated --corpus flags and positional arguments (shared with `fewshot pretrain`). */
export function corpusPaths(args: ParsedArgs): string[] {
  const value = args.flags.corpus;
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return [...list, ...args.positionals];
}

/** `--out` names the vocab.txt to write; an existing folder (or a path ending in /) gets `vocab.txt` inside. */
async function outputPath(out: string): Promise<string> {
  if (out.endsWith('/')) return join(out, 'vocab.txt');
  const info = await stat(out).catch(() => null);
  return info?.isDirectory() ? join(out, 'vocab.txt') : out;
}

export const vocabCommand: Command = {
  name: 'vocab',
  summary: 'train a WordPiece vocabulary (vocab.txt) on .txt files, for `fewshot pretrain --preset ... --vocab`',
  usage: 'fewshot vocab --corpus PATH... --out FILE|DIR [--vocab-size 8000 --min-frequency 2 --max-alphabet 1000]',
  flags: {
    corpus: {
      type: 'string',
      multiple: true,
      placeholder: 'PATH',
      help: '.txt file or folder (recursively, *.txt); repeatable',
    },
    out: { type: 'string', placeholder: 'FILE', help: 'vocab.txt to write (a folder gets vocab.txt inside)' },
    'vocab-size': {
      type: 'string',
      placeholder: 'N',
      help: 'tokens in the vocabulary, special tokens included (default 8000)',
    },
    'min-frequency': {
      type: 'string',
      placeholder: 'N',
      help: 'least count of a merged pair or a kept character (default 2)',
    },
    'max-alphabet': {
      type: 'string',
      placeholder: 'N',
      help: 'most distinct characters kept; rarer ones become [UNK] (default 1000)',
    },
  },
  async run(args, io) {
    const paths = corpusPaths(args);
    if (paths.length === 0)
      throw new UsageError('Give the corpus: --corpus PATH (a .txt file or a folder of them), repeatable.');
    const out = await outputPath(requireString(args, 'out', 'the vocab.txt to write'));
    const vocabSize = intFlag(args, 'vocab-size', 8000, { min: 16, max: 1_000_000 });
    const started = performance.now();
    const trained = await trainVocabulary(paths, {
      vocabSize,
      minFrequency: intFlag(args, 'min-frequency', 2, { min: 1 }),
      maxAlphabet: intFlag(args, 'max-alphabet', 1000, { min: 1 }),
      onCounted: (c) =>
        io.stderr(
          `Counted ${c.words.toLocaleString('en-US')} words (${c.distinct.toLocaleString('en-US')} distinct) in ${c.description}; merging to ${vocabSize} tokens...\n`,
        ),
    });
    for (const w of trained.warnings) io.stderr(`warning: ${w}\n`);
    const { result, split } = trained;
    if (result.stoppedEarly) io.stderr(`warning: stopped at ${result.tokens.length} tokens: ${result.stoppedEarly}.\n`);
    await mkdir(dirname(out), { recursive: true });
    await writeFileAtomic(out, trained.vocabTxt, { what: 'vocabulary' });
    const summary = {
      out,
      vocabSize: result.tokens.length,
      alphabet: result.alphabet.length,
      droppedCharacters: result.droppedCharacters,
      merges: result.merges,
      stoppedEarly: result.stoppedEarly,
      corpus: trained.corpus,
      piecesPerWord: Number(split.piecesPerWord.toFixed(4)),
      unknownWordShare: Number(split.unknownShare.toFixed(6)),
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    };
    if (wantsJson(args)) printJson(io, summary);
    else {
      io.stdout(
        `Wrote ${out}: ${summary.vocabSize} tokens (${summary.alphabet} characters, ${summary.merges} merges) in ${summary.seconds} s.\n`,
      );
      io.stdout(
        `On its corpus: ${summary.piecesPerWord} pieces per word, ${(summary.unknownWordShare * 100).toFixed(4)} % of words [UNK].\n`,
      );
    }
    return 0;
  },
};
