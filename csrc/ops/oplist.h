// The op list in C++: everything here is generated from python/tapegrad/_oplist.py (through
// oplist.inc, written at build time by gen_oplist.py). See docs/adding-an-op.md.
//
// Per op NAME of the list:
//   OpCode::NAME                       the enum
//   Op_NAME::backward                  written next to the op's forward in ops/*.cpp; the table in
//                                      registry.cpp takes its address, so a missing one fails
//                                      the build (tapegrad_link_check links the whole core)
//   kOps[OpCode::NAME]                 its OpInfo: names, kind, what it saves, its backward
//   op::NAME(...)                      its forward; generated for the unary, binary and reduce
//                                      kinds, declared by hand in ops.h for the others
#pragma once
#include <cstdint>
#include <initializer_list>

#include "autograd/autograd.h"
#include "oplist.inc"

namespace tg {

enum class OpCode : uint8_t {
#define TG_ENUM(name, grad_name, kind, saves) name,
  TG_OPS(TG_ENUM)
#undef TG_ENUM
      count
};

#define TG_DECL(name, grad_name, kind, saves)                                  \
  struct Op_##name {                                                           \
    static void backward(Node& node, const TensorPtr& grad, TensorPtr* grads); \
  };
TG_OPS(TG_DECL)
#undef TG_DECL

extern const OpInfo kOps[];
inline const OpInfo& info(OpCode op) {
  return kOps[int(op)];
}
inline const char* op_name(OpCode op) {
  return kOps[int(op)].name;
}

// record() (autograd.h) by op code.
inline Node* record(OpCode op, const TensorPtr& out,
                    std::initializer_list<const TensorImpl*> inputs) {
  return record(info(op), out, inputs);
}

}  // namespace tg
