// The one list of ops. Each op's forward (a free function below) and backward
// (`Op_<name>::backward`) are defined next to each other in one ops_*.cpp file; the table in
// autograd.cpp is generated from this list, so an op without a backward does not link.
#pragma once
#include <string>

#include "tensor.h"

namespace tg {

// name, grad_fn name shown to users (PyTorch's)
#define TG_OPS(X)                 \
  X(add, "AddBackward0")          \
  X(sub, "SubBackward0")          \
  X(mul, "MulBackward0")          \
  X(div, "DivBackward0")          \
  X(add_scalar, "AddBackward1")   \
  X(mul_scalar, "MulBackward1")   \
  X(div_scalar, "DivBackward1")   \
  X(rsub_scalar, "RsubBackward1") \
  X(rdiv_scalar, "RdivBackward1") \
  X(pow_scalar, "PowBackward0")   \
  X(rpow_scalar, "PowBackward1")  \
  X(neg, "NegBackward0")          \
  X(abs, "AbsBackward0")          \
  X(exp, "ExpBackward0")          \
  X(log, "LogBackward0")          \
  X(tanh, "TanhBackward0")        \
  X(relu, "ReluBackward0")        \
  X(sigmoid, "SigmoidBackward0")  \
  X(matmul, "MmBackward0")        \
  X(linear, "AddmmBackward0")     \
  X(sum, "SumBackward1")          \
  X(mean, "MeanBackward1")        \
  X(reshape, "ViewBackward0")     \
  X(permute, "PermuteBackward0")  \
  X(slice, "SliceBackward0")      \
  X(mse_loss, "MseLossBackward0") \
  X(l1_loss, "L1LossBackward0")   \
  X(cast, "ToCopyBackward0")

enum class OpCode : uint8_t {
#define TG_ENUM(name, gname) name,
  TG_OPS(TG_ENUM)
#undef TG_ENUM
      count
};

struct Node;
#define TG_DECL(name, gname)                                                   \
  struct Op_##name {                                                           \
    static void backward(Node& node, const TensorPtr& grad, TensorPtr* grads); \
  };
TG_OPS(TG_DECL)
#undef TG_DECL

const char* op_name(OpCode op);
std::string grad_fn_name(const Node& node);

// ---- forwards (record on the tape when grad mode is on and an input requires grad)
enum class Binary : uint8_t { add, sub, mul, div };
TensorPtr binary(Binary kind, const TensorPtr& a, const TensorPtr& b);
TensorPtr add_scalar(const TensorPtr& a, double s);
TensorPtr mul_scalar(const TensorPtr& a, double s);
TensorPtr div_scalar(const TensorPtr& a, double s);
TensorPtr rsub_scalar(const TensorPtr& a, double s);
TensorPtr rdiv_scalar(const TensorPtr& a, double s);
TensorPtr pow_scalar(const TensorPtr& a, double s);
TensorPtr rpow_scalar(const TensorPtr& a, double s);
TensorPtr unary(OpCode op, const TensorPtr& a);      // neg abs exp log tanh relu sigmoid
TensorPtr unary_raw(OpCode op, const TensorPtr& a);  // the same, never recorded on the tape
TensorPtr matmul(const TensorPtr& a, const TensorPtr& b);
TensorPtr linear(const TensorPtr& x, const TensorPtr& w, const TensorPtr& b);      // b may be null
TensorPtr reduce(OpCode op, const TensorPtr& a, const Shape* dims, bool keepdim);  // sum/mean
TensorPtr reshape(const TensorPtr& a, const Shape& shape);
TensorPtr permute(const TensorPtr& a, const Shape& perm);
TensorPtr slice(const TensorPtr& a, const Shape& starts, const Shape& steps, const Shape& lens);
enum class Reduction : uint8_t { none = 0, mean = 1, sum = 2 };
TensorPtr mse_loss(const TensorPtr& a, const TensorPtr& b, Reduction r);
TensorPtr l1_loss(const TensorPtr& a, const TensorPtr& b, Reduction r);
TensorPtr cast(const TensorPtr& a, DType dt);

// ---- helpers shared by ops
Shape broadcast_shapes(const Shape& a, const Shape& b);
TensorPtr sum_to(const TensorPtr& g, const Shape& target);  // undo broadcasting, f32 accumulate
TensorPtr convert(const TensorImpl& a, DType dt);           // plain dtype conversion, no tape

}  // namespace tg
