// The direct convolution's portable parts: choosing the tiling and packing the weights.
#include "kernels/conv_direct.h"

namespace tg {
namespace convd {

namespace {
double use(int64_t n, int64_t tile) {
  return double(n) / double((n + tile - 1) / tile * tile);
}
}  // namespace

bool by_channel(int64_t OC, int64_t OW) {
  return use(OC, 16) * use(OW, 6) >= use(OC, 6) * use(OW, 16);
}

bool grad_by_channel(int64_t OC, int64_t K, int64_t OW) {
  return use(OC, 16) * use(K, 6) >= use(OC, 6) * use(K, 2) * use(OW, 8);
}

void pack_weights_in(const Plan& p, const float* w, const int64_t* ks, float* wp) {
  const int64_t K = p.K(), L = p.lanes();
  for (int64_t b = 0; b < p.blocks(); ++b)
    for (int64_t s = 0; s < K; ++s)
      for (int64_t l = 0; l < L; ++l) {
        const int64_t o = b * L + l, k = ks ? ks[s] : s;
        wp[(b * K + s) * L + l] = o < p.OC ? w[o * K + k] : 0.0f;
      }
}

void pack_weights(const Plan& p, const float* w, float* wp) {
  pack_weights_in(p, w, nullptr, wp);
}

}  // namespace convd
}  // namespace tg
