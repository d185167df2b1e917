// A logger that keeps every line, for tests that assert on what was logged (unbounded: tests only).
import type { LogFields, LogLevel, LogTag, Logger } from '../../src/log/types.js';

export class MemoryLogger implements Logger {
  readonly lines: { level: LogLevel; tag: LogTag; msg: string; fields?: LogFields }[] = [];
  error(tag: LogTag, msg: string, fields?: LogFields): void { this.lines.push({ level: 'error', tag, msg, fields }); }
  warn(tag: LogTag, msg: string, fields?: LogFields): void { this.lines.push({ level: 'warn', tag, msg, fields }); }
  info(tag: LogTag, msg: string, fields?: LogFields): void { this.lines.push({ level: 'info', tag, msg, fields }); }
  debug(tag: LogTag, msg: string, fields?: LogFields): void { this.lines.push({ level: 'debug', tag, msg, fields }); }
}
