// The random generator's Python class (tapegrad._core.CPUGenerator) over kernels/rng.h.
#include "kernels/rng.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>

#include "python/module.h"

namespace py = pybind11;

namespace {

template <class T>
T* out_buffer(py::array& a, const char* what) {
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(what) + ": expected a " +
                         py::str(py::dtype::of<T>()).cast<std::string>() + " array, got " +
                         py::str(a.dtype()).cast<std::string>());
  if (!(a.flags() & py::array::c_style) || !a.writeable())
    throw py::value_error(std::string(what) + ": expected a writeable C-contiguous array");
  return static_cast<T*>(a.mutable_data());
}

// out[i] = fma(a[i], b[i], c[i]), rounded once: python/tapegrad/_fma.py's fast path (the ranges
// and random transforms that mirror PyTorch's FMA-contracted kernels); shapes agree already.
template <class T>
py::array_t<T> fused_multiply_add(py::array_t<T, py::array::c_style | py::array::forcecast> a,
                                  py::array_t<T, py::array::c_style | py::array::forcecast> b,
                                  py::array_t<T, py::array::c_style | py::array::forcecast> c) {
  const py::ssize_t n = a.size();
  if (b.size() != n || c.size() != n) throw py::value_error("fma: the arrays differ in size");
  py::array_t<T> out(n);
  const T *pa = a.data(), *pb = b.data(), *pc = c.data();
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    tg::rng::fma_array(pa, pb, pc, po, static_cast<int64_t>(n));
  }
  return out;
}

// The C library's exp (x) or pow (x, y) element by element, for the NumPy reference's copy of
// PyTorch's scalar loops (backends/numpy_ref/pmath.py): NumPy's own loops round differently, and
// a ctypes call per element is slow. y is empty for exp, else of x's size.
template <class T>
py::array_t<T> libm_map(const std::string& name,
                        py::array_t<T, py::array::c_style | py::array::forcecast> x,
                        py::array_t<T, py::array::c_style | py::array::forcecast> y) {
  const py::ssize_t n = x.size();
  const bool pow = name == "pow";
  if (!pow && name != "exp") throw py::value_error("libm: exp or pow, got " + name);
  if (pow && y.size() != n) throw py::value_error("libm: the arrays differ in size");
  py::array_t<T> out(n);
  const T *px = x.data(), *py_ = y.data();
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    for (py::ssize_t i = 0; i < n; ++i)
      po[i] = pow ? std::pow(px[i], py_[i]) : std::exp(px[i]);
  }
  return out;
}

}  // namespace

namespace tgpy {

void register_rng(py::module_& m) {
  using tg::rng::Generator;
  py::class_<Generator>(m, "CPUGenerator",
                        "PyTorch-compatible mt19937 generator (state and transformations)")
      .def(py::init<uint64_t>(), py::arg("seed") = tg::rng::kDefaultSeed)
      .def("manual_seed", &Generator::manual_seed, py::arg("seed"))
      .def("initial_seed", &Generator::initial_seed)
      .def("random", &Generator::random)
      .def("random64", &Generator::random64)
      .def(
          "uniform_",
          [](Generator& g, py::array out, double from, double to) {
            if (out.dtype().is(py::dtype::of<double>())) {
              double* p = out_buffer<double>(out, "uniform_");
              g.uniform(p, static_cast<int64_t>(out.size()), from, to);
              return;
            }
            float* p = out_buffer<float>(out, "uniform_");
            g.uniform(p, static_cast<int64_t>(out.size()), from, to);
          },
          py::arg("out"), py::arg("from_"), py::arg("to"))
      .def(
          "normal_",
          [](Generator& g, py::array out, double mean, double std, bool half_blocks) {
            if (out.dtype().is(py::dtype::of<double>())) {
              double* p = out_buffer<double>(out, "normal_");
              g.normal(p, static_cast<int64_t>(out.size()), mean, std);
              return;
            }
            float* p = out_buffer<float>(out, "normal_");
            g.normal(p, static_cast<int64_t>(out.size()), mean, std, half_blocks);
          },
          py::arg("out"), py::arg("mean"), py::arg("std"), py::arg("half_blocks") = false)
      .def(
          "randint_",
          [](Generator& g, py::array out, int64_t low, int64_t high) {
            if (low >= high) throw py::value_error("randint_: low must be < high");
            int64_t* p = out_buffer<int64_t>(out, "randint_");
            g.randint(p, static_cast<int64_t>(out.size()), low, high);
          },
          py::arg("out"), py::arg("low"), py::arg("high"))
      .def(
          "randperm_",
          [](Generator& g, py::array out) {
            int64_t* p = out_buffer<int64_t>(out, "randperm_");
            g.randperm(p, static_cast<int64_t>(out.size()));
          },
          py::arg("out"))
      .def("get_state",
           [](const Generator& g) {
             py::array_t<uint8_t> a(static_cast<py::ssize_t>(tg::rng::kStateBytes));
             g.get_state(a.mutable_data());
             return a;
           })
      .def(
          "set_state",
          [](Generator& g, py::array_t<uint8_t, py::array::c_style | py::array::forcecast> a) {
            try {
              g.set_state(a.data(), static_cast<size_t>(a.size()));
            } catch (const std::invalid_argument& e) {
              throw py::value_error(e.what());
            }
          },
          py::arg("state"));
  m.def("fma_f32", &fused_multiply_add<float>, "elementwise fma of float32 arrays");
  m.def("fma_f64", &fused_multiply_add<double>, "elementwise fma of float64 arrays");
  m.def("libm_f32", &libm_map<float>, "the C library's expf or powf, elementwise");
  m.def("libm_f64", &libm_map<double>, "the C library's exp or pow, elementwise");
  m.def("nondeterministic_seed", &tg::rng::nondeterministic_seed,
        "64 bits from std::random_device (what torch.seed() uses)");
}
}  // namespace tgpy
