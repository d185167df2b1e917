// What the miner does when an internal share (or a solution) was hashed wrong by the search: a
// kernel or a memory fault, which at real difficulty would otherwise cost weeks of silent, useless
// hashing. It says so in one ERROR line, runs the self-test (a kernel that fails it is switched
// off and the job restarted on the next path), and when the self-test passes it repairs what the
// self-test cannot see: in full mode it rebuilds the dataset (hashing in light mode meanwhile);
// if shares stay wrong after that, it stops using the AMX polynomial, then full mode; in light
// and keccak mode it stops using the AVX-512 kernels. Each step is taken once, and only for an
// invalid share found under the configuration the previous step left (its generation), so a
// burst of bad shares from before a repair does not skip ahead.
import type { Logger } from '../log/types.js';
import { STAGE_LENGTH } from '../native/index.js';
import type { KernelPath, SelfTestReport } from '../native/index.js';
import { shortJobId } from './job.js';
import type { InvalidShare } from './shares.js';


export interface RepairEngine {
  /** The current job again on new batchers; returns the new generation (0: not hashing). */
  restartSearch(): number;
  /** The current job in light mode, away from the dataset of `stage`; the new generation. */
  leaveFullMode(stage: number): number;
  readonly generation: number;
}

export interface RepairResources {
  discardDataset(stage: number, rebuild?: { cache: import('../native/index.js').CacheHandle; height: number }): boolean;
  giveUpFullMode(reason: string): void;
  cacheIfReady(stage: number): import('../native/index.js').CacheHandle | undefined;
}

export interface SelfRepairOptions {
  engine: RepairEngine;
  resources: RepairResources;
  logger: Logger;
  selfTest: () => SelfTestReport;
  disableKernel: (kernel: KernelPath) => void;
  /** The kernels in use now, for the ERROR line ("keccak avx512x8, polynomial amx"). */
  kernels: () => { keccakImpl: string; polyImpl: string };
  /** No kernel path is right: the miner must stop (exit 3). */
  onFatal: (message: string) => void;
  fixedHeight?: number;
}

export class SelfRepair {
  /** Invalid shares found under a configuration that a later step already replaced: counted, not acted on. */
  private fixedFrom = 0;
  private rebuilding: number | undefined;
  private readonly done = new Set<'rebuild' | 'amx' | 'avx2' | 'full' | 'avx512' | 'nothing-left'>();
  /** Set once no repair is left and shares still come out wrong: /health says so from then on. */
  private unrepaired: string | undefined;
  /** The latest self-test, for /summary and the start-up line. */
  lastSelfTest: SelfTestReport | undefined;

  constructor(private readonly opts: SelfRepairOptions) {}

  /** Runs the self-test again and keeps its report for /summary. */
  private runSelfTest(): SelfTestReport {
    this.lastSelfTest = this.opts.selfTest();
    return this.lastSelfTest;
  }

  onInvalid(share: InvalidShare): void {
    if (share.generation < this.fixedFrom || (this.rebuilding !== undefined && share.mode === 'full')) {
      this.opts.logger.debug('cpu', `self-check: another wrong share from before the last repair (nonce 0x${share.nonce.toString(16)})`);
      return;
    }
    const k = this.opts.kernels();
    const kernels = share.mode === 'keccak' ? `keccak ${k.keccakImpl}` : `keccak ${k.keccakImpl}, polynomial ${share.mode === 'full' ? k.polyImpl : lightPoly(k.polyImpl)}`;
    this.opts.logger.error('cpu', `self-check: the search hashed nonce 0x${share.nonce.toString(16)} of job ${shortJobId(share.job.jobId)} ` +
      `wrong in ${share.mode} mode (${kernels}): search 0x${share.searchHash.toString('hex').slice(0, 16)}.., ` +
      `re-check 0x${share.checkHash.toString('hex').slice(0, 16)}..; a kernel or memory fault: running the self-test`);
    const report = this.runSelfTest();
    if (!report.ok) {
      this.opts.onFatal(`self-test: no kernel path gives the known answers (${failedNames(report)}); this CPU or build cannot mine`);
      return;
    }
    if (report.disabled.length > 0) {
      this.opts.logger.error('cpu', `self-test: ${failedNames(report)} gave wrong answers; switched off ${report.disabled.join(' and ')}, ` +
        'the job restarts on the next path');
      this.fixedFrom = this.opts.engine.restartSearch();
      return;
    }
    this.opts.logger.warn('cpu', `self-test passed (${report.kernels.map((c) => c.name).join(', ')}): the fault is not in a kernel's known answers`);
    if (share.mode === 'full') this.repairFull(share);
    else this.repairSimd(share);
  }

