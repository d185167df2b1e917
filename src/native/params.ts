// Octopus parameters every layer needs, and the native types' names: no addon is loaded here.

export type Algo = 'octopus' | 'keccak';
export type HugePages = 'explicit' | 'transparent' | 'none';

export const STAGE_LENGTH = 524288;
/** 2^40 blocks is millennia of Conflux; above it the seed alone would take hours (native/core/params.h). */
export const MAX_HEIGHT = 2 ** 40;
export const U256_MAX = (1n << 256n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;
