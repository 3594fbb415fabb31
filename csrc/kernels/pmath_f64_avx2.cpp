// See pmath_f64.h. Every rounding sits where SLEEF's has it: no reordering, no contraction
// (CMakeLists.txt compiles this file with -ffp-contract=off). Compiled with -mfma like every
// *_avx2.cpp file, so the fused multiply-adds are single instructions; the math calls are GCC
// builtins (not libstdc++'s inline wrappers, whose out-of-line copies could be shared with
// portable code), and nothing here runs unless the CPU has AVX2 and FMA (core/cpu.h).
#include "kernels/pmath_f64.h"

#if TG_HAVE_AVX2
#include <cstdint>
#include <cstring>

namespace tg::pmath {

namespace {

uint64_t bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}
double from_bits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

// x86's cvtpd2dq: round to nearest even, out of range or NaN gives INT32_MIN.
int32_t to_int(double d) {
  const double r = __builtin_nearbyint(d);
  if (!(r >= -2147483648.0 && r <= 2147483647.0)) return INT32_MIN;
  return int32_t(r);
}

// 2^q through the exponent field; q outside [-1022, 1023] gives what the 32-bit lane arithmetic
// of the vector code gives (the callers then replace the result).
double pow2i(int32_t q) {
  const uint32_t hi = (uint32_t(q) + 0x3ffu) << 20;
  return from_bits(uint64_t(hi) << 32);
}
double ldexp2(double d, int32_t q) {
  const int32_t h = q >> 1;
  return d * pow2i(h) * pow2i(int32_t(uint32_t(q) - uint32_t(h)));
}

constexpr double kRLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931;
constexpr double kL2U = .69314718055966295651160180568695068359375;
constexpr double kL2L = .28235290563031577122588448175013436025525412068e-12;

// Estrin's scheme as SLEEF groups it: c[0] is the highest coefficient.
double poly8(double x, double x2, double x4, const double* c) {
  const double hi = __builtin_fma(x2, __builtin_fma(x, c[0], c[1]), __builtin_fma(x, c[2], c[3]));
  const double lo = __builtin_fma(x2, __builtin_fma(x, c[4], c[5]), __builtin_fma(x, c[6], c[7]));
  return __builtin_fma(x4, hi, lo);
}
double poly10(double x, double x2, double x4, double x8, const double* c) {
  return __builtin_fma(x8, __builtin_fma(x, c[0], c[1]), poly8(x, x2, x4, c + 2));
}
double poly9(double x, double x2, double x4, double x8, const double* c) {
  return __builtin_fma(x8, c[0], poly8(x, x2, x4, c + 1));
}

// Double-double values hi + lo.
struct D2 {
  double x, y;
};
D2 normalize(D2 t) {
  const double s = t.x + t.y;
  return {s, t.x - s + t.y};
}
D2 scale(D2 d, double s) {
  return {d.x * s, d.y * s};
}
D2 add_d_d2(double x, D2 y) {  // |x| >= |y|
  const double s = x + y.x;
  return {s, x - s + y.x + y.y};
}
D2 add_d2_d2(D2 x, D2 y) {  // |x| >= |y|
  const double s = x.x + y.x;
  return {s, x.x - s + y.x + x.y + y.y};
}
D2 add2_d_d(double x, double y) {
  const double s = x + y;
  const double v = s - x;
  return {s, (x - (s - v)) + (y - v)};
}
D2 add2_d2_d(D2 x, double y) {
  const double s = x.x + y;
  const double v = s - x.x;
  return {s, (x.x - (s - v)) + (y - v) + x.y};
}
D2 mul_d2_d(D2 x, double y) {
  const double s = x.x * y;
  return {s, __builtin_fma(x.y, y, __builtin_fma(x.x, y, -s))};
}
D2 mul_d2_d2(D2 x, D2 y) {
  const double s = x.x * y.x;
  return {s, __builtin_fma(x.x, y.y, __builtin_fma(x.y, y.x, __builtin_fma(x.x, y.x, -s)))};
}
D2 squ(D2 x) {
  const double s = x.x * x.x;
  return {s, __builtin_fma(x.x + x.x, x.y, __builtin_fma(x.x, x.x, -s))};
}
D2 div(D2 n, D2 d) {
  const double t = 1.0 / d.x;
  const double s = n.x * t;
  const double u = __builtin_fma(t, n.x, -s);
  const double v = __builtin_fma(-d.y, t, __builtin_fma(-d.x, t, 1.0));
  return {s, __builtin_fma(s, v, __builtin_fma(n.y, t, u))};
}

// log|d| as a double-double (d > 0 finite; the caller replaces the other cases).
D2 logk(double d) {
  const bool tiny = d < 2.2250738585072014e-308;
  if (tiny) d *= 18446744073709551616.0;  // 2^64
  int32_t e = int32_t((bits(d * (1.0 / 0.75)) >> 52) & 0x7ff) - 0x3ff;
  const double m = from_bits(bits(d) + (uint64_t(uint32_t(-e)) << 52));
  if (tiny) e -= 64;
  const D2 x = div(add2_d_d(-1.0, m), add2_d_d(1.0, m));
  const D2 x2 = squ(x);
  const double x4 = x2.x * x2.x, x8 = x4 * x4, x16 = x8 * x8;
  static const double kC[9] = {
      0.116255524079935043668677, 0.103239680901072952701192, 0.117754809412463995466069,
      0.13332981086846273921509,  0.153846227114512262845736, 0.181818180850050775676507,
      0.222222222230083560345903, 0.285714285714249172087875, 0.400000000000000077715612};
  const double t = poly9(x2.x, x4, x8, x16, kC);
  const D2 c = {0.666666666666666629659233, 3.80554962542412056336616e-17};
  D2 s = mul_d2_d({0.693147180559945286226764, 2.319046813846299558417771e-17}, double(e));
  s = add_d2_d2(s, scale(x, 2.0));
  D2 xx = mul_d2_d2(x2, x);
  s = add_d2_d2(s, mul_d2_d2(xx, c));
  xx = mul_d2_d2(x2, xx);
  return add_d2_d2(s, mul_d2_d(xx, t));
}

// exp of a double-double.
double expk(D2 d) {
  const double dq = __builtin_nearbyint((d.x + d.y) * kRLn2);
  const int32_t q = to_int(dq);
  D2 s = add2_d2_d(d, dq * -kL2U);
  s = add2_d2_d(s, dq * -kL2L);
  s = normalize(s);
  const double s2 = s.x * s.x, s4 = s2 * s2, s8 = s4 * s4;
  static const double kC[10] = {2.51069683420950419527139e-08, 2.76286166770270649116855e-07,
                                2.75572496725023574143864e-06, 2.48014973989819794114153e-05,
                                0.000198412698809069797676111, 0.0013888888939977128960529,
                                0.00833333333332371417601081,  0.0416666666665409524128449,
                                0.166666666666666740681535,    0.500000000000000999200722};
  const double u = poly10(s.x, s2, s4, s8, kC);
  D2 t = add_d_d2(1.0, s);
  t = add_d2_d2(t, mul_d2_d(squ(s), u));
  const double r = ldexp2(t.x + t.y, q);
  return d.x < -1000.0 ? 0.0 : r;
}

bool is_int(double y) {
  return __builtin_trunc(y) == y;  // also +-inf
}
bool is_odd(double y) {  // an odd integer (every double of magnitude >= 2^53 is even)
  const double h = y * 0.5;
  return __builtin_fabs(y) < 9007199254740992.0 && is_int(y) && __builtin_trunc(h) != h;
}

}  // namespace

