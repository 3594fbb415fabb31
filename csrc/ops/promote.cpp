#include "ops/promote.h"

#include <atomic>

namespace tg {

namespace {
std::atomic<DType> g_default{DType::f32};

int category(DType d) {  // bool < integer < floating
  return d == DType::b8 ? 0 : (is_floating(d) ? 2 : 1);
}
constexpr DType kNone = DType(255);

// c10's combine_categories: a lower-priority operand only counts when its category is higher.
DType combine(DType higher, DType lower) {
  if (higher == kNone) return lower;
  if (lower == kNone) return higher;
  if (is_floating(higher)) return higher;
  if (higher == DType::b8 || is_floating(lower)) return promote(higher, lower);
  return higher;
}
}  // namespace

DType default_float() {
  return g_default.load(std::memory_order_relaxed);
}
void set_default_float(DType dt) {
  g_default.store(dt, std::memory_order_relaxed);
}

DType promote(DType a, DType b) {
  if (a == b) return a;
  const int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 2) {  // float16 < float32 < float64
    auto rank = [](DType d) { return d == DType::f16 ? 0 : (d == DType::f32 ? 1 : 2); };
    return rank(a) > rank(b) ? a : b;
  }
  if (a == DType::u8 || b == DType::u8) {  // uint8 with a signed type
    const DType other = a == DType::u8 ? b : a;
    return other == DType::i8 ? DType::i16 : other;
  }
  // signed integers: the wider (i64 = 3 < i32 = 4 < i16 = 5 < i8 = 6 in code order)
  return int(a) < int(b) ? a : b;
}

DType result_type(std::initializer_list<Operand> ops) {
  DType by_rank[3] = {kNone, kNone, kNone};
  for (const Operand& o : ops) {
    DType d = o.dt;
    if (o.rank == Rank::number && is_floating(d)) d = default_float();
    DType& r = by_rank[int(o.rank)];
    r = r == kNone ? d : promote(r, d);
  }
  return combine(by_rank[2], combine(by_rank[1], by_rank[0]));
}

bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::b8 && to == DType::b8) return false;
  return true;
}

const char* torch_name(DType dt) {
  static const char* const names[kNumDTypes] = {"Float", "Half", "Double", "Long", "Int",
                                                "Short", "Char", "Byte",   "Bool"};
  return names[int(dt)];
}

}  // namespace tg
