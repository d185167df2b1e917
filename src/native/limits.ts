// The native core's limits (native/core/params.h, exported by the addon as `limits`) and the one
// height rule every layer applies: the CLI, the config, the stratum messages, the wrappers here.
// Read on first use, not at import: --help and a usage error about another setting never load
// the addon; a command that checks a limit with a broken addon gets the load error (exit 3).
import { MAX_SHOWN_CHARS } from '../hex.js';
import { clipText } from '../control-chars.js';
import type { Limits } from './contract.js';
import { loadAddon } from './loader.js';

export type { Limits } from './contract.js';

export function limits(): Limits {
  return loadAddon().limits;
}

/** Why `n` is not a block height (a whole number from 0 to limits().maxHeight), or undefined. */
export function heightProblem(n: number): string | undefined {
  const max = limits().maxHeight;
  // First: a decimal string of a few hundred digits is Infinity, which is too large, not "not whole".
  if (n > max) return `is larger than ${max}`;
  if (!Number.isInteger(n)) return 'is not a whole number';
  return n < 0 ? 'is negative' : undefined;
}

/**
 * A height typed by a user: a number, a bigint or decimal text. TypeError for anything else,
 * RangeError outside the rule of heightProblem.
 */
export function parseHeight(value: unknown, what = 'height'): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) n = Number(value.trim());
  else if (typeof value === 'bigint') n = Number(value);
  else throw new TypeError(`${what} must be a whole number, got ${clipText(String(value), MAX_SHOWN_CHARS)}`);
  if (heightProblem(n) !== undefined) {
    throw new RangeError(`${what} must be a whole number from 0 to ${limits().maxHeight}, got ${clipText(String(value), MAX_SHOWN_CHARS)}`);
  }
  return n;
}
