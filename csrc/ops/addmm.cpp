// addmv, baddbmm and addbmm: beta * input + alpha * (the product). Float16 follows ATen's own
// kernels bit for bit (combine_f16). Float32 and float64 round the product, scale it, then add
// the scaled input: what PyTorch gives for addmv given its mv's bits, and for float32 baddbmm and
// addbmm with alpha 1 at most sizes; elsewhere MKL's gemm scales and accumulates inside itself
// (the matmul exception of docs/numerics.md covers both). Each records one node under PyTorch's
// name.
// The backward is derivatives.yaml's: the product's gradients (mv's and bmm's, so matmul's own
// backward) times alpha, and grad times beta summed back to the input's shape. Arguments arrive
// checked by the front end (python/tapegrad/_ops_mm2.py).
#include "autograd/capture.h"
#include "ops/elementwise.h"
#include "ops/ops.h"
#include "ops/product.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {
// PyTorch's maybe_multiply: t itself when s is 1.
TensorPtr times(const TensorPtr& t, double s) {
  return s == 1 ? t : scalar_new(t, Binary::mul, s, false);
}

// beta * input + alpha * prod; beta == 0 leaves input out (its NaNs too).
TensorPtr combine(const TensorPtr& input, const TensorPtr& prod, double beta, double alpha) {
  TensorPtr p = times(prod, alpha);
  if (beta == 0) return p;
  return binary_new(Binary::add, times(input, beta), p);
}

// Float16: PyTorch's kernels keep the product's float sum s, compute beta * input + alpha * s in
// float and round once. gemv (scale_first: addmv) scales the input in float16 first (rounding
// it), then adds alpha * s; with one column (round_term) alpha * s is rounded to float16 first.
TensorPtr combine_f16(const TensorPtr& input0, const TensorPtr& s, float beta, float alpha,
                      bool scale_first = false, bool round_term = false) {
  TensorPtr input = dense(input0);
  auto out = empty(s->shape, DType::f16);
  launch({input.get(), s.get(), out.get()},
         [beta, alpha, scale_first, round_term, x = input.get(), s = s.get(), out = out.get()] {
           int64_t sx[kMaxDims], ss[kMaxDims];
           bcast_strides(x->shape, out->shape, sx);
           bcast_strides(s->shape, out->shape, ss);
           const half* xv = x->as<half>();
           const float* sv = s->as<float>();
           half* o = out->as<half>();
           for_each2(out->shape, sx, ss, [&](int64_t k, int64_t i, int64_t j) {
             const float p = round_term ? round_f16(alpha * sv[j]) : alpha * sv[j];
             if (scale_first) {
               const float y = beta == 0 ? 0.0f : to_f32(xv[i]);
               o[k] = from_f32<half>((beta == 1 || beta == 0 ? y : round_f16(beta * y)) + p);
             } else {
               o[k] = from_f32<half>(beta == 0 ? p : beta * to_f32(xv[i]) + p);
             }
           });
         });
  return out;
}

TensorPtr recorded(OpCode code, TensorPtr out, const TensorPtr& a, const TensorPtr& b,
                   const TensorPtr& input, double beta, double alpha) {
  if (Node* n = record(code, out, {a.get(), b.get(), input.get()})) {
    n->s = beta;
    n->s2 = alpha;
  }
  return out;
}

// The gradients of the product's operands (matmul's backward reads the same saved slots) times
// alpha, and of the input: grad times beta, summed to its shape.
void grads(Node& n, const TensorPtr& g, const TensorPtr& g_prod, TensorPtr* gin) {
  NoGrad guard;
  if (n.in_requires[0] || n.in_requires[1]) {
    Op_matmul::backward(n, g_prod, gin);
    for (int i = 0; i < 2; ++i)
      if (gin[i]) gin[i] = times(gin[i], n.s2);
  }
  if (n.in_requires[2]) {
    gin[2] = sum_to(times(g, n.s), n.in_shape[2]);
  }
}
}  // namespace

TensorPtr op::addmv(const TensorPtr& mat, const TensorPtr& vec, const TensorPtr& input, double beta,
                    double alpha) {
  TensorPtr out;
  {
    NoGrad guard;
    if (input->dt == DType::f16)  // its gemv takes beta and alpha as float16
      out = combine_f16(input, matmul_acc(mat, vec), round_f16(float(beta)),
                        round_f16(float(alpha)), true, mat->shape.d[1] == 1);
    else
      out = combine(input, op::matmul(mat, vec), beta, alpha);
  }
  return recorded(OpCode::addmv, out, mat, vec, input, beta, alpha);
}
void Op_addmv::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  grads(n, g, g, gin);
}

TensorPtr op::baddbmm(const TensorPtr& b1, const TensorPtr& b2, const TensorPtr& input, double beta,
                      double alpha) {
  TensorPtr out;
  {
    NoGrad guard;
    if (input->dt == DType::f16)
      out = combine_f16(input, matmul_acc(b1, b2), float(beta), float(alpha));
    else
      out = combine(input, op::matmul(b1, b2), beta, alpha);
  }
  return recorded(OpCode::baddbmm, out, b1, b2, input, beta, alpha);
}
void Op_baddbmm::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  grads(n, g, g, gin);
}

// PyTorch adds the batches' products one after another into the result (an addmm each).
TensorPtr op::addbmm(const TensorPtr& b1, const TensorPtr& b2, const TensorPtr& input, double beta,
                     double alpha) {
  const Shape out_shape{b1->shape.d[1], b2->shape.d[2]};
  TensorPtr acc;
  {
    NoGrad guard;
    const bool f16 = input->dt == DType::f16;
    if (beta != 0 && !(f16 && b1->shape.d[0])) acc = times(input, beta);
    for (int64_t i = 0; i < b1->shape.d[0]; ++i) {
      TensorPtr x = op::select(b1, 0, i), y = op::select(b2, 0, i);
      if (f16) {  // each addmm rounds once; the first scales the input by beta, the rest by 1
        acc = combine_f16(i ? acc : input, matmul_acc(x, y), i ? 1.0f : float(beta), float(alpha));
        continue;
      }
      TensorPtr p = times(op::matmul(x, y), alpha);
      acc = acc ? binary_new(Binary::add, acc, p) : p;
    }
    if (!acc)
      acc = zeros(out_shape, b1->dt);
    else if (acc->shape != out_shape)  // no batches: the input, broadcast
      acc = dense(op::expand(acc, out_shape));
    else if (acc == input)
      acc = copy_of(*input);
  }
  return recorded(OpCode::addbmm, acc, b1, b2, input, beta, alpha);
}
void Op_addbmm::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  Shape full{n.in_shape[0].d[0], g->shape.d[0], g->shape.d[1]};
  TensorPtr gb;
  {
    NoGrad guard;
    gb = dense(op::expand(g, full));  // derivatives.yaml: grad expanded over the batches
  }
  grads(n, g, gb, gin);
}

}  // namespace tg
