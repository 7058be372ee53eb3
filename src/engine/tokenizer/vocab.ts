/**
 * WordPiece vocabularies: parsing `vocab.txt`, reading the vocab of a `tokenizer.json`, and the
 * checks that turn a bad file into an actionable `EngineError` instead of silently wrong ids.
 */
import { EngineError } from '../errors';

/** A validated vocabulary: token → id and id → token, ids dense from 0. */
export interface Vocab {
  /** Token string → id. */
  tokenToId: Map<string, number>;
  /** Id → token string; its length is the vocab size. */
  idToToken: string[];
}

/**
 * Parses `vocab.txt`: one token per line, the line index (0-based) is the id, as in Hugging Face's
 * `load_vocab`. One trailing newline ends the file rather than adding an empty token. Unlike HF we
 * also drop a trailing `\r`, so a vocab saved with Windows line endings still matches its tokens.
 */
export function parseVocabTxt(text: string): Vocab {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not part of the first token
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.every((line) => line.trim() === '')) {
    throw new EngineError('TOKENIZER_EMPTY_VOCAB', 'vocab.txt is empty: expected one WordPiece token per line.');
  }
  const tokenToId = new Map<string, number>();
  const idToToken: string[] = new Array(lines.length);
  for (let id = 0; id < lines.length; id++) {
    let token = lines[id];
    if (token.endsWith('\r')) token = token.slice(0, -1);
    const previous = tokenToId.get(token);
    if (previous !== undefined) {
      throw new EngineError(
        'TOKENIZER_DUPLICATE_TOKEN',
        `vocab.txt lists the token ${JSON.stringify(token)} twice, on lines ${previous + 1} and ${id + 1}; ` +
          'each line must be a distinct token because its line number is its id.',
      );
    }
    tokenToId.set(token, id);
    idToToken[id] = token;
  }
  return { tokenToId, idToToken };
}

/**
 * Builds a vocabulary from the `model.vocab` object of a `tokenizer.json` (token → id), plus the
 * `added_tokens` whose content is not in it. Ids must be unique and dense (0..n-1), otherwise the
 * model's embedding rows and the ids would not line up.
 */
export function vocabFromIdMap(entries: Iterable<[string, number]>, source: string): Vocab {
  const tokenToId = new Map<string, number>();
  const idToToken: string[] = [];
  const list = [...entries];
  for (const [token, id] of list) {
    if (!Number.isInteger(id) || id < 0) {
      throw new EngineError(
        'TOKENIZER_BAD_VOCAB',
        `${source}: token ${JSON.stringify(token)} has invalid id ${String(id)}.`,
      );
    }
    // Dense ids are all below the number of entries. Checked here because an id of 2^32 - 1 or more
    // is not an array index: it would be kept in tokenToId but silently missing from idToToken.
    if (id >= list.length) {
      throw new EngineError(
        'TOKENIZER_BAD_VOCAB',
        `${source}: token ${JSON.stringify(token)} has id ${id}, but there are only ${list.length} entries; ids must run from 0 without gaps.`,
      );
    }
    const existingToken = idToToken[id];
    if (existingToken !== undefined && existingToken !== token) {
      throw new EngineError(
        'TOKENIZER_DUPLICATE_TOKEN',
        `${source}: id ${id} is used by both ${JSON.stringify(existingToken)} and ${JSON.stringify(token)}.`,
      );
    }
    const existingId = tokenToId.get(token);
    if (existingId !== undefined && existingId !== id) {
      throw new EngineError(
        'TOKENIZER_DUPLICATE_TOKEN',
        `${source}: token ${JSON.stringify(token)} has two ids, ${existingId} and ${id}.`,
      );
    }
    tokenToId.set(token, id);
    idToToken[id] = token;
  }
  if (idToToken.length === 0) {
    throw new EngineError('TOKENIZER_EMPTY_VOCAB', `${source}: the vocabulary is empty.`);
  }
  for (let id = 0; id < idToToken.length; id++) {
    if (idToToken[id] === undefined) {
      throw new EngineError(
        'TOKENIZER_BAD_VOCAB',
        `${source}: no token has id ${id} (vocab size ${idToToken.length}); ids must run from 0 without gaps.`,
      );
    }
  }
  return { tokenToId, idToToken };
}

/** Throws one error naming every required token that the vocabulary lacks. */
export function assertTokensInVocab(vocab: Vocab, required: { role: string; token: string }[], source: string): void {
  const missing = required.filter(({ token }) => !vocab.tokenToId.has(token));
  if (missing.length === 0) return;
  const list = missing.map(({ role, token }) => `${token} (${role})`).join(', ');
  throw new EngineError(
    'TOKENIZER_MISSING_SPECIAL_TOKENS',
    `${source} lacks the special token${missing.length > 1 ? 's' : ''} ${list}; ` +
      'add them to the vocabulary or set the matching *_token in tokenizer_config.json.',
  );
}

/** `vocab.txt` text for a vocabulary: one token per line in id order, newline-terminated. */
export function vocabToTxt(vocab: Vocab): string {
  const multiLine = vocab.idToToken.findIndex((token) => token.includes('\n') || token.includes('\r'));
  if (multiLine >= 0) {
    throw new EngineError(
      'TOKENIZER_BAD_VOCAB',
      `Token ${multiLine} (${JSON.stringify(vocab.idToToken[multiLine])}) contains a line break and cannot be written to vocab.txt; export tokenizer.json instead.`,
    );
  }
  return vocab.idToToken.join('\n') + '\n';
}
