/**
 * Bytes → text, incrementally, for dataset files.
 *
 * The first bytes decide: a UTF-16 BOM selects UTF-16; known binary signatures (PNG, ZIP/XLSX,
 * PDF, …), NUL bytes or many control bytes in the first KiB are a `DATA_BINARY` error; else the
 * bytes are checked as UTF-8 by a hand-written validator (it knows the byte offset of the first
 * bad sequence, which `TextDecoder({fatal})` does not tell). What happens at a bad sequence
 * depends on `EncodingMode` (see types.ts); the decision is made once and holds for the rest of
 * the file. Because an ASCII prefix reads the same in UTF-8 and windows-1252, switching to
 * windows-1252 at the first bad byte gives exactly the text a whole-file windows-1252 decode
 * would.
 */
import { EngineError } from '../errors';
import type { DatasetEncoding, DataWarning, EncodingMode } from './types';

/** Bytes inspected for binary content (the task asks for "the first KB"). */
export const SNIFF_BYTES = 1024;
/** More than this share of control bytes (other than tab, LF, CR, FF) in the sniffed bytes means binary. */
const MAX_CONTROL_RATIO = 0.1;

/** Signatures of file types users drop by mistake, with what to tell them. */
const SIGNATURES: { magic: number[]; what: string }[] = [
  { magic: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { magic: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { magic: [0x25, 0x50, 0x44, 0x46, 0x2d], what: 'a PDF document' },
  { magic: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (an .xlsx/.docx file is one)' },
  { magic: [0xd0, 0xcf, 0x11, 0xe0], what: 'an old Office file (.xls/.doc)' },
  { magic: [0x1f, 0x8b], what: 'a gzip archive' },
  { magic: [0x50, 0x41, 0x52, 0x31], what: 'a Parquet file' },
];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((b, i) => bytes[i] === b);
}

/** Throws `DATA_BINARY` if the first bytes are not text. */
export function assertText(head: Uint8Array, fileName: string, sniffBytes = SNIFF_BYTES): void {
  const fix = 'Export your data as CSV, TSV or JSONL text (UTF-8) and drop that file instead.';
  for (const s of SIGNATURES) {
    if (startsWith(head, s.magic))
      throw new EngineError('DATA_BINARY', `${fileName} is ${s.what}, not a text dataset. ${fix}`);
  }
  const n = Math.min(head.length, sniffBytes);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) {
      throw new EngineError(
        'DATA_BINARY',
        `${fileName} looks binary, not text: it has a NUL byte at offset ${i}. ${fix} (A UTF-16 file needs a byte-order mark; re-save it as UTF-8.)`,
      );
    }
    // Tab, LF, FF, CR are normal in text; ESC (27) and DEL (127) and the rest are not.
    if ((b < 32 && b !== 9 && b !== 10 && b !== 12 && b !== 13) || b === 127) control++;
  }
  if (n > 0 && control / n > MAX_CONTROL_RATIO) {
    throw new EngineError(
      'DATA_BINARY',
      `${fileName} looks binary, not text: ${control} of its first ${n} bytes are control characters. ${fix}`,
    );
  }
}

export interface Utf8Scan {
  /** Index of the first byte of the first invalid sequence, or -1. */
  invalidAt: number;
  /** End of the last complete sequence (bytes after it may be the start of a split sequence). */
  completeEnd: number;
  /** Whether a valid multi-byte sequence occurs before `invalidAt` (or `completeEnd`). */
  sawMultiByte: boolean;
  /** LF bytes before `invalidAt` (or `completeEnd`). */
  newlines: number;
}

/**
 * Validates UTF-8 as the WHATWG decoder does (no overlongs, no surrogates, ≤ U+10FFFF). A
 * sequence cut off by the end of `bytes` is not invalid: `completeEnd` stops before it, so the
 * caller can carry it into the next chunk (or call it invalid at end of file).
 */
export function scanUtf8(bytes: Uint8Array): Utf8Scan {
  let i = 0;
  let newlines = 0;
  let sawMultiByte = false;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === 10) newlines++;
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong otherwise
      if (b === 0xed) hi = 0x9f; // surrogates otherwise
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong otherwise
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF otherwise
    } else return { invalidAt: i, completeEnd: i, sawMultiByte, newlines };
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return { invalidAt: -1, completeEnd: i, sawMultiByte, newlines };
      const c = bytes[i + k];
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return { invalidAt: i, completeEnd: i, sawMultiByte, newlines };
    }
    sawMultiByte = true;
    i += need + 1;
  }
  return { invalidAt: -1, completeEnd: n, sawMultiByte, newlines };
}

type Mode = 'sniff' | 'utf-8' | 'utf-8-lossy' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/**
 * Incremental decoder: `push(bytes)` returns the text decoded so far (it may hold back up to 3
 * bytes of a split sequence, and the first `SNIFF_BYTES` until it has seen them); `end()`
 * flushes. Warnings (e.g. the windows-1252 fallback) collect in `warnings`.
 */
export class DatasetDecoder {
  readonly warnings: DataWarning[] = [];
  private mode: Mode = 'sniff';
  /** Bytes held back: the sniff buffer, or an incomplete UTF-8 sequence. */
  private pending: Uint8Array = new Uint8Array(0);
  /** Bytes already consumed before `pending` (absolute offset of `pending[0]`). */
  private consumed = 0;
  /** LF count before `pending[0]` while in strict/auto UTF-8 (for line numbers in messages). */
  private lines = 0;
  private sawMultiByte = false;
  private textDecoder: TextDecoder | null = null;
  /** Bytes pushed so far. */
  bytes = 0;

