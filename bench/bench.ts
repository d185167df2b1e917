// `npm run bench -- [--json] [--mode light|full|all] [--seconds S] [--threads N] [--height H]`:
// exactly `cfx-miner bench` (the CLI's own parser, command and output), with --mode all unless
// another mode is given. The last stdout line is one JSON object with --json.
const args = process.argv.slice(2);
if (!args.some((a) => a === '--mode' || a.startsWith('--mode='))) args.unshift('--mode', 'all');
process.argv.splice(2, process.argv.length - 2, 'bench', ...args);
await import('../src/cli.js');
