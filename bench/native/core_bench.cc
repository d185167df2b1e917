// The native core's own benchmark: one JSON line with per-thread and 2-thread figures for the
// baseline light hash, the batched light and full hashes, the polynomial step, keccak x8 and the
// dataset build. Built by hand, like the addon without -march (the AVX-512 paths are chosen at
// run time):
//   g++ -O3 -std=c++17 -pthread native/core/*.cc test/baseline/baseline.cc bench/native/core_bench.cc \
//       bench/native/probes.cc -o /tmp/core_bench
//   /tmp/core_bench            # 256 MiB dataset, its build time scaled to the stage-0 size
//   /tmp/core_bench --real     # the real 4 GiB stage-0 dataset (1-4 minutes, 4 GiB RAM)
//   /tmp/core_bench --build-only --height 152000000 [--build-gib G]
//                              # only the cache and dataset build of that height's stage: the
//                              # whole dataset, or its first G GiB (the per-item cost depends on
//                              # the cache size, not on which items), one JSON line;
//                              # --cache-mib M: a made-up cache of M MiB instead of the stage's
// Options: --threads N (default 2), --seconds S per measurement (default 2), --portable
// (force the portable path), --no-full (skip the dataset). Rates are wall-clock; on a shared
// machine run it twice and compare with the baseline of the same run (the line carries the
// load average before and after, to spot a disturbed run).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../native/core/cpu.h"
#include "../../native/core/dag.h"
#include "../../native/core/keccak.h"
#include "../../native/core/keccak_x8.h"
#include "../../native/core/octopus.h"
#include "../../native/core/octopus_batch.h"
#include "../../native/core/params.h"
#include "../../native/core/poly_batch.h"
#include "../../test/baseline/baseline.h"
#include "probes.h"

using namespace cfx;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

double thread_cpu_s() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

double process_cpu_s() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// Units per second of one measurement: wall clock for all threads together, and the sum over
// threads of units per second of that thread's own CPU time (what the threads would do with the
// cores to themselves; a machine shared with other work lowers the first much more).
struct Rate {
  double wall = 0, cpu = 0;
};

// Runs `work(thread, stop)` on `threads` threads for about `secs` seconds; each returns how many
// units it did.
using Work = std::function<uint64_t(unsigned, const std::atomic<bool>&)>;

Rate run_threads(unsigned threads, double secs, const Work& work) {
  std::atomic<bool> stop{false};  // relaxed is enough: a plain "stop soon" hint, no data rides on it
  std::vector<uint64_t> done(threads, 0);
  std::vector<double> cpu(threads, 0);
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      const double c0 = thread_cpu_s();
      done[t] = work(t, stop);
      cpu[t] = thread_cpu_s() - c0;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(secs));
  stop.store(true, std::memory_order_relaxed);
  for (auto& th : pool) th.join();  // join makes done[] and cpu[] visible
  const double elapsed = seconds_since(t0);
  Rate r;
  for (unsigned t = 0; t < threads; ++t) {
    r.wall += done[t] / elapsed;
    if (cpu[t] > 0) r.cpu += done[t] / cpu[t];
  }
  return r;
}

void header_for(unsigned t, uint8_t h[32]) {
  for (int i = 0; i < 32; ++i) h[i] = static_cast<uint8_t>(17 * i + 5 + 31 * t);
}

// OctopusBatcher throughput: each thread its own job and nonce range, like the search engine.
Rate batcher_rate(const Cache& cache, const Node* dataset, uint64_t bytes, unsigned threads, double secs) {
  return run_threads(threads, secs, [&](unsigned t, const std::atomic<bool>& stop) -> uint64_t {
    uint8_t h[32];
    header_for(t, h);
    OctopusJob job(h);
    OctopusBatcher batcher(job, &cache, dataset, bytes);
    const uint32_t block = batcher.block_nonces();
    std::vector<uint8_t> out(size_t(block) * 32);
    const AbortCheck never;
    uint64_t n = 0, first = uint64_t(t) << 40;
    while (!stop.load(std::memory_order_relaxed)) {
      n += batcher.hash(first, block, reinterpret_cast<uint8_t(*)[32]>(out.data()), never);
      first += block;
    }
    return n;
  });
}

