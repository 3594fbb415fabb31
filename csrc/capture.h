// Capture & replay: record a whole training step (forward, backward, optimizer, grad zeroing)
// as a flat list of kernel launches over fixed buffers, then rerun it without Python.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "kernels.h"
#include "tensor.h"

namespace tg {

struct Program {
  std::vector<std::function<void()>> steps;
  std::vector<TensorPtr> keep;  // every buffer a step touches, alive as long as the program
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
