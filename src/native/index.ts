// The native layer's surface: parameters, limits, handles, one-shot hashes and the search. The
// addon itself is loaded in loader.ts and stays there; its types are contract.ts.
export * from './params.js';
export { ensureAddon } from './loader.js';
export { limits, heightProblem, parseHeight } from './limits.js';
export type { Limits } from './limits.js';
export * from './handles.js';
export * from './hash.js';
export * from './search.js';
