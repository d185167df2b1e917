// Hex, 256-bit and height values from users and from the network, parsed in one place (the CLI,
// the config loader and the stratum messages all use these). Errors are TypeError/RangeError;
// each input boundary turns them into its own kind (UsageError, a bad-line report).
import { MAX_HEIGHT, U256_MAX } from './native/params.js';

/** The digits of a hex string without an optional 0x/0X prefix. */
export function strip0x(value: string): string {
  return value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
}

export function parseHex(value: string, what: string, bytes?: number): Buffer {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a hex string`);
  const body = strip0x(value);
  if (body.length === 0 || !/^[0-9a-fA-F]*$/.test(body)) throw new TypeError(`${what} is not hex: ${short(value)}`);
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
  if (body.length === 0 || !/^[0-9a-fA-F]+$/.test(body)) throw new TypeError(`${what} is not hex: ${short(value)}`);
  const stripped = body.replace(/^0+/, '');
  if (stripped.length > bits / 4) throw new RangeError(`${what} is larger than ${bits} bits`);
  return BigInt('0x' + (stripped || '0'));
}

export function parseHeight(value: unknown, what = 'height'): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) n = Number(value.trim());
  else if (typeof value === 'bigint') n = Number(value);
  else throw new TypeError(`${what} must be a whole number, got ${short(String(value))}`);
  if (!Number.isInteger(n) || n < 0 || n > MAX_HEIGHT) {
    throw new RangeError(`${what} must be a whole number from 0 to ${MAX_HEIGHT}, got ${short(String(value))}`);
  }
  return n;
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function u256ToBe(v: bigint): Buffer {
  if (v < 0n || v > U256_MAX) throw new RangeError('value does not fit in 256 bits');
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

export function u256ToLe(v: bigint): Buffer {
  return u256ToBe(v).reverse();
}

export function beToBigint(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : BigInt('0x' + buf.toString('hex'));
}
