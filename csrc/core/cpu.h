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

// The CPU and the operating system support AVX-512F (zmm registers saved on context switches).
bool has_avx512();
// The AVX-512 GEMM kernels (files named *_avx512.cpp) are in use: simd(), has_avx512(), and not
// turned off by TAPEGRAD_NO_AVX512=1 (read once, when the library loads) or set_wide. They give
// the same bits as the AVX2 ones: each output element sees the same operations in the same order.
bool wide();
// Turn the AVX-512 kernels on or off at run time (benchmarks and tests compare both); on takes
// effect only where has_avx512(). Returns the resulting state.
bool set_wide(bool on);

}  // namespace tg::cpu
