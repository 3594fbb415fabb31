// matmul (NumPy's rules: 1-D operands, broadcast batch dims) and the fused linear layer.
#include "autograd.h"
#include "kernels.h"

namespace tg {

namespace {
std::string dims2(int64_t r, int64_t c) {
  return std::to_string(r) + "x" + std::to_string(c);
}

struct MatmulPlan {
  Shape batch, batch_a, batch_b, out;
  int64_t M, K, N, nb;
  bool a1d, b1d;
};

MatmulPlan plan(const Shape& sa, const Shape& sb) {
  if (sa.n == 0 || sb.n == 0)
    throw std::runtime_error("both arguments to matmul need to be at least 1D, but they are " +
                             std::to_string(sa.n) + "D and " + std::to_string(sb.n) + "D");
  MatmulPlan p;
  p.a1d = sa.n == 1;
  p.b1d = sb.n == 1;
  p.M = p.a1d ? 1 : sa.d[sa.n - 2];
  p.K = sa.d[sa.n - 1];
  int64_t K2 = p.b1d ? sb.d[0] : sb.d[sb.n - 2];
  p.N = p.b1d ? 1 : sb.d[sb.n - 1];
  if (p.K != K2) {
    if (sa.n <= 2 && sb.n <= 2)
      throw std::runtime_error("mat1 and mat2 shapes cannot be multiplied (" + dims2(p.M, p.K) +
                               " and " + dims2(K2, p.N) + ")");
    throw std::runtime_error("matmul: shapes " + sa.str() + " and " + sb.str() +
                             " cannot be multiplied");
  }
  for (int i = 0; i + 2 < sa.n; ++i)
    p.batch_a.push(sa.d[i]);
  for (int i = 0; i + 2 < sb.n; ++i)
    p.batch_b.push(sb.d[i]);
  p.batch = broadcast_shapes(p.batch_a, p.batch_b);
  p.nb = p.batch.numel();
  p.out = p.batch;
  if (!p.a1d) p.out.push(p.M);
  if (!p.b1d) p.out.push(p.N);
  return p;
}

// Offsets (in matrices) of each broadcast batch into a and b.
void batch_offsets(const MatmulPlan& p, std::vector<int64_t>& oa, std::vector<int64_t>& ob) {
  oa.resize(size_t(p.nb));
  ob.resize(size_t(p.nb));
  if (p.batch.n == 0) {
    oa[0] = ob[0] = 0;
    return;
  }
  int64_t sa[kMaxDims], sb[kMaxDims];
  bcast_strides(p.batch_a, p.batch, sa);
  bcast_strides(p.batch_b, p.batch, sb);
  for_each2(p.batch, sa, sb, [&](int64_t o, int64_t ia, int64_t ib) {
    oa[size_t(o)] = ia;
    ob[size_t(o)] = ib;
  });
}

TensorPtr f32_tensor(const Shape& s) {
  return empty(s, DType::f32);
}
}  // namespace

TensorPtr matmul(const TensorPtr& a0, const TensorPtr& b0) {
  TensorPtr a = a0, b = b0;
  if (a->dt != b->dt) {
    if (a->dt == DType::f16)
      a = cast(a, DType::f32);
    else
      b = cast(b, DType::f32);
  }
  MatmulPlan p = plan(a->shape, b->shape);
  auto out = empty(p.out, a->dt);
  F32View va = f32_view(*a), vb = f32_view(*b);
  std::vector<float> c(size_t(p.nb * p.M * p.N));
  std::vector<int64_t> oa, ob;
  batch_offsets(p, oa, ob);
  for (int64_t i = 0; i < p.nb; ++i)
    gemm(p.M, p.N, p.K, va.p + oa[size_t(i)] * p.M * p.K, p.K, vb.p + ob[size_t(i)] * p.K * p.N,
         p.N, c.data() + i * p.M * p.N, p.N);
  store_f32(c.data(), *out);
  if (Node* n = record(OpCode::matmul, out, {a.get(), b.get()})) {
    if (b->requires_grad) n->save(0, *a);
    if (a->requires_grad) n->save(1, *b);
  }
  return out;
}

void Op_matmul::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  MatmulPlan p = plan(n.in_shape[0], n.in_shape[1]);
  F32View vg = f32_view(*g);
  std::vector<int64_t> oa, ob;
  batch_offsets(p, oa, ob);
  const int64_t M = p.M, K = p.K, N = p.N;
  auto finish = [&](const TensorPtr& full, const Shape& batch_in, int64_t r, int64_t c, int i) {
    Shape target = batch_in;
    target.push(r);
    target.push(c);
    TensorPtr red = sum_to(full, target);  // float32, summed over broadcast batches
    auto res = convert(*red, n.in_dt[i]);
    res->shape = n.in_shape[i];  // same numel: drop the 1-D operand's unit dim
    return res;
  };
  if (n.in_requires[0]) {  // dA = g @ B^T
    TensorPtr b = n.unpack(1);
    F32View vb = f32_view(*b);
    Shape fs = p.batch;
    fs.push(M);
    fs.push(K);
    auto full = f32_tensor(fs);
    std::vector<float> bt(size_t(K * N));
    for (int64_t i = 0; i < p.nb; ++i) {
      transpose2d(vb.p + ob[size_t(i)] * K * N, K, N, bt.data());
      gemm(M, K, N, vg.p + i * M * N, N, bt.data(), K, full->as<float>() + i * M * K, K);
    }
    gin[0] = finish(full, p.batch_a, M, K, 0);
  }
  if (n.in_requires[1]) {  // dB = A^T @ g
    TensorPtr a = n.unpack(0);
    F32View va = f32_view(*a);
    Shape fs = p.batch;
    fs.push(K);
    fs.push(N);
    auto full = f32_tensor(fs);
    std::vector<float> at(size_t(M * K));
    for (int64_t i = 0; i < p.nb; ++i) {
      transpose2d(va.p + oa[size_t(i)] * M * K, M, K, at.data());
      gemm(K, N, M, at.data(), M, vg.p + i * M * N, N, full->as<float>() + i * K * N, N);
    }
    gin[1] = finish(full, p.batch_b, K, N, 1);
  }
}

