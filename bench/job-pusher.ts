// The loopback node of the job-switch measurement (bench/switches.ts): the project's test node
// on a worker thread, pushing a fresh job every `periodMs` once the miner has subscribed. A node
// is another process: its allocations and timers in the miner's own isolate would add
// collections and wake-ups to the event loop being measured. Boundary 1: no nonce is ever a
// solution, so the node never verifies anything. Posts its port, closes on 'stop'.
import { parentPort, workerData } from 'node:worker_threads';
import { TestNode } from '../test/support/test-node.js';

const port = parentPort!;
const { periodMs } = workerData as { periodMs: number };
const node = await TestNode.start({ difficulty: 1n << 256n });
let timer: NodeJS.Timeout | undefined;
node.once('subscribed', () => { timer = setInterval(() => node.newJob(), periodMs); });
port.on('message', () => {
  clearInterval(timer);
  void node.close().then(() => port.close());
});
port.postMessage(node.port);