  private repairFull(share: InvalidShare): void {
    const height = share.job.height ?? this.opts.fixedHeight ?? 0;
    const stage = Math.floor(height / STAGE_LENGTH);
    if (!this.done.has('rebuild')) {
      this.done.add('rebuild');
      const cache = this.opts.resources.cacheIfReady(stage);
      this.rebuilding = stage;
      this.opts.resources.discardDataset(stage, cache && { cache, height });
      this.fixedFrom = this.opts.engine.leaveFullMode(stage);
      this.opts.logger.warn('dag', `the dataset for stage ${stage} looks damaged in memory: rebuilding it; hashing in light mode meanwhile`);
      return;
    }
    // Full mode's own polynomial kernel (light mode never uses it) goes next, once.
    const poly = this.opts.kernels().polyImpl;
    if ((poly === 'amx' || poly === 'avx2') && !this.done.has(poly)) {
      this.done.add(poly);
      this.opts.disableKernel(poly);
      this.fixedFrom = this.opts.engine.restartSearch();
      this.opts.logger.error('cpu', 'self-check: full mode still hashes wrong after the dataset was rebuilt: ' +
        `no longer using the ${poly.toUpperCase()} polynomial kernel`);
      return;
    }
    this.done.add('full');
    this.rebuilding = undefined;
    this.opts.resources.giveUpFullMode('full mode hashed wrong after a dataset rebuild (self-check)');
    this.fixedFrom = this.opts.engine.leaveFullMode(stage);
    this.opts.logger.error('cpu', 'self-check: full mode keeps hashing wrong after a rebuild: light mode for the rest of this run');
  }

  private repairSimd(share: InvalidShare): void {
    if (!this.done.has('avx512') && this.opts.kernels().keccakImpl !== 'scalar') {
      this.done.add('avx512');
      this.opts.disableKernel('avx512');
      this.fixedFrom = this.opts.engine.restartSearch();
      this.opts.logger.error('cpu', `self-check: ${share.mode} mode hashes wrong although the self-test passes: ` +
        'no longer using the AVX-512 kernels (portable code from now on)');
      return;
    }
    if (!this.done.has('nothing-left')) {
      this.done.add('nothing-left');
      this.unrepaired = `self-check: ${share.mode} mode hashes wrong on every path (memory fault?)`;
      this.opts.logger.error('cpu', `self-check: ${share.mode} mode hashes wrong on the portable path too: no other path is left; ` +
        'mining goes on but its hashes are suspect (memory fault? run a memory test); /health reports it');
    }
  }

  /** The dataset of `stage` is ready again: back in full mode from the engine's current generation. */
  onDatasetReady(stage: number): void {
    if (this.rebuilding !== stage) return;
    this.rebuilding = undefined;
    this.fixedFrom = this.opts.engine.generation;
    this.opts.logger.info('dag', `dataset for stage ${stage} rebuilt after invalid shares: back in full mode, its shares watched`);
  }

  /** Why /health should say no, from the self-test and the shares; empty when all is well. */
  healthReasons(): string[] {
    const reasons: string[] = [];
    const st = this.lastSelfTest;
    if (st && !st.ok) reasons.push('self-test failed');
    if (this.rebuilding !== undefined) reasons.push(`self-check: rebuilding the dataset for stage ${this.rebuilding} after invalid shares`);
    if (this.unrepaired) reasons.push(this.unrepaired);
    return reasons;
  }
}

/** The polynomial light mode runs where full mode's is `polyImpl`: light mode keeps the dense fp64 product. */
function lightPoly(polyImpl: string): string {
  return polyImpl === 'amx' ? 'avx512' : polyImpl === 'avx2' ? 'portable' : polyImpl;
}

/** The checks a self-test report failed, by name, for an error line. */
export function failedNames(r: SelfTestReport): string {
  const failed = r.kernels.filter((k) => !k.ok).map((k) => k.name);
  return failed.length > 0 ? failed.join(', ') : 'no check failed';
}
