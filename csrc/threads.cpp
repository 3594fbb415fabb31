#include "threads.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

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
}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("set_num_threads expects a positive integer");
  g_threads = n;
}
int get_num_threads() { return g_threads; }

}  // namespace tg
