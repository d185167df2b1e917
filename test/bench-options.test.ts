// The bench's --height (issue 23): a number, a network's name or a list of them, read through the
// real CLI as an operator types it. No test here builds a dataset: the names are checked with
// light mode (a cache of the named stage, tens of MiB) and the lists through the lines that
// refuse them before any work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { limits, sizesForHeight } from '../src/native/index.js';
import { NAMED_HEIGHTS, formatBenchForHumans } from '../src/commands/bench.js';
import { MAX_BENCH_HEIGHTS } from '../src/commands/bench-cli.js';
import { runCli, usageLine } from './support/miner-process.js';

/** A light-mode bench at `height`, as short as it goes; returns the stage its cache was built for. */
async function lightStage(height: string): Promise<number> {
  const r = await runCli(['bench', '--height', height, '--mode', 'light', '--threads', '1', '--seconds', '0.1', '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(typeof (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { light_hps: unknown }).light_hps, 'number');
  const m = /building the stage (\d+) cache/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return Number(m[1]);
}

const CHOICES = `--height takes mainnet or testnet (today's heights, estimated), a whole number from 0 to ${limits().maxHeight}, ` +
  `or a comma-separated list of up to ${MAX_BENCH_HEIGHTS} of them`;

describe('bench --height', { timeout: 180_000 }, () => {
  it('the named heights are the documented ones, and give the documented sizes', () => {
    assert.deepEqual({ ...NAMED_HEIGHTS }, { mainnet: 152_000_000, testnet: 259_000_000 });
    const mainnet = sizesForHeight(NAMED_HEIGHTS.mainnet!);
    assert.deepEqual([mainnet.stage, mainnet.datasetBytes], [289, 9_143_580_416]);
    const testnet = sizesForHeight(NAMED_HEIGHTS.testnet!);
    assert.deepEqual([testnet.stage, testnet.datasetBytes], [494, 12_582_908_672]);
  });

  it('takes mainnet, testnet (in any case) and numbers', async () => {
    assert.equal(await lightStage('mainnet'), 289);
    assert.equal(await lightStage(' Testnet '), 494);
    assert.equal(await lightStage('1048576'), 2);
  });

  it('an unknown name, a negative, a fraction, too large a number or an empty entry: one line with the choices', async () => {
    for (const [bad, shown] of [['mainet', '"mainet"'], ['-1', '"-1"'], ['1.5', '"1.5"'], [String(limits().maxHeight + 1), `"${limits().maxHeight + 1}"`],
      ['0,', '""'], ['0,main net', '"main net"'], ['0x10', '"0x10"']] as const) {
      const line = usageLine(await runCli(['bench', '--height', bad, '--mode', 'full', '--json']), CHOICES, `got ${shown}`);
      assert.equal(line, `cfx-miner: ${CHOICES}; got ${shown}`);
    }
  });

  it('a name with a control character is shown escaped', async () => {
    usageLine(await runCli(['bench', '--height', 'main\u001b[2Jnet']), CHOICES, 'got "main\\u001b[2Jnet"');
  });

  it('a list: at most three, each height once, and only where full mode runs', async () => {
    usageLine(await runCli(['bench', '--height', '0,mainnet,testnet,1', '--mode', 'full']), CHOICES, 'got 4 heights');
    usageLine(await runCli(['bench', '--height', 'mainnet,152000000', '--mode', 'full']), 'lists height 152000000 twice; give each height once');
    // cfx-miner bench measures light mode unless told otherwise: the list parsed, and is refused.
    usageLine(await runCli(['bench', '--height', '0,mainnet']), '--height with a list measures full mode at each height: add --mode full (or all)');
    usageLine(await runCli(['bench', '--height', 'testnet,0', '--mode', 'light']), 'add --mode full');
  });

  it("the human table has the further height's rows, named, after the first height's", () => {
    const full = {
      dag_build_seconds: 34.5, dag_build_bytes_per_s: 124_491_783, dataset_bytes: 4_294_966_528, huge_pages: true, huge_pages_kind: 'transparent',
      huge_pages_fraction: 0.996, full_hps: 926_939, full_hps_per_thread: 463_470, full_vs_light: 70, full_vs_baseline: 1500,
      memory_ceiling_hps: 1_623_119, full_vs_memory_ceiling: 0.571, full_vs_memory_ceiling_min: 0.55, full_vs_memory_ceiling_max: 0.6,
    };
    const table = formatBenchForHumans({
      cpu: 'test cpu', cores: 2, threads: 2, keccak_impl: 'scalar', keccak_hps: 1, keccak_scalar_hps_per_thread: null, keccak_vs_scalar: null,
      ...full, height_mainnet: 152_000_000, dag_build_seconds_mainnet: 92, dag_build_bytes_per_s_mainnet: 99_386_744,
      dataset_bytes_mainnet: 9_143_580_416, huge_pages_mainnet: true, huge_pages_kind_mainnet: 'transparent', full_hps_mainnet: 702_404,
      full_hps_per_thread_mainnet: 351_202, memory_ceiling_hps_mainnet: 903_421, full_vs_memory_ceiling_mainnet: 0.778,
      full_vs_memory_ceiling_min_mainnet: 0.75, full_vs_memory_ceiling_max_mainnet: 0.8,
    });
    const lines = table.split('\n');
    const at = (label: string) => lines.findIndex((l) => l.startsWith(label));
    assert.match(lines[at('dataset build ')]!, /34\.5 s for 4\.00 GiB \(118\.72 MiB\/s\), huge pages: transparent 99%$/);
    assert.match(lines[at('dataset build, mainnet (height 152000000)')]!, /92 s for 8\.52 GiB \(94\.78 MiB\/s\), huge pages: transparent$/);
    assert.match(lines[at('full mode, all threads, mainnet')]!, /702\.40 kH\/s$/);
    assert.match(lines[at('full / memory ceiling, mainnet')]!, /0\.778 \(slices 0\.75 to 0\.8\)$/);
    assert.ok(at('full / memory ceiling ') < at('dataset build, mainnet'), table);
    assert.equal(lines.filter((l) => l.startsWith('full / light')).length, 1, 'the ratio to light mode is of the first height only');
  });
});
