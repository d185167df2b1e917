// The stats API's bounds: a local client that opens connections and never uses them can hold at
// most the cap, cannot lock out a real request, is closed after the idle timeout, and cannot take
// the descriptors the miner needs for its stratum link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { httpGet } from './support/net.js';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { createMetricsRegistry } from '../src/api/metrics.js';
import { startApiServer } from '../src/api/server.js';
import type { Summary } from '../src/miner/summary.js';
import { MemoryLogger } from './support/memory-logger.js';
import { summaryFixture } from './support/summary.js';
import { TestNode } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import { waitFor } from './support/wait.js';

const summary = (): Summary => summaryFixture();

interface Flood {
  sockets: Socket[];
  /** Sockets the server has closed so far. */
  closed: Set<Socket>;
  settled: Promise<void>;
}

/** Opens `n` connections that never send a byte; resolves `settled` once each has connected or failed. */
function flood(port: number, n: number): Flood {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {}); // a reset from the server is the expected end for most of them
    s.on('close', () => closed.add(s));
    ready.push(new Promise((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    }));
    sockets.push(s);
  }
  return { sockets, closed, settled: Promise.all(ready).then(() => {}) };
}

test('the stats API holds at most its cap, still answers, and closes idle connections after the idle timeout', async () => {
  const cap = 8;
  const idleTimeoutMs = 2_000;
  const logger = new MemoryLogger();
  const getSummary = summary;
  const server = await startApiServer({
    port: 0, getSummary, registry: createMetricsRegistry(getSummary, { defaultMetrics: false }), logger,
    maxConnections: cap, idleTimeoutMs, headersTimeoutMs: 2_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 500,
  });
  const f = flood(server.port, 40);
  try {
    await f.settled;
    await waitFor(() => server.droppedConnections >= 40 - cap, 5_000, 'the excess connections to be closed');
    assert.ok(await server.openConnections() <= cap, `at most ${cap} held`);
    assert.equal(server.droppedConnections, 40 - cap, 'each excess connection counted once');
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /connections open/.test(l.msg)), 'the operator is told');

    // A real request still gets through: it evicts the oldest idle connection.
    const reply = await httpGet(server.port, '/summary');
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { shares: { accepted: number } }).shares.accepted, 5);

    // The ones still held are closed by the idle timeout: nothing else closes a connection that
    // never sent a byte (evictions need a newcomer, and each is counted). So once every flood
    // connection is closed, the eviction count has not moved since the request, and the rest were
    // closed for idleness. (No clock here: how long "idle" took depends on the machine's load.)
    const evicted = server.droppedConnections;
    assert.ok(evicted === 40 - cap || evicted === 40 - cap + 1, `the request evicted at most one idle connection (${evicted})`);
    await waitFor(() => f.closed.size === f.sockets.length, 10_000 + idleTimeoutMs, 'every idle connection to be closed');
    assert.equal(server.droppedConnections, evicted, 'the held connections were not evicted: the idle timeout closed them');
    assert.ok(f.sockets.length - evicted >= cap - 1, `${f.sockets.length - evicted} connections held until they were idle`);
    assert.equal(await server.openConnections(), 0);
  } finally {
    for (const s of f.sockets) s.destroy();
    await server.close();
  }
});

test('under a low descriptor limit, a flood on the stats API does not stop the miner reconnecting and submitting',
  { timeout: 90_000 }, async (t) => {
    const node = new TestNode({ algo: 'keccak', difficulty: 300_000 });
    const { host, port } = await node.listen();
    const floods: Flood[] = [];
    const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'fd', '--algo', 'keccak', '--threads', '1',
      '--http-port', '0'], { t, fdLimit: 256 });
    try {
      const apiPort = Number((await miner.waitForLine(/stats API on http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
      const limits = readFileSync(`/proc/${miner.proc.pid}/limits`, 'utf8');
      assert.match(limits, /Max open files\s+256\s/, 'the miner really runs under ulimit -n 256');
      await miner.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waitFor(() => node.stats.accepted >= 1, 30_000, 'a first accepted solution');

      // 400 idle connections: more than the miner's whole descriptor budget.
      floods.push(flood(apiPort, 400));
      await floods[0]!.settled;
      const from = miner.lines.length;
      node.dropConnections(); // the node goes away while the flood holds its connections
      floods.push(flood(apiPort, 400));
      await miner.waitForLine(/disconnected from/, 10_000, from);
      await miner.waitForLine(/subscribed/, 20_000, from);
      const before = node.stats.accepted;
      node.newJob();
      await waitFor(() => node.stats.accepted > before, 30_000, 'an accepted solution after the reconnect');
      await floods[1]!.settled;
      const reply = await httpGet(apiPort, '/summary');
      assert.equal(reply.status, 200, 'the API itself still answers');
      // The operator can see the flood: every connection closed at the cap is counted.
      const metrics = await httpGet(apiPort, '/metrics');
      const dropped = Number(/^cfx_miner_api_connections_dropped_total (\d+)$/m.exec(metrics.body)?.[1]);
      assert.ok(dropped >= 800 - 2 * 64 - 256, `the dropped connections are counted (${dropped})`);
      assert.ok(!/EMFILE|too many open files/i.test(miner.stderrText()), 'the miner never ran out of descriptors');
      assert.equal((await miner.stop('SIGINT')).code, 0);
    } finally {
      for (const f of floods) for (const s of f.sockets) s.destroy();
      await miner.stop('SIGKILL');
      await node.close();
    }
  });
