// PyTorch's type promotion (c10's promoteTypes and TensorIterator's result type), and the Python
// numbers that take part in it.
#pragma once
#include <initializer_list>

#include "core/tensor.h"

namespace tg {

// The dtype Python floats and the floating results of integer ops get (set_default_dtype).
DType default_float();
void set_default_float(DType dt);

DType promote(DType a, DType b);
// What an operand counts as: a tensor with dims, a 0-dim tensor, or a Python number.
enum class Rank : uint8_t { number, zero_dim, dims };
struct Operand {
  DType dt;
  Rank rank;
};
inline Operand operand(const TensorImpl& t) {
  return {t.dt, t.shape.n ? Rank::dims : Rank::zero_dim};
}
inline Operand operand(const Scalar& s) {
  return {s.dt, Rank::number};
}
DType result_type(std::initializer_list<Operand> ops);
// Whether an in-place op may write a result of dtype `from` into a tensor of dtype `to`.
bool can_cast(DType from, DType to);
// "Float", "Long", ...: PyTorch's scalar type names in its messages.
const char* torch_name(DType dt);

}  // namespace tg
