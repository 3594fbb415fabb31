// Floating-point sums over some dims of a strided tensor, in PyTorch's CPU order (its cascade
// sum under the AVX2 capability, which its portable build shares): the dims are ordered and
// merged as its TensorIterator does, each 2-D slice goes through one of the four loops of its
// sum kernel, and the multi-level accumulators split the additions the same way. Every sum is
// exact-order, so the bits match PyTorch's single-threaded result whatever path or thread
// count runs here.
#pragma once
#include <cstdint>

#include "core/cpu.h"
#include "core/tensor.h"

namespace tg::csum {

enum class Kind : uint8_t {
  f32,     // float in, float accumulators and out
  f16,     // half in and out, float accumulators (PyTorch's Half sum)
  f16f32,  // half in, summed as the float32 tensor x.to(float) would be; float out
  f64,     // double throughout
};

// out (contiguous over the kept dims, numel = product of the kept sizes) = the sum of x over the
// dims in mask. x points at element 0; strides are in elements.
void sum(Kind k, const void* x, const Shape& shape, const int64_t* strides, unsigned mask,
         void* out);

// The dim-0 plan after TensorIterator's reordering and merging: n dims, innermost first.
struct Plan {
  int n = 0;
  int64_t size[kMaxDims] = {};
  int64_t in[kMaxDims] = {};   // input strides (elements)
  int64_t out[kMaxDims] = {};  // output strides (elements), 0 on reduced dims
};
Plan plan(const Shape& shape, const int64_t* strides, unsigned mask);

namespace detail {
void run_portable(Kind k, const Plan& p, const void* x, void* out);
#if TG_HAVE_AVX2
void run_avx2(Kind k, const Plan& p, const void* x, void* out);
#endif
}  // namespace detail

}  // namespace tg::csum
