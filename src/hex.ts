// Hex and 256-bit values: pure maths, no I/O; it imports only the one clip for quoted input.
// `cfx-miner hash` parses its arguments with these, the job and the stratum messages take
// strip0x; errors are TypeError/RangeError, which each input boundary turns into its own kind
// (UsageError, a bad-line report). Heights have their rule where their limit is: native/limits.ts.
import { clipText } from './control-chars.js';

/** How much of a bad value an error message quotes. */
export const MAX_SHOWN_CHARS = 80;

/** 2^256 - 1: the largest 256-bit value (a boundary, a hash, a nonce); its only name. */
export const U256_MAX = (1n << 256n) - 1n;

/** The digits of a hex string without an optional 0x/0X prefix. */
export function strip0x(value: string): string {
  return value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
}

export function parseHex(value: string, what: string, bytes?: number): Buffer {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a hex string`);
  const body = strip0x(value);
  if (body.length === 0 || !/^[0-9a-fA-F]*$/.test(body)) throw new TypeError(`${what} is not hex: ${clipText(value, MAX_SHOWN_CHARS)}`);
  if (bytes !== undefined && body.length !== bytes * 2) {
    throw new RangeError(`${what} must be ${bytes} bytes (${bytes * 2} hex digits), got ${body.length} digits`);
  }
  if (body.length % 2 !== 0) throw new RangeError(`${what} has an odd number of hex digits`);
  return Buffer.from(body, 'hex');
}

/** A hex quantity (leading zeros optional) as an unsigned bigint of at most `bits` bits. */
export function parseHexUint(value: string, what: string, bits: number): bigint {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a hex string`);
  const body = strip0x(value);
  if (body.length === 0 || !/^[0-9a-fA-F]+$/.test(body)) throw new TypeError(`${what} is not hex: ${clipText(value, MAX_SHOWN_CHARS)}`);
  const stripped = body.replace(/^0+/, '');
  if (stripped.length > bits / 4) throw new RangeError(`${what} is larger than ${bits} bits`);
  return BigInt('0x' + (stripped || '0'));
}

export function u256ToBe(v: bigint): Buffer {
  if (typeof v !== 'bigint') throw new TypeError('value must be a bigint');
  if (v < 0n || v > U256_MAX) throw new RangeError('value does not fit in 256 bits');
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

export function u256ToLe(v: bigint): Buffer {
  return u256ToBe(v).reverse();
}

export function beToBigint(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : BigInt('0x' + buf.toString('hex'));
}