// How long hash() keeps running after the job generation moves: the flip comes at a random
// point of a block, `trials` times. Returns {median, worst} in ms (wall clock: on a busy
// machine the worst includes time the thread was not scheduled at all).
std::pair<double, double> abort_latency_ms(const Cache& cache, const Node* dataset, uint64_t bytes, int trials) {
  uint8_t h[32];
  header_for(7, h);
  OctopusJob job(h);
  OctopusBatcher batcher(job, &cache, dataset, bytes);
  const uint32_t block = batcher.block_nonces();
  std::vector<uint8_t> out(size_t(block) * 32);
  std::vector<double> waits;
  for (int t = 0; t < trials; ++t) {
    std::atomic<uint64_t> generation{1};
    const AbortCheck check{&generation, 1};
    Clock::time_point flipped;
    std::atomic<bool> done{false};  // release/acquire: `flipped` is written before it is set
    std::thread flipper([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(200 + 397 * t % 2000));
      flipped = Clock::now();
      generation.store(2, std::memory_order_release);
      done.store(true, std::memory_order_release);
    });
    uint64_t first = uint64_t(t) * block;
    while (batcher.hash(first, block, reinterpret_cast<uint8_t(*)[32]>(out.data()), check) == block) first += block;
    const auto returned = Clock::now();
    while (!done.load(std::memory_order_acquire)) std::this_thread::yield();
    flipper.join();
    waits.push_back(std::chrono::duration<double, std::milli>(returned - flipped).count());
  }
  std::sort(waits.begin(), waits.end());
  return {waits[waits.size() / 2], waits.back()};
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string one;
  f >> one;
  return one.empty() ? "?" : one;
}

std::string thp_of_self() {
  std::ifstream f("/proc/self/smaps_rollup");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("AnonHugePages:", 0) == 0) return line.substr(14);
  return "?";
}

