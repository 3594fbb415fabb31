// IEEE binary16 <-> binary32 conversion, round to nearest even. Portable; the F16C path is chosen
// at run time by the kernels that need speed.
#pragma once
#include <cstdint>
#include <cstring>

namespace tg {

struct half {
  uint16_t bits;
};

inline float half_to_float_slow(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t f;
  if (exp == 0x1f) {
    f = sign | 0x7f800000u | (man << 13);
  } else if (man == 0) {
    f = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while ((man & 0x400u) == 0);
    f = sign | (uint32_t(112 - e) << 23) | ((man & 0x3ffu) << 13);
  }
  float out;
  std::memcpy(&out, &f, 4);
  return out;
}

inline float half_to_float(uint16_t h) {
  const uint32_t exp = (h >> 10) & 0x1fu;
  if (exp == 0 || exp == 0x1f) return half_to_float_slow(h);
  const uint32_t f = (uint32_t(h & 0x8000u) << 16) | ((uint32_t(h & 0x7fffu) << 13) + 0x38000000u);
  float out;
  std::memcpy(&out, &f, 4);
  return out;
}

inline uint16_t float_to_half_slow(uint32_t f) {
  uint32_t sign = (f >> 16) & 0x8000u;
  uint32_t absf = f & 0x7fffffffu;
  if (absf >= 0x7f800000u) {  // inf or nan (keep nan quiet and non-zero)
    uint32_t man = absf > 0x7f800000u ? (0x200u | ((absf >> 13) & 0x3ffu)) : 0;
    return uint16_t(sign | 0x7c00u | man);
  }
  if (absf >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to inf
  if (absf < 0x38800000u) {                                  // result is subnormal or zero
    if (absf < 0x33000000u) return uint16_t(sign);           // below half the smallest subnormal
    uint32_t e = absf >> 23;
    uint32_t man = (absf & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // 14..24 -> value = man >> (shift) in units of 2^-24
    uint32_t q = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
    return uint16_t(sign | q);
  }
  uint32_t h = ((absf - 0x38000000u) >> 13);  // rebias exponent 127->15
  uint32_t rem = absf & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return uint16_t(sign | h);
}

inline uint16_t float_to_half(float x) {
  uint32_t f;
  std::memcpy(&f, &x, 4);
  const uint32_t absf = f & 0x7fffffffu;
  if (absf - 0x38800000u >= 0x477ff000u - 0x38800000u) return float_to_half_slow(f);
  // A normal result: round the 13 dropped bits to nearest even, then rebias the exponent.
  const uint32_t r = absf + 0x0fffu + ((absf >> 13) & 1u);
  return uint16_t(((f >> 16) & 0x8000u) | ((r - 0x38000000u) >> 13));
}

// x rounded to the nearest float16 value, as a float (the "compute in f32, round once" step).
inline float round_f16(float x) {
  uint32_t f;
  std::memcpy(&f, &x, 4);
  const uint32_t absf = f & 0x7fffffffu;
  if (absf - 0x38800000u >= 0x477ff000u - 0x38800000u) return half_to_float(float_to_half(x));
  f = (f + 0x0fffu + ((f >> 13) & 1u)) & ~0x1fffu;
  std::memcpy(&x, &f, 4);
  return x;
}

inline float to_f32(float v) {
  return v;
}
inline float to_f32(half v) {
  return half_to_float(v.bits);
}
template <class T>
inline T from_f32(float v);
template <>
inline float from_f32<float>(float v) {
  return v;
}
template <>
inline half from_f32<half>(float v) {
  return half{float_to_half(v)};
}

}  // namespace tg
