// The op table (OpInfo per op of the list) and the grad_fn names PyTorch refines by shape.
#include <string>

#include "ops/ewise.h"
#include "ops/oplist.h"

namespace tg {

namespace {
// PyTorch names reductions over everything *Backward0 and matmuls by their operands' ranks.
std::string reduce_name(const Node& n) {
  std::string s = n.op->grad_name;
  if (n.i1 & 2) s.back() = '0';
  return s;
}

std::string matmul_name(const Node& n) {
  const int ra = n.in_shape[0].n, rb = n.in_shape[1].n;
  if (ra == 1 && rb == 1) return "DotBackward0";
  if (ra == 2 && rb == 1) return "MvBackward0";
  if (ra > 2 || rb > 2) return "BmmBackward0";
  return n.op->grad_name;
}

// PyTorch runs a 1-D input through a matmul and a view: its grad_fn reads ViewBackward0.
std::string linear_name(const Node& n) {
  if (n.in_shape[0].n == 1) return "ViewBackward0";
  if (n.n_in == 2) return "MmBackward0";
  return n.op->grad_name;
}

// A non-viewable reshape copies (PyTorch: UnsafeViewBackward0); a cast to the same dtype is a
// clone.
std::string reshape_name(const Node& n) {
  return n.i1 == 1 ? "UnsafeViewBackward0" : n.op->grad_name;
}
std::string cast_name(const Node& n) {
  return n.in_dt[0] == n.out_dt ? "CloneBackward0" : n.op->grad_name;
}
std::string squeeze_name(const Node& n) {
  return n.i1 == 1 ? "SqueezeBackward1" : n.i1 == 2 ? "SqueezeBackward2" : n.op->grad_name;
}

// masked_fill is where with the value first: PyTorch names it by the value's kind (i1: 1 a
// number, 2 a 0-dim tensor).
std::string where_name(const Node& n) {
  return n.i1 == 1 ? "MaskedFillBackward0" : n.i1 == 2 ? "MaskedFillBackward1" : n.op->grad_name;
}

// PyTorch's `x - s` is a subtraction node; ours is add_scalar(x, -s) marked by sub_scalar. A
// Python number is a wrapped tensor (AddBackward0); ATen's own composites call the Scalar
// overloads, named *Backward1 (marked by scalar_overload: i1 == 2).
std::string add_scalar_name(const Node& n) {
  if (n.i1 == 2) return "AddBackward1";
  return n.i1 == 1 ? "SubBackward0" : n.op->grad_name;
}
std::string scalar_overload_name(const Node& n) {
  std::string s = n.op->grad_name;
  if (n.i1 == 2) s.back() = '1';
  return s;
}
std::string cat_name(const Node& n) {
  return n.i1 ? "StackBackward0" : n.op->grad_name;
}
std::string take_name(const Node& n) {
  static const char* const names[] = {"GatherBackward0",       "FlipBackward0",
                                      "RollBackward0",         "IndexSelectBackward0",
                                      "MaskedSelectBackward0", "IndexSelectBackward0"};
  return names[n.i1];
}
// scatter with a src tensor, with a value, scatter_add.
std::string put_name(const Node& n) {
  return n.i1 ? "ScatterAddBackward0" : n.s != 0 ? "ScatterBackward1" : n.op->grad_name;
}

// PyTorch's l1_loss is (a - b).abs() then the reduction (i1: 0 none, 1 mean, 2 sum): its
// node is the last of these.
std::string l1_loss_name(const Node& n) {
  return n.i1 == 1 ? "MeanBackward0" : n.i1 == 2 ? "SumBackward0" : "AbsBackward0";
}

template <OpCode op>
constexpr std::string (*refine())(const Node&) {
  if constexpr (op == OpCode::where) return where_name;
  if constexpr (op == OpCode::add_scalar) return add_scalar_name;
  if constexpr (op == OpCode::l1_loss) return l1_loss_name;
  if constexpr (op == OpCode::mul_scalar || op == OpCode::div_scalar) return scalar_overload_name;
  if constexpr (op == OpCode::reshape) return reshape_name;
  if constexpr (op == OpCode::cast) return cast_name;
  if constexpr (op == OpCode::squeeze) return squeeze_name;
  if constexpr (op == OpCode::sum || op == OpCode::mean) return reduce_name;
  if constexpr (op == OpCode::matmul) return matmul_name;
  if constexpr (op == OpCode::linear) return linear_name;
  if constexpr (op == OpCode::clamp) return clamp_name;
  if constexpr (op == OpCode::clamp_tensor) return clamp_tensor_name;
  if constexpr (op == OpCode::random_grad) return random_grad_name;
  if constexpr (op == OpCode::var_mean) return var_mean_name;
  if constexpr (op == OpCode::cat) return cat_name;
  if constexpr (op == OpCode::take) return take_name;
  if constexpr (op == OpCode::put) return put_name;
  return nullptr;
}
}  // namespace

const OpInfo kOps[] = {
#define TG_DEF(name, grad_name, kind, saves) \
  {#name, grad_name, refine<OpCode::name>(), #kind, saves, &Op_##name::backward},
    TG_OPS(TG_DEF)
#undef TG_DEF
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == size_t(OpCode::count), "op table out of sync");

}  // namespace tg
