// `npm run test-node -- [--algo keccak|octopus] [--difficulty N] [--height N] [--port P]
// [--password P] [--job-interval-ms N] [--window N]`: a local Conflux-like stratum node to point
// the miner at. Logs go to stderr; the one "listening" line goes to stdout so scripts can read it.
import net from 'node:net';
import { parseArgs } from 'node:util';
import type { Algo } from '../../src/native/index.js';
import { formatDifficulty, shortJobId } from '../../src/miner/job.js';
import { plural } from '../../src/log/format.js';
import { DEFAULT_DIFFICULTY, TestNode } from './test-node.js';

const DEFAULT_PORT = 32525;

interface CliOptions {
  algo: Algo;
  difficulty: bigint;
  height: number;
  port: number | undefined;
  password: string | undefined;
  jobIntervalMs: number;
  windowSize: number;
}

const USAGE = 'usage: npm run test-node -- [--algo keccak|octopus] [--difficulty N] [--height N] [--port P] ' +
  '[--password P] [--job-interval-ms N] [--window N]';

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      algo: { type: 'string', default: 'keccak' },
      difficulty: { type: 'string' },
      height: { type: 'string', default: '0' },
      port: { type: 'string' },
      password: { type: 'string' },
      'job-interval-ms': { type: 'string', default: '10000' },
      window: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const algo = values.algo;
  if (algo !== 'keccak' && algo !== 'octopus') throw new Error(`--algo must be keccak or octopus, got ${JSON.stringify(algo)}`);
  return {
    algo,
    difficulty: values.difficulty === undefined ? DEFAULT_DIFFICULTY[algo] : wholeBig(values.difficulty, '--difficulty', 1n),
    height: wholeNumber(values.height, '--height', 0, Number.MAX_SAFE_INTEGER),
    port: values.port === undefined ? undefined : wholeNumber(values.port, '--port', 0, 65535),
    password: values.password,
    jobIntervalMs: wholeNumber(values['job-interval-ms'], '--job-interval-ms', 0, 86_400_000),
    windowSize: wholeNumber(values.window, '--window', 1, 1000),
  };
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

function wholeBig(text: string, flag: string, min: bigint): bigint {
  if (!/^[0-9]+$/.test(text) || BigInt(text) < min) throw new Error(`${flag} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`);
  return BigInt(text);
}

/** The default port when it is free, else any free one (the line printed says which). */
async function choosePort(requested: number | undefined): Promise<number> {
  if (requested !== undefined) return requested;
  return (await portIsFree(DEFAULT_PORT)) ? DEFAULT_PORT : 0;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} test-node ${msg}\n`);
}

async function main(): Promise<void> {
  const opts = parseCli(process.argv.slice(2));
  const node = await TestNode.start({
    host: '127.0.0.1', port: await choosePort(opts.port), password: opts.password, algo: opts.algo,
    difficulty: opts.difficulty, height: opts.height, windowSize: opts.windowSize,
    jobIntervalMs: opts.jobIntervalMs, resendIntervalMs: 60_000,
    // A developer wants work at once rather than after the next interval.
    notifyOnSubscribe: true,
  });
  const passwordFlag = opts.password === undefined ? '' : ' --password <the password>';
  process.stdout.write(
    `test node (${opts.algo}, difficulty ${opts.difficulty}, height ${opts.height}) listening on 127.0.0.1:${node.port}; ` +
    `point the miner at it: cfx-miner --host 127.0.0.1 --port ${node.port} --worker test --algo ${opts.algo}` +
    `${opts.algo === 'octopus' ? ' --mode light' : ''}${passwordFlag}` +
    // Without --mode light, auto mode builds the multi-GiB dataset first when memory allows.
    `${opts.algo === 'octopus' ? ' (without --mode light, --mode auto builds a 4 GiB dataset when it fits in memory)' : ''}\n`);

  node.on('connection', (c) => log(`connection #${c.connId} from ${c.remote}`));
  node.on('disconnect', (c) => log(`connection #${c.connId} closed`));
  node.on('subscribe', (s) => log(`subscribe #${s.connId} worker ${JSON.stringify(s.worker)}: ${s.ok ? 'ok' : 'refused (wrong password)'}`));
  node.on('job', (j) => log(`new job ${shortJobId(j.jobId)} height ${j.height} difficulty ${formatDifficulty(j.difficulty)} -> ${plural(node.subscribedCount, 'miner')}`));
  node.on('submit', (s) => log(`submit #${s.connId} job ${s.job ? shortJobId(s.job.jobId) : (s.powHashParam ?? '?').slice(0, 10)} ` +
    `nonce ${s.nonceParam ?? '?'}: ${s.verdict} (accepted ${node.stats.accepted}, rejected ${node.stats.rejected}, stale ${node.stats.stale})`));
  node.newJob();

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (accepted ${node.stats.accepted}, rejected ${node.stats.rejected}, stale ${node.stats.stale}, duplicates ${node.stats.duplicates})`);
    void node.close().then(() => { process.exitCode = 0; });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`test-node: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exitCode = 2;
});
