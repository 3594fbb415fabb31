// The tensor type itself: a small C type (created by `install`, subclassing the Python
// `tapegrad.Tensor`) whose number slots call the ops directly, so `a + b` costs one C call, not a
// pybind11 dispatch plus a Python wrapper object.
#include <new>

#include "ops/inplace.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

PyObject* g_base = nullptr;           // tapegrad.Tensor (Python), for the slow paths
PyObject* g_dtypes[kNumDTypes] = {};  // tapegrad.float32, ... by code

bool to_scalar(PyObject* o, Scalar& s) {
  if (PyBool_Check(o)) {
    s.dt = DType::b8;
    s.i = o == Py_True;
    s.f = double(s.i);
    return true;
  }
  if (PyLong_Check(o)) {
    // As PyTorch: ints up to 2**64 - 1 are taken (an integer tensor gets the low 64 bits, a float
    // tensor the value); larger ones raise OverflowError.
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    s.dt = DType::i64;
    if (!overflow) {
      s.i = v;
      s.f = double(v);
      return true;
    }
    const unsigned long long u = overflow > 0 ? PyLong_AsUnsignedLongLong(o) : 0;
    if (overflow < 0 || (u == ~0ull && PyErr_Occurred())) {
      PyErr_Clear();
      PyErr_SetString(PyExc_OverflowError, "int too big to convert");
      throw py::error_already_set();
    }
    s.i = int64_t(u);
    s.f = double(u);
    return true;
  }
  if (PyFloat_Check(o)) {
    s.dt = DType::f64;
    s.f = PyFloat_AS_DOUBLE(o);
    return true;
  }
  // NumPy's scalars count as the Python numbers of their kind.
  static PyObject *np_bool = nullptr, *np_integer = nullptr, *np_floating = nullptr;
  if (!np_bool) {
    py::module_ np = py::module_::import("numpy");
    np_bool = py::object(np.attr("bool_")).release().ptr();
    np_integer = py::object(np.attr("integer")).release().ptr();
    np_floating = py::object(np.attr("floating")).release().ptr();
  }
  if (PyObject_IsInstance(o, np_bool) == 1) {
    s.dt = DType::b8;
    s.i = PyObject_IsTrue(o);
    s.f = double(s.i);
    return true;
  }
  if (PyObject_IsInstance(o, np_integer) == 1) {
    py::object v = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!v) throw py::error_already_set();
    return to_scalar(v.ptr(), s);
  }
  if (PyObject_IsInstance(o, np_floating) == 1) {
    s.dt = DType::f64;
    s.f = PyFloat_AsDouble(o);
    if (s.f == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return true;
  }
  return false;
}