// --build-only: the cache and dataset build of one stage, nothing else.
// `cache_mib` > 0 swaps the stage's cache for one of that size made by Cache::build_small (not a
// real cache: the build's cost when the cache is far larger than the last-level cache).
int build_only(uint64_t height, double gib, unsigned threads, double cache_mib) {
  const uint64_t stage = stage_of(height);
  const uint64_t stage_bytes = dataset_bytes_for_stage(stage);
  uint64_t bytes = stage_bytes;
  if (gib > 0) bytes = std::min(stage_bytes, uint64_t(gib * double(1ull << 30)) / kPageBytes * kPageBytes);
  auto t0 = Clock::now();
  const std::shared_ptr<Cache> cache =
      cache_mib > 0 ? Cache::build_small(stage, uint64_t(cache_mib * double(1 << 20)) / kNodeBytes) : Cache::build(stage);
  const double cache_s = seconds_since(t0);
  std::unique_ptr<Dataset> ds(new Dataset(bytes, stage, true));
  t0 = Clock::now();
  const double cpu0 = process_cpu_s();
  ds->generate(*cache, threads);
  const double build = seconds_since(t0);
  const double cpu = process_cpu_s() - cpu0;
  const std::string anon = thp_of_self();
  ds.reset();
  std::printf(
      "{\"bench\":\"dataset_build\",\"cpu\":\"%s\",\"threads\":%u,\"avx512\":%s,\"height\":%llu,\"stage\":%llu,"
      "\"cache_mib\":%.2f,\"cache_build_s\":%.2f,\"built_gib\":%.3f,\"stage_gib\":%.3f,\"build_s\":%.2f,"
      "\"build_cpu_s\":%.1f,\"build_mib_per_s\":%.1f,\"ns_per_item_thread\":%.1f,\"stage_build_s_est\":%.1f,"
      "\"anon_huge\":\"%s\",\"loadavg_end\":\"%s\"}\n",
      cpu_model().c_str(), threads, cpu_has_avx512() ? "true" : "false", (unsigned long long)height,
      (unsigned long long)stage, cache->bytes() / double(1 << 20), cache_s, bytes / double(1ull << 30),
      stage_bytes / double(1ull << 30), build, cpu, bytes / double(1 << 20) / build,
      build * threads * 1e9 / double(bytes / kNodeBytes), build * double(stage_bytes) / double(bytes), anon.c_str(),
      loadavg().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool real = false, full = true, only_build = false;
  unsigned threads = 2;
  double secs = 2.0, build_gib = 0, cache_mib = 0;
  uint64_t height = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--real") real = true;
    else if (a == "--build-only") only_build = true;
    else if (a == "--height" && i + 1 < argc) height = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--build-gib" && i + 1 < argc) build_gib = std::atof(argv[++i]);
    else if (a == "--cache-mib" && i + 1 < argc) cache_mib = std::atof(argv[++i]);
    else if (a == "--no-full") full = false;
    else if (a == "--portable") force_portable(true);
    else if (a == "--threads" && i + 1 < argc) threads = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--seconds" && i + 1 < argc) secs = std::atof(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--real] [--no-full] [--portable] [--threads N] [--seconds S]\n"
                   "       %s --build-only [--height H] [--build-gib G] [--cache-mib M] [--portable] [--threads N]\n",
                   argv[0], argv[0]);
      return 2;
    }
  }
  if (threads == 0) threads = 1;
  if (only_build) return build_only(height, build_gib, threads, cache_mib);
  std::string json = "{\"bench\":\"core\",\"cpu\":\"" + cpu_model() + "\",\"hw_threads\":" +
                     std::to_string(std::thread::hardware_concurrency()) + ",\"threads\":" + std::to_string(threads) +
                     ",\"avx512\":" + (cpu_has_avx512() ? "true" : "false") + ",\"keccak\":\"" + keccak_impl_name() +
                     "\",\"loadavg_start\":\"" + loadavg() + "\"";
  auto add = [&](const char* key, double v, int prec = 1) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), ",\"%s\":%.*f", key, prec, v);
    json += buf;
  };
  auto note = [&](const char* what) { std::fprintf(stderr, "core_bench: %s\n", what); };

  note("building the stage-0 cache");
  auto t0 = Clock::now();
  const std::shared_ptr<Cache> cache = Cache::build(0);
  add("cache_build_s", seconds_since(t0), 2);
  cache_prefer_huge_pages(*cache);
  const uint64_t stage_bytes = dataset_bytes_for_stage(0);

  // keccak-f: scalar (keccak.h) and 8 lanes.
  {
    uint64_t st[25] = {1};
    uint64_t lanes[25][8] = {{1}};
    const int n = 200000;
    t0 = Clock::now();
    for (int i = 0; i < n; ++i) keccak_f1600(st);
    const double scalar = n / seconds_since(t0);
    t0 = Clock::now();
    for (int i = 0; i < n; ++i) keccak_f1600_x8(lanes);
    const double x8 = 8.0 * n / seconds_since(t0);
    if ((st[0] ^ lanes[0][0]) == 42) note("");  // keeps the loops
    add("keccak_scalar_perm_per_s", scalar, 0);
    add("keccak_x8_perm_per_s", x8, 0);
    add("keccak_x8_speedup", x8 / scalar, 2);
  }

  // Full mode's arithmetic per hash on one thread, for the time split (walk, polynomial, keccak):
  // the polynomial (coefficients and values of 32 warps, as a full-mode block), and the two
  // 8-lane keccaks of every hash (the 40-byte seed and the 96-byte final input).
  {
    uint8_t h[32];
    header_for(1, h);
    OctopusJob job(h);
    PolyBatch poly(job, 32, cpu_has_avx512());
    // Thread CPU time, not wall: on a shared machine the thread is not always running.
    uint64_t n = 0;
    double c0 = thread_cpu_s();
    t0 = Clock::now();
    for (uint64_t w = 0; seconds_since(t0) < secs / 2; w += 32, n += 32 * kWarp) {
      poly.load_warps(w, 32);
      poly.evaluate(0, kAccesses);
    }
    add("split_poly_cpu_ns_per_hash", (thread_cpu_s() - c0) * 1e9 / double(n), 1);
    alignas(64) uint8_t in[8][96] = {};
    alignas(64) uint8_t out[8][64];
    const uint8_t* ip[8];
    uint8_t* op[8];
    for (int s = 0; s < 8; ++s) {
      ip[s] = in[s];
      op[s] = out[s];
    }
    n = 0;
    c0 = thread_cpu_s();
    t0 = Clock::now();
    while (seconds_since(t0) < secs / 4) {
      for (int i = 0; i < 1024; ++i) {
        keccak512_40_x8(ip, op);
        keccak256_96_x8(ip, op);
        in[i % 8][0] ^= out[0][0];  // a dependency so the calls are not folded
      }
      n += 1024 * 8;
    }
    add("split_keccak_cpu_ns_per_hash", (thread_cpu_s() - c0) * 1e9 / double(n), 1);
  }

  // The polynomial step: job setup, then nonces per second on one and on all threads.
  {
    uint8_t h[32];
    header_for(0, h);
    OctopusJob job(h);
    // The first construction in a process also pays the first touch of fresh memory; later
    // ones (a new job on the same thread) reuse pages the allocator gives back.
    t0 = Clock::now();
    { PolyBatch first(job, 32, cpu_has_avx512()); }
    add("poly_setup_first_ms", seconds_since(t0) * 1e3, 2);
    t0 = Clock::now();
    for (int i = 0; i < 5; ++i) PolyBatch again(job, 32, cpu_has_avx512());
    add("poly_setup_ms", seconds_since(t0) * 1e3 / 5, 2);
    auto poly_rate = [&](unsigned th) {
      return run_threads(th, secs / 2, [&](unsigned t, const std::atomic<bool>& stop) -> uint64_t {
        uint8_t hh[32];
        header_for(t, hh);
        OctopusJob j(hh);
        PolyBatch poly(j, 32, cpu_has_avx512());
        uint64_t n = 0;
        for (uint64_t w = uint64_t(t) << 30; !stop.load(std::memory_order_relaxed); w += 32) {
          poly.load_warps(w, 32);
          poly.evaluate(0, kAccesses);
          n += 32 * kWarp;
        }
        return n;
      });
    };
    add("poly_nonces_per_s_1t", poly_rate(1).wall, 0);
    const Rate poly_all = poly_rate(threads);
    add("poly_nonces_per_s", poly_all.wall, 0);
    add("poly_nonces_per_cpu_s", poly_all.cpu, 0);
    uint32_t d[kPolyDegree], v[kAccesses];
    octopus_coefficients(job, 0, d);
    const int n = 64;
    t0 = Clock::now();
    for (int i = 0; i < n; ++i) octopus_values(job, d, i % kWarp, v);
    add("horner_nonces_per_s_1t", n / seconds_since(t0), 0);
  }

  // Light mode: the baseline and the batcher, one thread and all threads.
  double base1_hs = 0;
  {
    note("light mode");
    auto baseline_rate = [&](unsigned th) {
      return run_threads(th, secs, [&](unsigned t, const std::atomic<bool>& stop) -> uint64_t {
        uint8_t h[32], out[32];
        header_for(t, h);
        uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          baseline::baseline_hash_light(h, n, cache->nodes()->words, cache->node_count(), stage_bytes, out);
          ++n;
        }
        return n;
      });
    };
    const Rate base1 = baseline_rate(1);
    base1_hs = base1.wall;
    const Rate base = baseline_rate(threads);
    const Rate light1 = batcher_rate(*cache, nullptr, stage_bytes, 1, secs);
    const Rate light = batcher_rate(*cache, nullptr, stage_bytes, threads, secs);
    add("baseline_light_hs_1t", base1.wall);
    add("baseline_light_hs", base.wall);
    add("baseline_light_hs_per_cpu_s", base.cpu);
    add("light_hs_1t", light1.wall);
    add("light_hs", light.wall);
    add("light_hs_per_cpu_s", light.cpu);
    add("light_vs_baseline_1t", light1.wall / base1.wall, 2);
    const auto light_abort = abort_latency_ms(*cache, nullptr, stage_bytes, 21);
    add("light_abort_median_ms", light_abort.first, 3);
    add("light_abort_worst_ms", light_abort.second, 3);
    uint8_t h[32];
    header_for(3, h);
    t0 = Clock::now();
    {
      OctopusJob job(h);
      OctopusBatcher batcher(job, cache.get(), nullptr, stage_bytes);
    }
    add("light_job_setup_ms", seconds_since(t0) * 1e3, 2);
  }

  if (full) {
    const uint64_t bytes = real ? stage_bytes : (256ull << 20) - 256 * 7;  // a prime page count is not needed here
    note(real ? "building the real stage-0 dataset (4 GiB)" : "building a 256 MiB dataset");
    std::unique_ptr<Dataset> ds(new Dataset(bytes, 0, true));
    t0 = Clock::now();
    const double cpu0 = process_cpu_s();
    ds->generate(*cache, threads);
    const double build = seconds_since(t0);
    add("dataset_build_cpu_s", process_cpu_s() - cpu0, 1);  // ~threads x wall when the cores were ours
    add("dataset_gib", bytes / double(1ull << 30), 3);
    add("dataset_build_s", build, 2);
    add("dataset_build_s_stage0_est", build * double(stage_bytes) / double(bytes), 1);
    json += std::string(",\"huge_pages\":\"") + huge_pages_name(ds->huge_pages()) +
            "\",\"anon_huge\":\"" + thp_of_self() + "\"";
    note("full mode");
    const Rate full1r = batcher_rate(*cache, ds->items(), bytes, 1, secs);
    const Rate fullr = batcher_rate(*cache, ds->items(), bytes, threads, secs);
    const double fullt = fullr.wall;
    add("full_hs_1t", full1r.wall, 0);
    add("full_hs", fullt, 0);
    add("full_hs_per_cpu_s", fullr.cpu, 0);
    // Memory speed: one page = 256 bytes, 32 pages per hash.
    add("full_pages_per_s", fullt * kAccesses, 0);
    add("full_gb_per_s", fullt * kAccesses * kPageBytes / 1e9, 2);
    add("full_vs_2x_baseline", fullt / (2 * base1_hs), 0);
    // The memory ceiling (bench/native/probes.h) on the same dataset: one thread gives the walk's
    // share of a hash, all threads the ceiling full mode is measured against.
    const double walk1 = probes::memory_walk_hps(*ds, 1, secs);
    const double walk = probes::memory_walk_hps(*ds, threads, secs);
    add("split_walk_ns_per_hash", 1e9 / walk1, 1);
    add("split_full_ns_per_hash", 1e9 / full1r.wall, 1);
    add("memory_ceiling_hs_1t", walk1, 0);
    add("memory_ceiling_hs", walk, 0);
    add("full_vs_memory_ceiling", fullt / walk, 3);
    const auto full_abort = abort_latency_ms(*cache, ds->items(), bytes, 21);
    add("full_abort_median_ms", full_abort.first, 3);
    add("full_abort_worst_ms", full_abort.second, 3);
    uint8_t h[32];
    header_for(3, h);
    t0 = Clock::now();
    {
      OctopusJob job(h);
      OctopusBatcher batcher(job, cache.get(), ds->items(), bytes);
    }
    add("full_job_setup_ms", seconds_since(t0) * 1e3, 2);
    ds.reset();  // frees the mapping before the line is printed
  }
  json += ",\"loadavg_end\":\"" + loadavg() + "\"}";
  std::printf("%s\n", json.c_str());
  return 0;
}
