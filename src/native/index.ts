// The native layer's surface: parameters, handles, one-shot hashes and the search. The addon
// itself is loaded in addon.ts and stays there.
export * from './params.js';
export { ensureAddon } from './addon.js';
export * from './handles.js';
export * from './hash.js';
export * from './search.js';
