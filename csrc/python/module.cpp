// tapegrad._core: the Python face of the C++ core. Each part registers itself from its own file
// (module.h lists them).
#include "python/module.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

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
  // The float32 FMA peak of `threads` cores in GFLOP/s (0 without the AVX2 path), timed by a
  // register-only FMA loop on that many threads at once, 16-lane where the AVX-512 GEMM kernels
  // are in use, else 8-lane: the denominator of the benchmarks' "fraction of peak". Threads that
  // share a core (SMT) share its FMA units, and this shows it.
  m.def(
      "fma_peak_gflops",
      [](int threads) {
        if (!tg::cpu::simd()) return 0.0;
        if (threads < 1) throw std::invalid_argument("fma_peak_gflops: threads must be >= 1");
        py::gil_scoped_release nogil;
        const bool wide = tg::cpu::wide();
        const int64_t iters = wide ? 10000000 : 20000000;
        const double lanes = wide ? 16 : 8;
        double best = 0;
        for (int r = 0; r < 5; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          std::vector<std::thread> pool;
          for (int t = 0; t < threads; ++t)
            pool.emplace_back([&] {
              volatile float sink = wide ? tg::gemm_detail::fma_loop_avx512(iters)
                                         : tg::gemm_detail::fma_loop_avx2(iters);
              (void)sink;
            });
          for (auto& t : pool)
            t.join();
          const double s =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          best = std::max(best, double(iters) * threads * 12 * lanes * 2 / s / 1e9);
        }
        return best;
      },
      py::arg("threads") = 1);
  m.def("avx512_enabled", &tg::cpu::wide,
        "Whether the AVX-512 GEMM kernels are in use (TAPEGRAD_NO_AVX512=1 turns them off).");
  m.def("set_avx512", &tg::cpu::set_wide);
}
