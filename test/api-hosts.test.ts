// The stats API answers only requests whose Host names this server (issue 21): loopback names, the
// bound address, --http-allow-host. A web page that rebinds its own DNS name to 127.0.0.1 sends
// that name as Host and gets 421 on every path, so it cannot read the miner even without a token.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet } from './support/net.js';
import type { HttpReply } from './support/net.js';
import { connect } from 'node:net';
import os from 'node:os';
import { createMetricsRegistry } from '../src/api/metrics.js';
import { startApiServer } from '../src/api/server.js';
import type { ApiServer } from '../src/api/server.js';
import { HostAllowList, isLoopbackName, parseHostName } from '../src/api/host-check.js';
import { UsageError } from '../src/errors.js';
import { MemoryLogger } from './support/memory-logger.js';
import { summaryFixture } from './support/summary.js';

/** A request to 127.0.0.1 (or `address`) that carries `host` as its Host header, whatever address it connects to. */
function getWithHost(port: number, path: string, host: string, headers: Record<string, string> = {},
  address = '127.0.0.1'): Promise<HttpReply> {
  return httpGet(port, path, { headers: { ...headers, Host: host }, address });
}

/** Raw bytes on a socket (for requests http.request will not send); resolves with the status code. */
function rawStatus(port: number, text: string, encoding: BufferEncoding = 'utf8'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => { reply += c; });
    socket.on('error', reject);
    socket.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(reply);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no status line in ${JSON.stringify(reply.slice(0, 80))}`));
    });
    socket.write(Buffer.from(text, encoding));
  });
}

async function withServer(opts: { host?: string; token?: string; allowHosts?: string[]; logger?: MemoryLogger },
  fn: (server: ApiServer) => Promise<void>): Promise<void> {
  const getSummary = () => summaryFixture();
  const server = await startApiServer({
    host: opts.host ?? '127.0.0.1', port: 0, token: opts.token, allowHosts: opts.allowHosts, getSummary,
    getHistory: () => ({ interval_s: 5, capacity: 1, t: [], hashrate_10s: [], hashrate_60s: [], hashrate_15m: [], accepted: [], rejected: [], stale: [] }),
    registry: createMetricsRegistry(getSummary, { defaultMetrics: false }), logger: opts.logger ?? new MemoryLogger(),
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const PATHS = ['/', '/dashboard.js', '/dashboard.css', '/summary', '/history', '/metrics', '/nowhere'];

async function assertRefused(port: number, host: string, headers: Record<string, string> = {}): Promise<void> {
  for (const path of PATHS) {
    const reply = await getWithHost(port, path, host, headers);
    assert.equal(reply.status, 421, `Host ${JSON.stringify(host)} ${path}: ${reply.body}`);
    assert.match((JSON.parse(reply.body) as { error: string }).error, /misdirected request.*--http-allow-host/);
    assert.ok(!reply.body.includes('cfx-miner'), 'nothing about the miner leaks');
  }
}

async function assertAllowed(port: number, host: string): Promise<void> {
  const reply = await getWithHost(port, '/summary', host);
  assert.equal(reply.status, 200, `Host ${JSON.stringify(host)}: ${reply.body}`);
  assert.equal((JSON.parse(reply.body) as { shares: { accepted: number } }).shares.accepted, 5);
  assert.equal((await getWithHost(port, '/', host)).status, 200, `Host ${JSON.stringify(host)} /`);
}

describe('stats API Host check', { timeout: 30_000 }, () => {
  it('answers loopback names, with or without the port, in any case', async () => {
    await withServer({}, async ({ port }) => {
      for (const host of ['localhost', `localhost:${port}`, 'LocalHost', 'localhost.', `127.0.0.1:${port}`, '127.0.0.1',
        '127.0.0.2', `[::1]:${port}`, '[::1]', '[0:0:0:0:0:0:0:1]', `[::ffff:127.0.0.1]:${port}`]) {
        await assertAllowed(port, host);
      }
    });
  });

  it('refuses other names with 421 on every path, and logs it once', async () => {
    const logger = new MemoryLogger();
    await withServer({ logger }, async ({ port }) => {
      for (const host of [
        'evil.example', `evil.example:${port}`,
        // DNS rebinding services: names that resolve to 127.0.0.1 (or flip to it) but are not ours.
        `7f000001.c0a80001.rbndr.us:${port}`, '127.0.0.1.nip.io', 'localhost.evil.example', 'foo.localhost',
        // Malformed: userinfo, a path, a bad port, an unclosed bracket (an empty one: see HTTP/1.0 below).
        '127.0.0.1@evil.example', 'localhost/evil', 'localhost:99999', 'localhost:', '[::1',
      ]) {
        await assertRefused(port, host);
      }
    });
    const warnings = logger.lines.filter((l) => l.level === 'warn' && l.msg.includes('421'));
    assert.equal(warnings.length, 1, 'one warning for the first refusal, not one per request');
    assert.match(warnings[0]!.msg, /Host "evil\.example".*--http-allow-host/);
  });

  it('puts no control character of a Host into the log or the reply', async () => {
    for (const bad of ['evil\u0085\u009b31m.example', 'evil\u001b[31m.example']) {
      const logger = new MemoryLogger();
      await withServer({ logger }, async ({ port }) => {
        const status = await rawStatus(port, `GET /summary HTTP/1.0\r\nHost: ${bad}\r\n\r\n`, 'latin1');
        assert.ok(status === 421 || status === 400, `${JSON.stringify(bad)}: ${status}`);
      });
      // eslint-disable-next-line no-control-regex
      assert.ok(!logger.lines.some((l) => /[\u0000-\u001f\u007f-\u009f]/.test(l.msg)), JSON.stringify(logger.lines));
    }
  });

  it('checks the Host before the token, so a refused page learns nothing, not even that a token is wanted', async () => {
    await withServer({ token: 'host-token-1' }, async ({ port }) => {
      await assertRefused(port, 'evil.example', { Authorization: 'Bearer host-token-1' });
      const local = await getWithHost(port, '/summary', `localhost:${port}`);
      assert.equal(local.status, 401, 'an allowed name still needs the token');
      const ok = await getWithHost(port, '/summary', `localhost:${port}`, { Authorization: 'Bearer host-token-1' });
      assert.equal(ok.status, 200);
    });
  });

  it('answers names given with --http-allow-host; name:port allows that port only', async () => {
    await withServer({ allowHosts: ['miner.example', 'proxy.example:8443', '[fd00::7]', 'fd00::8'] }, async ({ port }) => {
      for (const host of ['miner.example', 'MINER.Example:4048', 'miner.example.', 'proxy.example:8443', '[fd00::7]:1', '[fd00:0::8]']) {
        await assertAllowed(port, host);
      }
      for (const host of ['proxy.example:9000', 'proxy.example', 'other.example', 'sub.miner.example', 'miner.example.evil.example']) {
        await assertRefused(port, host);
      }
      await assertAllowed(port, 'localhost'); // loopback still works alongside the list
    });
  });

  it('refuses an HTTP/1.0 request without Host (421) and lets Node refuse an HTTP/1.1 one (400)', async () => {
    await withServer({}, async ({ port }) => {
      assert.equal(await rawStatus(port, 'GET /summary HTTP/1.0\r\n\r\n'), 421);
      assert.equal(await rawStatus(port, 'GET /summary HTTP/1.0\r\nHost: localhost\r\n\r\n'), 200);
      assert.equal(await rawStatus(port, 'GET /summary HTTP/1.0\r\nHost: \r\n\r\n'), 421, 'an empty Host');
      assert.equal(await rawStatus(port, 'GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n'), 421, 'an empty Host, HTTP/1.1');
      assert.equal(await rawStatus(port, 'GET /summary HTTP/1.1\r\nConnection: close\r\n\r\n'), 400);
    });
  });

  it('rejects a malformed --http-allow-host entry as a usage error before listening', async () => {
    const getSummary = () => summaryFixture();
    for (const entry of ['bad name', 'a/b', 'x:123456', '']) {
      await assert.rejects(
        startApiServer({ port: 0, allowHosts: [entry], getSummary, registry: createMetricsRegistry(getSummary, { defaultMetrics: false }), logger: new MemoryLogger() }),
        (err: unknown) => err instanceof UsageError && err.message.startsWith('--http-allow-host: ') && err.message.includes(JSON.stringify(entry)),
        JSON.stringify(entry),
      );
    }
  });
});

describe('stats API exposure warning', { timeout: 30_000 }, () => {
  const exposureWarnings = (logger: MemoryLogger) => logger.lines.filter((l) => l.level === 'warn' && /beyond this machine/.test(l.msg));

  it('does not warn on any loopback address: 127.0.0.2 is as local as 127.0.0.1', async () => {
    for (const host of ['127.0.0.2', '127.0.0.1', 'localhost']) {
      const logger = new MemoryLogger();
      await withServer({ host, logger }, async ({ port }) => {
        const address = host === 'localhost' ? '127.0.0.1' : host;
        assert.equal((await getWithHost(port, '/summary', `${host}:${port}`, {}, address)).status, 200);
      });
      assert.deepEqual(exposureWarnings(logger), [], host);
    }
    for (const address of ['::1', '127.255.0.9', '[::ffff:127.0.0.1]']) {
      const name = parseHostName(address, true)?.name;
      assert.ok(name !== undefined && isLoopbackName(name), address);
    }
    for (const address of ['0.0.0.0', '::', '128.0.0.1', '10.0.0.1', 'fd00::1', 'localhost.example']) {
      const name = parseHostName(address, true)?.name;
      assert.ok(name !== undefined && !isLoopbackName(name), address);
    }
  });

  it('warns on 0.0.0.0 without a token, not with one; there it answers this machine\'s addresses only', async () => {
    const logger = new MemoryLogger();
    await withServer({ host: '0.0.0.0', logger }, async ({ port }) => {
      await assertAllowed(port, `localhost:${port}`);
      // Every address of this machine reaches a 0.0.0.0 bind, so each is a name of this server.
      const addresses = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).filter((i) => i.family === 'IPv4');
      assert.ok(addresses.length >= 1);
      for (const a of addresses) await assertAllowed(port, `${a.address}:${port}`);
      await assertRefused(port, `evil.example:${port}`);
      // An address that is not this machine's (TEST-NET-3, unless this machine has it).
      if (!addresses.some((a) => a.address === '203.0.113.254')) await assertRefused(port, '203.0.113.254');
    });
    assert.equal(exposureWarnings(logger).length, 1, 'binding beyond loopback without a token warns');
    const withToken = new MemoryLogger();
    await withServer({ host: '0.0.0.0', token: 't0k3n-for-wildcard', logger: withToken }, async () => {});
    assert.deepEqual(exposureWarnings(withToken), []);
  });

  it('a wildcard bind reads the interfaces per request; a specific bind answers only its own address', () => {
    const wildcard = new HostAllowList('0.0.0.0');
    const specific = new HostAllowList('192.0.2.77');
    const mine = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).find((i) => !i.internal && i.family === 'IPv4');
    if (mine) {
      assert.equal(wildcard.allows(`${mine.address}:4048`), true);
      assert.equal(specific.allows(`${mine.address}:4048`), mine.address === '192.0.2.77');
    }
    assert.equal(specific.allows('192.0.2.77:4048'), true);
    assert.equal(specific.allows('192.0.2.78'), false);
    assert.equal(new HostAllowList('miner.lan').allows('Miner.LAN:4048'), true, 'a bound name is allowed');
    assert.equal(wildcard.allows(undefined), false);
  });
});
