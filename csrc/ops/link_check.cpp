// A program that uses every op's forward and backward (see tapegrad_link_check in
// CMakeLists.txt): if any of them was declared by the op list but never written, linking fails.
// Run, it prints the op table.
#include <cstdio>

#include "ops/ops.h"

namespace {
template <class F>
void use(F f) {
  std::printf("%p ", reinterpret_cast<void*>(f));
}
}  // namespace

int main() {
#define TG_USE(name, grad_name, kind, saves) use(&tg::op::name);
  TG_OPS(TG_USE)
#undef TG_USE
  std::printf("\n");
  for (int i = 0; i < int(tg::OpCode::count); ++i)
    std::printf("%-12s %-18s %-7s saves=%u\n", tg::kOps[i].name, tg::kOps[i].grad_name,
                tg::kOps[i].kind, tg::kOps[i].saves);
  return 0;
}
