// The logging interface every layer uses; src/log/logger.ts implements it for humans and for JSON.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Short tags a miner's log is read by (STYLE.md): net, job, share, dag, cpu, api, cfg. */
export type LogTag = 'net' | 'job' | 'share' | 'dag' | 'cpu' | 'api' | 'cfg' | 'miner' | 'bench';

/** Structured extras; rendered as `key=value` for humans and as fields in JSON lines. */
export type LogFields = Record<string, string | number | boolean | bigint | null | undefined>;

export interface Logger {
  error(tag: LogTag, msg: string, fields?: LogFields): void;
  warn(tag: LogTag, msg: string, fields?: LogFields): void;
  info(tag: LogTag, msg: string, fields?: LogFields): void;
  debug(tag: LogTag, msg: string, fields?: LogFields): void;
}

/** A logger that writes nothing: for code that must not print (the benchmark's own client). */
export const silentLogger: Logger = {
  error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined,
};
