// A direct float32 convolution (stride 1, any dilation) of one sample and group over a
// zero-padded input, for the AVX2 path: the GEMM's 6x16 register tile, its operands read
// straight from the input and the packed weights instead of an im2col matrix. Two tilings:
// by channel (16 output channels in vectors, 6 positions of a row broadcast), for many
// channels; by position (16 positions of a row in vectors, 6 channels broadcast), for few.
#pragma once
#include <cstdint>

namespace tg {
namespace convd {

struct Plan {
  int64_t C, Hp, Wp;   // input channels and the padded input's height and width
  int64_t OC, KH, KW;  // output channels, kernel
  int64_t OH, OW;      // output size
  int64_t dh, dw;      // dilation
  bool by_channel;     // the tiling (see above)
  int64_t K() const { return C * KH * KW; }
  int64_t lanes() const { return by_channel ? 16 : 6; }  // output channels per weight block
  int64_t blocks() const { return (OC + lanes() - 1) / lanes(); }
};

// The tiling that wastes less of the register tile for this shape.
bool by_channel(int64_t OC, int64_t OW);
// The tiling of the weight gradient that wastes less: weight_grad_channels_avx2 or not.
bool grad_by_channel(int64_t OC, int64_t K, int64_t OW);
// Floats that pack_weights writes.
inline int64_t packed_size(const Plan& p) {
  return p.blocks() * p.K() * p.lanes();
}
// w (OC, C, KH, KW) as blocks of lanes() output channels: wp[b][k][l], zero past OC.
void pack_weights(const Plan& p, const float* w, float* wp);
// The same with step s holding k = ks[s] (K steps): wp[b][s][l] = w[o][ks[s]].
void pack_weights_in(const Plan& p, const float* w, const int64_t* ks, float* wp);

// out[o*os + oh*OW + ow] = bias[o] (0 without) + sum over (c, kh, kw) in that order of
// w[o][c][kh][kw] * x[(c*Hp + oh + kh*dh)*Wp + ow + kw*dw], for rows oh in [oh0, oh1).
// x needs 16 floats of slack past its last plane (rows are read in whole vectors).
void run_avx2(const Plan& p, const float* x, const float* wp, const float* bias, float* out,
              int64_t os, int64_t oh0, int64_t oh1);
// The same outputs, bit for bit, with zmm registers (conv_avx512.cpp): by-channel plans only,
// on CPUs where cpu::wide().
void run_avx512(const Plan& p, const float* x, const float* wp, const float* bias, float* out,
                int64_t os, int64_t oh0, int64_t oh1);

// float16 (stored as bits, computed in float32) in the order of ATen's half gemm (gemm16.h's
// interleave4): out[o*os + oh*OW + ow] = float16(bias[o] + ((p0 + p1) + p2) + p3), where chain
// pc is the sequential sum from +0 over steps s in [seg[c], seg[c + 1]) of
// wp[s] * x[off[s] + oh*Wp + ow]. wp holds the weights in step order (pack_weights_in with the
// steps' k), bias blocks() * lanes() floats or null. x is padded as for run_avx2.
struct Chains {
  const int64_t* off;  // per step: (c*Hp + kh*dh)*Wp + kw*dw of its k
  int64_t seg[5];
};
void run_f16_avx2(const Plan& p, const Chains& ch, const float* x, const float* wp,
                  const float* bias, uint16_t* out, int64_t os, int64_t oh0, int64_t oh1);
// The same outputs, bit for bit, with zmm registers (conv_f16_avx512.cpp; only where
// cpu::wide()). x needs 32 floats of slack past its last plane.
void run_f16_avx512(const Plan& p, const Chains& ch, const float* x, const float* wp,
                    const float* bias, uint16_t* out, int64_t os, int64_t oh0, int64_t oh1);

// float16's weight gradient for one sample, in the order of ATen's half gemm_transa_ (gemm16.h's
// blocks64, the AVX2 build's): out[o*K + k] = the dot over positions p < P of gt[p*ld + o] and
// x[off[k] + pos[p]], for o < OC and k < K. gt holds ld >= 16 floats per position (zero past OC
// when OC > 8 and OC is not a multiple of 16).
struct GradF16 {
  int64_t P, OC, K, ld;
  const int64_t* off;  // per tap k = (c*KH + kh)*KW + kw: (c*Hp + kh*dh)*Wp + kw*dw
  const int64_t* pos;  // per position p = oh*OW + ow: oh*sh*Wp + ow*sw
};
void weight_grad_f16_avx2(const GradF16& q, const float* gt, const float* x, float* out);
// The same sums with zmm registers (conv_f16_avx512.cpp; only where cpu::wide()).
void weight_grad_f16_avx512(const GradF16& q, const float* gt, const float* x, float* out);
// The same sums again with the positions in the lanes, as ATen's own blocks64 dot holds them:
// cheaper where a sample has several 64-position blocks (kPositionLanesMinP). g holds the sample's
// gradient rows as they lie (OC x P, float32), col is scratch of 4 * position_stride(P) + 16
// floats, and ow (the output width) with unit_stride (stride 1 across) lets taps be copied row
// by row (x must then have 16 floats of slack after its last plane).
constexpr int64_t kPositionLanesMinP = 256;
inline int64_t position_stride(int64_t P) {
  return (P + 15) / 16 * 16;
}
void weight_grad_f16_lanes_avx512(const GradF16& q, int64_t ow, bool unit_stride, const float* g,
                                  const float* x, float* col, float* out);

// col2im's float16 adds for one sample at stride 1 (conv_f16_avx512.cpp): each input row of the C
// planes of dx (H x W, float16) gets its taps' column values, each rounded to float16, added in
// tap order with a rounding after each add, as ATen's col2im adds them one by one; the row stays
// in registers through all its taps. col holds the sample's column values: tap k's row of
// positions at col + k * ld (positions oh * OW + ow). Every pixel of dx is written (its sum
// starts from +0, as col2im's zeroed planes do).
struct Col2imF16 {
  int64_t C, H, W, KH, KW, dh, dw, pt, pl, OH, OW, ld;
};
void col2im_f16_avx512(const Col2imF16& q, const float* col, uint16_t* dx);

// d[y*ds + i] = float16(d[y*ds + i] + float16(s[y*ss + i])) for y < rows, i < n, in float32
// storage: col2im's float16 adds of columns rounded to float16 (to nearest even, as F16C).
void add_rounded_f16_avx2(float* d, int64_t ds, const float* s, int64_t ss, int64_t rows,
                          int64_t n);

// The weight gradient of such a convolution over N samples:
// out[r*K + k] = sum over (n, oh, ow) of g[n*gs + (o0+r)*OH*OW + oh*OW + ow] *
//               x[n*xs + (c*Hp + oh + kh*dh)*Wp + ow + kw*dw]   with k = (c*KH + kh)*KW + kw,
// for rows r < R (R <= 6) and k in [k0, k0 + nk) (nk <= 2), the positions summed in 8 lanes
// (then the lanes in a fixed order). x is padded as for run_avx2.
struct GradPlan {
  int64_t N, C, Hp, Wp, KH, KW, OH, OW, dh, dw;
  int64_t gs, xs;  // floats from one sample to the next in g and in x
};
void weight_grad_avx2(const GradPlan& p, const float* g, const float* x, int64_t o0, int64_t R,
                      int64_t k0, int64_t nk, float* out);
// The same sums for many output channels: 16 channels from oc0 in vectors and k in
// [k0, k0 + nk) (nk <= 6), each summed over the positions in order. gt is g transposed:
// gt[(n*OH*OW + pos)*ld + o] (ld a multiple of 16, zero past the channels); out[o*K + k].
void weight_grad_channels_avx2(const GradPlan& p, const float* gt, int64_t ld, const float* x,
                               int64_t oc0, int64_t lanes, int64_t k0, int64_t nk, float* out);

}  // namespace convd
}  // namespace tg
