// The one place that asks what the CPU can do. Kernels compiled for AVX2+FMA+F16C (files named
// *_avx2.cpp) run only where simd() says so; everything else is portable C++.
//
// TAPEGRAD_NO_SIMD=1 (read once, when the library loads) forces the portable paths everywhere:
// the elementwise kernels, GEMM and the random-number transforms. CI runs part of the suite so.
#pragma once

// The *_avx2.cpp files are built only by GCC/Clang on x86-64 (CMakeLists.txt).
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define TG_HAVE_AVX2 1
#else
#define TG_HAVE_AVX2 0
#endif

namespace tg::cpu {

// The CPU has AVX2, FMA and F16C, and this build contains the kernels that use them.
bool has_avx2();
// The AVX2 kernels are in use: has_avx2() and not turned off by TAPEGRAD_NO_SIMD or set_simd.
bool simd();
// Turn the AVX2 kernels on or off at run time (tests and benchmarks compare both paths); on
// takes effect only where has_avx2(). Returns the resulting state.
bool set_simd(bool on);

}  // namespace tg::cpu