// ---------------------------------------------------------------- linear: x @ w.T + b
TensorPtr linear(const TensorPtr& x0, const TensorPtr& w0, const TensorPtr& b0) {
  TensorPtr x = x0, w = w0, b = b0;
  DType dt = x->dt;
  if (w->dt != dt || (b && b->dt != dt)) {  // promote to float32
    dt = DType::f32;
    if (x->dt != dt) x = cast(x, dt);
    if (w->dt != dt) w = cast(w, dt);
    if (b && b->dt != dt) b = cast(b, dt);
  }
  if (w->shape.n != 2)
    throw std::runtime_error("linear: weight must be 2-D, got shape " + w->shape.str());
  if (x->shape.n == 0)
    throw std::runtime_error("linear: input must be at least 1-D, got a 0-d tensor");
  const int64_t in = x->shape.d[x->shape.n - 1], out_f = w->shape.d[0];
  const int64_t R = in ? x->numel / in : 0;
  if (w->shape.d[1] != in)
    throw std::runtime_error("mat1 and mat2 shapes cannot be multiplied (" + dims2(R, in) +
                             " and " + dims2(w->shape.d[1], out_f) + ")");
  if (b && !(b->shape.n == 1 && b->shape.d[0] == out_f) && !(b->shape.n == 0))
    throw std::runtime_error("linear: bias of shape " + b->shape.str() +
                             " does not match out_features " + std::to_string(out_f));
  Shape os;
  for (int i = 0; i + 1 < x->shape.n; ++i)
    os.push(x->shape.d[i]);
  os.push(out_f);
  auto out = empty(os, dt);
  F32View vx = f32_view(*x), vw = f32_view(*w);
  std::vector<float> wt(size_t(in * out_f)), y(size_t(R * out_f));
  transpose2d(vw.p, out_f, in, wt.data());
  gemm(R, out_f, in, vx.p, in, wt.data(), out_f, y.data(), out_f);
  if (b) {
    F32View vb = f32_view(*b);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t j = 0; j < out_f; ++j)
        y[size_t(r * out_f + j)] += vb.p[b->numel == 1 ? 0 : j];
  }
  store_f32(y.data(), *out);
  Node* n = b ? record(OpCode::linear, out, {x.get(), w.get(), b.get()})
              : record(OpCode::linear, out, {x.get(), w.get()});
  if (n) {
    if (w->requires_grad) n->save(0, *x);
    if (x->requires_grad) n->save(1, *w);
  }
  return out;
}

void Op_linear::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const Shape& xs = n.in_shape[0];
  const int64_t in = xs.d[xs.n - 1], out_f = n.in_shape[1].d[0];
  const int64_t R = in ? xs.numel() / in : 0;
  F32View vg = f32_view(*g);
  if (n.in_requires[0]) {  // dX = g @ W
    TensorPtr w = n.unpack(1);
    F32View vw = f32_view(*w);
    std::vector<float> dx(size_t(R * in));
    gemm(R, in, out_f, vg.p, out_f, vw.p, in, dx.data(), in);
    auto res = empty(xs, n.in_dt[0]);
    store_f32(dx.data(), *res);
    gin[0] = res;
  }
  if (n.in_requires[1]) {  // dW = g^T @ X
    TensorPtr x = n.unpack(0);
    F32View vx = f32_view(*x);
    std::vector<float> gt(size_t(R * out_f)), dw(size_t(out_f * in));
    transpose2d(vg.p, R, out_f, gt.data());
    gemm(out_f, in, R, gt.data(), R, vx.p, in, dw.data(), in);
    auto res = empty(n.in_shape[1], n.in_dt[1]);
    store_f32(dw.data(), *res);
    gin[1] = res;
  }
  if (n.n_in == 3 && n.in_requires[2]) {  // db = column sums of g
    std::vector<float> db(size_t(out_f), 0.0f);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t j = 0; j < out_f; ++j)
        db[size_t(j)] += vg.p[r * out_f + j];
    auto res = empty(n.in_shape[2], n.in_dt[2]);
    if (res->numel == 1 && out_f != 1) {
      float s = 0;
      for (float v : db)
        s += v;
      db.assign(1, s);
    }
    store_f32(db.data(), *res);
    gin[2] = res;
  }
}

}  // namespace tg
