// npm's install hook, in a clone and in the published package alike. The package carries a
// prebuilt Node-API addon (prebuilds/<platform>-<arch>/, made by prebuildify); node-gyp-build
// finds it, or a build/Release one from an earlier source build. If one is found and loads here,
// there is nothing to do: no compiler, make or python3 is needed. Otherwise the addon is built
// from the shipped sources with node-gyp, after one line that says why.
//
// Loading (not just finding) is the test on purpose: a prebuild for this platform can still fail
// to load, e.g. on a system whose glibc or libstdc++ is older than the build machine's.
//
// Plain JavaScript with no devDependency: the published package runs it without TypeScript.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = `${process.platform}-${process.arch}`;

function firstLine(err) {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

function whyNot() {
  if (process.env.npm_config_build_from_source === 'true') return 'asked to build from source';
  let file;
  try {
    file = require('node-gyp-build').resolve(root);
  } catch {
    return `no prebuilt addon for ${target}`;
  }
  try {
    require(file);
    return undefined;
  } catch (err) {
    return `the addon ${path.relative(root, file)} does not load here (${firstLine(err)})`;
  }
}

// npm sets npm_config_node_gyp to the node-gyp it bundles; a clone also has it as a devDependency.
function nodeGyp() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled) return [process.execPath, bundled];
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

const reason = whyNot();
if (reason !== undefined) {
  console.error(`cfx-miner: ${reason}; building it from source with node-gyp ` +
    '(needs python3, make and a C++17 compiler)');
  const [command, ...args] = nodeGyp();
  const r = spawnSync(command, [...args, 'rebuild'], { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`cfx-miner: cannot run node-gyp (${firstLine(r.error)})`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
