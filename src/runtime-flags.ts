// Imported first by the entry points. V8's memory reducer runs full mark-compact collections
// when the event loop looks idle, which a miner's loop always does between notifies; each took
// 10-13 ms on a loaded 2-core machine and was the whole tail of the job-switch latency
// (p99 9.2 -> 4.5 ms without it; the heap stays a few MiB either way).
import v8 from 'node:v8';

v8.setFlagsFromString('--no-memory-reducer');
