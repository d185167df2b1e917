// The one logger for everything: aligned human lines (coloured on a terminal) or one JSON object
// per line, both on stderr, so stdout stays free for machine output (--json).
import { Chalk } from 'chalk';
import type { ChalkInstance } from 'chalk';
import type { LogFields, LogLevel, LogTag, Logger } from './types.js';

export { formatBytes, formatDuration, formatHashrate } from './format.js';
import { fieldsNotInMessage } from './format.js';

export interface LoggerOptions {
  level: LogLevel;
  json: boolean;
  /** 'auto': colour only when the stream is a terminal and NO_COLOR is unset or empty. */
  color: boolean | 'auto';
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream;
  /** Default process.env; read only for NO_COLOR. */
  env?: NodeJS.ProcessEnv;
  /** Default `() => new Date()`; tests pass a fixed clock. */
  clock?: () => Date;
}

/**
 * Something that owns the bottom terminal line (a progress bar). The logger clears it before a
 * log line and redraws it after, so the two never write over each other.
 */
export interface StatusLine {
  clear(): void;
  redraw(): void;
}

export interface ConsoleLogger extends Logger {
  readonly level: LogLevel;
  readonly json: boolean;
  readonly color: boolean;
  isLevelEnabled(level: LogLevel): boolean;
  /** Returns the function that detaches it again. One status line at a time; a second replaces the first. */
  attachStatusLine(line: StatusLine): () => void;
  /** Resolves once everything written so far has been handed to the OS (call before process.exit). */
  flush(): Promise<void>;
  /** Stops writing and removes the logger's listener from the stream. Idempotent. */
  close(): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
// 'miner' and 'bench' are the longest tags; one more space sets the message apart.
const TAG_WIDTH = 6;
const LEVEL_WIDTH = 5;
const JSON_RESERVED = new Set(['time', 'level', 'tag', 'msg']);

/** --quiet shows warnings and errors only; --verbose adds debug lines. The config loader rejects both at once. */
export function logLevelFor(opts: { quiet?: boolean; verbose?: boolean }): LogLevel {
  if (opts.verbose) return 'debug';
  if (opts.quiet) return 'warn';
  return 'info';
}

export function createLogger(opts: LoggerOptions): ConsoleLogger {
  const stream = opts.stream ?? process.stderr;
  const clock = opts.clock ?? (() => new Date());
  const useColor = resolveColor(opts.color, stream, opts.env ?? process.env);
  const chalk = new Chalk({ level: useColor ? 1 : 0 });
  let statusLine: StatusLine | undefined;
  let closed = false;

  // A closed stderr (EPIPE when piped into `head`) must not crash the miner: stop logging instead.
  const onStreamError = (): void => { closed = true; };
  stream.on('error', onStreamError);

  const write = (level: LogLevel, tag: LogTag, msg: string, fields?: LogFields): void => {
    if (closed || LEVEL_RANK[level] > LEVEL_RANK[opts.level]) return;
    const time = clock();
    const line = opts.json
      ? jsonLine(time, level, tag, msg, fields)
      : humanLine(chalk, time, level, tag, msg, fields);
    statusLine?.clear();
    stream.write(line + '\n');
    statusLine?.redraw();
  };

  return {
    level: opts.level,
    json: opts.json,
    color: useColor,
    error: (tag, msg, fields) => write('error', tag, msg, fields),
    warn: (tag, msg, fields) => write('warn', tag, msg, fields),
    info: (tag, msg, fields) => write('info', tag, msg, fields),
    debug: (tag, msg, fields) => write('debug', tag, msg, fields),
    isLevelEnabled: (level) => LEVEL_RANK[level] <= LEVEL_RANK[opts.level],
    attachStatusLine(line) {
      statusLine = line;
      return () => { if (statusLine === line) statusLine = undefined; };
    },
    flush: () => new Promise<void>((resolve) => {
      if (closed) return resolve();
      stream.write('', () => resolve());
    }),
    close() {
      closed = true;
      stream.removeListener('error', onStreamError);
    },
  };
}

function resolveColor(color: boolean | 'auto', stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  if (color !== 'auto') return color;
  // https://no-color.org: present and not empty disables colour; an explicit flag may override it.
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

// ---- secrets --------------------------------------------------------------------------------
// The logger rewrites nothing: no secret reaches it. The password is written to the socket only;
// text a node sends (which may echo it) is masked where it enters (log/untrusted.ts). A blanket
// replace here garbled the miner's own lines ("cf***-miner" for the password "x") and told a
// reader which letters the password has.

type JsonValue = string | number | boolean | null;

/** A field value as JSON would carry it: bigint as a decimal string. */
function fieldValue(value: LogFields[string]): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  return typeof value === 'bigint' ? value.toString() : value;
}

// ---- JSON lines ---------------------------------------------------------------------------

function jsonLine(time: Date, level: LogLevel, tag: LogTag, msg: string, fields: LogFields | undefined): string {
  const record: Record<string, JsonValue> = { time: time.toISOString(), level, tag, msg };
  for (const [key, raw] of Object.entries(fields ?? {})) {
    const value = fieldValue(raw);
    if (value === undefined) continue;
    // A field may not overwrite the envelope that every consumer relies on.
    record[JSON_RESERVED.has(key) ? `field_${key}` : key] = value;
  }
  return JSON.stringify(record);
}

// ---- human lines --------------------------------------------------------------------------

type Paint = (chalk: ChalkInstance, level: LogLevel) => (text: string) => string;

const TAG_PAINT: Record<LogTag, Paint> = {
  net: (c) => c.blue,
  job: (c) => c.magenta,
  // Rejected and stale shares are logged as warnings: the tag turns red with them.
  share: (c, level) => (LEVEL_RANK[level] <= LEVEL_RANK.warn ? c.red : c.green),
  dag: (c) => c.cyan,
  // Not yellow: that is WARN's colour, and a speed line is no warning.
  cpu: (c) => c.cyanBright,
  api: (c) => c.blueBright,
  cfg: (c) => c.gray,
  miner: (c) => c.whiteBright,
  bench: (c) => c.yellowBright,
};

function humanLine(chalk: ChalkInstance, time: Date, level: LogLevel, tag: LogTag, msg: string,
  fields: LogFields | undefined): string {
  const levelText = (level === 'info' ? '' : level.toUpperCase()).padEnd(LEVEL_WIDTH);
  const paintLevel = level === 'error' ? chalk.red.bold : level === 'warn' ? chalk.yellow.bold : chalk.gray;
  const paintMsg = level === 'error' ? chalk.red : level === 'debug' ? chalk.gray : (s: string) => s;
  const parts = [
    chalk.gray(clockTime(time)),
    paintLevel(levelText),
    TAG_PAINT[tag](chalk, level)(tag.padEnd(TAG_WIDTH)),
    paintMsg(escapeControl(msg)),
  ];
  const rendered = renderFields(chalk, fieldsNotInMessage(msg, fields));
  return parts.join(' ') + (rendered ? '  ' + rendered : '');
}

function clockTime(time: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(time.getHours())}:${p(time.getMinutes())}:${p(time.getSeconds())}.${p(time.getMilliseconds(), 3)}`;
}

function renderFields(chalk: ChalkInstance, fields: LogFields | undefined): string {
  const out: string[] = [];
  for (const [key, raw] of Object.entries(fields ?? {})) {
    const value = fieldValue(raw);
    if (value === undefined) continue;
    out.push(`${chalk.dim(key + '=')}${quoteIfNeeded(value)}`);
  }
  return out.join(' ');
}

// Values that would make `key=value` ambiguous (spaces, quotes, '=' or nothing at all) are JSON-quoted.
const BARE_VALUE = /^[A-Za-z0-9_.:/@+\-,[\]]+$/;

function quoteIfNeeded(value: JsonValue): string {
  if (typeof value !== 'string') return String(value);
  return BARE_VALUE.test(value) ? value : JSON.stringify(value);
}

/**
 * Network peers supply some of what we log (reject reasons, host names): control characters
 * could fake log lines or drive the terminal, so a human line shows them escaped and stays one line.
 */
function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
