// `cfx-miner --host H --worker W`: connect, mine every job on every thread, submit, report.
import os from 'node:os';
import type { Settings } from '../config/schema.js';
import { requireWorker } from '../config/load.js';
import { createLogger, logLevelFor } from '../log/logger.js';
import { registerSecret } from '../log/untrusted.js';
import { plural } from '../log/format.js';
import type { ConsoleLogger } from '../log/logger.js';
import { StratumClient } from '../stratum/client.js';
import { formatHost, parseHostSpec } from '../config/hosts.js';
import type { ConnectionState } from '../stratum/client.js';
import { MiningEngine, shareSummary } from '../miner/engine.js';
import { StageResources } from '../miner/resources.js';
import { HashrateMeter } from '../miner/hashrate.js';
import type { HashrateRates } from '../miner/hashrate.js';
import { createProgress } from '../ui/progress.js';
import { attachKeys, KEY_HELP } from '../ui/keys.js';
import { startApiServer } from '../api/server.js';
import type { ApiServer } from '../api/server.js';
import { linkState } from '../miner/summary.js';
import type { Summary } from '../miner/summary.js';
import { createMetricsRegistry } from '../api/metrics.js';
import { History, HISTORY_INTERVAL_MS } from '../miner/history.js';
import { ThreadHashrates } from '../miner/thread-hashrate.js';
import { HashingClock, formatBooks, logOdds, logSpeed, logSummary } from '../miner/status.js';
import { ExitCode, NativeLoadError, UsageError, messageOf } from '../errors.js';
import { VERSION } from '../version.js';
import { cpuFeatures, disableKernel, ensureAddon, selfTest } from '../native/index.js';
import type { SelfTestReport } from '../native/index.js';
import { BlockOdds, expectedBlockSeconds } from '../miner/shares.js';
import { SelfRepair, failedNames } from '../miner/self-repair.js';

/** Submits still in flight get this long to be answered when the miner stops (under 1 s in all). */
const SHUTDOWN_GRACE_MS = 700;
const SAMPLE_INTERVAL_MS = 500;
/** The best-share / effort / time-to-block line: a block may be weeks away, so every few minutes is enough. */
export const ODDS_INTERVAL_MS = 5 * 60_000;
/** /health wants a job from the node this recently: the node re-sends its job every 60 s, plus a margin. */
export const HEALTH_JOB_MAX_AGE_S = 90;
/** Connected with a job for this long and still no hashes counted: /health says "not hashing". */
const HEALTH_HASHING_GRACE_MS = 15_000;


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
  const logger = createLogger({
    level: logLevelFor(settings),
    json: settings.logJson,
    color: settings.color ?? 'auto',
  });
  for (const w of warnings) logger.warn('cfg', w);
  const miner = new Miner(settings, worker, hosts, logger, report);
  return miner.run();
}

class Miner {
  private readonly started = performance.now();
  private readonly meter = new HashrateMeter();
  private readonly threadRates = new ThreadHashrates();
  private readonly hashingClock = new HashingClock();
  private readonly history = new History();
  private readonly resources: StageResources;
  private readonly client: StratumClient;
  private readonly engine: MiningEngine;
  private api: ApiServer | undefined;
  private clientState: ConnectionState = 'idle';
  private timers: NodeJS.Timeout[] = [];
  private detachKeys: (() => void) | undefined;
  private finish!: (code: number) => void;
  private stopping = false;
  private readonly odds = new BlockOdds();
  private readonly repair: SelfRepair;
  private answersSeen = 0;
  private timeoutsSeen = 0;
  private submitsUnanswered = false;
  /** When the node last sent a job (a re-sent one too): /health's "is the node still feeding us". */
  private lastJobAt: number | undefined;
  private connectedAt: number | undefined;

