// Shared by the binding files: the CTensor object layout, conversions between Python objects and
// core values (pybind11 type casters, so an op's forward binds as it is), errors, and the GIL.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "core/interrupt.h"
#include "core/tensor.h"
#include "ops/ops.h"

namespace tgpy {

namespace py = pybind11;
using tg::TensorPtr;

struct PyTensor {
  PyObject_HEAD TensorPtr t;
  PyObject* weakrefs;
};

extern PyTypeObject* g_type;  // tapegrad._core.CTensor, made by install()
// When set, the number slots take the Python path (tapegrad.Tensor's methods, which call the
// backend module's functions), so tools that wrap those functions see every op.
extern bool g_python_dispatch;

inline bool is_tensor(PyObject* o) {
  return g_type && PyObject_TypeCheck(o, g_type);
}
inline TensorPtr& T(PyObject* o) {
  return reinterpret_cast<PyTensor*>(o)->t;
}
PyObject* wrap(TensorPtr t);  // a new reference
inline py::object wrap_obj(TensorPtr t) {
  return py::reinterpret_steal<py::object>(wrap(std::move(t)));
}
const TensorPtr& arg(py::handle h, const char* what = "tensor");
tg::Shape to_shape(py::handle seq);
// A Python number (bool, int, float or a NumPy scalar) as a tg::Scalar; false if o is not one.
bool to_scalar(PyObject* o, tg::Scalar& out);

// Our exception types (core/tensor.h) as Python's; false if `e` is not one of them.
bool set_tg_error(const std::exception& e);
// Turn the C++ exception in flight into a Python one (for the raw C slots).
void set_python_error();

// Large kernels run without the GIL so other Python threads go on meanwhile. Ops touch no
// Python objects, so this is safe; small ops keep the GIL (releasing costs more than they do).
constexpr int64_t kNoGilElements = int64_t(1) << 16;

// Runs fn without the GIL. A Ctrl-C meanwhile stops the kernel at its next check
// (core/interrupt.h) and surfaces here as Python's KeyboardInterrupt.
template <class Fn>
auto without_gil(Fn fn) -> decltype(fn()) {
  tg::install_sigint_hook();
  tg::g_interrupted = false;
  std::exception_ptr err;
  decltype(fn()) r{};
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    try {
      r = fn();
    } catch (const tg::Interrupted&) {
      interrupted = true;
    } catch (...) {
      err = std::current_exception();
    }
  }
  if (interrupted) {
    if (PyErr_CheckSignals() == 0) PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw py::error_already_set();
  }
  if (err) std::rethrow_exception(err);
  return r;
}

template <class Fn>
TensorPtr nogil_if(bool big, Fn fn) {
  if (!big) return fn();
  return without_gil(fn);
}

// tensor_attrs.cpp: the CTensor attributes; graph.cpp: a node as a Python grad_fn object.
PyGetSetDef* tensor_getsets();
PyMemberDef* tensor_members();
py::object grad_fn_object(const tg::NodePtr& node);

// The parts of the module, each in its own file.
void register_tensor_type(py::module_& m);  // tensor_type.cpp
void register_ops(py::module_& m);          // ops.cpp
void register_io(py::module_& m);           // io.cpp
void register_graph(py::module_& m);        // graph.cpp
void register_capture(py::module_& m);      // capture.cpp
void register_rng(py::module_& m);          // rng.cpp
void register_hooks(py::module_& m);        // hooks.cpp

// A Python function kept by the tape. The tape may drop it without the GIL (a graph freed by a
// backward sweep), so the reference is released under the GIL.
struct PyFn {
  py::object f;
  explicit PyFn(py::handle h) : f(py::reinterpret_borrow<py::object>(h)) {}
  ~PyFn() {
    py::gil_scoped_acquire gil;
    f = py::object();
  }
};

}  // namespace tgpy

// Arguments of bound functions: a CTensor as TensorPtr (and, with pybind11/stl.h, None or a
// CTensor as std::optional<TensorPtr>), a sequence of ints as Shape, a reduction name, and a
// dtype code. Each raises TypeError/ValueError with our wording on anything else.
namespace pybind11::detail {
template <>
struct type_caster<tg::TensorPtr> {
  PYBIND11_TYPE_CASTER(tg::TensorPtr, const_name("Tensor"));
  bool load(handle src, bool) {
    value = tgpy::arg(src);
    return true;
  }
  static handle cast(const tg::TensorPtr& t, return_value_policy, handle) { return tgpy::wrap(t); }
};
template <>
struct type_caster<tg::Shape> {
  PYBIND11_TYPE_CASTER(tg::Shape, const_name("Sequence[int]"));
  bool load(handle src, bool) {
    value = tgpy::to_shape(src);
    return true;
  }
};
template <>
struct type_caster<tg::Reduction> {
  PYBIND11_TYPE_CASTER(tg::Reduction, const_name("str"));
  bool load(handle src, bool) {
    const std::string r = src.cast<std::string>();
    if (r == "mean")
      value = tg::Reduction::mean;
    else if (r == "sum")
      value = tg::Reduction::sum;
    else if (r == "none")
      value = tg::Reduction::none;
    else
      throw value_error(r + " is not a valid value for reduction");
    return true;
  }
};
template <>
struct type_caster<tg::Scalar> {
  PYBIND11_TYPE_CASTER(tg::Scalar, const_name("Number"));
  bool load(handle src, bool) {
    if (!tgpy::to_scalar(src.ptr(), value))
      throw type_error(std::string("expected a number, got ") + Py_TYPE(src.ptr())->tp_name);
    return true;
  }
};
template <>
struct type_caster<tg::TensorOrScalar> {
  PYBIND11_TYPE_CASTER(tg::TensorOrScalar, const_name("Tensor | Number"));
  bool load(handle src, bool) {
    if (tgpy::is_tensor(src.ptr())) {
      value.t = tgpy::T(src.ptr());
      return true;
    }
    if (!tgpy::to_scalar(src.ptr(), value.s))
      throw type_error(std::string("expected a Tensor or a number, got ") +
                       Py_TYPE(src.ptr())->tp_name);
    return true;
  }
};
template <>
struct type_caster<tg::DType> {
  PYBIND11_TYPE_CASTER(tg::DType, const_name("int"));
  bool load(handle src, bool) {
    const int code = src.cast<int>();
    if (code < 0 || code >= tg::kNumDTypes) throw value_error("unknown dtype code");
    value = tg::DType(code);
    return true;
  }
};
}  // namespace pybind11::detail
