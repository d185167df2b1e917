// `cfx-miner --host H --worker W`: connect, mine every job on every thread, submit, report. This
// file builds the stratum client, the farm and the stats API and wires them in one place (as
// ethminer's PoolManager does); the farm (miner/farm.ts) does the mining and the counting.
import type { Settings } from '../config/schema.js';
import { requireWorker } from '../config/load.js';
import { createLogger, logLevelFor } from '../log/logger.js';
import type { ConsoleLogger } from '../log/logger.js';
import { registerSecret } from '../log/untrusted.js';
import { StratumClient } from '../stratum/client.js';
import { formatHost, parseHostSpec } from '../config/hosts.js';
import { Farm } from '../miner/farm.js';
import { createProgress } from '../ui/progress.js';
import { attachKeys, KEY_HELP } from '../ui/keys.js';
import { startApiServer } from '../api/server.js';
import type { ApiServer } from '../api/server.js';
import { createMetricsRegistry } from '../api/metrics.js';
import { ExitCode, NativeLoadError, UsageError, messageOf } from '../errors.js';
import { ensureAddon, selfTest } from '../native/index.js';
import { failedNames } from '../miner/self-repair.js';

export async function mineCommand(settings: Settings, warnings: string[]): Promise<number> {
  const worker = requireWorker(settings);
  const hosts = settings.hosts.map((h) => {
    try {
      return parseHostSpec(h, settings.port);
    } catch (err) {
      throw new UsageError(messageOf(err));
    }
  });
  ensureAddon(); // a broken build is exit 3 before anything connects
  // Every kernel the CPU selected against known answers, before the first job (xmrig does the
  // same): a wrong path is switched off here, and no right path at all is exit 3.
  const report = selfTest();
  if (!report.ok) {
    throw new NativeLoadError(`self-test: no kernel path gives the known answers (${failedNames(report)}); ` +
      'this CPU or build cannot mine: rebuild the addon (npm run build:native) and report the CPU model');
  }
  registerSecret(settings.password);
  registerSecret(settings.httpToken);
  const log = createLogger({
    level: logLevelFor(settings),
    json: settings.logJson,
    color: settings.color ?? 'auto',
  });
  for (const w of warnings) log.warn('cfg', w);
  const client = new StratumClient({ hosts, worker, password: settings.password, logger: log, requestTimeoutMs: settings.requestTimeoutMs });
  const farm = new Farm({
    settings, logger: log, pool: client, startReport: report,
    progress: (label, total) => createProgress({ label, total, tty: Boolean(process.stderr.isTTY) && !settings.logJson, logger: log }),
    onFatal: () => stop(ExitCode.native),
  });
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => { finish = resolve; });
  let api: ApiServer | undefined;
  let detachKeys: (() => void) | undefined;
  let stopping = false;
  function stop(code: number): void {
    if (stopping) return;
    stopping = true;
    detachKeys?.();
    void farm.stop(() => Promise.all([client.close(), api?.close()]))
      .then(() => log.flush())
      .then(() => finish(code));
  }

  farm.announce();
  if (settings.httpPort !== undefined) {
    try {
      api = await startApi(settings, farm, log);
    } catch (err) {
      // Nothing else has started yet: release the search threads and report the error.
      await farm.abandon();
      throw err;
    }
  }
  wireClient(client, farm, log, stop);
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      log.warn('miner', `second ${sig}: exiting now`);
      finish(ExitCode.interrupted); // cli.ts exits at once on this code, without waiting for anything
      return;
    }
    log.info('miner', `${sig}: stopping`);
    stop(ExitCode.ok);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal or `systemctl reload` without a reload action: a clean stop too, with the
  // summary and grace for submits in flight, rather than the default instant death.
  process.on('SIGHUP', onSignal);
  farm.start();
  // Under --log-json too: raw mode is what keeps typed keys from echoing into the log.
  if (process.stdin.isTTY) {
    detachKeys = attachKeys({
      onHashrate: () => farm.printSpeed(),
      onPause: () => farm.pause(),
      onResume: () => farm.resume(),
      onShares: () => farm.printShares(),
      onHelp: () => log.info('miner', KEY_HELP),
    });
  }
  client.start();
  return done;
}

function startApi(s: Settings, farm: Farm, log: ConsoleLogger): Promise<ApiServer> {
  let api: ApiServer | undefined;
  const registry = createMetricsRegistry(() => farm.summary(), { droppedApiConnections: () => api?.droppedConnections ?? 0 });
  return startApiServer({
    host: s.httpHost, port: s.httpPort!, token: s.httpToken, allowHosts: s.httpAllowHost,
    getSummary: () => farm.summary(),
    registry, logger: log, getHistory: () => farm.history.toJson(),
  }).then((started) => (api = started));
}

/** The client's events into the farm, and its lines about the link. */
function wireClient(c: StratumClient, farm: Farm, log: ConsoleLogger, stop: (code: number) => void): void {
  c.on('state', (ch) => {
    const where = `${ch.host}:${ch.port}`;
    if (ch.state === 'connecting') log.info('net', `connecting to ${where}`);
    else if (ch.state === 'disconnected') log.warn('net', `disconnected from ${where}${ch.reason ? `: ${ch.reason}` : ''}`);
    else if (ch.state === 'backoff') log.info('net', `retrying in ${((ch.delayMs ?? 0) / 1000).toFixed(1)} s`);
    farm.onConnection(ch.state);
  });
  c.on('job', (job) => farm.onJob(job));
  c.on('refused', (err) => {
    log.error('net', err.message);
    stop(ExitCode.refused);
  });
  c.on('failover', (f) => log.warn('net', `failing over from ${formatHost(f.from)} to ${formatHost(f.to)}: ${f.reason}`));
  c.on('failback', (f) => log.info('net', `${formatHost(f.to)} answers again: going back to it`));
}
