// A small pool of our own threads. Between jobs a worker polls for the next one for at most
// 100 us, giving its core away on every turn, then blocks on a condition variable (a pool that
// kept spinning was seen to slow GEMM by 10-1000x on shared 2-vCPU machines; one that blocked at
// once paid a 13-30 us wake per job on VMs). Tiny jobs stay on the calling thread, and a job
// started from inside a job runs inline. OMP_WAIT_POLICY=passive turns polling off.
#pragma once
#include <cstdint>
#include <functional>

namespace tg {
void set_num_threads(int n);
int get_num_threads();

// Calls fn(begin, end) over [0, n) split into contiguous chunks of at least `grain` items each,
// up to 4 per thread, which the calling thread and get_num_threads() - 1 workers take: each its
// own share first, then any chunk no one has started (a busy core costs only the chunk its thread
// holds); returns when all chunks are done. Exceptions propagate to the caller. Callers must not
// depend on where chunks begin.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
}  // namespace tg
