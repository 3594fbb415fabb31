// The tape: nodes recorded by ops, and the engine that runs them backwards.
#pragma once
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tg {

bool grad_enabled();
void set_grad_enabled(bool on);

// What a node keeps of a tensor for its backward: the buffer and the version it had, never the
// tensor itself (saving an op's own output would make a reference cycle).
// A node is allocated per recorded op: it is kept small enough for malloc's per-thread cache
// (about 1 KiB), so the strides of a strided saved tensor live apart.
struct SavedTensor {
  StoragePtr st;
  Shape shape;
  std::unique_ptr<Shape> strides;  // null: contiguous
  int64_t offset = 0;
  DType dt = DType::f32;
  uint32_t version = 0;
  bool untracked = false;
  bool used = false;  // this slot was saved (stays true after the buffer is freed)
  void save(const TensorImpl& t) {
    used = true;
    st = t.st;
    shape = t.shape;
    strides = t.is_contiguous() ? nullptr : std::make_unique<Shape>(t.strides);
    offset = t.offset;
    dt = t.dt;
    version = t.st->version;
    untracked = t.untracked;
  }
};

struct Node;

// What a node made by a user's autograd.Function carries: its name (the class's, as PyTorch
// names it), and its backward, which the binding layer runs in Python. grads[i] for each input.
struct NodeExtra {
  std::string op;    // the Function class's name
  std::string name;  // its node's name: op + "Backward"
  std::function<void(const TensorPtr& grad, TensorPtr* grads)> backward;
  // The binding layer's handle on that backward (create_graph calls it from Python).
  std::shared_ptr<void> user;
};

// Functions run on a gradient as it reaches a tensor (Tensor.register_hook): each may hand back
// a replacement (null keeps it). `retain` (retain_grad) sees the result after all of them, as
// PyTorch's. A non-leaf tensor's hooks sit on its grad_fn, a leaf's on the tensor.
struct GradHooks {
  std::vector<std::function<TensorPtr(const TensorPtr&)>> fns;
  std::function<void(const TensorPtr&)> retain;
  // A leaf's register_post_accumulate_grad_hook dispatcher: run once .grad holds the sweep's sum.
  std::function<void()> post;
  bool empty() const { return fns.empty() && !retain; }
};

// What the tape needs to know of an op; the ops layer (ops/oplist.h) has one per op of the list.
enum SaveFlags : unsigned {
  kSaveIn0 = 1,          // input 0, always
  kSaveIn1 = 2,          // input 1, always
  kSaveIn0ForGrad1 = 4,  // input 0, when input 1 requires grad
  kSaveIn1ForGrad0 = 8,  // input 1, when input 0 requires grad
  kSaveOut = 16,         // the output, in slot 0
};
struct OpInfo {
  const char* name;
  const char* grad_name;               // PyTorch's node name ...
  std::string (*refine)(const Node&);  // ... or null: that name refined by the node's shapes
  const char* kind;                    // the op list's kind
  unsigned saves;                      // SaveFlags
  void (*backward)(Node& node, const TensorPtr& grad, TensorPtr* grads);
};

struct Edge {
  NodePtr node;    // gradient flows on into this node ...
  TensorPtr leaf;  // ... or is accumulated into this leaf's .grad
};

constexpr int kMaxInputs = 3;

struct Node {
  uint64_t seq = 0;
  const OpInfo* op = nullptr;
  uint8_t n_in = 0;
  bool released = false;
  bool had_saved = false;
  uint64_t mark = 0;
  Edge next[kMaxInputs];
  Shape in_shape[kMaxInputs];
  DType in_dt[kMaxInputs] = {};
  bool in_requires[kMaxInputs] = {};
  SavedTensor saved[kMaxInputs];
  double s = 0;   // op-specific scalar
  double s2 = 0;  // a second one (a clamp's upper bound, ...)
  Shape a1, a2;   // op-specific int lists (a reduction's dims, a view's strides)
  int i1 = 0;     // op-specific int (reduction, keepdim, ...)
  Shape out_shape;
  DType out_dt = DType::f32;
  TensorPtr grad;                    // the gradient arriving during a backward sweep
  std::shared_ptr<GradHooks> hooks;  // its output tensor's hooks (null: none)
  std::shared_ptr<NodeExtra> extra;  // a user's autograd.Function (null: an op of the list)

  // Every member has its initializer: a user-provided constructor keeps make_shared from zeroing
  // the whole node first (a node is made per recorded op).
  Node() {}
  ~Node();
  void save(int i, const TensorImpl& t) {
    saved[i].save(t);
    had_saved = true;
  }
  // The saved tensor i as a (contiguous) tensor again; raises if it was freed or changed in
  // place. as_saved: with the saved geometry, as the learner tools show it.
  TensorPtr unpack(int i) const;
  TensorPtr as_saved(int i) const;
};

std::string grad_fn_name(const Node& node);

// The next sequence number (nodes are numbered in creation order across threads).
uint64_t next_seq();
// The edge that carries a gradient into t's history: its grad_fn, or t itself as a leaf that
// requires grad, or nothing.
Edge edge_to(const TensorImpl& t);
inline void set_edge(Edge& e, const TensorImpl& t) {
  if (t.grad_fn)
    e.node = t.grad_fn;
  else if (t.requires_grad)
    e.leaf = std::const_pointer_cast<TensorImpl>(t.shared_from_this());
}

// Record `op` producing `out` from `inputs` if grad mode is on and an input requires grad, saving
// what op.saves names. Returns the new node (to fill in attributes) or nullptr.
Node* record(const OpInfo& op, const TensorPtr& out,
             std::initializer_list<const TensorImpl*> inputs);

void backward(const TensorPtr& root, const TensorPtr& grad, bool retain_graph);

// One reverse sweep from several roots, each with its gradient (same shape and dtype).
// inputs empty: every leaf reached accumulates into .grad (backward()). Otherwise only `inputs`
// receive a gradient: accumulated into their .grad when `accumulate` (backward(inputs=)), or
// handed back one per input, null where none arrived (autograd.grad). Only the nodes that lead
// to an input run.
struct Sweep {
  std::vector<TensorPtr> roots, grads;
  std::vector<TensorPtr> inputs;
  bool retain_graph = false;
  bool accumulate = true;
};
std::vector<TensorPtr> run_backward(const Sweep& sweep);

// out' = an alias of `out` whose grad_fn is a node running `extra` for the inputs (at most
// kMaxInputs, each requiring grad). `saved`: what the Function saved for backward; the node
// keeps the first kMaxInputs of them for the learner tools to show, and a second backward
// through it raises PyTorch's error.
TensorPtr function_node(const TensorImpl& out, const std::vector<TensorPtr>& inputs,
                        std::shared_ptr<NodeExtra> extra, const std::vector<TensorPtr>& saved);

// g after the hooks h (none: g itself); the sweeps and create_graph's Python sweep call it.
TensorPtr run_hooks(const std::shared_ptr<GradHooks>& h, TensorPtr g);
// t's hooks, made on first use: its grad_fn's if it has one, else its own (a leaf).
GradHooks& hooks_of(TensorImpl& t);
// One node's backward alone (what `backward` runs per node), for tools that step through it.
void node_backward(Node& node, const TensorPtr& grad, TensorPtr* grads);

// A tensor's .grad is shared between threads (backward accumulates into leaves without the GIL):
// read and assign it only through these two, which hold a lock for the access.
// t.grad (null for None).
TensorPtr grad_of(const TensorImpl& t);
// leaf.grad = g (null for None), recorded when a step is being captured.
void set_grad(TensorImpl& leaf, TensorPtr g);

// In-place bookkeeping shared by every in-place entry point.
void check_inplace_leaf(const TensorImpl& a);

}  // namespace tg