namespace {

bool big_matmul(const TensorImpl& a, const TensorImpl& b) {
  int64_t n = b.shape.n ? b.shape.d[b.shape.n - 1] : 1;
  return a.numel * n >= kNoGilElements;
}

// ---------------------------------------------------------------- number slots
PyObject* slow(const char* name, PyObject* self, PyObject* other) {
  PyObject* f = PyObject_GetAttrString(g_base, name);
  if (!f) return nullptr;
  PyObject* r = PyObject_CallFunctionObjArgs(f, self, other, nullptr);
  Py_DECREF(f);
  return r;
}

TensorPtr scalar_forward(Binary k, const TensorPtr& t, const Scalar& s, bool reflected) {
  switch (k) {
    case Binary::add:
      return op::add_scalar(t, s);
    case Binary::sub:
      return reflected ? op::rsub_scalar(t, s) : sub_scalar(t, s);
    case Binary::mul:
      return op::mul_scalar(t, s);
    default:
      return reflected ? op::rdiv_scalar(t, s) : op::div_scalar(t, s);
  }
}

template <Binary K>
PyObject* nb_binary(PyObject* a, PyObject* b) {
  static const char* names[4][2] = {{"__add__", "__radd__"},
                                    {"__sub__", "__rsub__"},
                                    {"__mul__", "__rmul__"},
                                    {"__truediv__", "__rtruediv__"}};
  try {
    bool ta = is_tensor(a), tb = is_tensor(b);
    if (g_python_dispatch) return ta ? slow(names[int(K)][0], a, b) : slow(names[int(K)][1], b, a);
    if (ta && tb) {
      const TensorPtr &x = T(a), &y = T(b);
      return wrap(nogil_if(x->numel + y->numel >= kNoGilElements, [&] { return binary(K, x, y); }));
    }
    Scalar s;
    if (ta && to_scalar(b, s)) return wrap(scalar_forward(K, T(a), s, false));
    if (tb && to_scalar(a, s)) return wrap(scalar_forward(K, T(b), s, true));
    return ta ? slow(names[int(K)][0], a, b) : slow(names[int(K)][1], b, a);
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

PyObject* nb_power(PyObject* a, PyObject* b, PyObject* mod) {
  try {
    if (mod != Py_None) {
      PyErr_SetString(PyExc_TypeError, "pow() with a modulus is not supported for tensors");
      return nullptr;
    }
    bool ta = is_tensor(a), tb = is_tensor(b);
    if (g_python_dispatch) return ta ? slow("__pow__", a, b) : slow("__rpow__", b, a);
    Scalar s;
    if (ta && to_scalar(b, s)) return wrap(op::pow_scalar(T(a), s));
    if (tb && to_scalar(a, s)) return wrap(op::rpow_scalar(T(b), s));
    return ta ? slow("__pow__", a, b) : slow("__rpow__", b, a);
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

PyObject* nb_matmul(PyObject* a, PyObject* b) {
  try {
    if (is_tensor(a) && is_tensor(b) && !g_python_dispatch) {
      const TensorPtr &x = T(a), &y = T(b);
      return wrap(nogil_if(big_matmul(*x, *y), [&] { return op::matmul(x, y); }));
    }
    return is_tensor(a) ? slow("__matmul__", a, b) : slow("__rmatmul__", b, a);
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

template <OpCode Op>
PyObject* nb_unary(PyObject* a) {
  if (g_python_dispatch) {
    PyObject* f = PyObject_GetAttrString(g_base, Op == OpCode::neg ? "__neg__" : "__abs__");
    if (!f) return nullptr;
    PyObject* r = PyObject_CallOneArg(f, a);
    Py_DECREF(f);
    return r;
  }
  try {
    const TensorPtr& x = T(a);
    return wrap(nogil_if(x->numel >= kNoGilElements, [&] { return unary(Op, x); }));
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

template <Binary K>
PyObject* nb_inplace(PyObject* a, PyObject* b) {
  static const char* names[4] = {"__iadd__", "__isub__", "__imul__", "__itruediv__"};
  if (g_python_dispatch) return slow(names[int(K)], a, b);
  try {
    Scalar s;
    if (is_tensor(b)) {
      inplace_binary(K, T(a), T(b), s);
    } else if (to_scalar(b, s)) {
      inplace_binary(K, T(a), nullptr, s);
    } else {
      return slow(names[int(K)], a, b);
    }
    Py_INCREF(a);
    return a;
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

void tensor_dealloc(PyObject* o) {
  PyTypeObject* tp = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  if (reinterpret_cast<PyTensor*>(o)->weakrefs) PyObject_ClearWeakRefs(o);
  if (T(o) && T(o)->pyobj == o) T(o)->pyobj = nullptr;
  T(o).~TensorPtr();
  tp->tp_free(o);
  Py_DECREF(tp);
}

int tensor_traverse(PyObject* o, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(o));
  return 0;
}

PyObject* tensor_new(PyTypeObject*, PyObject*, PyObject*) {
  PyErr_SetString(PyExc_TypeError,
                  "use tapegrad.tensor(...) (or zeros, ones, ...) to make a tensor");
  return nullptr;
}

}  // namespace

py::object install(py::object base, py::tuple dtypes, py::object backend) {
  if (g_type) return py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(g_type));
  PyType_Slot slots[] = {
      {Py_tp_dealloc, reinterpret_cast<void*>(tensor_dealloc)},
      {Py_tp_traverse, reinterpret_cast<void*>(tensor_traverse)},
      {Py_tp_new, reinterpret_cast<void*>(tensor_new)},
      {Py_tp_getset, tensor_getsets()},
      {Py_tp_members, tensor_members()},
      {Py_nb_add, reinterpret_cast<void*>(nb_binary<Binary::add>)},
      {Py_nb_subtract, reinterpret_cast<void*>(nb_binary<Binary::sub>)},
      {Py_nb_multiply, reinterpret_cast<void*>(nb_binary<Binary::mul>)},
      {Py_nb_true_divide, reinterpret_cast<void*>(nb_binary<Binary::div>)},
      {Py_nb_power, reinterpret_cast<void*>(nb_power)},
      {Py_nb_matrix_multiply, reinterpret_cast<void*>(nb_matmul)},
      {Py_nb_negative, reinterpret_cast<void*>(nb_unary<OpCode::neg>)},
      {Py_nb_absolute, reinterpret_cast<void*>(nb_unary<OpCode::abs>)},
      {Py_nb_inplace_add, reinterpret_cast<void*>(nb_inplace<Binary::add>)},
      {Py_nb_inplace_subtract, reinterpret_cast<void*>(nb_inplace<Binary::sub>)},
      {Py_nb_inplace_multiply, reinterpret_cast<void*>(nb_inplace<Binary::mul>)},
      {Py_nb_inplace_true_divide, reinterpret_cast<void*>(nb_inplace<Binary::div>)},
      {0, nullptr}};
  PyType_Spec spec = {"tapegrad._core.CTensor", int(sizeof(PyTensor)), 0,
                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, slots};
  PyObject* bases = PyTuple_Pack(1, base.ptr());
  PyObject* type = PyType_FromSpecWithBases(&spec, bases);
  Py_DECREF(bases);
  if (!type) throw py::error_already_set();
  g_type = reinterpret_cast<PyTypeObject*>(type);
  g_base = base.release().ptr();
  if (py::len(dtypes) != size_t(kNumDTypes)) throw py::value_error("install: one dtype per code");
  for (int i = 0; i < kNumDTypes; ++i)
    g_dtypes[i] = py::object(dtypes[i]).release().ptr();
  if (PyObject_SetAttrString(type, "_be", backend.ptr()) < 0) throw py::error_already_set();
  return py::reinterpret_borrow<py::object>(type);
}

void register_tensor_type(py::module_& m) {
  m.def("install", &install);
  m.def("set_python_dispatch", [](bool on) {
    bool prev = g_python_dispatch;
    g_python_dispatch = on;
    return prev;
  });
}

}  // namespace tgpy
