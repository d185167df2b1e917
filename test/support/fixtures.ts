// Paths and loaders shared by the tests (compiled to dist/test/support, run from anywhere).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root, found from this file's place in dist/test/support or test/support. */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (path.basename(dir) === 'dist') return path.dirname(dir);
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
})();

export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli.js');

export type VectorLine =
  | { kind: 'sizes'; height: number; stage: number; seed: string; cache_bytes: number; dataset_bytes: number }
  | { kind: 'dag_item'; height: number; index: number; item: string; cache_node: string }
  | {
      kind: 'octopus'; header: string; height: number; nonce: string; hash: string;
      a?: number; b?: number; c?: number; w?: number; poly_digest?: string; poly_values?: number[];
    }
  | { kind: 'keccak'; header: string; nonce: string; hash: string };

export function loadVectors(): VectorLine[] {
  const text = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'octopus-reference.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as VectorLine);
}
