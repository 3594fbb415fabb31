// The Python face of the core. Module functions go through pybind11; the tensor type itself is
// a small C type (created by `install`, subclassing the Python `tapegrad.Tensor`) whose number
// slots call the ops directly: `a + b` costs one C call, not a pybind11 dispatch plus a Python
// wrapper object.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <structmember.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "autograd.h"
#include "capture.h"
#include "inplace.h"
#include "interrupt.h"
#include "kernels.h"
#include "optim.h"
#include "rng.h"
#include "threads.h"

namespace py = pybind11;
using namespace tg;

namespace {

struct PyTensor {
  PyObject_HEAD TensorPtr t;
  PyObject* weakrefs;
};

PyTypeObject* g_type = nullptr;  // tapegrad._core.CTensor
// When set, the number slots take the Python path (tapegrad.Tensor's methods, which call the
// backend module's functions), so tools that wrap those functions see every op.
bool g_python_dispatch = false;
PyObject* g_base = nullptr;  // tapegrad.Tensor (Python), for the slow paths
PyObject* g_dtypes[2] = {};  // tapegrad.float32, tapegrad.float16

bool is_tensor(PyObject* o) {
  return g_type && PyObject_TypeCheck(o, g_type);
}

TensorPtr& T(PyObject* o) {
  return reinterpret_cast<PyTensor*>(o)->t;
}

PyObject* wrap(TensorPtr t) {
  if (!g_type)
    throw std::runtime_error(
        "tapegrad._core is not set up: import tapegrad (its cpp backend installs the tensor type)");
  PyObject* o = g_type->tp_alloc(g_type, 0);
  if (!o) throw py::error_already_set();
  new (&reinterpret_cast<PyTensor*>(o)->t) TensorPtr(std::move(t));
  reinterpret_cast<PyTensor*>(o)->weakrefs = nullptr;
  return o;
}

py::object wrap_obj(TensorPtr t) {
  return py::reinterpret_steal<py::object>(wrap(std::move(t)));
}

const TensorPtr& arg(py::handle h, const char* what = "tensor") {
  if (!is_tensor(h.ptr()))
    throw py::type_error(std::string("expected a tapegrad cpp tensor for ") + what + ", got " +
                         Py_TYPE(h.ptr())->tp_name);
  return T(h.ptr());
}

Shape to_shape(py::handle seq) {
  Shape s;
  for (py::handle v : seq)
    s.push(v.cast<int64_t>());
  return s;
}

// Our exception types (tensor.h) as Python's; false if `e` is not one of them. Shared by the raw
// C slots (set_python_error) and pybind11's translator.
bool set_tg_error(const std::exception& e) {
  PyObject* type = dynamic_cast<const tg::ValueError*>(&e)    ? PyExc_ValueError
                   : dynamic_cast<const tg::TypeError*>(&e)   ? PyExc_TypeError
                   : dynamic_cast<const tg::IndexError*>(&e)  ? PyExc_IndexError
                   : dynamic_cast<const tg::OutOfMemory*>(&e) ? PyExc_MemoryError
                                                              : nullptr;
  if (type) PyErr_SetString(type, e.what());
  return type != nullptr;
}

// Turn the C++ exception in flight into a Python one (for the raw C slots).
void set_python_error() {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::bad_alloc&) {
    PyErr_SetString(PyExc_MemoryError, "tapegrad: out of memory (or a tensor of over 1 TiB)");
  } catch (const std::exception& e) {
    if (!set_tg_error(e)) PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "tapegrad: unknown C++ error");
  }
}

bool is_number(PyObject* o) {
  return PyFloat_Check(o) || PyLong_Check(o);
}

// Large kernels run without the GIL so other Python threads go on meanwhile. Ops touch no
// Python objects, so this is safe; small ops keep the GIL (releasing costs more than they do).
constexpr int64_t kNoGilElements = int64_t(1) << 16;

