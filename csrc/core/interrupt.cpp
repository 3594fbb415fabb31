#include "core/interrupt.h"

#include <csignal>
#include <cstring>

namespace tg {

std::atomic<bool> g_interrupted{false};

namespace {
struct sigaction g_prev;

void on_sigint(int sig, siginfo_t* info, void* ctx) {
  g_interrupted.store(true, std::memory_order_relaxed);
  // Hand the signal on, so Python's own handler also sees it.
  if (g_prev.sa_flags & SA_SIGINFO) {
    if (g_prev.sa_sigaction) g_prev.sa_sigaction(sig, info, ctx);
  } else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN && g_prev.sa_handler) {
    g_prev.sa_handler(sig);
  } else if (g_prev.sa_handler == SIG_DFL) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}
}  // namespace

void install_sigint_hook() {
  struct sigaction cur;
  if (sigaction(SIGINT, nullptr, &cur) != 0) return;
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigint) return;  // already first
  if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN) return;     // ignored: keep so
  g_prev = cur;
  struct sigaction mine;
  std::memset(&mine, 0, sizeof mine);
  mine.sa_sigaction = on_sigint;
  mine.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&mine.sa_mask);
  sigaction(SIGINT, &mine, nullptr);
}

}  // namespace tg
