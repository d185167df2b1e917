// The real `cfx-miner` process against the project's test node on 127.0.0.1: what a miner sees
// and what the node counts. The node verifies every submit with the project's verifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestNode } from './support/test-node.js';
import type { TestNodeOptions } from './support/test-node.js';
import { startMiner } from './support/miner-process.js';
import { waitFor } from './support/wait.js';

async function withNode<T>(opts: TestNodeOptions, fn: (node: TestNode, hostArg: string) => Promise<T>): Promise<T> {
  const node = new TestNode(opts);
  const { host, port } = await node.listen();
  try {
    return await fn(node, `${host}:${port}`);
  } finally {
    await node.close();
  }
}

const SOLUTION_WAIT_MS = 30_000;

test('keccak at low difficulty: solutions accepted, none rejected, clean Ctrl-C', async (t) => {
  await withNode({ algo: 'keccak', difficulty: 1_000_000 }, async (node, host) => {
    const miner = startMiner(['--host', host, '--worker', 'rig1', '--algo', 'keccak', '--threads', '2'], { t });
    try {
      await miner.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waitFor(() => node.stats.accepted >= 3, SOLUTION_WAIT_MS, '3 accepted solutions');
      await miner.waitForLine(/accepted \(3\//, 5_000);
      const exit = await miner.stop('SIGINT');
      assert.equal(exit.code, 0);
      assert.equal(node.stats.rejected, 0);
      assert.equal(node.stats.stale, 0);
      const summary = miner.lines.find((l) => /summary:/.test(l));
      assert.ok(summary, 'prints a summary');
      assert.match(summary!, /rejected 0/);
      assert.match(miner.lines.join('\n'), /new job [0-9a-f]{8} height 0 difficulty 1\.00 M/);
    } finally {
      await miner.stop('SIGKILL');
    }
  });
});

test('octopus light mode: solutions accepted by a node that verifies them', async (t) => {
  await withNode({ algo: 'octopus', difficulty: 400, height: 7 }, async (node, host) => {
    const miner = startMiner(['--host', host, '--worker', 'rig2', '--algo', 'octopus', '--mode', 'light', '--threads', '2'], { t });
    try {
      await miner.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waitFor(() => node.stats.accepted >= 2, 60_000, '2 accepted octopus solutions');
      assert.equal(node.stats.rejected, 0);
      assert.match(miner.lines.join('\n'), /cache for stage 0 ready/);
      assert.equal((await miner.stop('SIGTERM')).code, 0);
    } finally {
      await miner.stop('SIGKILL');
    }
  });
});

test('a job every 50 ms: no submit for a job the miner already knew was replaced', async (t) => {
  await withNode({ algo: 'keccak', difficulty: 150_000, jobIntervalMs: 50 }, async (node, host) => {
    const miner = startMiner(['--host', host, '--worker', 'rig3', '--algo', 'keccak', '--threads', '1'], { t });
    try {
      await miner.waitForLine(/subscribed/, 10_000);
      await waitFor(() => node.stats.submits >= 20 && node.stats.jobs >= 60, SOLUTION_WAIT_MS, '20 submits over 60 jobs');
      assert.equal((await miner.stop('SIGINT')).code, 0);
    } finally {
      await miner.stop('SIGKILL');
    }
    // A submit can cross a notify on the wire, and a busy miner may read a notify late: neither
    // is its fault. What is: a submit for a job after the miner has submitted for a newer one
    // (it knew that job had been replaced, having mined its successor). The node records both
    // the order of arrival and the job of each submit; jobs are numbered in the order it made them
    // (its job map keeps insertion order).
    const order = new Map([...node.jobs.keys()].map((jobId, i) => [jobId, i]));
    let newest = -1;
    const late: string[] = [];
    for (const s of node.submits) {
      const i = s.job ? order.get(s.job.jobId) : undefined;
      assert.ok(i !== undefined, `every submit names a job the node sent (${s.jobIdParam})`);
      if (i < newest) late.push(`job #${i} (${s.verdict}) after a submit for job #${newest}`);
      newest = Math.max(newest, i);
    }
    assert.deepEqual(late, [], 'no submit for a job older than one already submitted for');
    assert.ok(newest > 0 && new Set(node.submits.map((s) => s.job!.jobId)).size >= 10, 'the miner followed the jobs');
    assert.equal(node.stats.rejected, 0);
    assert.ok(node.stats.accepted >= 10, `accepted ${node.stats.accepted}`);
  });
});

test('wrong password: one clear line naming the password, exit 4, no reconnect loop', async (t) => {
  await withNode({ algo: 'keccak', password: 'right-one' }, async (node, host) => {
    const secret = 'hunter2-wrong-secret';
    const miner = startMiner(['--host', host, '--worker', 'rig4', '--algo', 'keccak'], { env: { CFX_MINER_PASSWORD: secret }, t });
    const exit = await miner.exited;
    assert.equal(exit.code, 4);
    const text = miner.lines.join('\n') + miner.stdout.join('\n');
    assert.match(text, /password/i);
    assert.ok(!text.includes(secret), 'the password never appears');
    assert.deepEqual([node.stats.refusedSubscribes, node.stats.subscribes, node.stats.connections], [1, 0, 1], 'one refused subscribe, no reconnect loop');
  });
});

test('the node drops the connection: the miner reconnects and is accepted again', async (t) => {
  await withNode({ algo: 'keccak', difficulty: 1_000_000 }, async (node, host) => {
    const miner = startMiner(['--host', host, '--worker', 'rig5', '--algo', 'keccak', '--threads', '2'], { t });
    try {
      await miner.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waitFor(() => node.stats.accepted >= 1, SOLUTION_WAIT_MS, 'a first accepted solution');
      node.dropConnections();
      await miner.waitForLine(/disconnected/, 5_000);
      await waitFor(() => node.subscribedCount >= 1 && node.stats.subscribes >= 2, 10_000, 're-subscribe');
      const before = node.stats.accepted;
      node.newJob();
      await waitFor(() => node.stats.accepted > before, SOLUTION_WAIT_MS, 'accepted after reconnect');
      assert.equal(node.stats.rejected, 0);
      assert.equal((await miner.stop('SIGINT')).code, 0);
    } finally {
      await miner.stop('SIGKILL');
    }
  });
});

test('3-param notify, split and merged chunks, garbage among valid lines', async (t) => {
  await withNode({ algo: 'keccak', difficulty: 1_000_000, notifyParams: 3 }, async (node, host) => {
    const miner = startMiner(['--host', host, '--worker', 'rig6', '--algo', 'keccak', '--threads', '2'], { t });
    try {
      await miner.waitForLine(/subscribed/, 10_000);
      node.behaviour.chunking = 'split';
      node.sendGarbage();
      node.newJob();
      await waitFor(() => node.stats.accepted >= 1, SOLUTION_WAIT_MS, 'accepted with split chunks');
      node.behaviour.chunking = 'merge';
      node.sendGarbage();
      node.newJob();
      const before = node.stats.accepted;
      await waitFor(() => node.stats.accepted > before, SOLUTION_WAIT_MS, 'accepted with merged chunks');
      assert.equal(node.stats.rejected, 0);
      assert.match(miner.lines.join('\n'), /bad line|ignored|invalid/i, 'garbage is logged');
      assert.equal((await miner.stop('SIGINT')).code, 0);
    } finally {
      await miner.stop('SIGKILL');
    }
  });
});

test('octopus with a 3-param notify and no --height: says why and waits; with --height it mines', async (t) => {
  await withNode({ algo: 'octopus', difficulty: 400, notifyParams: 3, height: 0 }, async (node, host) => {
    const waiting = startMiner(['--host', host, '--worker', 'rig7', '--algo', 'octopus', '--mode', 'light'], { t });
    try {
      await waiting.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waiting.waitForLine(/without a block height.*--height/, 5_000);
      assert.equal((await waiting.stop('SIGINT')).code, 0);
    } finally {
      await waiting.stop('SIGKILL');
    }
    const mining = startMiner(['--host', host, '--worker', 'rig8', '--algo', 'octopus', '--mode', 'light', '--height', '0'], { t });
    try {
      await mining.waitForLine(/subscribed/, 10_000);
      node.newJob();
      await waitFor(() => node.stats.accepted >= 1, 60_000, 'an accepted octopus solution');
      assert.equal(node.stats.rejected, 0);
    } finally {
      await mining.stop('SIGKILL');
    }
  });
});