  constructor(
    private readonly fileName: string,
    private readonly policy: EncodingMode = 'auto',
    /** Bytes gathered before the binary check and the choice of encoding. */
    private readonly sniffBytes: number = SNIFF_BYTES,
  ) {}

  /** Encoding in effect (utf-8 until something else is chosen). */
  get encoding(): DatasetEncoding {
    if (this.mode === 'utf-16le' || this.mode === 'utf-16be' || this.mode === 'windows-1252') return this.mode;
    return 'utf-8';
  }

  push(chunk: Uint8Array): string {
    this.bytes += chunk.length;
    return this.feed(chunk, false);
  }

  end(): string {
    return this.feed(new Uint8Array(0), true);
  }

  private feed(chunk: Uint8Array, final: boolean): string {
    let buf = chunk;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
      this.pending = new Uint8Array(0);
    }
    if (this.mode === 'sniff') {
      // Wait for enough bytes to tell text from binary (or for the end of the file).
      if (buf.length < Math.max(4, this.sniffBytes) && !final) {
        this.pending = buf;
        return '';
      }
      buf = this.chooseMode(buf);
    }
    switch (this.mode) {
      case 'utf-16le':
      case 'utf-16be':
      case 'windows-1252':
      case 'utf-8-lossy':
        return this.textDecoder!.decode(buf, { stream: !final });
      default:
        return this.decodeUtf8(buf, final);
    }
  }

  /** Picks the mode from the first bytes; returns them without any BOM. */
  private chooseMode(head: Uint8Array): Uint8Array {
    if (head.length === 0) {
      throw new EngineError(
        'DATA_EMPTY',
        `${this.fileName} is empty (0 bytes). Choose a CSV, TSV or JSONL file with a header row and at least one data row.`,
      );
    }
    if (head[0] === 0xff && head[1] === 0xfe) return this.useDecoder('utf-16le', head, 2);
    if (head[0] === 0xfe && head[1] === 0xff) return this.useDecoder('utf-16be', head, 2);
    const utf8Bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    assertText(utf8Bom ? head.subarray(3) : head, this.fileName, Math.max(SNIFF_BYTES, this.sniffBytes));
    if (this.policy === 'windows-1252') return this.useDecoder('windows-1252', head, 0);
    this.mode = 'utf-8';
    this.textDecoder = new TextDecoder('utf-8');
    if (utf8Bom) {
      this.consumed = 3;
      return head.subarray(3);
    }
    return head;
  }

  private useDecoder(mode: 'utf-16le' | 'utf-16be' | 'windows-1252', head: Uint8Array, skip: number): Uint8Array {
    this.mode = mode;
    this.textDecoder = new TextDecoder(mode);
    this.consumed = skip;
    return head.subarray(skip);
  }

  private decodeUtf8(buf: Uint8Array, final: boolean): string {
    const scan = scanUtf8(buf);
    this.sawMultiByte ||= scan.sawMultiByte;
    // A sequence cut off by the end of the file is invalid too.
    const invalidAt =
      scan.invalidAt >= 0 ? scan.invalidAt : final && scan.completeEnd < buf.length ? scan.completeEnd : -1;
    if (invalidAt < 0) {
      const text = this.textDecoder!.decode(buf.subarray(0, scan.completeEnd));
      this.pending = buf.slice(scan.completeEnd);
      this.consumed += scan.completeEnd;
      this.lines += scan.newlines;
      return text;
    }
    const offset = this.consumed + invalidAt;
    const line = this.lines + scan.newlines + 1;
    const where = `byte offset ${offset} (line ${line}, byte 0x${buf[invalidAt].toString(16).padStart(2, '0').toUpperCase()})`;
    if (this.policy === 'utf-8') {
      throw new EngineError(
        'DATA_NOT_UTF8',
        `${this.fileName} is not valid UTF-8: the first bad byte sequence is at ${where}. Re-save the file as UTF-8 (in Excel: "CSV UTF-8"; in most editors: Save with encoding → UTF-8) and load it again.`,
      );
    }
    if (!this.sawMultiByte) {
      // Everything before the bad byte is ASCII, so it reads the same in windows-1252.
      this.mode = 'windows-1252';
      this.textDecoder = new TextDecoder('windows-1252');
      this.warnings.push({
        code: 'DATA_WINDOWS_1252',
        message: `${this.fileName} is not UTF-8 (first non-UTF-8 byte at ${where}); it was read as Windows-1252 (Latin-1), the usual encoding of spreadsheets saved on Windows. If accented letters look wrong, re-save the file as UTF-8.`,
        rows: [],
        count: 1,
      });
    } else {
      // Valid UTF-8 with multi-byte characters came first: a UTF-8 file with a corrupt byte.
      this.mode = 'utf-8-lossy';
      this.textDecoder = new TextDecoder('utf-8');
      this.warnings.push({
        code: 'DATA_BAD_UTF8',
        message: `${this.fileName} has an invalid UTF-8 byte sequence at ${where}; bad bytes were replaced with "\uFFFD". Check that text, or re-save the file as UTF-8.`,
        rows: [],
        count: 1,
      });
    }
    return this.textDecoder.decode(buf, { stream: !final });
  }
}

/** Decodes a whole file at once (same rules as the incremental decoder). */
export function decodeDatasetBytes(
  bytes: Uint8Array,
  fileName: string,
  policy: EncodingMode = 'auto',
): { text: string; encoding: DatasetEncoding; warnings: DataWarning[] } {
  const d = new DatasetDecoder(fileName, policy);
  const text = d.push(bytes) + d.end();
  return { text, encoding: d.encoding, warnings: d.warnings };
}
