#include "core/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace tg::cpu {

namespace {
bool probe() {
#if TG_HAVE_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

// AVX-512F in the CPU, and the OS saving its state: XCR0 bits 1-2 (SSE, AVX) and 5-7 (opmask,
// the upper halves of zmm0-15, zmm16-31).
bool probe512() {
#if TG_HAVE_AVX2
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("osxsave")) return false;
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xe6u) == 0xe6u;
#else
  return false;
#endif
}

bool env_flag(const char* name) {
  const char* s = std::getenv(name);
  return s && *s && std::strcmp(s, "0") != 0;
}

const bool g_has_avx2 = probe();
const bool g_has_avx512 = g_has_avx2 && probe512();
std::atomic<bool> g_simd{g_has_avx2 && !env_flag("TAPEGRAD_NO_SIMD")};
std::atomic<bool> g_wide{g_has_avx512 && !env_flag("TAPEGRAD_NO_AVX512")};
}  // namespace

bool has_avx2() {
  return g_has_avx2;
}
bool simd() {
  return g_simd.load(std::memory_order_relaxed);
}
bool set_simd(bool on) {
  g_simd = on && g_has_avx2;
  return g_simd;
}
bool has_avx512() {
  return g_has_avx512;
}
bool wide() {
  return simd() && g_wide.load(std::memory_order_relaxed);
}
bool set_wide(bool on) {
  g_wide = on && g_has_avx512;
  return wide();
}

}  // namespace tg::cpu
