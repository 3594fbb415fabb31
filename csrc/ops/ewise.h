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

}  // namespace tg
