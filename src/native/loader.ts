// The only importer of the .node file. It loads the addon once (node-gyp-build: build/Release
// from a source build, else the prebuild for this platform and CPU), stops native work on
// process.exit(), and turns a load failure into one NativeLoadError naming the exact fix, as
// sharp's loader does. The rest of src/native uses the addon through the contract's types.
//
// No failure is diagnosed as "unsupported CPU": the local build and the prebuilds are compiled
// for the baseline of their architecture (binding.gyp has no -march; scripts/prebuild.sh), and
// the AVX-512 and AMX kernels are chosen at run time (native/core/cpu.h), so every x86-64 or
// arm64 CPU loads and runs the addon.
import { createRequire } from 'node:module';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { NativeLoadError } from '../errors.js';
import { missingExports } from './contract.js';
import type { Addon } from './contract.js';

let addon: Addon | undefined;
/** The start of the error for a .node file that lacks part of the contract. */
const STALE_BUILD = 'the addon is a build of another cfx-miner version';

/** The load error for a .node file without the contract's exports `missing`. */
export function staleBuildMessage(missing: readonly string[]): string {
  return `${STALE_BUILD} (it has no ${missing.join(', ')})`;
}
/** What process.exit() must stop first (search engines); at most one per engine created. */
const stopOnExit = new Set<{ destroy(): void }>();

/**
 * process.exit() runs no environment cleanup hook, but it does join libuv's pool threads before
 * the process ends: a cache or dataset build still running there would hold a second Ctrl-C for
 * as long as the build takes. So on 'exit', every build is cancelled (they poll their flag every
 * few milliseconds) and every search engine joins its threads.
 */
function onProcessExit(): void {
  addon?.cancelAllBuilds();
  for (const e of stopOnExit) e.destroy();
}

/** Registers something process.exit() must destroy; returns the function that forgets it. */
export function destroyOnExit(e: { destroy(): void }): () => void {
  stopOnExit.add(e);
  return () => stopOnExit.delete(e);
}

/** Loads the addon once; a failure becomes one NativeLoadError that says what to do. */
export function loadAddon(): Addon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const gyp = require('node-gyp-build') as { resolve(dir: string): string };
  let file: string | undefined;
  try {
    file = gyp.resolve(root);
    const loaded = require(file) as Addon;
    const missing = missingExports(loaded);
    if (missing.length > 0) throw new Error(staleBuildMessage(missing));
    addon = loaded;
  } catch (err) {
    const fix = diagnoseLoadError(err instanceof Error ? err.message : String(err), {
      root, file: file && path.relative(root, file), arch: process.arch,
      fileArch: file !== undefined && process.platform === 'linux' ? elfArch(file) : undefined,
      node: process.versions.node, checkout: existsSync(path.join(root, 'src')),
    });
    throw new NativeLoadError(`cannot load the native addon (${fix.reason}); ${fix.fix}`, { cause: err });
  }
  process.once('exit', onProcessExit);
  return addon;
}

/** Loads the addon now, so that a broken build is exit 3 before anything else starts. */
export function ensureAddon(): void {
  loadAddon();
}

/** What the loader knows besides the error text. */
export interface LoadFacts {
  root: string;
  /** The .node file tried, relative to `root`; undefined when none was found. */
  file: string | undefined;
  /** The CPU architecture that file is built for (Node's names), 'not-elf', or undefined. */
  fileArch: string | undefined;
  arch: string;
  node: string;
  /** A checkout (it has src/) rebuilds with npm scripts; an installed package by reinstalling. */
  checkout: boolean;
}

export type LoadFailure = 'missing' | 'node-abi' | 'glibc' | 'arch' | 'damaged' | 'stale' | 'other';

export interface LoadDiagnosis {
  kind: LoadFailure;
  /** The whole first cause, on one line. */
  reason: string;
  fix: string;
}

/** Names the failure in `message` (the error Node or node-gyp-build threw) and its fix. */
export function diagnoseLoadError(message: string, f: LoadFacts): LoadDiagnosis {
  const reason = message.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
  const tools = 'python3, make and a C++17 compiler';
  const fromSource = f.checkout
    ? `run \`npm run build:native\` in ${f.root} (needs ${tools})`
    : `reinstall with \`npm install -g cfx-miner-<version>.tgz --build-from-source\` (needs ${tools})`;
  const glibc = /version `((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)' not found/.exec(message);
  const at = f.file ?? 'the addon';
  let kind: LoadFailure;
  let fix: string;
  if (/No native build was found/.test(message)) {
    kind = 'missing';
    fix = f.checkout
      ? `there is no build/Release and no prebuild for linux-${f.arch}: run \`npm install\` (or \`npm run build\`) in ${f.root} ` +
        `with Node ${f.node}, ${tools}`
      : `reinstall cfx-miner (npm install -g cfx-miner-<version>.tgz) with Node ${f.node}; where its prebuilt ` +
        `addon does not load, that builds one from source and needs ${tools}`;
  } else if (/NODE_MODULE_VERSION|requires Node-API version/.test(message)) {
    kind = 'node-abi';
    fix = `${at} was built for another Node.js; rebuild it with this one (Node ${f.node}): ` +
      (f.checkout ? `run \`npm rebuild\` or \`npm run build:native\` in ${f.root}` : `reinstall cfx-miner with Node ${f.node}`);
  } else if (glibc) {
    kind = 'glibc';
    fix = `${at} needs ${glibc[1]}, newer than this system's C/C++ runtime; build the addon here from source: ${fromSource}`;
  } else if (f.fileArch !== undefined && f.fileArch !== 'not-elf' && f.fileArch !== f.arch || /wrong ELF class|Exec format error/.test(message)) {
    // dlopen says "cannot open shared object file: No such file or directory" for an ELF of
    // another machine: the architecture read from the file's header is what tells.
    kind = 'arch';
    fix = `${at} is built for ${f.fileArch ?? 'another architecture'} and this machine is ${f.arch}; build it here: ${fromSource}`;
  } else if (message.startsWith(STALE_BUILD)) {
    kind = 'stale';
    fix = `${at} does not match this version's JavaScript; rebuild it: ` +
      (f.checkout ? `run \`npm run build:native\` in ${f.root} (needs ${tools})` : `reinstall cfx-miner with Node ${f.node}`);
  } else if (f.fileArch === 'not-elf' || /invalid ELF header|file too short/.test(message)) {
    kind = 'damaged';
    fix = `${at} is not a loadable addon (truncated or damaged); build it again: ${fromSource}`;
  } else {
    kind = 'other';
    fix = f.checkout
      ? `run \`npm install\` (or \`npm run build\`) in ${f.root} with Node ${f.node}, ${tools}`
      : `reinstall cfx-miner (npm install -g cfx-miner-<version>.tgz) with Node ${f.node}; where its prebuilt ` +
        `addon does not load, that builds one from source and needs ${tools}`;
  }
  return { kind, reason, fix };
}

// ELF e_machine values (the System V ABI's list) under Node's process.arch names.
const ELF_MACHINES: Record<number, string> = { 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64', 0xf3: 'riscv64', 0x15: 'ppc64', 0x16: 's390x' };

/** The architecture an ELF file is built for, 'not-elf', or undefined when it cannot be read. */
export function elfArch(file: string): string | undefined {
  const head = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    if (readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x7f454c46) return 'not-elf';
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  return ELF_MACHINES[machine] ?? `ELF machine ${machine}`;
}
