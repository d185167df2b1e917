// Bytes -> lines. TCP delivers a line in any number of pieces and several lines in one piece;
// we keep bytes (not strings) until a line is complete so a UTF-8 character split across
// chunks decodes correctly, and we bound the bytes kept so a peer cannot grow memory forever.

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export interface OverlongLine {
  /** The configured bound, in bytes (not counting the line ending). */
  limitBytes: number;
  /** Bytes seen of this line when it was found too long (the rest is discarded unseen). */
  seenBytes: number;
}

export interface LineFramerOptions {
  /** Longest line kept, in bytes without its `\n` or `\r\n`; default 64 KiB. */
  maxLineBytes?: number;
  /** Called once per complete line (ending removed); blank lines are skipped. */
  onLine: (line: string) => void;
  /** Called once per over-long line, as soon as it is known to be too long. */
  onOverlong?: (info: OverlongLine) => void;
}

export class LineFramer {
  readonly maxLineBytes: number;
  private readonly onLine: (line: string) => void;
  private readonly onOverlong: ((info: OverlongLine) => void) | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside an over-long line: drop bytes until the next newline. */
  private discarding = false;

  constructor(options: LineFramerOptions) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxLineBytes must be a positive integer');
    this.maxLineBytes = max;
    this.onLine = options.onLine;
    this.onOverlong = options.onOverlong;
  }

  /** Bytes held for a line not yet ended. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds one chunk; calls back for each line it completes. */
  push(chunk: Uint8Array | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(LF, start);
      if (nl === -1) {
        this.keep(buf.subarray(start));
        return;
      }
      this.finishLine(buf.subarray(start, nl));
      start = nl + 1;
    }
  }

  /** Forgets a partial line (on reconnect: the next connection starts clean). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
  }

  private keep(piece: Buffer): void {
    if (this.discarding || piece.length === 0) return;
    // One extra byte of room: it may be the `\r` of a `\r\n` ending still to come.
    if (this.pendingBytes + piece.length > this.maxLineBytes + 1) {
      this.overflow(this.pendingBytes + piece.length);
      return;
    }
    // Copy: the socket may reuse the chunk's memory once we return.
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
  }

  private finishLine(tail: Buffer): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    let line = this.pendingBytes === 0 ? tail : Buffer.concat([...this.pending, tail], this.pendingBytes + tail.length);
    this.pending = [];
    this.pendingBytes = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) {
      this.onOverlong?.({ limitBytes: this.maxLineBytes, seenBytes: line.length });
      return;
    }
    if (line.length === 0) return;
    this.onLine(line.toString('utf8'));
  }

  private overflow(seenBytes: number): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = true;
    this.onOverlong?.({ limitBytes: this.maxLineBytes, seenBytes });
  }
}
