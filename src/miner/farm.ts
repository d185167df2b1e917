// The farm (ethminer's Farm, xmrig's Miner): the mining engine and its stage resources, the
// meters, the self-repair, and one tick (xmrig's Miner::onTimer) that drives every meter and
// decides when the history sample, the speed line and the odds line are due. summary() is the
// snapshot the stats API and the dashboard render. The stratum client is wired in from outside
// (commands/mine.ts): the farm only sees its jobs, its state and where it submits.
import os from 'node:os';
import type { Settings } from '../config/schema.js';
import type { ConsoleLogger } from '../log/logger.js';
import { plural } from '../log/format.js';
import { messageOf } from '../errors.js';
import { VERSION } from '../version.js';
import { cpuFeatures, disableKernel, selfTest } from '../native/index.js';
import type { SelfTestReport } from '../native/index.js';
import { MiningEngine } from './engine.js';
import { shareSummary } from './books.js';
import { StageResources } from './resources.js';
import type { ResourceOptions } from './resources.js';
import type { Job } from './job.js';
import type { SubmitTarget } from './pool.js';
import { HashrateMeter } from './hashrate.js';
import type { HashrateRates } from './hashrate.js';
import { ThreadHashrates } from './thread-hashrate.js';
import { History, HISTORY_INTERVAL_MS } from './history.js';
import { BlockOdds, expectedBlockSeconds } from './shares.js';
import { SelfRepair } from './self-repair.js';
import { HashingClock, formatBooks, logOdds, logSpeed, logSummary } from './status.js';
import { linkState } from './summary.js';
import type { ConnectionState, LinkState, Summary } from './summary.js';

/** Submits still in flight get this long to be answered when the miner stops (under 1 s in all). */
const SHUTDOWN_GRACE_MS = 700;
/** The tick: twice a second, as xmrig samples its hashrate; every period below is a multiple of it or longer. */
export const SAMPLE_INTERVAL_MS = 500;
/** The best-share / effort / time-to-block line: a block may be weeks away, so every few minutes is enough. */
export const ODDS_INTERVAL_MS = 5 * 60_000;
/** /health wants a job from the node this recently: the node re-sends its job every 60 s, plus a margin. */
export const HEALTH_JOB_MAX_AGE_S = 90;
/** Connected with a job for this long and still no hashes counted: /health says "not hashing". */
const HEALTH_HASHING_GRACE_MS = 15_000;

export type FarmSettings = Pick<Settings, 'algo' | 'mode' | 'threads' | 'hugePages' | 'height' | 'printIntervalS'>;

/** Where solutions go (the stratum client), and which node it is on, for the summary and the speed line. */
export interface FarmPool extends SubmitTarget {
  readonly endpoint: { host: string | null; port: number | null };
}

export interface FarmOptions {
  settings: FarmSettings;
  logger: ConsoleLogger;
  pool: FarmPool;
  /** The start-up self-test, already run and passed. */
  startReport: SelfTestReport;
  /** The progress display of a cache or dataset build (a bar on a terminal, periodic lines elsewhere). */
  progress: ResourceOptions['progress'];
  /** The self-repair found no kernel path that hashes right (already logged): the miner must stop, exit 3. */
  onFatal: () => void;
}

/** When each periodic record or line is next due (performance.now() clock). */
interface Due { history: number; speed: number; odds: number }

export class Farm {
  private readonly started = performance.now();
  private readonly s: FarmSettings;
  private readonly log: ConsoleLogger;
  private readonly pool: FarmPool;
  private readonly meter = new HashrateMeter();
  private readonly threadRates = new ThreadHashrates();
  private readonly hashingClock = new HashingClock();
  private readonly odds = new BlockOdds();
  /** The last HISTORY_CAPACITY samples, for GET /history. */
  readonly history = new History();
  private readonly resources: StageResources;
  private readonly engine: MiningEngine;
  private readonly repair: SelfRepair;
  private link: LinkState = 'disconnected';
  private timer: NodeJS.Timeout | undefined;
  private due: Due;
  private answersSeen = 0;
  private timeoutsSeen = 0;
  private submitsUnanswered = false;
  /** When the node last sent a job (a re-sent one too): /health's "is the node still feeding us". */
  private lastJobAt: number | undefined;
  private connectedAt: number | undefined;

