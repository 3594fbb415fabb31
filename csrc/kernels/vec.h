// Vectorized elementwise kernels over contiguous arrays (docs/design.md, Numerics and Speed).
//
// Every kernel reads its storage type (DType::f32, or DType::f16 = IEEE binary16 bits in
// uint16_t), computes in float32 and rounds once to the storage type (round to nearest even).
//
// Two implementations sit behind each entry point, chosen once at run time:
//   - AVX2 + FMA + F16C (vec_avx2.cpp), when the CPU has all three;
//   - portable C++ (vec.cpp), everywhere else. It evaluates exp/log/tanh/sin/cos in float64
//     (std::exp etc.) and rounds once, so it is also the accuracy reference (<= 0.5 ulp).
// core/cpu.h decides which (TAPEGRAD_NO_SIMD=1 forces the portable path). An op of the unary list
// without an AVX2 kernel runs the portable loop on both paths.
//
// Numerics:
//   - neg, abs, relu, add, sub, mul, div, the conversions and sum are bit-identical on both
//     paths: float32 IEEE arithmetic rounded once to the storage type (so f32 results equal
//     NumPy float32 and f16 results equal `(f32(a) op f32(b)).astype(np.float16)`).
//     relu(x) = x < 0 ? +0.0 : x (so -0 and NaN stay); abs clears the sign bit; neg flips it.
//   - sigmoid and pow are PyTorch's bit for bit. PyTorch's elementwise loop gives its vector code
//     whole pairs of vectors (16 float32, 32 float16 elements) and its scalar code the rest. The
//     AVX2 path follows it: SLEEF's expf/powf (kernels/pmath_avx2.h) on the pairs, the C library
//     on the tail; sigmoid = 1 / (exp(0 - x) + 1), so it is 0 where exp(-x) overflows
//     (x < -88.72). The portable path is PyTorch's portable build: the C library throughout.
//   - PyTorch computes float32 exp, log, tanh, sin and cos with MKL's VML, whose bits no published
//     algorithm reproduces; here exp, log and tanh use polynomial approximations on the AVX2 path
//     (fitted by benchmarks/vec_fit.py, measured by benchmarks/vec_bench.cpp against float64 over
//     every float32): exp, log < 1 ulp, tanh < 2.5 ulp (abs error < 1e-7), sin and cos the
//     portable formula. float16 results (PyTorch: SLEEF's in float32, rounded) equal PyTorch's
//     for every input (sin/cos: but two). Special values follow IEEE/NumPy: exp(-inf)=0,
//     exp(+inf)=inf, exp overflows to inf for x > 88.7228 and underflows through the subnormals
//     to 0; log(0)=-inf, log(x<0)=NaN, log(inf)=inf, log of subnormals as accurate as of normals;
//     tanh(±large)=±1, tanh(-0)=-0; sigmoid(-inf)=0, sigmoid(+inf)=1; NaN in gives NaN out.
//   - sum is PyTorch's float32 sum of a contiguous vector (kernels/cascade_sum.h, float16 read
//     as x.to(float)); the result does not depend on the thread count or path.
//
// Threads: exp/log/tanh/sigmoid on at least kParallelMin elements, and the memory-bound ops on
// at least kParallelMinCheap, are split across tg::parallel_for in chunks whose boundaries are
// multiples of 64 elements; smaller ones run on the calling thread. (Waking the pool costs about
// 7 us here; add runs at ~70 GB/s in cache, so it only pays from a few hundred K elements.)
// Outputs of 16 MB or more are written with non-temporal stores (they would not stay cached;
// skipping the read-for-ownership gives add/relu on 1e7 floats ~1.5x the bandwidth).
#pragma once
#include <cstdint>

#include "core/cpu.h"
#include "core/half.h"
#include "core/tensor.h"
#include "oplist.inc"

namespace tg::vec {

// The unary ops of the op list, in its order.
enum class Un : uint8_t {
#define TG_UN_ENUM(name) name,
  TG_UNARY_OPS(TG_UN_ENUM)
#undef TG_UN_ENUM
};
enum class Bin : uint8_t { add, sub, mul, div };

// y[i] = f(x[i]) for i in [0, n). y may alias x (exactly, or not at all).
void unary(Un op, DType dt, const void* x, void* y, int64_t n);

// out[i] = a[i*sa] op b[i*sb], sa and sb in {0, 1} (0: that operand is the single value a[0] or
// b[0], read once before anything is written). out may alias a or b.
void binary(Bin op, DType dt, const void* a, int64_t sa, const void* b, int64_t sb, void* out,
            int64_t n);

// out[i] = x[i] op s, or s op x[i] when reversed. s is used as float32 (not rounded to dt).
void scalar(Bin op, DType dt, const void* x, float s, bool reversed, void* out, int64_t n);

// PyTorch's pow kernel for an exponent (or, reversed, a base) without a special case: out[i] =
// x[i] ** s, or s ** x[i] when reversed. s is first rounded to dt (float16) or float32.
// PyTorch's elementwise loop runs its vector code over whole pairs of vectors (16 float32, 32
// float16 elements: SLEEF's powf on the AVX2 path) and the C library's pow on the rest, in
// float64 for float32 x ** s (PyTorch passes the exponent as a double there), else in float32.
// vector_loop false: the scalar code on every element (PyTorch's loop over a strided input).
void pow(DType dt, const void* x, double s, bool reversed, void* out, int64_t n,
         bool vector_loop = true);

// Exact widening; narrowing rounds to nearest even (overflow -> inf, NaN stays NaN).
void f16_to_f32(const uint16_t* x, float* y, int64_t n);
void f32_to_f16(const float* x, uint16_t* y, int64_t n);

// Sum in float32 (see above). Returns 0 for n <= 0.
float sum(DType dt, const void* x, int64_t n);

constexpr int64_t kParallelMin = 65536;        // elements, for exp/log/tanh/sigmoid
constexpr int64_t kParallelMinCheap = 262144;  // elements, for everything else

namespace detail {
// Kernels over one chunk; `nt` asks for non-temporal stores (large outputs only).
// Binary kernels get a broadcast operand as a float32 value (already widened).
#if TG_HAVE_AVX2
// false: this op has no AVX2 kernel (nothing was written); the caller runs the portable loop.
bool unary_f32_avx2(Un op, const float* x, float* y, int64_t n, bool nt);
bool unary_f16_avx2(Un op, const uint16_t* x, uint16_t* y, int64_t n, bool nt);
void binary_f32_avx2(Bin op, const float* a, const float* b, float* out, int64_t n, bool nt);
void binary_f16_avx2(Bin op, const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t n,
                     bool nt);
// out[i] = x[i] op s (or s op x[i] when reversed)
void scalar_f32_avx2(Bin op, const float* x, float s, bool reversed, float* out, int64_t n,
                     bool nt);
void scalar_f16_avx2(Bin op, const uint16_t* x, float s, bool reversed, uint16_t* out, int64_t n,
                     bool nt);
// pow (see above) on all n elements through the vector code
void pow_f32_avx2(const float* x, float s, bool reversed, float* y, int64_t n, bool nt);
void pow_f16_avx2(const uint16_t* x, float s, bool reversed, uint16_t* y, int64_t n, bool nt);
void f16_to_f32_avx2(const uint16_t* x, float* y, int64_t n, bool nt);
void f32_to_f16_avx2(const float* x, uint16_t* y, int64_t n, bool nt);
#endif
}  // namespace detail

}  // namespace tg::vec
