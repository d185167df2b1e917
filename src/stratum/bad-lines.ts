// Lines from the node that are not usable messages, logged with a limit: a hostile or broken
// node must not flood the log. Counted in the client's stats either way.
import type { Logger } from '../log/types.js';
import { RateLimitedLog } from '../log/rate-limit.js';
import type { RateLimit } from '../log/rate-limit.js';
import { fromNode } from '../log/untrusted.js';
import { plural } from '../log/format.js';
import { formatHost } from '../config/hosts.js';
import type { HostSpec } from '../config/hosts.js';

/**
 * Logs at most `limit` bad lines per window (the RateLimitedLog every node-driven line uses);
 * the suppressed count is logged once when the window ends.
 */
export class BadLineReporter {
  private readonly log: RateLimitedLog;

  constructor(
    logger: Logger,
    limits: RateLimit,
    private readonly counters: { badLines: number; badLinesLogged: number; badLinesSuppressed: number },
  ) {
    this.log = new RateLimitedLog(logger, {
      limits,
      summary: (n, _noun, windowMs) => `${plural(n, 'more bad line')} from the node ${n === 1 ? 'was' : 'were'} not logged ` +
        `(limit ${limits.limit} per ${Math.round(windowMs / 1000)} s)`,
    });
  }

  report(reason: string, line: string | undefined, where: HostSpec): void {
    this.counters.badLines++;
    const sample = line === undefined ? '' : `: ${fromNode(line, 120)}`;
    const logged = this.log.line('bad-line', 'warn', 'net', 'bad lines',
      `ignored a bad line from ${formatHost(where)} (${fromNode(reason)})${sample}`, { host: where.host, port: where.port });
    if (logged) this.counters.badLinesLogged++;
    else this.counters.badLinesSuppressed++;
  }

  close(): void {
    this.log.close();
  }
}
