// Shared by the ewise ops (ewise.cpp, activation.cpp).
#pragma once
#include <optional>
#include <string>

#include "ops/oplist.h"

namespace tg {

// a clamped to [lo, hi] in a's dtype (bounds converted to it first), unrecorded.
TensorPtr clamp_values(const TensorPtr& a, const std::optional<Scalar>& lo,
                       const std::optional<Scalar>& hi);
// ClampBackward1, or ClampMin/ClampMaxBackward0 for the one-sided calls.
std::string clamp_name(const Node& n);
// ClampBackward0, or ClampMin/ClampMaxBackward1 (ops/ewise2.cpp).
std::string clamp_tensor_name(const Node& n);
// NormalBackward1-3 or BernoulliBackward0 (ops/ewise2.cpp).
std::string random_grad_name(const Node& n);
// VarMeanBackward0 or StdMeanBackward0 (ops/reduce_var.cpp).
std::string var_mean_name(const Node& n);

}  // namespace tg
