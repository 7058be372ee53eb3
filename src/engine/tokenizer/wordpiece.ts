/**
 * The WordPiece model: splits one pre-tokenised word into vocabulary pieces, greedily taking the
 * longest prefix that is in the vocabulary, then the longest `##`-prefixed continuation, and so on.
 * Same algorithm as Hugging Face (`tokenizers` WordPiece and Python `WordpieceTokenizer`):
 * a word that cannot be covered completely becomes a single unknown token.
 */

/** Settings of the WordPiece model. */
export interface WordPieceConfig {
  /** Marks a piece that continues a word; "##" in every BERT vocabulary. */
  continuingSubwordPrefix: string;
  /** Words with more code points than this become one unknown token; HF's default is 100. */
  maxInputCharsPerWord: number;
  /** Most words cached (word → pieces) per generation; bounds memory on endless streams of distinct words. */
  cacheSize: number;
}

/**
 * Pieces of one word, flattened as [id, start, end, id, start, end, ...] where start/end are
 * UTF-16 offsets into the word ([start, end)). A flat array keeps cache entries small.
 */
export type WordPieces = readonly number[];

export class WordPiece {
  /**
   * Two-generation cache, an O(1) approximation of LRU: words are added to `recent`; when it is
   * full it becomes `older` (the previous `older` is dropped). A hit in `older` moves the word back
   * to `recent`, so words in steady use survive. (Evicting single entries from one big Map is slow
   * in V8: iterating from the start skips every deleted slot.)
   */
  private recent = new Map<string, WordPieces>();
  private older = new Map<string, WordPieces>();
  /** Longest vocab entry in UTF-16 units: no substring longer than this can match. */
  private readonly longestToken: number;

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    private readonly unkId: number,
    private readonly config: WordPieceConfig,
  ) {
    let longest = 0;
    for (const token of tokenToId.keys()) if (token.length > longest) longest = token.length;
    this.longestToken = longest;
  }

  /** Pieces for one normalised word (no whitespace, no punctuation inside). */
  tokenize(word: string): WordPieces {
    const cached = this.recent.get(word);
    if (cached !== undefined) return cached;
    const pieces = this.older.get(word) ?? this.split(word);
    if (this.recent.size >= this.config.cacheSize) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(word, pieces);
    return pieces;
  }

  /** Drops every cached word (e.g. to measure cold-cache speed). */
  clearCache(): void {
    this.recent.clear();
    this.older.clear();
  }

  private split(word: string): WordPieces {
    const length = word.length;
    const unknown = [this.unkId, 0, length];
    // Code points ≤ UTF-16 units, so only long words need the exact (slower) count.
    if (length > this.config.maxInputCharsPerWord && countCodePoints(word) > this.config.maxInputCharsPerWord) {
      return unknown;
    }
    const prefix = this.config.continuingSubwordPrefix;
    const pieces: number[] = [];
    let start = 0;
    while (start < length) {
      const prefixLength = start > 0 ? prefix.length : 0;
      // Substrings longer than the longest vocab entry cannot match; start the search below that.
      let end = Math.min(length, start + this.longestToken - prefixLength);
      let matchedId = -1;
      while (end > start) {
        const piece = start > 0 ? prefix + word.slice(start, end) : word.slice(start, end);
        const id = this.tokenToId.get(piece);
        if (id !== undefined) {
          matchedId = id;
          break;
        }
        // Step back one code point, never splitting a surrogate pair (Rust steps by `char`).
        end -=
          isLowSurrogate(word.charCodeAt(end - 1)) && end - 2 >= start && isHighSurrogate(word.charCodeAt(end - 2))
            ? 2
            : 1;
      }
      if (matchedId < 0) return unknown;
      pieces.push(matchedId, start, end);
      start = end;
    }
    return pieces;
  }
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Number of Unicode code points (what Rust's `chars().count()` returns). */
export function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    count++;
  }
  return count;
}
