// `npm run bench -- [--json] [--mode light|full|all] [--seconds S] [--threads N] [--height H]`:
// exactly `cfx-miner bench` (the CLI's own parser, command and output), with --mode all unless
// another mode is given, plus the independent references of bench/references.ts, so the ratios
// (keccak_vs_scalar, light_vs_baseline, full_vs_memory_ceiling, ...) are filled in. The last
// stdout line is one JSON object with --json.
import '../src/runtime-flags.js'; // first, as in the CLI: the bench measures the miner as it runs
import { provideBenchReferences } from '../src/commands/bench.js';
import { benchReferences } from './references.js';

provideBenchReferences(benchReferences);
const args = process.argv.slice(2);
if (!args.some((a) => a === '--mode' || a.startsWith('--mode='))) args.unshift('--mode', 'all');
process.argv.splice(2, process.argv.length - 2, 'bench', ...args);
await import('../src/cli.js');
