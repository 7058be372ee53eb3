import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EngineError } from '../../engine/errors';
import { CORPUS_START } from '../../engine/pretrain/corpus';
import { fileCorpusSource, listCorpusFiles } from '../../engine/pretrain/node-corpus';
import { BertTokenizer } from '../../engine/tokenizer';
import { WordCounter, splitStats, trainWordPiece } from '../../engine/tokenizer/wordpiece-trainer';
import { UsageError, intFlag, requireString } from '../args';
import { printJson, wantsJson, type Command } from '../context';
import { corpusPaths } from './pretrain';

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
    const minFrequency = intFlag(args, 'min-frequency', 2, { min: 1 });
    const maxAlphabet = intFlag(args, 'max-alphabet', 1000, { min: 1 });
    const started = performance.now();

    const { files, warnings } = await listCorpusFiles(paths);
    for (const w of warnings) io.stderr(`warning: ${w}\n`);
    const source = fileCorpusSource(files);
    const counter = new WordCounter();
    for await (const chunk of source.chunks(CORPUS_START)) counter.add(chunk.text);
    if (counter.totalWords === 0)
      throw new EngineError(
        'VOCAB_EMPTY_CORPUS',
        `${source.description} has no words: give text files with at least a few thousand words.`,
      );
    io.stderr(
      `Counted ${counter.totalWords.toLocaleString('en-US')} words (${counter.counts.size.toLocaleString('en-US')} distinct) in ${source.description}; merging to ${vocabSize} tokens...\n`,
    );

    const result = trainWordPiece(counter.counts, { vocabSize, minFrequency, maxAlphabet });
    if (result.stoppedEarly) io.stderr(`warning: stopped at ${result.tokens.length} tokens: ${result.stoppedEarly}.\n`);
    const text = `${result.tokens.join('\n')}\n`;
    await mkdir(dirname(out), { recursive: true });
    await writeFile(`${out}.partial`, text, 'utf8');
    await rename(`${out}.partial`, out);

    // How the new vocabulary splits the corpus it was trained on.
    const split = splitStats(BertTokenizer.fromVocabTxt(text), counter);
    const summary = {
      out,
      vocabSize: result.tokens.length,
      alphabet: result.alphabet.length,
      droppedCharacters: result.droppedCharacters,
      merges: result.merges,
      stoppedEarly: result.stoppedEarly,
      corpus: { files: files.length, words: counter.totalWords, distinctWords: counter.counts.size },
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
