// The tensor type itself: a small C type (created by `install`, subclassing the Python
// `tapegrad.Tensor`) whose number slots call the ops directly, so `a + b` costs one C call, not a
// pybind11 dispatch plus a Python wrapper object.
#include <new>

#include "ops/inplace.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

PyObject* g_base = nullptr;  // tapegrad.Tensor (Python), for the slow paths
PyObject* g_dtypes[2] = {};  // tapegrad.float32, tapegrad.float16

namespace {

bool is_number(PyObject* o) {
  return PyFloat_Check(o) || PyLong_Check(o);
}

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

TensorPtr scalar_forward(Binary k, const TensorPtr& t, double s, bool reflected) {
  switch (k) {
    case Binary::add:
      return op::add_scalar(t, s);
    case Binary::sub:
      return reflected ? op::rsub_scalar(t, s) : op::add_scalar(t, -s);
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
    if (ta && is_number(b)) {
      double s = PyFloat_AsDouble(b);
      if (s == -1.0 && PyErr_Occurred()) return nullptr;
      return wrap(scalar_forward(K, T(a), s, false));
    }
    if (tb && is_number(a)) {
      double s = PyFloat_AsDouble(a);
      if (s == -1.0 && PyErr_Occurred()) return nullptr;
      return wrap(scalar_forward(K, T(b), s, true));
    }
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
    if (ta && is_number(b)) {
      double s = PyFloat_AsDouble(b);
      if (s == -1.0 && PyErr_Occurred()) return nullptr;
      return wrap(op::pow_scalar(T(a), s));
    }
    if (tb && is_number(a)) {
      double s = PyFloat_AsDouble(a);
      if (s == -1.0 && PyErr_Occurred()) return nullptr;
      return wrap(op::rpow_scalar(T(b), s));
    }
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
    if (is_tensor(b)) {
      inplace_binary(K, T(a), T(b), 0.0);
    } else if (is_number(b)) {
      double s = PyFloat_AsDouble(b);
      if (s == -1.0 && PyErr_Occurred()) return nullptr;
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
  for (int i = 0; i < 2; ++i)
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
