// Ctrl-C inside long kernels. Python only handles SIGINT between bytecodes, and big kernels run
// without the GIL, so a chained C handler raises a flag that kernels poll at block boundaries;
// the binding then lets Python raise its KeyboardInterrupt.
#pragma once
#include <atomic>
#include <stdexcept>

namespace tg {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

extern std::atomic<bool> g_interrupted;

// Make sure our SIGINT handler sits in front of whatever handler is installed now.
void install_sigint_hook();

inline void check_interrupt() {
  if (g_interrupted.load(std::memory_order_relaxed)) throw Interrupted();
}

}  // namespace tg
