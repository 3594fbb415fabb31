// The attributes of CTensor objects (shape, dtype, requires_grad, grad, grad_fn, data, ...).
#include "python/module.h"
// structmember.h needs Python.h first (module.h brings it).
#include <structmember.h>

#include "autograd/autograd.h"
#include "autograd/capture.h"
#include "autograd/views.h"

namespace tgpy {

using namespace tg;

extern PyObject* g_dtypes[kNumDTypes];

namespace {

// ---------------------------------------------------------------- attributes
template <class Fn>
PyObject* guarded(Fn fn) {
  try {
    return fn();
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

PyObject* int_tuple(const Shape& s) {
  PyObject* tup = PyTuple_New(s.n);
  if (!tup) return nullptr;
  for (int i = 0; i < s.n; ++i)
    PyTuple_SET_ITEM(tup, i, PyLong_FromLongLong(s.d[i]));
  return tup;
}
// tensor.shape is a torch.Size: tapegrad's Size type (a tuple subclass, made in Python).
PyObject* get_shape(PyObject* o, void*) {
  static PyObject* size_type = [] {
    PyObject* m = PyImport_ImportModule("tapegrad._tensor_args");
    PyObject* t = m ? PyObject_GetAttrString(m, "_Size") : nullptr;
    Py_XDECREF(m);
    return t;
  }();
  PyObject* tup = int_tuple(T(o)->shape);
  if (!tup || !size_type) return tup;
  PyObject* r = PyObject_CallOneArg(size_type, tup);
  Py_DECREF(tup);
  return r;
}
PyObject* get_dtype(PyObject* o, void*) {
  PyObject* d = g_dtypes[int(T(o)->dt)];
  Py_INCREF(d);
  return d;
}
PyObject* get_ndim(PyObject* o, void*) {
  return PyLong_FromLong(T(o)->shape.n);
}
// A view's history may need making again first (autograd/views.h).
TensorImpl& fresh(PyObject* o) {
  refresh_view(*T(o));
  return *T(o);
}
PyObject* get_requires_grad(PyObject* o, void*) {
  return PyBool_FromLong(fresh(o).requires_grad);
}
// Python-side effects a replayed step could not repeat are refused while capturing.
bool refuse_in_capture(const char* what) {
  if (!capturing()) return false;
  try {
    capture_refuse(what);
  } catch (...) {
    set_python_error();
  }
  return true;
}

int set_requires_grad(PyObject* o, PyObject* v, void*) {
  if (refuse_in_capture("a change of requires_grad (a new parameter)")) return -1;
  if (!v) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete requires_grad");
    return -1;
  }
  int flag = PyObject_IsTrue(v);
  if (flag < 0) return -1;
  TensorImpl& t = fresh(o);
  if (t.grad_fn) {
    PyErr_SetString(PyExc_RuntimeError,
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().");
    return -1;
  }
  if (flag && !is_floating(t.dt)) {
    PyErr_SetString(PyExc_RuntimeError,
                    "only Tensors of floating point and complex dtype can require gradients");
    return -1;
  }
  t.requires_grad = flag;
  return 0;
}
const char* kNonLeafGrad =
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead.";
PyObject* get_grad(PyObject* o, void*) {
  const TensorImpl& t = *T(o);
  TensorPtr g = grad_of(t);  // a backward in another thread may be writing it
  if (!g && t.grad_fn && !(t.grad_fn->hooks && t.grad_fn->hooks->retain)) {
    // PyTorch's warning: a non-leaf tensor's .grad stays empty unless it retains it
    if (PyErr_WarnEx(PyExc_UserWarning, kNonLeafGrad, 1) < 0) return nullptr;
  }
  if (!g) Py_RETURN_NONE;
  return guarded([&] { return wrap(std::move(g)); });
}
int set_grad(PyObject* o, PyObject* v, void*) {
  TensorImpl& t = *T(o);
  if (!v || v == Py_None) {
    tg::set_grad(t, nullptr);
    return 0;
  }
  if (!is_tensor(v)) {
    PyErr_Format(PyExc_TypeError,
                 "assigned grad expected to be a Tensor or None but got grad of type %s",
                 Py_TYPE(v)->tp_name);
    return -1;
  }
  const TensorPtr& g = T(v);
  if (g->shape != t.shape) {
    PyErr_SetString(PyExc_RuntimeError, "assigned grad has data of a different size");
    return -1;
  }
  if (g->dt != t.dt) {
    PyErr_SetString(PyExc_RuntimeError, "assigned grad has data of a different type");
    return -1;
  }
  tg::set_grad(t, g);
  return 0;
}

PyObject* get_grad_fn(PyObject* o, void*) {
  const NodePtr& n = fresh(o).grad_fn;
  if (!n) Py_RETURN_NONE;
  return guarded([&] { return grad_fn_object(n).release().ptr(); });
}
PyObject* get_is_leaf(PyObject* o, void*) {
  return PyBool_FromLong(!fresh(o).grad_fn);
}
PyObject* get_strides(PyObject* o, void*) {
  return int_tuple(T(o)->strides);
}
PyObject* get_offset(PyObject* o, void*) {
  return PyLong_FromLongLong(T(o)->offset);
}
PyObject* get_data_ptr(PyObject* o, void*) {
  return PyLong_FromVoidPtr(T(o)->data());
}
PyObject* get_base(PyObject* o, void*) {
  const TensorPtr& b = T(o)->view_base;
  if (!b) Py_RETURN_NONE;
  return guarded([&] { return wrap(b); });
}
PyObject* get_data(PyObject* o, void*) {
  return guarded([&] {
    auto t = alias(*T(o));
    t->untracked = true;
    return wrap(std::move(t));
  });
}
int set_data(PyObject* o, PyObject* v, void*) {
  if (refuse_in_capture("an assignment to .data")) return -1;
  if (!v || !is_tensor(v)) {
    PyErr_SetString(PyExc_TypeError, "data must be a tapegrad cpp tensor");
    return -1;
  }
  TensorImpl& t = *T(o);
  const TensorImpl& src = *T(v);
  t.st = src.st;
  t.shape = src.shape;
  t.strides = src.strides;
  t.offset = src.offset;
  t.numel = src.numel;
  t.dt = src.dt;
  return 0;
}
PyObject* get_version(PyObject* o, void*) {
  return PyLong_FromUnsignedLong(T(o)->version());
}
PyObject* get_is_param(PyObject* o, void*) {
  return PyBool_FromLong(T(o)->is_param);
}
int set_is_param(PyObject* o, PyObject* v, void*) {
  int flag = v ? PyObject_IsTrue(v) : 0;
  if (flag < 0) return -1;
  T(o)->is_param = flag;
  return 0;
}

PyGetSetDef getsets[] = {{"shape", get_shape, nullptr, nullptr, nullptr},
                         {"dtype", get_dtype, nullptr, nullptr, nullptr},
                         {"ndim", get_ndim, nullptr, nullptr, nullptr},
                         {"requires_grad", get_requires_grad, set_requires_grad, nullptr, nullptr},
                         {"grad", get_grad, set_grad, nullptr, nullptr},
                         {"grad_fn", get_grad_fn, nullptr, nullptr, nullptr},
                         {"is_leaf", get_is_leaf, nullptr, nullptr, nullptr},
                         {"data", get_data, set_data, nullptr, nullptr},
                         {"_version", get_version, nullptr, nullptr, nullptr},
                         {"_strides", get_strides, nullptr, nullptr, nullptr},
                         {"_offset", get_offset, nullptr, nullptr, nullptr},
                         {"_data_ptr", get_data_ptr, nullptr, nullptr, nullptr},
                         {"_base", get_base, nullptr, nullptr, nullptr},
                         {"_is_param", get_is_param, set_is_param, nullptr, nullptr},
                         {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMemberDef members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(PyTensor, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

}  // namespace

PyGetSetDef* tensor_getsets() {
  return getsets;
}
PyMemberDef* tensor_members() {
  return members;
}

}  // namespace tgpy