// Runs fn without the GIL. A Ctrl-C meanwhile stops the kernel at its next check
// (interrupt.h) and surfaces here as Python's KeyboardInterrupt.
template <class Fn>
auto without_gil(Fn fn) -> decltype(fn()) {
  install_sigint_hook();
  g_interrupted = false;
  std::exception_ptr err;
  decltype(fn()) r{};
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    try {
      r = fn();
    } catch (const Interrupted&) {
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
      return add_scalar(t, s);
    case Binary::sub:
      return reflected ? rsub_scalar(t, s) : add_scalar(t, -s);
    case Binary::mul:
      return mul_scalar(t, s);
    default:
      return reflected ? rdiv_scalar(t, s) : div_scalar(t, s);
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
      return wrap(pow_scalar(T(a), s));
    }
    if (tb && is_number(a)) {
      double s = PyFloat_AsDouble(a);
      if (s == -1.0 && PyErr_Occurred()) return nullptr;
      return wrap(rpow_scalar(T(b), s));
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
      return wrap(nogil_if(big_matmul(*x, *y), [&] { return matmul(x, y); }));
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

PyObject* get_shape(PyObject* o, void*) {
  const Shape& s = T(o)->shape;
  PyObject* tup = PyTuple_New(s.n);
  if (!tup) return nullptr;
  for (int i = 0; i < s.n; ++i)
    PyTuple_SET_ITEM(tup, i, PyLong_FromLongLong(s.d[i]));
  return tup;
}
PyObject* get_dtype(PyObject* o, void*) {
  PyObject* d = g_dtypes[int(T(o)->dt)];
  Py_INCREF(d);
  return d;
}
PyObject* get_ndim(PyObject* o, void*) {
  return PyLong_FromLong(T(o)->shape.n);
}
PyObject* get_requires_grad(PyObject* o, void*) {
  return PyBool_FromLong(T(o)->requires_grad);
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
  TensorImpl& t = *T(o);
  if (t.grad_fn) {
    PyErr_SetString(PyExc_RuntimeError,
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().");
    return -1;
  }
  t.requires_grad = flag;
  return 0;
}
PyObject* get_grad(PyObject* o, void*) {
  const TensorPtr& g = T(o)->grad;
  if (!g) Py_RETURN_NONE;
  return guarded([&] { return wrap(g); });
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

struct GradFn {
  NodePtr node;
  std::string name() const { return grad_fn_name(*node); }
};

// What an edge to a leaf looks like from Python (PyTorch's AccumulateGrad node).
struct AccumulateGrad {
  TensorPtr leaf;
};

py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.n);
  for (int i = 0; i < s.n; ++i)
    t[size_t(i)] = s.d[i];
  return t;
}

py::tuple next_functions(const Node& n) {
  py::tuple out(n.n_in);
  for (int i = 0; i < n.n_in; ++i) {
    const Edge& e = n.next[i];
    py::object f = e.node   ? py::cast(GradFn{e.node})
                   : e.leaf ? py::cast(AccumulateGrad{e.leaf})
                            : py::object(py::none());
    out[size_t(i)] = py::make_tuple(f, 0);
  }
  return out;
}

// The node's own backward on `grad`, nothing else: no accumulation, nothing freed.
py::tuple apply_node(const Node& n, py::handle grad) {
  const TensorPtr& g = arg(grad, "grad");
  if (g->shape != n.out_shape || g->dt != n.out_dt)
    throw py::value_error("apply: grad must be " + std::string(dtype_name(n.out_dt)) + " " +
                          n.out_shape.str() + ", got " + describe(*g));
  if (n.released && n.had_saved) n.unpack(0);  // raises PyTorch's second-backward error
  TensorPtr grads[kMaxInputs];
  bool prev = grad_enabled();
  set_grad_enabled(false);
  try {
    node_backward(const_cast<Node&>(n), g, grads);
  } catch (...) {
    set_grad_enabled(prev);
    throw;
  }
  set_grad_enabled(prev);
  py::tuple out(n.n_in);
  for (int i = 0; i < n.n_in; ++i)
    out[size_t(i)] = grads[i] ? wrap_obj(grads[i]) : py::object(py::none());
  return out;
}

py::list saved_info(const Node& n) {
  py::list out;
  for (int i = 0; i < kMaxInputs; ++i) {
    const SavedTensor& s = n.saved[i];
    if (!s.used) continue;
    py::dict d;
    d["index"] = i;
    d["freed"] = !s.st;
    if (s.st) {
      d["shape"] = shape_tuple(s.shape);
      d["dtype"] = dtype_name(s.dt);
      d["version"] = s.version;
      d["current_version"] = s.st->version;
      auto t = std::make_shared<TensorImpl>();
      t->st = s.st;
      t->shape = s.shape;
      t->numel = s.shape.numel();
      t->dt = s.dt;
      d["value"] = wrap_obj(t);
    }
    out.append(d);
  }
  return out;
}

PyObject* get_grad_fn(PyObject* o, void*) {
  const NodePtr& n = T(o)->grad_fn;
  if (!n) Py_RETURN_NONE;
  return guarded([&] { return py::cast(GradFn{n}).release().ptr(); });
}
PyObject* get_is_leaf(PyObject* o, void*) {
  return PyBool_FromLong(!T(o)->grad_fn);
}
PyObject* get_data(PyObject* o, void*) {
  return guarded([&] {
    auto t = alias(*T(o), T(o)->shape);
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
  t.numel = src.numel;
  t.dt = src.dt;
  return 0;
}
PyObject* get_version(PyObject* o, void*) {
  return PyLong_FromUnsignedLong(T(o)->st->version);
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
                         {"_is_param", get_is_param, set_is_param, nullptr, nullptr},
                         {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMemberDef members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(PyTensor, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

void tensor_dealloc(PyObject* o) {
  PyTypeObject* tp = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  if (reinterpret_cast<PyTensor*>(o)->weakrefs) PyObject_ClearWeakRefs(o);
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

py::object install(py::object base, py::tuple dtypes, py::object backend) {
  if (g_type) return py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(g_type));
  PyType_Slot slots[] = {
      {Py_tp_dealloc, reinterpret_cast<void*>(tensor_dealloc)},
      {Py_tp_traverse, reinterpret_cast<void*>(tensor_traverse)},
      {Py_tp_new, reinterpret_cast<void*>(tensor_new)},
      {Py_tp_getset, getsets},
      {Py_tp_members, members},
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

// ---------------------------------------------------------------- NumPy in and out
py::object from_numpy(py::array arr, bool requires_grad) {
  if (requires_grad && capturing()) capture_refuse("the creation of a tensor that requires grad");
  py::dtype dt = arr.dtype();
  const uint16_t probe = 1;
  const bool little = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  const char order = dt.byteorder();
  const bool native = order == '=' || order == '|' || (order == '<') == little;
  DType d;
  if (dt.kind() == 'f' && dt.itemsize() == 4 && native)
    d = DType::f32;
  else if (dt.kind() == 'f' && dt.itemsize() == 2 && native)
    d = DType::f16;
  else
    throw py::type_error("from_numpy: expected a native-byte-order float32 or float16 array");
  if (!(arr.flags() & py::array::c_style))
    throw py::value_error("from_numpy: expected a C-contiguous array");
  Shape s;
  for (py::ssize_t i = 0; i < arr.ndim(); ++i)
    s.push(arr.shape(i));
  auto t = empty(s, d);
  if (t->numel) std::memcpy(t->data(), arr.data(), size_t(t->numel) * itemsize(d));
  t->requires_grad = requires_grad;
  return wrap_obj(std::move(t));
}

py::array to_numpy(py::handle h) {
  if (capturing()) capture_refuse("reading a tensor's values into Python (.numpy(), repr, ...)");
  const TensorPtr& t = arg(h);
  auto* keep = new StoragePtr(t->st);
  py::capsule owner(keep, [](void* p) { delete static_cast<StoragePtr*>(p); });
  std::vector<py::ssize_t> shape(t->shape.d, t->shape.d + t->shape.n), strides(shape.size());
  py::ssize_t acc = py::ssize_t(itemsize(t->dt));
  for (int i = t->shape.n - 1; i >= 0; --i) {
    strides[size_t(i)] = acc;
    acc *= shape[size_t(i)];
  }
  py::dtype dt = t->dt == DType::f32 ? py::dtype::of<float>() : py::dtype("float16");
  return py::array(dt, shape, strides, t->data(), owner);
}

Reduction to_reduction(const std::string& r) {
  if (r == "mean") return Reduction::mean;
  if (r == "sum") return Reduction::sum;
  if (r == "none") return Reduction::none;
  throw py::value_error(r + " is not a valid value for reduction");
}

Binary to_binary(const std::string& n) {
  if (n == "add") return Binary::add;
  if (n == "sub") return Binary::sub;
  if (n == "mul") return Binary::mul;
  if (n == "div") return Binary::div;
  throw py::value_error("unknown in-place op " + n);
}

// A captured step: the program plus its private input buffers and the outputs it returns.
struct Captured {
  std::unique_ptr<Program> prog;
  std::vector<TensorPtr> inputs, outputs;
  // Every buffer the program touches, as it was at capture: a replay is refused (and the Python
  // side re-captures) if one was since given other storage, dtype or shape (e.g. model.half()).
  struct Snap {
    TensorImpl* t;
    Storage* st;
    DType dt;
    Shape shape;
  };
  std::vector<Snap> snaps;

  bool valid() const {
    for (const Snap& s : snaps)
      if (s.t->st.get() != s.st || s.t->dt != s.dt || s.t->shape != s.shape) return false;
    return true;
  }

  void load_inputs(const py::sequence& srcs) {
    if (size_t(py::len(srcs)) != inputs.size())
      throw py::value_error("compiled step: expected " + std::to_string(inputs.size()) +
                            " tensor inputs");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const TensorPtr& src = arg(srcs[i], "input");
      TensorImpl& dst = *inputs[i];
      if (src->shape != dst.shape || src->dt != dst.dt)
        throw py::value_error("compiled step: input " + std::to_string(i) + " is " +
                              describe(*src) + ", the capture used " + describe(dst));
      if (src.get() != &dst && dst.numel)
        std::memcpy(dst.data(), src->data(), size_t(dst.numel) * itemsize(dst.dt));
    }
  }

  // The signature a call must match to be replayed: per argument either a tensor (shape,
  // dtype and requires_grad of the captured input) or a constant compared with ==.
  std::vector<py::object> consts;  // null where the argument is a tensor
  std::vector<bool> input_requires;
  bool grad_mode = true;
  int out_kind = 1;  // 0 None, 1 one tensor, 2 tuple, 3 list

  // Replays if `args` match the capture; returns null (no Python error) if they do not.
  PyObject* try_run(PyObject* args) {
    const Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (size_t(n) != consts.size() || grad_enabled() != grad_mode || !valid()) return nullptr;
    size_t k = 0;
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* a = PyTuple_GET_ITEM(args, i);
      if (!consts[size_t(i)]) {
        if (!is_tensor(a)) return nullptr;
        const TensorImpl &src = *T(a), &dst = *inputs[k];
        if (src.shape != dst.shape || src.dt != dst.dt || src.requires_grad != input_requires[k])
          return nullptr;
        ++k;
      } else {
        int eq = PyObject_RichCompareBool(a, consts[size_t(i)].ptr(), Py_EQ);
        if (eq < 0) PyErr_Clear();
        if (eq != 1) return nullptr;
      }
    }
    k = 0;
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (consts[size_t(i)]) continue;
      const TensorImpl& src = *T(PyTuple_GET_ITEM(args, i));
      TensorImpl& dst = *inputs[k++];
      if (&src != &dst && dst.numel)
        std::memcpy(dst.data(), src.data(), size_t(dst.numel) * itemsize(dst.dt));
    }
    replay(1, nullptr);
    if (out_kind == 0) Py_RETURN_NONE;
    if (out_kind == 1) return wrap(copy_of(*outputs[0]));
    PyObject* seq = out_kind == 2 ? PyTuple_New(Py_ssize_t(outputs.size()))
                                  : PyList_New(Py_ssize_t(outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
      PyObject* t = wrap(copy_of(*outputs[i]));
      if (out_kind == 2)
        PyTuple_SET_ITEM(seq, Py_ssize_t(i), t);
      else
        PyList_SET_ITEM(seq, Py_ssize_t(i), t);
    }
    return seq;
  }

  int64_t work = 0;  // elements the program's buffers hold: small programs keep the GIL

  void replay(int64_t n, float* losses) {
    if (work * n < kNoGilElements) {
      for (int64_t i = 0; i < n; ++i) {
        prog->replay();
        if (losses) losses[i] = to_f32_any(*outputs[0]);
      }
      return;
    }
    without_gil([&] {
      for (int64_t i = 0; i < n; ++i) {
        prog->replay();
        if (losses) losses[i] = to_f32_any(*outputs[0]);
        check_interrupt();
      }
      return 0;
    });
  }
};

std::unique_ptr<Captured> finish_capture(py::sequence inputs, py::sequence outputs,
                                         py::sequence consts, int out_kind) {
  auto c = std::make_unique<Captured>();
  c->prog = capture_end();  // first: whatever fails below, the capture is over
  if (!c->prog) throw std::runtime_error("tapegrad.compile: no capture is running");
  c->grad_mode = grad_enabled();
  c->out_kind = out_kind;
  for (py::handle h : consts)  // a tensor marks a tensor argument, anything else a constant
    c->consts.push_back(is_tensor(h.ptr()) ? py::object() : py::reinterpret_borrow<py::object>(h));
  for (py::handle h : inputs) {
    c->inputs.push_back(arg(h, "input"));
    c->input_requires.push_back(c->inputs.back()->requires_grad);
  }
  for (py::handle h : outputs)
    c->outputs.push_back(arg(h, "output"));
  std::vector<TensorImpl*> seen;
  auto snap = [&](const TensorPtr& t) {
    if (std::find(seen.begin(), seen.end(), t.get()) != seen.end()) return;
    seen.push_back(t.get());
    c->snaps.push_back({t.get(), t->st.get(), t->dt, t->shape});
    c->work += t->numel;
  };
  for (const auto& t : c->prog->keep)
    snap(t);
  for (const auto& t : c->inputs)
    snap(t);
  for (const auto& t : c->outputs)
    snap(t);
  return c;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "tapegrad's C++ core: tensors, ops, the tape and backward";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::exception& e) {
      if (!set_tg_error(e)) throw;  // not ours: pybind11's own translation
    }
  });

  py::class_<GradFn>(m, "GradFn")
      .def("name", &GradFn::name)
      .def("__repr__", [](const GradFn& g) { return "<" + g.name() + " object>"; })
      .def("__eq__",
           [](const GradFn& a, py::object b) {
             return py::isinstance<GradFn>(b) && b.cast<const GradFn&>().node == a.node;
           })
      .def("__hash__", [](const GradFn& g) { return std::hash<const Node*>()(g.node.get()); })
      .def_property_readonly("seq", [](const GradFn& g) { return g.node->seq; })
      .def_property_readonly("op", [](const GradFn& g) { return op_name(g.node->op); })
      .def_property_readonly("next_functions",
                             [](const GradFn& g) { return next_functions(*g.node); })
      .def_property_readonly("input_shapes",
                             [](const GradFn& g) {
                               py::list l;
                               for (int i = 0; i < g.node->n_in; ++i)
                                 l.append(shape_tuple(g.node->in_shape[i]));
                               return py::tuple(l);
                             })
      .def_property_readonly("input_dtypes",
                             [](const GradFn& g) {
                               py::list l;
                               for (int i = 0; i < g.node->n_in; ++i)
                                 l.append(dtype_name(g.node->in_dt[i]));
                               return py::tuple(l);
                             })
      .def_property_readonly("output_shape",
                             [](const GradFn& g) { return shape_tuple(g.node->out_shape); })
      .def_property_readonly("output_dtype",
                             [](const GradFn& g) { return dtype_name(g.node->out_dt); })
      .def_property_readonly("scalar",
                             [](const GradFn& g) -> py::object {
                               switch (g.node->op) {
                                 case OpCode::add_scalar:
                                 case OpCode::mul_scalar:
                                 case OpCode::div_scalar:
                                 case OpCode::rsub_scalar:
                                 case OpCode::rdiv_scalar:
                                 case OpCode::pow_scalar:
                                 case OpCode::rpow_scalar:
                                   return py::float_(g.node->s);
                                 default:
                                   return py::none();
                               }
                             })
      .def_property_readonly("released", [](const GradFn& g) { return g.node->released; })
      .def("saved", [](const GradFn& g) { return saved_info(*g.node); })
      .def("apply", [](const GradFn& g, py::handle grad) { return apply_node(*g.node, grad); });
  py::class_<AccumulateGrad>(m, "AccumulateGrad")
      .def("name", [](const AccumulateGrad&) { return std::string("AccumulateGrad"); })
      .def("__repr__", [](const AccumulateGrad&) { return std::string("<AccumulateGrad object>"); })
      .def_property_readonly("variable", [](const AccumulateGrad& a) { return wrap_obj(a.leaf); })
      .def_property_readonly("next_functions", [](const AccumulateGrad&) { return py::tuple(); });

  py::class_<Captured>(m, "Captured")
      .def("valid", &Captured::valid)
      .def("try_run",
           [](Captured& c, py::args args) -> py::object {
             PyObject* r = c.try_run(args.ptr());
             if (!r) {
               if (PyErr_Occurred()) throw py::error_already_set();
               return py::reinterpret_borrow<py::object>(Py_NotImplemented);  // a miss
             }
             return py::reinterpret_steal<py::object>(r);
           })
      .def_property_readonly("num_launches", [](const Captured& c) { return c.prog->steps.size(); })
      .def("run",
           [](Captured& c, py::sequence srcs) {
             c.load_inputs(srcs);
             c.replay(1, nullptr);
             py::list out;
             for (const auto& t : c.outputs)
               out.append(wrap_obj(copy_of(*t)));
             return out;
           })
      .def("run_n", [](Captured& c, int64_t n, py::sequence srcs) {
        if (n < 0) throw py::value_error("run: n must be >= 0");
        if (c.outputs.empty() || c.outputs[0]->numel != 1)
          throw py::value_error("run: the compiled function must return a 1-element tensor");
        c.load_inputs(srcs);
        py::array_t<float> losses(n);
        c.replay(n, losses.mutable_data());
        return losses;
      });
  m.def("capture_begin", &capture_begin);
  m.def("capturing", &capturing);
  m.def("capture_abort", [] { capture_end(); });
  m.def("capture_end", &finish_capture);
  register_rng(m);
  m.def("install", &install);
  m.def("set_python_dispatch", [](bool on) {
    bool prev = g_python_dispatch;
    g_python_dispatch = on;
    return prev;
  });
  m.def("is_grad_enabled", &grad_enabled);
  m.def("set_grad_enabled", &set_grad_enabled);
  m.def("set_num_threads", [](int n) { set_num_threads(n); });
  m.def("get_num_threads", &get_num_threads);

  py::tuple ops(int(OpCode::count));
  for (int i = 0; i < int(OpCode::count); ++i)
    ops[size_t(i)] = op_name(OpCode(i));
  m.attr("OPS") = ops;

  m.def("from_numpy", &from_numpy);
  m.def("to_numpy", &to_numpy);
  m.def("item", [](py::handle a) {
    if (capturing()) capture_refuse("reading a tensor's value into Python (.item())");
    const TensorPtr& t = arg(a);
    if (t->numel != 1)
      throw std::runtime_error("a Tensor with " + std::to_string(t->numel) +
                               " elements cannot be converted to Scalar");
    return double(to_f32_any(*t));
  });
  m.def("detach", [](py::handle a) {
    const TensorPtr& t = arg(a);
    return wrap_obj(alias(*t, t->shape));
  });
  m.def("backward", [](py::handle t, py::handle g, bool retain) {
    const TensorPtr& root = arg(t);
    TensorPtr grad;
    if (g.is_none()) {  // the implicit gradient of a scalar: ones
      if (root->numel != 1)
        throw std::runtime_error("grad can be implicitly created only for scalar outputs");
      grad = empty(root->shape, root->dt);
      fill(grad, 1.0);
    } else {
      grad = arg(g, "gradient");
      if (grad->shape != root->shape || grad->dt != root->dt)
        throw std::runtime_error("backward: the gradient is " + describe(*grad) +
                                 ", the tensor is " + describe(*root));
    }
    without_gil([&] {
      tg::backward(root, grad, retain);
      return 0;
    });
  });

  auto bin = [&m](const char* name, Binary k) {
    m.def(name, [k](py::handle a, py::handle b) {
      const TensorPtr &x = arg(a), &y = arg(b);
      return wrap_obj(
          nogil_if(x->numel + y->numel >= kNoGilElements, [&] { return binary(k, x, y); }));
    });
  };
  bin("add", Binary::add);
  bin("sub", Binary::sub);
  bin("mul", Binary::mul);
  bin("div", Binary::div);
  using ScalarFn = TensorPtr (*)(const TensorPtr&, double);
  auto sc = [&m](const char* name, ScalarFn f) {
    m.def(name, [f](py::handle a, double s) { return wrap_obj(f(arg(a), s)); });
  };
  sc("add_scalar", &add_scalar);
  sc("mul_scalar", &mul_scalar);
  sc("div_scalar", &div_scalar);
  sc("rsub_scalar", &rsub_scalar);
  sc("rdiv_scalar", &rdiv_scalar);
  sc("pow_scalar", &pow_scalar);
  sc("rpow_scalar", &rpow_scalar);
  auto un = [&m](const char* name, OpCode op) {
    m.def(name, [op](py::handle a) {
      const TensorPtr& x = arg(a);
      return wrap_obj(nogil_if(x->numel >= kNoGilElements, [&] { return unary(op, x); }));
    });
  };
  un("neg", OpCode::neg);
  un("abs", OpCode::abs);
  un("exp", OpCode::exp);
  un("log", OpCode::log);
  un("tanh", OpCode::tanh);
  un("relu", OpCode::relu);
  un("sigmoid", OpCode::sigmoid);
  m.def("matmul", [](py::handle a, py::handle b) {
    const TensorPtr &x = arg(a), &y = arg(b);
    return wrap_obj(nogil_if(big_matmul(*x, *y), [&] { return matmul(x, y); }));
  });
  m.def("linear", [](py::handle x, py::handle w, py::handle b) {
    const TensorPtr &xt = arg(x), &wt = arg(w);
    TensorPtr bt = b.is_none() ? TensorPtr() : arg(b);
    return wrap_obj(nogil_if(xt->numel * (wt->shape.n ? wt->shape.d[0] : 1) >= kNoGilElements,
                             [&] { return linear(xt, wt, bt); }));
  });
  auto red = [&m](const char* name, OpCode op) {
    m.def(name, [op](py::handle a, py::handle dims, bool keepdim) {
      if (dims.is_none()) return wrap_obj(reduce(op, arg(a), nullptr, keepdim));
      Shape d = to_shape(dims);
      return wrap_obj(reduce(op, arg(a), &d, keepdim));
    });
  };
  red("sum", OpCode::sum);
  red("mean", OpCode::mean);
  m.def("reshape",
        [](py::handle a, py::handle s) { return wrap_obj(reshape(arg(a), to_shape(s))); });
  m.def("permute",
        [](py::handle a, py::handle p) { return wrap_obj(permute(arg(a), to_shape(p))); });
  m.def("slice", [](py::handle a, py::handle st, py::handle sp, py::handle ln) {
    return wrap_obj(slice(arg(a), to_shape(st), to_shape(sp), to_shape(ln)));
  });
  m.def("mse_loss", [](py::handle a, py::handle b, const std::string& r) {
    return wrap_obj(mse_loss(arg(a), arg(b), to_reduction(r)));
  });
  m.def("l1_loss", [](py::handle a, py::handle b, const std::string& r) {
    return wrap_obj(l1_loss(arg(a), arg(b), to_reduction(r)));
  });
  m.def("cast", [](py::handle a, int code) {
    if (code != 0 && code != 1) throw py::value_error("unknown dtype code");
    return wrap_obj(cast(arg(a), DType(code)));
  });

  m.def("iop", [](const std::string& name, py::handle a, py::handle other) {
    if (is_tensor(other.ptr()))
      inplace_binary(to_binary(name), arg(a), T(other.ptr()), 0.0);
    else
      inplace_binary(to_binary(name), arg(a), nullptr, other.cast<double>());
    return py::reinterpret_borrow<py::object>(a);
  });
  m.def("fill_", [](py::handle a, double v) {
    fill(arg(a), v);
    return py::reinterpret_borrow<py::object>(a);
  });
  m.def("copy_", [](py::handle a, py::handle src) {
    copy_into(arg(a), arg(src, "src"));
    return py::reinterpret_borrow<py::object>(a);
  });

  m.def("sgd_update", [](py::handle p, py::handle g, py::handle buf, double lr, double momentum,
                         double dampening, double weight_decay, bool nesterov, bool maximize) {
    const TensorPtr &pt = arg(p), &gt = arg(g, "grad");
    TensorPtr b = buf.is_none() ? TensorPtr() : arg(buf, "momentum buffer");
    const SgdOpts o{lr, momentum, dampening, weight_decay, nesterov, maximize};
    TensorPtr nb = sgd_update(*pt, *gt, b, o);
    if (tl_capture)  // a replay finds the buffer the captured (first) step made
      capture_push([pt = pt.get(), gt = gt.get(), nb, o] { sgd_update(*pt, *gt, nb, o); },
                   {pt.get(), gt.get()});
    if (!nb) return py::object(py::none());
    if (nb == b) return py::reinterpret_borrow<py::object>(buf);
    return wrap_obj(nb);
  });
  m.def("adam_update",
        [](py::handle p, py::handle g, py::handle m1, py::handle m2, py::handle step, double lr,
           double beta1, double beta2, double eps, double weight_decay, bool maximize) {
          TensorImpl *pt = arg(p).get(), *gt = arg(g, "grad").get(), *mt = arg(m1).get(),
                     *vt = arg(m2).get(), *st = arg(step, "step").get();
          const AdamOpts o{lr, beta1, beta2, eps, weight_decay, maximize};
          launch({pt, gt, mt, vt, st}, [=] { adam_update(*pt, *gt, *mt, *vt, *st, o); });
        });
}
