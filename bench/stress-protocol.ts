// `node dist/bench/stress-protocol.js [--lines N] [--seed S]`: pushes N lines of mixed valid and
// hostile node output through the client's own path (framer -> parser -> handlers, no socket),
// cut into chunks at arbitrary points, and prints ONE JSON line. The baseline is JSON.parse
// alone over the same lines, measured in the same run.
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { LogFields, LogTag, Logger } from '../src/log/types.js';
import { StratumClient } from '../src/stratum/client.js';
import { prng } from '../test/support/prng.js';

/** Counts log lines without keeping or printing them (a million bad lines must not fill memory). */
class CountingLogger implements Logger {
  count = 0;
  error(_t: LogTag, _m: string, _f?: LogFields): void { this.count++; }
  warn(_t: LogTag, _m: string, _f?: LogFields): void { this.count++; }
  info(_t: LogTag, _m: string, _f?: LogFields): void { this.count++; }
  debug(_t: LogTag, _m: string, _f?: LogFields): void { this.count++; }
}

interface PoolLine { text: string; valid: boolean }

function hex(rand: () => number, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += '0123456789abcdef'[Math.floor(rand() * 16)];
  return s;
}

/** A pool of distinct lines: valid notifies (both forms) and the hostile kinds the fuzz test uses. */
function buildPool(rand: () => number, maxLineBytes: number): PoolLine[] {
  const pool: PoolLine[] = [];
  for (let i = 0; i < 400; i++) {
    const h = hex(rand, 64);
    const boundary = `0x${hex(rand, 1 + Math.floor(rand() * 63)).replace(/^0+/, '') || '1'}`;
    const text = i % 4 === 0
      ? `{"jsonrpc":"2.0","method":"mining.notify","params":["0x${h}","0x${h}","${boundary}"],"id":3}`
      : `{ "id": ${17 + i}, "method": "mining.notify", "params": ["0x${h}", "${Math.floor(rand() * 1e7)}", "0x${h}","${boundary}"] }`;
    pool.push({ text, valid: true });
  }
  const h = hex(rand, 64);
  const hostile = [
    'not json', '[1,2,3]', '42', 'null', '{"unbalanced": ', '{}', '{"id":1}',
    `{ "id": 17, "method": "mining.notify", "params": ["0x${h}", "1", "0x${h}","0x0"] }`,
    `{ "id": 17, "method": "mining.notify", "params": ["0x${h}", "-1", "0x${h}","0xff"] }`,
    `{ "id": 17, "method": "mining.notify", "params": ["0x${h}", "1", "0x12","0xff"] }`,
    `{ "id": 17, "method": "mining.notify", "params": ["0xzz", "1", "0x${h}","0xff"] }`,
    `{ "id": 17, "method": "mining.notify", "params": ["0x${h}", "1", "0x${h}","0x1${'0'.repeat(64)}"] }`,
    `{ "id": 17, "method": "mining.notify", "params": "x" }`,
    '{"jsonrpc":"2.0","result":[true],"id":987654}',
    '{"id":5,"method":"mining.set_difficulty","params":[1]}',
    `${'['.repeat(2000)}${']'.repeat(2000)}`,
    'x'.repeat(maxLineBytes + 100),
    '\u0000\u0001 binary \u00ff noise',
  ];
  for (const text of hostile) pool.push({ text, valid: false });
  return pool;
}

function machine(): { cpu: string; threads: number; node: string } {
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', threads: os.availableParallelism(), node: process.versions.node };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } });
  const total = Number(values.lines);
  if (!Number.isSafeInteger(total) || total < 1) throw new Error('--lines must be a positive whole number');
  const rand = prng(Number(values.seed) || 1);
  const maxLineBytes = 64 * 1024;
  const pool = buildPool(rand, maxLineBytes);
  // About 60% valid jobs, 40% hostile lines.
  const pick = (): PoolLine => (rand() < 0.6 ? pool[Math.floor(rand() * 400)]! : pool[400 + Math.floor(rand() * (pool.length - 400))]!);

  const logger = new CountingLogger();
  const client = new StratumClient({ hosts: [{ host: '127.0.0.1', port: 9 }], worker: 'bench', password: '', logger, maxLineBytes });
  let jobs = 0;
  client.on('job', () => { jobs++; });

  let expectedValid = 0;
  let parseSeconds = 0;
  let clientSeconds = 0;
  const batchLines = 2000;
  for (let done = 0; done < total; done += batchLines) {
    const n = Math.min(batchLines, total - done);
    const batch: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = pick();
      if (p.valid) expectedValid++;
      batch.push(p.text);
    }
    // Baseline: JSON.parse on the same lines (errors swallowed), nothing else.
    let t = performance.now();
    for (const line of batch) {
      try { JSON.parse(line); } catch { /* hostile */ }
    }
    parseSeconds += (performance.now() - t) / 1000;

    const data = Buffer.from(`${batch.join('\n')}\n`, 'utf8');
    t = performance.now();
    // Chunks of 1 byte to 16 KiB cut lines at arbitrary places, like TCP does.
    for (let off = 0; off < data.length;) {
      const size = 1 + Math.floor(rand() * 16384);
      client.ingest(data.subarray(off, off + size));
      off += size;
    }
    clientSeconds += (performance.now() - t) / 1000;
  }
  await client.close();
  const stats = client.stats;
  if (jobs !== expectedValid) throw new Error(`lost jobs: ${jobs} of ${expectedValid} arrived`);
  process.stdout.write(`${JSON.stringify({
    bench: 'stress-protocol',
    lines: total,
    valid_jobs: jobs,
    bad_lines: stats.badLines,
    late_replies: stats.lateReplies,
    logged: stats.badLinesLogged,
    suppressed: stats.badLinesSuppressed,
    log_lines: logger.count,
    seconds: round(clientSeconds),
    lines_per_s: Math.round(total / clientSeconds),
    baseline_json_parse_lines_per_s: Math.round(total / parseSeconds),
    rss_mb: round(process.memoryUsage().rss / (1024 * 1024)),
    ...machine(),
  })}\n`);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

main().catch((err: unknown) => {
  process.stderr.write(`stress-protocol: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
