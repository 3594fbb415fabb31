// Tensors in and out of Python: NumPy arrays, .item(), detach, and backward().
#include <pybind11/numpy.h>

#include <cstring>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "kernels/typed.h"
#include "ops/inplace.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

namespace {

DType dtype_of(const py::dtype& dt) {
  const uint16_t probe = 1;
  const bool little = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  const char order = dt.byteorder();
  const bool native = order == '=' || order == '|' || (order == '<') == little;
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (native) {
    if (kind == 'f' && size == 4) return DType::f32;
    if (kind == 'f' && size == 2) return DType::f16;
    if (kind == 'f' && size == 8) return DType::f64;
    if (kind == 'i' && size == 8) return DType::i64;
    if (kind == 'i' && size == 4) return DType::i32;
    if (kind == 'i' && size == 2) return DType::i16;
    if (kind == 'i' && size == 1) return DType::i8;
    if (kind == 'u' && size == 1) return DType::u8;
    if (kind == 'b') return DType::b8;
  }
  throw py::type_error("can't convert np.ndarray of type " +
                       py::str(py::object(dt)).cast<std::string>() +
                       ". The only supported types are: float64, float32, float16, int64, int32, "
                       "int16, int8, uint8, and bool.");
}

py::dtype numpy_dtype(DType d) {
  static const char* const names[kNumDTypes] = {"float32", "float16", "float64", "int64", "int32",
                                                "int16",   "int8",    "uint8",   "bool"};
  return py::dtype(names[int(d)]);
}

void check_requires_grad(DType d, bool requires_grad) {
  if (requires_grad && !is_floating(d))
    throw std::runtime_error(
        "Only Tensors of floating point and complex dtype can require gradients");
}

// A copy of a C-contiguous array (share=false), or a tensor over the array's own memory, with its
// strides (share=true: PyTorch's from_numpy; writes through either side are seen by the other).
py::object from_numpy(py::array arr, bool requires_grad, bool share) {
  if (requires_grad && capturing()) capture_refuse("the creation of a tensor that requires grad");
  const DType d = dtype_of(arr.dtype());
  check_requires_grad(d, requires_grad);
  Shape s;
  for (py::ssize_t i = 0; i < arr.ndim(); ++i)
    s.push(arr.shape(i));
  TensorPtr t;
  if (share) {
    Shape st;
    const auto isz = py::ssize_t(itemsize(d));
    int64_t extent = s.numel() ? 1 : 0;
    for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
      const py::ssize_t b = arr.strides(i);
      if (b < 0)
        throw py::value_error(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making "
            "a copy of your array  with array.copy().) ");
      if (b % isz)
        throw py::value_error(
            "given numpy array strides not a multiple of the element byte size. Copy the numpy "
            "array to reallocate the memory.");
      st.push(b / isz);
      if (s.numel()) extent += (s.d[i] - 1) * (b / isz);
    }
    auto* keep = new py::object(arr);
    std::shared_ptr<void> owner(keep, [](void* p) {
      py::gil_scoped_acquire gil;
      delete static_cast<py::object*>(p);
    });
    auto storage =
        std::make_shared<Storage>(const_cast<void*>(arr.data()), size_t(extent) * isz, owner);
    t = std::make_shared<TensorImpl>();
    t->st = std::move(storage);
    t->shape = s;
    t->strides = st;
    t->numel = s.numel();
    t->dt = d;
  } else {
    if (!(arr.flags() & py::array::c_style))
      throw py::value_error("from_numpy: expected a C-contiguous array");
    t = empty(s, d);
    if (t->numel) std::memcpy(t->data(), arr.data(), size_t(t->numel) * itemsize(d));
  }
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
  return py::array(numpy_dtype(t->dt), shape, strides, t->data(), owner);
}

// A one-element tensor's value as the Python number of its kind (float, int or bool).
py::object item(const TensorImpl& t) {
  return visit(t.dt, [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T v = *t.as<T>();
    if constexpr (std::is_same<T, bool>::value)
      return py::bool_(v);
    else if constexpr (std::is_integral<T>::value)
      return py::int_(int64_t(v));
    else
      return py::float_(double(load(v)));
  });
}

}  // namespace

void register_io(py::module_& m) {
  m.def("from_numpy", &from_numpy, py::arg("arr"), py::arg("requires_grad") = false,
        py::arg("share") = false);
  m.def("to_numpy", &to_numpy);
  m.def("item", [](py::handle a) {
    if (capturing()) capture_refuse("reading a tensor's value into Python (.item())");
    const TensorPtr& t = arg(a);
    if (t->numel != 1)
      throw std::runtime_error("a Tensor with " + std::to_string(t->numel) +
                               " elements cannot be converted to Scalar");
    return item(*t);
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
      fill(grad, Scalar::of(1.0));
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