double exp_u10(double d) {
  const double u = __builtin_nearbyint(d * kRLn2);
  const int32_t q = to_int(u);
  double s = __builtin_fma(u, -kL2U, d);
  s = __builtin_fma(u, -kL2L, s);
  const double s2 = s * s, s4 = s2 * s2, s8 = s4 * s4;
  static const double kC[10] = {+0.2081276378237164457e-8, +0.2511210703042288022e-7,
                                +0.2755762628169491192e-6, +0.2755723402025388239e-5,
                                +0.2480158687479686264e-4, +0.1984126989855865850e-3,
                                +0.1388888888914497797e-2, +0.8333333333314938210e-2,
                                +0.4166666666666602598e-1, +0.1666666666666669072e+0};
  double p = poly10(s, s2, s4, s8, kC);
  p = __builtin_fma(p, s, 0.5);
  p = __builtin_fma(p, s, 1.0);
  p = __builtin_fma(p, s, 1.0);
  p = ldexp2(p, q);
  if (d > 709.78271114955742909217217426) p = __builtin_inf();
  if (d < -1000.0) p = 0.0;
  return p;
}

double pow_u10(double x, double y) {
  const bool yint = is_int(y);
  const bool yodd = yint && is_odd(y);
  const D2 d = mul_d2_d(logk(__builtin_fabs(x)), y);
  double r = expk(d);
  if (d.x > 709.78271114955742909217217426) r = __builtin_inf();
  r *= x > 0.0 ? 1.0 : (yint ? (yodd ? -1.0 : 1.0) : __builtin_nan(""));
  const double efx = __builtin_copysign(1.0, y) * (__builtin_fabs(x) - 1.0);
  if (__builtin_isinf(y)) r = efx < 0.0 ? 0.0 : (efx == 0.0 ? 1.0 : __builtin_inf());
  if (__builtin_isinf(x) || x == 0.0) {
    const double mag = ((__builtin_signbit(y) != 0) != (x == 0.0)) ? 0.0 : __builtin_inf();
    r = yodd && __builtin_signbit(x) ? -mag : mag;
  }
  if (__builtin_isnan(x) || __builtin_isnan(y)) r = __builtin_nan("");
  if (y == 0.0 || x == 1.0) r = 1.0;
  return r;
}

}  // namespace tg::pmath

#endif  // TG_HAVE_AVX2
