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

bool env_no_simd() {
  const char* s = std::getenv("TAPEGRAD_NO_SIMD");
  return s && *s && std::strcmp(s, "0") != 0;
}

const bool g_has_avx2 = probe();
std::atomic<bool> g_simd{g_has_avx2 && !env_no_simd()};
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

}  // namespace tg::cpu