  constructor(private readonly s: Settings, private readonly worker: string, hosts: { host: string; port: number }[],
    private readonly log: ConsoleLogger, startReport: SelfTestReport) {
    this.resources = new StageResources({
      mode: s.mode, threads: s.threads, hugePages: s.hugePages, logger: log,
      progress: (label, total) => createProgress({ label, total, tty: Boolean(process.stderr.isTTY) && !s.logJson, logger: log }),
      onDatasetReady: (stage) => {
        this.engine.onDatasetReady(stage);
        this.repair.onDatasetReady(stage);
      },
    });
    this.client = new StratumClient({ hosts, worker, password: s.password, logger: log, requestTimeoutMs: s.requestTimeoutMs });
    this.engine = new MiningEngine({
      algo: s.algo, threads: s.threads, fixedHeight: s.height, logger: log, pool: this.client, resources: this.resources,
      onInvalidShare: (share) => this.repair.onInvalid(share),
      onAccepted: () => this.onAccepted(),
    });
    this.repair = new SelfRepair({
      engine: this.engine, resources: this.resources, logger: log, selfTest, disableKernel, kernels: cpuFeatures,
      fixedHeight: s.height,
      onFatal: (message) => {
        log.error('cpu', message);
        void this.shutdown(ExitCode.native);
      },
    });
    this.repair.lastSelfTest = startReport;
  }

  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => { this.finish = resolve; });
    this.announce();
    if (this.s.httpPort !== undefined) {
      try {
        await this.startApi();
      } catch (err) {
        // Nothing else has started yet: release the search threads and report the error.
        await this.engine.stop(0);
        throw err;
      }
    }
    this.wireClient();
    this.wireSignals();
    this.timers.push(setInterval(() => this.sample(), SAMPLE_INTERVAL_MS));
    this.timers.push(setInterval(() => this.history.record(this.summary(), Date.now()), HISTORY_INTERVAL_MS));
    this.timers.push(setInterval(() => this.printSpeed(), this.s.printIntervalS * 1000));
    this.timers.push(setInterval(() => this.printOdds(), ODDS_INTERVAL_MS));
    // Under --log-json too: raw mode is what keeps typed keys from echoing into the log.
    if (process.stdin.isTTY) {
      this.detachKeys = attachKeys({
        onHashrate: () => this.printSpeed(),
        onPause: () => { this.engine.pause(); this.log.info('cpu', 'paused (r resumes)'); },
        onResume: () => { this.engine.resume(); this.log.info('cpu', 'resumed'); },
        onShares: () => this.printShares(),
        onHelp: () => this.log.info('miner', KEY_HELP),
      });
    }
    this.client.start();
    return done;
  }

  private announce(): void {
    const s = this.s;
    const cores = os.availableParallelism();
    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    this.log.info('miner', `cfx-miner ${VERSION}, ${s.algo}, mode ${s.algo === 'keccak' ? 'n/a' : s.mode}, ${plural(s.threads, 'thread')}`);
    const { keccakImpl, polyImpl } = cpuFeatures();
    const st = this.repair.lastSelfTest!;
    const ms = st.kernels.reduce((a, k) => a + k.ms, 0);
    for (const k of st.kernels.filter((c) => !c.ok)) {
      this.log.error('cpu', `self-test: the ${k.name} kernel gave a wrong answer; switched off ${st.disabled.join(' and ')}, using the next path`);
    }
    this.log.info('cpu', `${cpu}, ${plural(cores, 'core')}, keccak ${keccakImpl}, polynomial ${polyImpl}, ` +
      `self-test ${st.ok ? 'ok' : 'FAILED'} (${st.kernels.filter((k) => k.ok).map((k) => k.name).join(', ')}) in ${ms.toFixed(1)} ms`);
    if (s.threads > cores) {
      this.log.warn('cpu', `${plural(s.threads, 'thread')} on ${plural(cores, 'core')}: threads will share cores and each runs slower`);
    }
  }

  private wireClient(): void {
    const c = this.client;
    c.on('state', (ch) => {
      this.clientState = ch.state;
      if (ch.state === 'subscribed') this.connectedAt = performance.now();
      const where = `${ch.host}:${ch.port}`;
      if (ch.state === 'connecting') this.log.info('net', `connecting to ${where}`);
      else if (ch.state === 'disconnected') {
        this.log.warn('net', `disconnected from ${where}${ch.reason ? `: ${ch.reason}` : ''}`);
        this.engine.onDisconnected();
      } else if (ch.state === 'backoff') {
        this.log.info('net', `retrying in ${((ch.delayMs ?? 0) / 1000).toFixed(1)} s`);
      }
    });
    c.on('job', (job) => {
      this.lastJobAt = performance.now();
      this.engine.onJob(job);
    });
    c.on('refused', (err) => {
      this.log.error('net', err.message);
      void this.shutdown(ExitCode.refused);
    });
    c.on('failover', (f) => this.log.warn('net', `failing over from ${formatHost(f.from)} to ${formatHost(f.to)}: ${f.reason}`));
    c.on('failback', (f) => this.log.info('net', `${formatHost(f.to)} answers again: going back to it`));
  }

  private wireSignals(): void {
    const onSignal = (sig: NodeJS.Signals) => {
      if (this.stopping) {
        this.log.warn('miner', `second ${sig}: exiting now`);
        this.finish(ExitCode.interrupted); // cli.ts exits at once on this code, without waiting for anything
        return;
      }
      this.log.info('miner', `${sig}: stopping`);
      void this.shutdown(ExitCode.ok);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed terminal or `systemctl reload` without a reload action: a clean stop too, with the
    // summary and grace for submits in flight, rather than the default instant death.
    process.on('SIGHUP', onSignal);
  }

  private async startApi(): Promise<void> {
    const registry = createMetricsRegistry(() => this.summary(), { droppedApiConnections: () => this.api?.droppedConnections ?? 0 });
    this.api = await startApiServer({
      host: this.s.httpHost, port: this.s.httpPort!, token: this.s.httpToken, allowHosts: this.s.httpAllowHost,
      getSummary: () => this.summary(),
      registry, logger: this.log, getHistory: () => this.history.toJson(),
    });
  }

  summary(): Summary {
    const now = performance.now();
    const rates = this.meter.rates(now);
    const t = this.engine.totals;
    const job = this.engine.currentJob;
    const ep = this.client.endpoint;
    const ds = this.resources.datasetStatus;
    return {
      version: VERSION,
      uptime_s: Math.round((now - this.started) / 1000),
      algo: this.s.algo,
      mode: this.engine.mode === 'idle' ? (this.s.algo === 'keccak' ? 'keccak' : this.s.mode) : this.engine.mode,
      threads: this.s.threads,
      hashrate: { ...rates, threads: this.threadRates.rates10s(now) },
      shares: shareSummary(t),
      job: job ? {
        id: job.jobId, height: job.height ?? this.s.height ?? null, difficulty: job.difficulty,
        age_s: Math.max(0, Math.round((now - job.receivedAt) / 1000)),
      } : null,
      connection: { host: ep.host, port: ep.port, state: linkState(this.clientState) },
      dataset: ds.state === 'building' ? { state: 'building-dataset', progress: ds.progress }
        : ds.state === 'ready' ? { state: 'ready', progress: 1 } : { state: 'idle', progress: 0 },
      ...this.trust(now, rates),
    };
  }

  /** What /summary holds for a miner that may wait weeks for a block (issue 20). */
  private trust(now: number, rates: HashrateRates): Pick<Summary, 'hashes' | 'best' | 'expected_block_s' | 'effort' | 'self_check' | 'self_test' | 'health'> {
    const sc = this.engine.selfCheck;
    const best = sc.best;
    const st = this.repair.lastSelfTest!;
    return {
      hashes: this.engine.totalHashes(),
      best: best && { difficulty: best.difficulty, nonce: `0x${best.nonce.toString(16)}`, job: best.jobId, height: best.height },
      expected_block_s: expectedBlockSeconds(this.engine.currentJob?.difficulty, rates),
      effort: this.odds.effort,
      self_check: { share_difficulty: sc.difficulty, checked: sc.checked, invalid: sc.invalid, effective_hps: sc.effectiveHps(now) },
      self_test: { ok: st.ok, kernels: st.kernels.map((k) => ({ name: k.name, ok: k.ok, ms: Math.round(k.ms * 1000) / 1000 })) },
      health: this.health(now, rates),
    };
  }

  /** /health: connected, fed by the node, hashing, and the self-test and shares right. */
  private health(now: number, rates: HashrateRates): { ok: boolean; reasons: string[] } {
    const reasons: string[] = [];
    const connected = this.clientState === 'subscribed';
    if (!connected) reasons.push('not connected to a node');
    const jobAgeS = this.lastJobAt === undefined ? undefined : (now - this.lastJobAt) / 1000;
    if (connected && jobAgeS === undefined && now - (this.connectedAt ?? now) > HEALTH_JOB_MAX_AGE_S * 1000) reasons.push('no job from the node yet');
    if (jobAgeS !== undefined && jobAgeS > HEALTH_JOB_MAX_AGE_S) reasons.push(`no job from the node for ${Math.round(jobAgeS)} s`);
    if (this.engine.isPaused) reasons.push('paused');
    else if (connected && this.engine.currentJob && now - Math.max(this.connectedAt ?? 0, this.engine.currentJob.receivedAt) > HEALTH_HASHING_GRACE_MS &&
      !((rates['10s'] ?? 0) > 0)) reasons.push('not hashing');
    if (this.submitsUnanswered) reasons.push('the node did not answer the last submit (a block may have been lost)');
    const pow = this.engine.powMismatch;
    if (pow) reasons.push(`the node answers "Incorrect Nonce" to solutions that passed our own check: it computes another proof of work (check --algo ${pow.algo} and --height)`);
    reasons.push(...this.repair.healthReasons());
    return { ok: reasons.length === 0, reasons };
  }

  private sample(): void {
    const now = performance.now();
    const hashes = this.engine.totalHashes();
    this.meter.sample(hashes, now);
    this.threadRates.sample(this.engine.threadHashes(), now);
    this.hashingClock.sample(hashes, now);
    this.sampleOdds(hashes);
    this.sampleAnswers();
    this.engine.sampleShares(now);
    // The minute's rate, not the 10 s one: the share difficulty should follow the machine, not its noise.
    const r = this.meter.rates(now);
    const rate = r['60s'] ?? r['10s'];
    if (rate !== null && rate > 0) this.engine.retargetShares(rate);
  }

  /**
   * A submit timed out and no answer came since: the node swallows solutions (or the link does),
   * which would cost every block from here on. Any answer, a late one included, clears it.
   */
  private sampleAnswers(): void {
    const t = this.engine.totals;
    const answers = t.accepted + t.rejected;
    if (answers > this.answersSeen) this.submitsUnanswered = false;
    else if (t.timedOut > this.timeoutsSeen) this.submitsUnanswered = true;
    this.answersSeen = answers;
    this.timeoutsSeen = t.timedOut;
  }

  /** Effort: the hashes since the last sample, at the current job's difficulty. */
  private sampleOdds(hashes: number): void {
    this.odds.sample(hashes, this.engine.currentJob?.difficulty);
  }

  /** An accepted solution is a block: effort starts again from the hashes counted at its answer. */
  private onAccepted(): void {
    this.sampleOdds(this.engine.totalHashes());
    this.odds.reset();
  }

  private printOdds(): void {
    const now = performance.now();
    const sc = this.engine.selfCheck;
    const rates = this.meter.rates(now);
    logOdds(this.log, {
      best: sc.best, effort: this.odds.effort, expectedBlockS: expectedBlockSeconds(this.engine.currentJob?.difficulty, rates),
      hashrate: rates['15m'] ?? rates['60s'] ?? rates['10s'], shareBits: sc.bits, checked: sc.checked, invalid: sc.invalid,
      effectiveHps: sc.effectiveHps(now),
    });
  }

  private printSpeed(): void {
    const ep = this.client.endpoint;
    logSpeed(this.log, {
      rates: this.meter.rates(performance.now()), shares: shareSummary(this.engine.totals), paused: this.engine.isPaused,
      connected: this.clientState === 'subscribed', node: ep.host === null ? null : `${ep.host}:${ep.port}`,
    });
  }

  private printShares(): void {
    this.log.info('share', formatBooks(this.engine.totals));
    this.printOdds();
  }

  private async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.detachKeys?.();
    this.hashingClock.sample(this.engine.totalHashes(), performance.now());
    try {
      await this.engine.stop(SHUTDOWN_GRACE_MS);
      await Promise.all([this.client.close(), this.api?.close(), this.resources.close()]);
    } catch (err) {
      this.log.error('miner', `while stopping: ${messageOf(err)}`);
    }
    // The hash count once the threads are joined: every solution in the books was hashed by
    // then (read before the stop, a difficulty-1 run showed more solutions found than hashes).
    const hashes = this.engine.totalHashes();
    const t = this.engine.totals;
    const sh = shareSummary(t);
    this.sampleOdds(hashes); // the last hashes, counted once the threads are joined
    logSummary(this.log, {
      ranMs: performance.now() - this.started, hashingMs: this.hashingClock.hashingMs, hashes, counts: t, shares: sh,
    });
    this.printOdds();
    await this.log.flush();
    this.finish(code);
  }
}
