// tapegrad._core: the Python face of the C++ core. Each part registers itself from its own file
// (module.h lists them).
#include "python/module.h"

#include <algorithm>
#include <chrono>

#include "autograd/autograd.h"
#include "core/cpu.h"
#include "core/threads.h"
#include "kernels/gemm.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "tapegrad's C++ core: tensors, ops, the tape and backward";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::exception& e) {
      if (!tgpy::set_tg_error(e)) throw;  // not ours: pybind11's own translation
    }
  });
  tgpy::register_tensor_type(m);
  tgpy::register_graph(m);
  tgpy::register_capture(m);
  tgpy::register_io(m);
  tgpy::register_ops(m);
  tgpy::register_rng(m);
  tgpy::register_hooks(m);
  m.def("is_grad_enabled", &tg::grad_enabled,
        "Whether autograd records ops in this thread: False inside no_grad(), True otherwise.");
  m.def("set_grad_enabled", &tg::set_grad_enabled);
  m.def("set_num_threads", [](int n) { tg::set_num_threads(n); });
  m.def("get_num_threads", &tg::get_num_threads);
  // Whether the AVX2 kernels are in use (the parity lane pairs them with PyTorch's AVX2 ones).
  m.def("simd_enabled", &tg::cpu::simd);
  // One core's float32 FMA peak in GFLOP/s (AVX2 path; 0 without it), timed by a register-only
  // FMA loop: the denominator of the benchmarks' "fraction of peak".
  m.def("fma_peak_gflops", [] {
    if (!tg::cpu::simd()) return 0.0;
    py::gil_scoped_release nogil;
    const int64_t iters = 20000000;
    double best = 0;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      volatile float sink = tg::gemm_detail::fma_loop_avx2(iters);
      (void)sink;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, double(iters) * 12 * 8 * 2 / s / 1e9);
    }
    return best;
  });
}
