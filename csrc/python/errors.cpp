// Conversions between CTensor objects and core tensors, and C++ exceptions as Python's.
#include <new>

#include "python/module.h"

namespace tgpy {

using namespace tg;

PyTypeObject* g_type = nullptr;
bool g_python_dispatch = false;

PyObject* wrap(TensorPtr t) {
  if (!g_type)
    throw std::runtime_error(
        "tapegrad._core is not set up: import tapegrad (its cpp backend installs the tensor type)");
  // One Python object per live tensor, as PyTorch: `x._base is x`, `w.grad is w.grad`.
  if (PyObject* live = static_cast<PyObject*>(t->pyobj)) {
    Py_INCREF(live);
    return live;
  }
  PyObject* o = g_type->tp_alloc(g_type, 0);
  if (!o) throw py::error_already_set();
  t->pyobj = o;
  new (&reinterpret_cast<PyTensor*>(o)->t) TensorPtr(std::move(t));
  reinterpret_cast<PyTensor*>(o)->weakrefs = nullptr;
  return o;
}

const TensorPtr& arg(py::handle h, const char* what) {
  if (!is_tensor(h.ptr()))
    throw py::type_error(std::string("expected a tapegrad cpp tensor for ") + what + ", got " +
                         Py_TYPE(h.ptr())->tp_name);
  return T(h.ptr());
}

Shape to_shape(py::handle seq) {
  if (PyLong_Check(seq.ptr())) {  // one int: a one-element list
    Shape s;
    s.push(seq.cast<int64_t>());
    return s;
  }
  Shape s;
  for (py::handle v : seq)
    s.push(v.cast<int64_t>());
  return s;
}

bool set_tg_error(const std::exception& e) {
  PyObject* type = dynamic_cast<const tg::ValueError*>(&e)       ? PyExc_ValueError
                   : dynamic_cast<const tg::TypeError*>(&e)      ? PyExc_TypeError
                   : dynamic_cast<const tg::IndexError*>(&e)     ? PyExc_IndexError
                   : dynamic_cast<const tg::OutOfMemory*>(&e)    ? PyExc_MemoryError
                   : dynamic_cast<const tg::NotImplemented*>(&e) ? PyExc_NotImplementedError
                                                                 : nullptr;
  if (type) PyErr_SetString(type, e.what());
  return type != nullptr;
}

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

}  // namespace tgpy
