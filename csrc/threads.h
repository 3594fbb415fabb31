// The thread count users set. Kernels are single-threaded for now; the pool comes with the fast
// kernels, and will read this setting.
#pragma once

namespace tg {
void set_num_threads(int n);
int get_num_threads();
}  // namespace tg