  constructor(opts: FarmOptions) {
    const s = this.s = opts.settings;
    const log = this.log = opts.logger;
    this.pool = opts.pool;
    this.resources = new StageResources({
      mode: s.mode, threads: s.threads, hugePages: s.hugePages, logger: log, progress: opts.progress,
      onDatasetReady: (stage) => {
        this.engine.onDatasetReady(stage);
        this.repair.onDatasetReady(stage);
      },
    });
    this.engine = new MiningEngine({
      algo: s.algo, threads: s.threads, fixedHeight: s.height, logger: log, pool: opts.pool, resources: this.resources,
      onInvalidShare: (share) => this.repair.onInvalid(share),
      onAccepted: () => this.onAccepted(),
    });
    this.repair = new SelfRepair({
      engine: this.engine, resources: this.resources, logger: log, selfTest, disableKernel, kernels: cpuFeatures,
      fixedHeight: s.height,
      onFatal: (message) => {
        log.error('cpu', message);
        opts.onFatal();
      },
    });
    this.repair.lastSelfTest = opts.startReport;
    this.due = this.schedule(this.started);
  }

  /** The start-up lines: version and settings, the CPU, its kernels and their self-test. */
  announce(): void {
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

  /** Starts the tick; the periodic lines and records fall due counted from now. */
  start(): void {
    this.due = this.schedule(performance.now());
    this.timer = setInterval(() => this.tick(performance.now()), SAMPLE_INTERVAL_MS);
  }

  private schedule(fromMs: number): Due {
    return { history: fromMs + HISTORY_INTERVAL_MS, speed: fromMs + this.s.printIntervalS * 1000, odds: fromMs + ODDS_INTERVAL_MS };
  }

  // --- the stratum client's events, as commands/mine.ts wires them ---

  onConnection(state: ConnectionState): void {
    this.link = linkState(state);
    if (state === 'subscribed') this.connectedAt = performance.now();
    else if (state === 'disconnected') this.engine.onDisconnected();
  }

  onJob(job: Job): void {
    this.lastJobAt = performance.now();
    this.engine.onJob(job);
  }

  // --- the keys ---

  pause(): void {
    this.engine.pause();
    this.log.info('cpu', 'paused (r resumes)');
  }

  resume(): void {
    this.engine.resume();
    this.log.info('cpu', 'resumed');
  }

  /**
   * Every meter, then whichever periodic record or line is due: one timer for all, so they can
   * never drift apart or pile up. Public so that tests can drive it with their own times.
   */
  tick(nowMs: number): void {
    const hashes = this.engine.totalHashes();
    this.meter.sample(hashes, nowMs);
    this.threadRates.sample(this.engine.threadHashes(), nowMs);
    this.hashingClock.sample(hashes, nowMs);
    this.sampleOdds(hashes);
    this.sampleAnswers();
    this.engine.sampleShares(nowMs);
    // The minute's rate, not the 10 s one: the share difficulty should follow the machine, not its noise.
    const r = this.meter.rates(nowMs);
    const rate = r['60s'] ?? r['10s'];
    if (rate !== null && rate > 0) this.engine.retargetShares(rate);
    if (this.isDue('history', HISTORY_INTERVAL_MS, nowMs)) {
      this.history.record({ hashrate: r, shares: shareSummary(this.engine.totals) }, Date.now());
    }
    if (this.isDue('speed', this.s.printIntervalS * 1000, nowMs)) this.printSpeed(nowMs);
    if (this.isDue('odds', ODDS_INTERVAL_MS, nowMs)) this.printOdds(nowMs);
  }

  /** True on the first tick at or past `what`'s time; its next time is one period on (no burst after a late tick). */
  private isDue(what: keyof Due, periodMs: number, nowMs: number): boolean {
    if (nowMs < this.due[what]) return false;
    const next = this.due[what] + periodMs;
    this.due[what] = next > nowMs ? next : nowMs + periodMs;
    return true;
  }

  summary(now = performance.now()): Summary {
    const rates = this.meter.rates(now);
    const job = this.engine.currentJob;
    const ep = this.pool.endpoint;
    const ds = this.resources.datasetStatus;
    return {
      version: VERSION,
      uptime_s: Math.round((now - this.started) / 1000),
      algo: this.s.algo,
      mode: this.engine.mode === 'idle' ? (this.s.algo === 'keccak' ? 'keccak' : this.s.mode) : this.engine.mode,
      threads: this.s.threads,
      hashrate: { ...rates, threads: this.threadRates.rates10s(now) },
      shares: shareSummary(this.engine.totals),
      job: job ? {
        id: job.jobId, height: job.height ?? this.s.height ?? null, difficulty: job.difficulty,
        age_s: Math.max(0, Math.round((now - job.receivedAt) / 1000)),
      } : null,
      connection: { host: ep.host, port: ep.port, state: this.link },
      dataset: {
        ...(ds.state === 'building' ? { state: 'building-dataset', progress: ds.progress }
          : ds.state === 'ready' ? { state: 'ready', progress: 1 } : { state: 'idle', progress: 0 } as const),
        huge_pages_fraction: this.resources.hugePagesFraction(now),
      },
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
    const connected = this.link === 'connected';
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

  printOdds(now = performance.now()): void {
    const sc = this.engine.selfCheck;
    const rates = this.meter.rates(now);
    logOdds(this.log, {
      best: sc.best, effort: this.odds.effort, expectedBlockS: expectedBlockSeconds(this.engine.currentJob?.difficulty, rates),
      hashrate: rates['15m'] ?? rates['60s'] ?? rates['10s'], shareBits: sc.bits, checked: sc.checked, invalid: sc.invalid,
      effectiveHps: sc.effectiveHps(now),
    });
  }

  printSpeed(now = performance.now()): void {
    const ep = this.pool.endpoint;
    logSpeed(this.log, {
      rates: this.meter.rates(now), shares: shareSummary(this.engine.totals), paused: this.engine.isPaused,
      connected: this.link === 'connected', node: ep.host === null ? null : `${ep.host}:${ep.port}`,
    });
  }

  printShares(): void {
    this.log.info('share', formatBooks(this.engine.totals));
    this.printOdds();
  }

  /** The miner ends before it started (the stats API could not listen): release the search threads. */
  async abandon(): Promise<void> {
    await this.engine.stop(0);
  }

  /**
   * Stops the tick and the threads (submits in flight get SHUTDOWN_GRACE_MS), closes the links
   * (`closeLinks`: the client, the API) and the stage resources, then logs the summary and the
   * odds line.
   */
  async stop(closeLinks: () => Promise<unknown>): Promise<void> {
    clearInterval(this.timer);
    this.hashingClock.sample(this.engine.totalHashes(), performance.now());
    try {
      await this.engine.stop(SHUTDOWN_GRACE_MS);
      await Promise.all([closeLinks(), this.resources.close()]);
    } catch (err) {
      this.log.error('miner', `while stopping: ${messageOf(err)}`);
    }
    // The hash count once the threads are joined: every solution in the books was hashed by
    // then (read before the stop, a difficulty-1 run showed more solutions found than hashes).
    const hashes = this.engine.totalHashes();
    const t = this.engine.totals;
    this.sampleOdds(hashes); // the last hashes, counted once the threads are joined
    logSummary(this.log, {
      ranMs: performance.now() - this.started, hashingMs: this.hashingClock.hashingMs, hashes, counts: t, shares: shareSummary(t),
    });
    this.printOdds();
  }
}
