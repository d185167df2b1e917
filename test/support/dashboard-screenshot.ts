// Makes docs/dashboard.png: the real miner against the test node for a while, then the dashboard
// in headless chromium. A tool, not a test:
// `node dist/test/support/dashboard-screenshot.js [seconds] [out.png] [phone.png]` (the last: a 390 px wide view).
import path from 'node:path';
import { TestNode } from './test-node.js';
import { startMiner } from './miner-process.js';
import { launchChromium } from './browser.js';
import { repoRoot } from './fixtures.js';

const seconds = Number(process.argv[2] ?? 120);
const out = process.argv[3] ?? path.join(repoRoot, 'docs', 'dashboard.png');

const node = new TestNode({ algo: 'keccak', difficulty: 4_000_000, height: 1_234_567, jobIntervalMs: 15_000 });
const { host, port } = await node.listen();
const miner = startMiner(['--host', `${host}:${port}`, '--worker', 'rig1', '--algo', 'keccak', '--threads', '2', '--http-port', '0']);
try {
  const apiPort = Number((await miner.waitForLine(/stats API on http:\/\/127\.0\.0\.1:(\d+)\//, 15_000))[1]);
  await miner.waitForLine(/subscribed/, 10_000);
  node.newJob();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000)); // let the history fill
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`http://127.0.0.1:${apiPort}/`);
    await page.waitForFunction('document.querySelectorAll(\'svg[data-chart="hashrate"] polyline[points*=","]\').length >= 2');
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
    const phone = process.argv[4];
    if (phone) {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: phone, fullPage: true });
      console.log(`wrote ${phone}`);
    }
  } finally {
    await browser.close();
  }
} finally {
  await miner.stop('SIGINT');
  await node.close();
}
