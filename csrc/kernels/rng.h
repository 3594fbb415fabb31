// PyTorch-compatible random numbers: the mt19937 engine of PyTorch's CPU generator and the
// transformations its CPU kernels apply (rand/uniform_, randn/normal_, randint, randperm), so that
// the same seed gives the same float32 numbers, bit for bit. See docs/random.md for what is
// covered and how it was verified.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tg {
namespace rng {

constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's default_rng_seed_val
constexpr int kMtN = 624;
// get_state()/set_state() use PyTorch's CPUGeneratorImplState byte layout (5056 bytes), so a
// state from torch.get_rng_state() can be loaded here and the other way round.
constexpr size_t kStateBytes = 5056;

class Generator {
 public:
  explicit Generator(uint64_t seed = kDefaultSeed) { manual_seed(seed); }

  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const { return seed_; }

  uint32_t random();    // one 32-bit draw of the engine
  uint64_t random64();  // two draws: (first << 32) | second

  // out[i] = PyTorch's float uniform_(from, to): 24 random bits, then fma in float.
  void uniform(float* out, int64_t n, double from, double to);
  // PyTorch's normal_(mean, std) into float32. n < 16: double Box-Muller, one cached sample
  // kept in the generator. n >= 16: float uniforms transformed 16 at a time (the AVX2 path).
  // half_blocks: the layout PyTorch uses for float16 outputs (uniforms drawn block by block).
  void normal(float* out, int64_t n, double mean, double std, bool half_blocks);
  // float64 outputs: 53 random bits from two draws each, fma(x, to - from, from) in double.
  void uniform(double* out, int64_t n, double from, double to);
  // float64 normal_: n < 16 as above without the float rounding; n >= 16: double uniforms, then
  // PyTorch's scalar 16-wide Box-Muller in double with the C library's log, cos and sin.
  void normal(double* out, int64_t n, double mean, double std);
  // out[i] = low + draw % (high - low), a 64-bit draw when the range is >= 2^28.
  void randint(int64_t* out, int64_t n, int64_t low, int64_t high);
  // PyTorch's randperm for n < 2^32 / 20: swap-based shuffle with random() % (n - i).
  void randperm(int64_t* out, int64_t n);

  void get_state(uint8_t* out) const;  // kStateBytes bytes
  // Throws std::invalid_argument with PyTorch's wording on a wrong size or an invalid state.
  void set_state(const uint8_t* in, size_t nbytes);

 private:
  void twist();
  double normal_double();

  uint32_t mt_[kMtN];
  int32_t left_ = 1;
  uint64_t next_ = 0;
  uint64_t seed_ = kDefaultSeed;
  bool has_next_double_ = false;
  double next_double_ = 0.0;
  bool has_next_float_ = false;  // unused by the CPU kernels; kept for the state layout
  float next_float_ = 0.0f;
};

// The 16-element Box-Muller step of PyTorch's AVX2 normal fill, in place: data[0:8] and
// data[8:16] hold uniforms in [0, 1) and become normal samples * std + mean.
void normal_fill16(float* data, float mean, float std);

uint64_t nondeterministic_seed();

// out[i] = fma(a[i], b[i], c[i]), rounded once (the FMA instruction where the CPU has one): the
// fused steps of PyTorch's kernels that tapegrad's factories reproduce from Python.
void fma_array(const float* a, const float* b, const float* c, float* out, int64_t n);
void fma_array(const double* a, const double* b, const double* c, double* out, int64_t n);

}  // namespace rng
}  // namespace tg
