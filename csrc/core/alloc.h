// Buffers for tensor storage: 64-byte aligned, with a small per-thread cache of recently freed
// blocks so that a training step does not go to malloc for every op.
#pragma once
#include <cstddef>

namespace tg {
void* buffer_alloc(size_t nbytes);
void buffer_free(void* p, size_t nbytes);
}  // namespace tg
