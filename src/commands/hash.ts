// `cfx-miner hash` and `cfx-miner verify`: one-shot PoW values from the command line, and a
// batch mode (JSON lines on stdin) that reuses one cache per stage.
import { createInterface } from 'node:readline';
import type { Algo } from '../native/index.js';
import { parseHex, parseHexUint } from '../hex.js';
import { parseHeight } from '../native/limits.js';
import { Verifier } from '../miner/verify.js';
import { ExitCode, UsageError, messageOf } from '../errors.js';

export interface HashArgs {
  algo?: string;
  header?: string;
  height?: string;
  nonce?: string;
  boundary?: string;
}

export interface PowQuery { algo: Algo; header: Buffer; height: number; nonce: bigint }

/** Turns user-given strings into a checked query; every problem is a one-line UsageError. */
export function parseQuery(args: HashArgs): PowQuery {
  try {
    const algo = parseAlgo(args.algo ?? 'octopus');
    if (args.header === undefined) throw new UsageError('--header is required (0x + 64 hex digits)');
    if (args.nonce === undefined) throw new UsageError('--nonce is required (0x + up to 64 hex digits)');
    const header = parseHex(args.header, 'header', 32);
    const nonce = parseHexUint(args.nonce, 'nonce', 256);
    let height = 0;
    if (algo === 'octopus') {
      if (args.height === undefined) throw new UsageError('--height is required for octopus (it selects the cache)');
      height = parseHeight(args.height);
    } else if (args.height !== undefined) {
      height = parseHeight(args.height);
    }
    return { algo, header, height, nonce };
  } catch (err) {
    throw asUsage(err);
  }
}

export function parseAlgo(value: string): Algo {
  if (value === 'octopus' || value === 'keccak') return value;
  throw new UsageError(`--algo must be octopus or keccak, got ${JSON.stringify(value).slice(0, 40)}`);
}

export function parseBoundary(value: string | undefined): bigint {
  if (value === undefined) throw new UsageError('--boundary is required (0x + hex, a 256-bit target)');
  let b: bigint;
  try {
    b = parseHexUint(value, 'boundary', 256);
  } catch (err) {
    throw asUsage(err);
  }
  if (b === 0n) throw new UsageError('boundary must not be 0 (no hash is below 0)');
  return b;
}

function asUsage(err: unknown): unknown {
  if (err instanceof TypeError || err instanceof RangeError) return new UsageError(err.message);
  return err;
}

export async function hashCommand(args: HashArgs, out: NodeJS.WritableStream): Promise<number> {
  const q = parseQuery(args);
  const hash = await new Verifier().hash(q.algo, q.header, q.height, q.nonce);
  out.write(`0x${hash.toString('hex')}\n`);
  return 0;
}

export async function verifyCommand(args: HashArgs, out: NodeJS.WritableStream): Promise<number> {
  const q = parseQuery(args);
  const boundary = parseBoundary(args.boundary);
  const { valid } = await new Verifier().verify({ ...q, boundary }, q.nonce);
  out.write(valid ? 'valid\n' : 'invalid\n');
  return valid ? ExitCode.ok : ExitCode.invalid;
}

/**
 * One JSON line in, one JSON line out, in order: `{"hash":"0x.."}`, or `{"error":"..."}` for a
 * line that cannot be hashed (then the exit code is 2 once the input ends).
 */
export async function hashBatch(input: NodeJS.ReadableStream, out: NodeJS.WritableStream): Promise<number> {
  const verifier = new Verifier(4);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let failed = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let result: object;
    try {
      const q = parseQuery(batchFields(line));
      const hash = await verifier.hash(q.algo, q.header, q.height, q.nonce);
      result = { hash: `0x${hash.toString('hex')}` };
    } catch (err) {
      failed++;
      result = { error: `line ${lineNo}: ${messageOf(err)}` };
    }
    if (!out.write(JSON.stringify(result) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  return failed ? 2 : 0;
}

function batchFields(line: string): HashArgs {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new UsageError('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('not a JSON object');
  const o = v as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const x = o[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x === 'string') return x;
    if (typeof x === 'number' && k === 'height') return String(x);
    throw new UsageError(`"${k}" must be a string`);
  };
  return { algo: str('algo'), header: str('header'), height: str('height'), nonce: str('nonce') };
}
