// Octopus parameters every layer needs, and the native types' names: no addon is loaded here.
// The limits (threads, heights, dataset sizes) come from the addon: limits.ts.
export { U256_MAX } from '../hex.js';

export type Algo = 'octopus' | 'keccak';
/** explicit-1g: 1 GiB hugetlb pages; explicit: 2 MiB hugetlb pages; transparent: THP asked for (madvise). */
export type HugePages = 'explicit-1g' | 'explicit' | 'transparent' | 'none';

/**
 * Blocks per stage (OCTOPUS.md): a protocol constant the whole miner divides by, so a plain
 * number; test/native-api.test.ts checks it against the addon's limits.stageLength.
 */
export const STAGE_LENGTH = 524288;
export const U64_MAX = (1n << 64n) - 1n;
