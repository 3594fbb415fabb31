// A small pool of our own threads. Workers block on a condition variable between jobs (never
// spin: on shared 2-vCPU machines spinning pools were seen to slow GEMM by 10-1000x), tiny jobs
// stay on the calling thread, and a job started from inside a job runs inline.
#pragma once
#include <cstdint>
#include <functional>

namespace tg {
void set_num_threads(int n);
int get_num_threads();

// Calls fn(begin, end) over [0, n) split into at most get_num_threads() contiguous chunks of at
// least `grain` items each; returns when all chunks are done. Exceptions propagate to the caller.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
}  // namespace tg
