// Imported first by the entry points: V8 flags for a long-running event loop that sleeps between
// notifies while the search threads evict its CPU caches. Measured on the job switch (bench:
// job_switch_loop_block_p99_ms, light mode, 2 threads, 2 cores):
// - --no-memory-reducer: the memory reducer runs full mark-compact collections when the loop
//   looks idle, which a miner's loop always does; each took 10-13 ms on a loaded 2-core machine
//   and was the whole tail of the switch latency (p99 9.2 -> 4.5 ms without it; the heap stays a
//   few MiB either way). Set here it does not take on Node 20, so the bin's shebang passes it too.
// - --always-sparkplug: a function is compiled to baseline machine code on its first call, not
//   later in a batch on the event loop, and runs a cold path as machine code rather than in
//   the interpreter (why the tail went away is inferred; that it did is measured).
//   Loop block p99 0.21-0.24 -> 0.08-0.12 ms; the switch itself unchanged (p99 0.76-0.79 ms).
//   (A smaller --interrupt-budget, for optimized code sooner, was tried and dropped: the extra
//   concurrent compiles took the cores from the search threads, switch p99 0.8 -> 6 ms.)
import v8 from 'node:v8';

v8.setFlagsFromString('--no-memory-reducer');
v8.setFlagsFromString('--always-sparkplug');
