// Tensors in and out of Python: NumPy arrays, .item(), detach, and backward().
#include <pybind11/numpy.h>

#include <cstring>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "ops/inplace.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

namespace {

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
  // The tensor's own strides: the array shares its memory, views included (as PyTorch's).
  std::vector<py::ssize_t> shape(t->shape.d, t->shape.d + t->shape.n), strides(shape.size());
  for (int i = 0; i < t->shape.n; ++i)
    strides[size_t(i)] = py::ssize_t(t->strides.d[i]) * py::ssize_t(itemsize(t->dt));
  py::dtype dt = t->dt == DType::f32 ? py::dtype::of<float>() : py::dtype("float16");
  return py::array(dt, shape, strides, t->data(), owner);
}

}  // namespace

void register_io(py::module_& m) {
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
    return wrap_obj(alias(*t));
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
}

}  // namespace tgpy
