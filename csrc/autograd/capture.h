// Capture & replay: record a whole training step (forward, backward, optimizer, grad zeroing)
// as a flat list of kernel launches over fixed buffers, then rerun it without Python.
#pragma once
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace tg {

// While a step is captured, every kernel launch is also appended to the program: the closure must
// capture only values and pointers to the TensorImpls listed in `keep`, which the program keeps
// alive. Replaying the program reruns the closures in order.
struct Program;
extern thread_local Program* tl_capture;
void capture_push(std::function<void()> fn, std::initializer_list<const TensorImpl*> keep);

template <class F>
inline void launch(std::initializer_list<const TensorImpl*> keep, F&& f) {
  f();
  if (tl_capture) capture_push(std::function<void()>(std::forward<F>(f)), keep);
}

// Fresh tensors whose contents are written by a launch (so a replay rewrites them too).
TensorPtr zeros(const Shape& shape, DType dt);
TensorPtr copy_of(const TensorImpl& t);            // deep copy, same dtype, no history
TensorPtr convert(const TensorImpl& a, DType dt);  // a copy converted to dt, no history
// t itself when contiguous, else a contiguous copy of its values (no history): the kernels read
// contiguous buffers, so ops read their inputs through this.
TensorPtr dense(const TensorPtr& t);
inline TensorPtr dense(TensorPtr&& t) {
  return t->is_contiguous() ? std::move(t) : dense(static_cast<const TensorPtr&>(t));
}
// `t`, or when it is strided a dense copy kept in `keep`: no reference counting when contiguous.
inline const TensorPtr& dense_ref(const TensorPtr& t, TensorPtr& keep) {
  if (t->is_contiguous()) return t;
  keep = dense(t);
  return keep;
}

struct Program {
  std::vector<std::function<void()>> steps;
  std::vector<TensorPtr> keep;  // every buffer a step touches, alive as long as the program
  // How many of `keep`'s references point at each buffer: the engine asks whether a buffer is
  // its own (to hand it over as a .grad, or to add into it) and must not count the program's.
  std::unordered_map<const TensorImpl*, long> kept;
  // The .grad a leaf must have when a replay starts, for each leaf whose gradient the step
  // accumulates before assigning it: null (the step made a fresh one) or the buffer it added
  // into. Another state means the step would compute something else (a replay would not add to
  // a gradient the user kept, or would add into one the user dropped): the caller recaptures.
  std::vector<std::pair<const TensorImpl*, const TensorImpl*>> grad_expect;
  std::vector<const TensorImpl*> grad_touched;  // leaves whose .grad the step already handled
  // Record the first .grad event of `leaf` in this step (assigned: by set_grad).
  void grad_event(const TensorImpl* leaf, const TensorImpl* expected, bool assigned) {
    for (const TensorImpl* t : grad_touched)
      if (t == leaf) return;
    grad_touched.push_back(leaf);
    if (!assigned) grad_expect.emplace_back(leaf, expected);
  }
  void replay() const {
    for (const auto& s : steps)
      s();
  }
};

// Start recording on this thread (one capture at a time per thread).
void capture_begin();
// Stop recording and hand over the program (null if none was running).
std::unique_ptr<Program> capture_end();
bool capturing();
// Raise the error that explains why `what` cannot be captured.
[[noreturn]] void capture_refuse(const std::string& what);

}  // namespace tg
