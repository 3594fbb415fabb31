#include "core/threads.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tg {

namespace {
int initial_threads() {
  if (const char* s = std::getenv("OMP_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? int(hc) : 1;
}
std::atomic<int> g_threads{initial_threads()};
constexpr int64_t kChunksPerThread = 4;
thread_local bool tl_in_job = false;

// How long a thread polls before it blocks: a worker for the next job, the caller for the last
// chunks. On virtual machines whose hypervisor halts an idle vCPU at once, waking a blocked
// thread took 13-30 us (median 26) per job, longer than most of a training step's jobs, so two
// threads ran a 37 us job in 37-53 us; with a poll of this length, in 22. Each turn of the poll
// gives the core away (sched_yield) to any other thread that wants it, and OMP_WAIT_POLICY=passive
// turns polling off, as it does for OpenMP runtimes.
std::chrono::microseconds poll_time() {
  const char* s = std::getenv("OMP_WAIT_POLICY");
  if (s && (std::string(s) == "passive" || std::string(s) == "PASSIVE"))
    return std::chrono::microseconds(0);
  return std::chrono::microseconds(100);
}
const std::chrono::microseconds kPoll = poll_time();

// Polls until done() or kPoll has passed; returns done().
template <class Done>
bool poll(Done&& done) {
  if (kPoll.count() == 0) return done();
  const auto end = std::chrono::steady_clock::now() + kPoll;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    sched_yield();
    if (std::chrono::steady_clock::now() >= end) return done();
  }
}

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_)
      t.join();
  }

  // Runs chunk(0..nchunks-1) on `nworkers` workers and this thread. Each thread first takes the
  // chunks of its own share in order (the calling thread the first share, worker i the i-th), so
  // consecutive jobs over the same data give each thread the same part, still in its cache; then
  // it takes what others have not started, from the end. A thread whose core is busy with another
  // program's work so delays the call by at most the chunk it holds. (Where the two vCPUs of a
  // VM sat on distant cores, a cache line took 350 ns to go from one to the other and back,
  // against 90 ns on near ones: handing a tensor written by one thread to the other is costly.)
  void run(int nchunks, int nworkers, const std::function<void(int)>& chunk) {
    std::lock_guard<std::mutex> busy(run_mu_);  // one job at a time
    grow(nworkers);
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &chunk;
      total_ = nchunks;
      untaken_ = nchunks;
      parts_ = nworkers + 1;
      taken_.assign(size_t(nchunks), 0);
      cursor_.resize(size_t(parts_));
      for (int r = 0; r < parts_; ++r)
        cursor_[size_t(r)] = int(int64_t(r) * nchunks / parts_);
      pending_ = nchunks;
      left_.store(nchunks, std::memory_order_relaxed);
      error_ = nullptr;
      ++generation_;
      posted_.store(generation_, std::memory_order_release);
    }
    cv_work_.notify_all();
    tl_in_job = true;
    std::unique_lock<std::mutex> lk(mu_);
    take_chunks(lk, 0);
    tl_in_job = false;
    if (pending_ != 0) {  // a worker still runs a chunk
      lk.unlock();
      poll([&] { return left_.load(std::memory_order_acquire) == 0; });
      lk.lock();
    }
    cv_done_.wait(lk, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void grow(int n) {
    while (int(workers_.size()) < n) {
      const int id = int(workers_.size()) + 1;
      workers_.emplace_back([this, id] { loop(id); });
    }
  }

  // With mu_ held: the next chunk for participant r (0 the caller), or -1.
  int take(int r) {
    if (r >= parts_ || untaken_ == 0) return -1;
    const int end = int(int64_t(r + 1) * total_ / parts_);
    int& c = cursor_[size_t(r)];
    while (c < end && taken_[size_t(c)])
      ++c;
    int pick = c < end ? c++ : -1;
    for (int i = total_ - 1; pick < 0; --i)  // its share is done: the last chunk not started
      if (!taken_[size_t(i)]) pick = i;
    taken_[size_t(pick)] = 1;
    --untaken_;
    return pick;
  }

  void loop(int id) {
    tl_in_job = true;
    uint64_t seen = 0;
    bool polls = false;
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      if (polls && !stop_ && generation_ == seen) {  // between jobs: poll for the next one
        lk.unlock();
        poll([&] { return posted_.load(std::memory_order_acquire) != seen; });
        lk.lock();
      }
      cv_work_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      // A job with no chunk left for it still counts as seen, so the worker polls for the next
      // one instead of blocking; a worker beyond the job's thread count blocks.
      polls = id < parts_;
      take_chunks(lk, id);
    }
  }

  // With mu_ held on entry and exit: runs participant r's chunks until none is left.
  void take_chunks(std::unique_lock<std::mutex>& lk, int r) {
    for (int c = take(r); c >= 0; c = take(r)) {
      const std::function<void(int)>* job = job_;
      lk.unlock();
      std::exception_ptr err;
      try {
        (*job)(c);
      } catch (...) {
        err = std::current_exception();
      }
      lk.lock();
      if (err && !error_) error_ = err;
      left_.store(--pending_, std::memory_order_release);
      if (pending_ == 0) cv_done_.notify_all();
    }
  }

  std::mutex run_mu_, mu_;
  std::condition_variable cv_work_, cv_done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int total_ = 0, untaken_ = 0, parts_ = 1, pending_ = 0;
  std::vector<char> taken_;  // per chunk: started
  std::vector<int> cursor_;  // per participant: the next chunk of its share to look at
  uint64_t generation_ = 0;
  // Copies of pending_ and generation_ that the polls read without the lock.
  std::atomic<int> left_{0};
  std::atomic<uint64_t> posted_{0};
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool* g_pool = nullptr;  // never destroyed: workers may outlive static destruction
std::once_flag g_atfork_once;

Pool& pool() {
  // A forked child has none of the parent's workers: it starts a fresh pool (the old one,
  // whose mutexes may be held, is abandoned).
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, [] { g_pool = nullptr; }); });
  if (!g_pool) g_pool = new Pool();
  return *g_pool;
}
}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("set_num_threads expects a positive integer");
  g_threads = n;
}
int get_num_threads() {
  return g_threads;
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t g = std::max<int64_t>(grain, 1);
  int nt = int(std::min<int64_t>(g_threads.load(), (n + g - 1) / g));
  if (nt <= 1 || tl_in_job) {
    fn(0, n);
    return;
  }
  // A few chunks per thread, taken dynamically: enough that a stalled thread costs little,
  // few enough that the per-chunk cost (a lock, a call) stays out of sight.
  const int64_t chunks = std::min<int64_t>(int64_t(nt) * kChunksPerThread, (n + g - 1) / g);
  const int64_t per = (n + chunks - 1) / chunks;
  pool().run(int((n + per - 1) / per), nt - 1, [&](int c) {
    int64_t b = c * per, e = std::min(n, b + per);
    if (b < e) fn(b, e);
  });
}

}  // namespace tg
