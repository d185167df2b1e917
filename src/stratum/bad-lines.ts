// Lines from the node that are not usable messages, logged with a limit: a hostile or broken
// node must not flood the log. Counted in the client's stats either way.
import type { Logger } from '../log/types.js';
import { fromNode } from '../log/untrusted.js';
import { formatHost } from '../config/hosts.js';
import type { HostSpec } from '../config/hosts.js';

/**
 * Logs at most `limit` bad lines per window; a hostile or broken node must not flood the log.
 * The suppressed count is logged once when the window ends.
 */
export class BadLineReporter {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressedInWindow = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly limits: { limit: number; windowMs: number },
    private readonly counters: { badLines: number; badLinesLogged: number; badLinesSuppressed: number },
  ) {}

  report(reason: string, line: string | undefined, where: HostSpec): void {
    this.counters.badLines++;
    const now = performance.now();
    if (now - this.windowStart >= this.limits.windowMs) this.rollWindow(now);
    if (this.inWindow < this.limits.limit) {
      this.inWindow++;
      this.counters.badLinesLogged++;
      const sample = line === undefined ? '' : `: ${fromNode(line, 120)}`;
      this.logger.warn('net', `ignored a bad line from ${formatHost(where)} (${fromNode(reason)})${sample}`,
        { host: where.host, port: where.port });
      return;
    }
    this.counters.badLinesSuppressed++;
    if (this.suppressedInWindow++ === 0) {
      const remainingMs = Math.max(0, this.windowStart + this.limits.windowMs - now);
      this.flushTimer = setTimeout(() => this.flush(), remainingMs);
      this.flushTimer.unref();
    }
  }

  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flush();
  }

  private rollWindow(now: number): void {
    this.flush();
    this.windowStart = now;
    this.inWindow = 0;
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.suppressedInWindow === 0) return;
    this.logger.warn('net', `${this.suppressedInWindow} more bad lines from the node were not logged (limit ${this.limits.limit} per ${Math.round(this.limits.windowMs / 1000)} s)`);
    this.suppressedInWindow = 0;
  }
}
