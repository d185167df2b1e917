// Number formatting shared by log lines, the progress display and the dashboard's page, so a
// hashrate or a size reads the same wherever an operator sees it.

const HASHRATE_UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s'] as const;
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `1234.5` -> `'1.23 kH/s'`; null, NaN and negative values (no data yet) -> `'n/a'`. */
export function formatHashrate(hps: number | null): string {
  if (hps === null || !Number.isFinite(hps) || hps < 0) return 'n/a';
  return scaled(hps, 1000, HASHRATE_UNITS);
}

/** Binary units, as memory sizes are usually quoted: `4 * 2**30` -> `'4.00 GiB'`, `512` -> `'512 B'`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'n/a';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  return scaled(bytes, 1024, BYTE_UNITS);
}

function scaled(value: number, base: number, units: readonly string[]): string {
  let i = 0;
  while (value >= base && i < units.length - 1) {
    value /= base;
    i++;
  }
  // 999.996 would print as "1000.00 kH/s"; move it up a unit instead.
  if (value.toFixed(2) === base.toFixed(2) && i < units.length - 1) {
    value /= base;
    i++;
  }
  return `${value.toFixed(2)} ${units[i]}`;
}

/**
 * A human duration, coarse enough to read at a glance: `'850 ms'`, `'42 s'`, `'5 min 03 s'`,
 * `'2 h 05 min'`, `'3 d 04 h'`. Negative or non-finite input -> `'n/a'`.
 */
export function formatDuration(durationMs: number): string {
  if (!Number.isFinite(durationMs) || durationMs < 0) return 'n/a';
  if (durationMs < 1000) return `${Math.round(durationMs)} ms`;
  const totalS = Math.round(durationMs / 1000);
  if (totalS < 60) return `${totalS} s`;
  const totalMin = Math.floor(totalS / 60);
  if (totalMin < 60) return `${totalMin} min ${pad2(totalS % 60)} s`;
  const totalH = Math.floor(totalMin / 60);
  if (totalH < 24) return `${totalH} h ${pad2(totalMin % 60)} min`;
  return `${Math.floor(totalH / 24)} d ${pad2(totalH % 24)} h`;
}

/** A share 0..1 as a whole percent rounded down, so that 99.6% is not shown as "100%": `98%`. */
export function percentDown(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`;
}

/**
 * A count and its noun, agreeing: `plural(1, 'thread')` -> `'1 thread'`, `plural(2, 'thread')` ->
 * `'2 threads'`, `plural(0, 'hash', 'hashes')` -> `'0 hashes'`. For every count in a line a
 * person reads, so "1 threads" cannot come back.
 */
export function plural(n: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 || n === 1n ? singular : pluralForm}`;
}

/**
 * accepted/rejected/stale as the per-solution line shows them, `'107/1/3'`: pass shareSummary's
 * numbers, the speed line's, so stale answers count as stale there too and not as rejected.
 */
export function formatTally(s: { accepted: number; rejected: number; stale: number }): string {
  return `${s.accepted}/${s.rejected}/${s.stale}`;
}

/**
 * formatHashrate and what it calls, as script source, for the dashboard's page: the browser runs
 * the very function the log lines use, so the two cannot drift apart.
 */
export const FORMAT_HASHRATE_SOURCE = [
  `var HASHRATE_UNITS = ${JSON.stringify(HASHRATE_UNITS)};`, scaled.toString(), formatHashrate.toString(),
].join('\n');

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

type FieldValue = string | number | boolean | bigint | null | undefined;

/**
 * For human lines: the fields a message already says, left out, so `connected to
 * 127.0.0.1:4444` is not followed by `host=127.0.0.1 port=4444` (JSON lines keep every field).
 * A field counts as said when its value stands in the message as a whole word and is either
 * long enough to be unmistakable (4+ characters) or right after its key (`accepted 3`).
 */
export function fieldsNotInMessage(msg: string, fields: Record<string, FieldValue> | undefined): Record<string, FieldValue> | undefined {
  if (!fields) return fields;
  const out: Record<string, FieldValue> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!saysValue(msg, key, value)) out[key] = value;
  }
  return out;
}

function saysValue(msg: string, key: string, value: FieldValue): boolean {
  if (value === undefined || value === null || typeof value === 'boolean') return false;
  const text = String(value);
  if (text === '') return false;
  const word = new RegExp(`(^|[^A-Za-z0-9_.])${escapeRegExp(text)}($|[^A-Za-z0-9_])`);
  if (!word.test(msg)) return false;
  return text.length >= 4 || new RegExp(`(^|\\W)${escapeRegExp(key)}[ =]${escapeRegExp(text)}($|\\W)`).test(msg);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
