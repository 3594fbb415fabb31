#include "autograd/capture.h"

#include <cstring>
#include <stdexcept>

#include "kernels/kernels.h"

namespace tg {

thread_local Program* tl_capture = nullptr;

void capture_push(std::function<void()> fn, std::initializer_list<const TensorImpl*> keep) {
  tl_capture->steps.push_back(std::move(fn));
  for (const TensorImpl* t : keep)
    if (t) {
      tl_capture->keep.push_back(std::const_pointer_cast<TensorImpl>(t->shared_from_this()));
      ++tl_capture->kept[t];
    }
}

void capture_begin() {
  if (tl_capture) throw std::runtime_error("tapegrad.compile: a capture is already running");
  tl_capture = new Program();
}

std::unique_ptr<Program> capture_end() {
  std::unique_ptr<Program> p(tl_capture);
  tl_capture = nullptr;
  return p;
}

TensorPtr zeros(const Shape& shape, DType dt) {
  auto t = empty(shape, dt);
  launch({t.get()}, [t = t.get()] {
    if (t->numel) std::memset(t->data(), 0, size_t(t->numel) * itemsize(t->dt));
  });
  return t;
}

TensorPtr copy_of(const TensorImpl& src) {
  if (!src.is_contiguous()) return convert(src, src.dt);
  auto t = empty(src.shape, src.dt);
  launch({&src, t.get()}, [src = &src, t = t.get()] {
    if (t->numel) std::memcpy(t->data(), src->data(), size_t(src->numel) * itemsize(src->dt));
  });
  return t;
}

TensorPtr convert(const TensorImpl& a, DType dt) {
  auto out = empty(a.shape, dt);  // contiguous, whatever a's strides
  launch({&a, out.get()}, [a = &a, out = out.get()] { convert_into(*a, *out); });
  return out;
}

TensorPtr dense(const TensorPtr& t) {
  if (t->is_contiguous()) return t;
  return convert(*t, t->dt);
}

bool capturing() {
  return tl_capture != nullptr;
}

void capture_refuse(const std::string& what) {
  throw std::runtime_error("tapegrad.compile: cannot capture " + what +
                           ". A compiled step is replayed without Python, so it may not read "
                           "tensor values into Python or create parameters; move that outside "
                           "the compiled function.");
}

}  // namespace tg
