#include "core/alloc.h"

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tg {

namespace {
constexpr size_t kAlign = 64;
// Freed blocks are kept per thread for reuse, up to kCacheBytes in all (so large tensors made
// and dropped every step do not go back to mmap and page faults each time); beyond that, and
// for blocks over kCacheMaxBlock, memory goes straight back to the system.
constexpr size_t kCacheMaxBlock = size_t(64) << 20;
constexpr size_t kCacheBytes = size_t(256) << 20;
constexpr size_t kCachePerBin = 8;

size_t round_up(size_t n) {
  return (n + kAlign - 1) & ~(kAlign - 1);
}

// Bin by rounded size; the cache lives per thread so no locking is needed. A block freed on
// another thread simply lands in that thread's cache.
thread_local bool cache_gone = false;  // trivially destructible: safe to read at thread exit

struct Cache {
  struct Bin {
    size_t size;
    std::vector<void*> blocks;
  };
  std::vector<Bin> bins;
  size_t bytes = 0;
  ~Cache() {
    cache_gone = true;
    for (auto& b : bins)
      for (void* p : b.blocks)
        std::free(p);
  }
  Bin* find(size_t size) {
    for (auto& b : bins)
      if (b.size == size) return &b;
    return nullptr;
  }
};
thread_local Cache cache;
}  // namespace

void* buffer_alloc(size_t nbytes) {
  size_t n = round_up(nbytes ? nbytes : 1);
  if (n <= kCacheMaxBlock && !cache_gone) {
    if (Cache::Bin* b = cache.find(n); b && !b->blocks.empty()) {
      void* p = b->blocks.back();
      b->blocks.pop_back();
      cache.bytes -= n;
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, n);
  if (!p)
    throw OutOfMemory("tapegrad: out of memory: could not allocate " + std::to_string(n) +
                      " bytes for a tensor");
  return p;
}

void buffer_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t n = round_up(nbytes ? nbytes : 1);
  if (n <= kCacheMaxBlock && !cache_gone) {
    Cache::Bin* b = cache.find(n);
    if (!b && cache.bins.size() < 64) {
      cache.bins.push_back({n, {}});
      b = &cache.bins.back();
    }
    if (b && b->blocks.size() < kCachePerBin && cache.bytes + n <= kCacheBytes) {
      b->blocks.push_back(p);
      cache.bytes += n;
      return;
    }
  }
  std::free(p);
}

}  // namespace tg
