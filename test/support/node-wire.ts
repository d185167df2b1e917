// The test node's own reading of the wire: lines and JSON-RPC requests, written apart from the
// miner's stratum/framing.ts and stratum/messages.ts, so that a bug in those cannot be matched
// by the same bug in the node that judges the miner. Deliberately small: what Conflux-Rust's
// line-delimited JSON-RPC server accepts, no more.

export type RpcId = number | string | null;

export type Incoming =
  | { kind: 'request'; id: RpcId | undefined; method: string; params: unknown }
  | { kind: 'bad'; parseError: boolean; id: RpcId | undefined };

/** Splits bytes into lines at '\n' (a trailing '\r' dropped); a line longer than `maxBytes` is reported and skipped. */
export class NodeLines {
  private parts: Buffer[] = [];
  private length = 0;
  private skipping = false;

  constructor(private readonly maxBytes: number, private readonly onLine: (line: string) => void,
    private readonly onOverlong: () => void) {}

  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a, from); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      this.add(chunk.subarray(from, nl));
      const whole = Buffer.concat(this.parts, this.length);
      const skipped = this.skipping;
      this.parts = [];
      this.length = 0;
      this.skipping = false;
      from = nl + 1;
      if (skipped) continue;
      const text = whole.toString('utf8');
      const line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (line.trim() !== '') this.onLine(line);
    }
    this.add(chunk.subarray(from));
  }

  private add(piece: Buffer): void {
    if (this.skipping || piece.length === 0) return;
    if (this.length + piece.length > this.maxBytes) {
      this.skipping = true;
      this.parts = [];
      this.length = 0;
      this.onOverlong();
      return;
    }
    this.parts.push(Buffer.from(piece));
    this.length += piece.length;
  }
}

function idOf(v: unknown): RpcId | undefined {
  return typeof v === 'number' || typeof v === 'string' || v === null ? v : undefined;
}

/** One line as a JSON-RPC request, or why not. */
export function parseRequest(line: string): Incoming {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'bad', parseError: true, id: undefined };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'bad', parseError: false, id: undefined };
  const o = value as Record<string, unknown>;
  const id = idOf(o['id']);
  if (typeof o['method'] !== 'string') return { kind: 'bad', parseError: false, id };
  return { kind: 'request', id, method: o['method'], params: o['params'] };
}
