// N-API entry points of the conv3d addon, the ISA choice and the thread pool.
//
// JS API (all synchronous; arrays are Float32Array, geometry an Int32Array of 19 ints
// [N, D, H, W, C, KD, KH, KW, OD, OH, OW, CO, sd, sh, sw, pd, ph, pw, 0]):
//   forward(x, w, y, geom)          y  = conv3d(x, w)
//   backpropInput(dy, w, dx, geom)  dx = conv3d^T(dy, w)       (geom of the forward conv)
//   backpropFilter(x, dy, dw, geom) dw = d conv3d / d w        (geom of the forward conv)
//   info() -> { isa, threads, supported: string[], hardwareThreads }
//   setIsa(name) -> boolean          ("avx512" | "avx2" | "generic" | "generic16")
//   setThreads(n) -> number          (threads actually used)
//   elementwise(op, a, b, out, plan) float32 a OP b with a broadcast plan (see Elementwise)
//   unary(op, x, out, alpha)         relu / step / sqrt / neg / square (see Unary)
//   adam(p, m, v, g, consts)         one fused Adam step in place (see Adam)
//   reduce(op, x, acc, plan, scale)  Sum / Mean in double accumulators (see Reduce)
//   matmul(a, b, out, dims)          tfjs's BatchMatMul, the same bits (see MatMul)
//   keepHeap(mmap, trim) -> boolean  glibc malloc thresholds (see KeepHeap)
#include <node_api.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conv3d.h"

namespace {

using c3d::Geom;
using c3d::IsaOps;
using c3d::Runtime;
using c3d::TaskFn;

// A small pool of parked workers. parallel_for hands out task indices through an atomic
// counter; the calling thread works too, then waits until every worker has finished.
// Workers sleep on a condition variable between calls (no spinning: the CPU is shared).
class Pool {
 public:
  ~Pool() { Stop(); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void Resize(int n) {
    if (n < 1) n = 1;
    if (n == threads()) return;
    Stop();
    stop_ = false;
    // Each worker starts from the current generation, read here (before any later
    // ParallelFor can bump it): a worker that read it itself after starting could miss
    // the first job and leave ParallelFor waiting forever.
    const unsigned long gen = generation_;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, gen] { Loop(i, gen); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void ParallelFor(int ntasks, TaskFn fn, void* ctx) {
    if (ntasks <= 0) return;
    if (workers_.empty() || ntasks == 1) {
      for (int t = 0; t < ntasks; ++t) fn(ctx, t, 0);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = fn;
      ctx_ = ctx;
      ntasks_ = ntasks;
      next_.store(0);
      pending_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    start_.notify_all();
    Work(0);
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [this] { return pending_ == 0; });
  }

 private:
  void Work(int thread) {
    for (;;) {
      const int t = next_.fetch_add(1);
      if (t >= ntasks_) return;
      fn_(ctx_, t, thread);
    }
  }

  void Loop(int thread, unsigned long seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        start_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      Work(thread);
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_, done_;
  bool stop_ = false;
  unsigned long generation_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int ntasks_ = 0;
  std::atomic<int> next_{0};
  int pending_ = 0;
};

struct State {
  Pool pool;
  const IsaOps* ops = nullptr;
};

void PoolParallelFor(const Runtime* rt, int ntasks, TaskFn fn, void* ctx) {
  static_cast<Pool*>(rt->pool)->ParallelFor(ntasks, fn, ctx);
}

bool CpuHas(const char* isa) {
  __builtin_cpu_init();
  if (!strcmp(isa, "avx512")) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!strcmp(isa, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return !strcmp(isa, "generic") || !strcmp(isa, "generic16");
}

const IsaOps* OpsFor(const char* isa) {
  if (!CpuHas(isa)) return nullptr;
  if (!strcmp(isa, "avx512")) return c3d::isa_avx512();
  if (!strcmp(isa, "avx2")) return c3d::isa_avx2();
  if (!strcmp(isa, "generic")) return c3d::isa_generic();
  if (!strcmp(isa, "generic16")) return c3d::isa_generic16();
  return nullptr;
}

const IsaOps* BestOps() {
  const char* order[] = {"avx512", "avx2", "generic"};
  for (const char* isa : order)
    if (const IsaOps* o = OpsFor(isa)) return o;
  return c3d::isa_generic();
}

State* GetState(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  void* data = nullptr;
  napi_get_cb_info(env, info, argc, argv, nullptr, &data);
  return static_cast<State*>(data);
}

napi_value Throw(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, "ERR_CONV3D_NATIVE", msg.c_str());
  return nullptr;
}

// The data and length (elements) of a typed array of type `want`; false for anything else.
bool GetTyped(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok) return false;
  return type == want;
}

bool GetF32(napi_env env, napi_value v, float** data, size_t* len) {
  void* ptr = nullptr;
  if (!GetTyped(env, v, napi_float32_array, &ptr, len)) return false;
  *data = static_cast<float*>(ptr);
  return true;
}

bool GetGeom(napi_env env, napi_value v, Geom* g) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  size_t len = 0;
  void* ptr = nullptr;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_int32_array || len < 18) return false;
  const int32_t* a = static_cast<const int32_t*>(ptr);
  *g = Geom{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17]};
  for (int i = 0; i < 18; ++i)
    if (a[i] < 0) return false;
  // Any non-negative geometry is memory-safe: the drivers size their padded buffers from it.
  return g->sd >= 1 && g->sh >= 1 && g->sw >= 1;
}

size_t Prod(std::initializer_list<long> v) {
  size_t p = 1;
  for (long x : v) p *= static_cast<size_t>(x);
  return p;
}

enum class Op { kForward, kBackpropInput, kBackpropFilter };

napi_value RunOp(napi_env env, napi_callback_info info, Op op) {
  size_t argc = 4;
  napi_value argv[4];
  State* st = GetState(env, info, &argc, argv);
  if (argc < 4) return Throw(env, "expected (a, b, out, geom)");
  float *a = nullptr, *b = nullptr, *out = nullptr;
  size_t la = 0, lb = 0, lo = 0;
  if (!GetF32(env, argv[0], &a, &la) || !GetF32(env, argv[1], &b, &lb) || !GetF32(env, argv[2], &out, &lo))
    return Throw(env, "arguments 1-3 must be Float32Arrays");
  Geom g;
  if (!GetGeom(env, argv[3], &g)) return Throw(env, "invalid geometry");
  const size_t nx = Prod({g.N, g.D, g.H, g.W, g.C});
  const size_t nw = Prod({g.KD, g.KH, g.KW, g.C, g.CO});
  const size_t ny = Prod({g.N, g.OD, g.OH, g.OW, g.CO});
  size_t ea = 0, eb = 0, eo = 0;
  switch (op) {
    case Op::kForward: ea = nx, eb = nw, eo = ny; break;
    case Op::kBackpropInput: ea = ny, eb = nw, eo = nx; break;
    case Op::kBackpropFilter: ea = nx, eb = ny, eo = nw; break;
  }
  if (la != ea || lb != eb || lo != eo)
    return Throw(env, "array lengths do not match the geometry (" + std::to_string(la) + "/" + std::to_string(ea) +
                          ", " + std::to_string(lb) + "/" + std::to_string(eb) + ", " + std::to_string(lo) + "/" +
                          std::to_string(eo) + ")");
  if (eo == 0) return nullptr;
  Runtime rt{&PoolParallelFor, st->pool.threads(), &st->pool, {0, 0, 0, 0}};
  int rc = 0;
  switch (op) {
    case Op::kForward: rc = st->ops->forward(&rt, g, a, b, out); break;
    case Op::kBackpropInput: rc = st->ops->backprop_input(&rt, g, a, b, out); break;
    case Op::kBackpropFilter: rc = st->ops->backprop_filter(&rt, g, a, b, out); break;
  }
  if (rc != 0) {
    napi_throw_range_error(env, "ERR_CONV3D_NATIVE_OOM", "conv3d native: out of memory for work buffers");
    return nullptr;
  }
  return nullptr;
}

napi_value Forward(napi_env env, napi_callback_info info) { return RunOp(env, info, Op::kForward); }
napi_value BackpropInput(napi_env env, napi_callback_info info) { return RunOp(env, info, Op::kBackpropInput); }
napi_value BackpropFilter(napi_env env, napi_callback_info info) { return RunOp(env, info, Op::kBackpropFilter); }

napi_value Str(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value Int(napi_env env, int i) {
  napi_value v;
  napi_create_int32(env, i, &v);
  return v;
}

napi_value Info(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  State* st = GetState(env, info, &argc, nullptr);
  napi_value o, sup;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "isa", Str(env, st->ops->name));
  napi_set_named_property(env, o, "threads", Int(env, st->pool.threads()));
  napi_set_named_property(env, o, "hardwareThreads", Int(env, static_cast<int>(std::thread::hardware_concurrency())));
  napi_create_array(env, &sup);
  const char* all[] = {"avx512", "avx2", "generic", "generic16"};
  uint32_t k = 0;
  for (const char* isa : all)
    if (CpuHas(isa)) napi_set_element(env, sup, k++, Str(env, isa));
  napi_set_named_property(env, o, "supported", sup);
  return o;
}

napi_value SetIsa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  State* st = GetState(env, info, &argc, argv);
  char buf[32] = {0};
  size_t n = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &n) != napi_ok)
    return Throw(env, "setIsa(name: string)");
  const IsaOps* o = !strcmp(buf, "auto") ? BestOps() : OpsFor(buf);
  napi_value r;
  napi_get_boolean(env, o != nullptr, &r);
  if (o) st->ops = o;
  return r;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  State* st = GetState(env, info, &argc, argv);
  int32_t n = 1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok) return Throw(env, "setThreads(n: number)");
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  st->pool.Resize(n);
  return Int(env, st->pool.threads());
}

// ---- Element-wise float32 arithmetic (tf-runtime's fast cpu kernels) ----
// elementwise(op, a, b, out, plan): out[r*n + j] = a[r*as0 + j*as1] OP b[r*bs0 + j*bs1]
// for r < M, j < n, with plan = Int32Array [M, n, as0, as1, bs0, bs1] (as1, bs1 in {0, 1})
// and op 0 add, 1 sub, 2 mul, 3 div. Plain IEEE float32 arithmetic (no FMA contraction
// possible: one operation per element; no flush-to-zero): each result is the correctly
// rounded a OP b, which equals JS's double result rounded to float32 (double rounding is
// innocuous for + - * / of float32 operands). Split across the pool in ~16K-element tasks.
struct EwCtx {
  int op;
  const float* a;
  const float* b;
  float* o;
  long M, n, as0, as1, bs0, bs1;
  long rowsPerTask, colChunk, chunksPerRow;
};

template <int OP>
inline float Apply(float x, float y) {
  if (OP == 0) return x + y;
  if (OP == 1) return x - y;
  if (OP == 2) return x * y;
  return x / y;
}

template <int OP>
void EwRun(const EwCtx& c, long r0, long r1, long j0, long j1) {
  for (long r = r0; r < r1; ++r) {
    const float* pa = c.a + r * c.as0;
    const float* pb = c.b + r * c.bs0;
    float* po = c.o + r * c.n;
    if (c.as1 && c.bs1) {
      for (long j = j0; j < j1; ++j) po[j] = Apply<OP>(pa[j], pb[j]);
    } else if (c.as1) {
      const float y = pb[0];
      for (long j = j0; j < j1; ++j) po[j] = Apply<OP>(pa[j], y);
    } else if (c.bs1) {
      const float x = pa[0];
      for (long j = j0; j < j1; ++j) po[j] = Apply<OP>(x, pb[j]);
    } else {
      const float v = Apply<OP>(pa[0], pb[0]);
      for (long j = j0; j < j1; ++j) po[j] = v;
    }
  }
}

void EwTask(void* ctx, int t, int) {
  const EwCtx& c = *static_cast<const EwCtx*>(ctx);
  long r0, r1, j0, j1;
  if (c.chunksPerRow > 1) {
    r0 = t / c.chunksPerRow;
    r1 = r0 + 1;
    j0 = (t % c.chunksPerRow) * c.colChunk;
    j1 = j0 + c.colChunk < c.n ? j0 + c.colChunk : c.n;
  } else {
    r0 = static_cast<long>(t) * c.rowsPerTask;
    r1 = r0 + c.rowsPerTask < c.M ? r0 + c.rowsPerTask : c.M;
    j0 = 0;
    j1 = c.n;
  }
  switch (c.op) {
    case 0: EwRun<0>(c, r0, r1, j0, j1); break;
    case 1: EwRun<1>(c, r0, r1, j0, j1); break;
    case 2: EwRun<2>(c, r0, r1, j0, j1); break;
    default: EwRun<3>(c, r0, r1, j0, j1); break;
  }
}

bool GetI32(napi_env env, napi_value v, const int32_t** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_int32_array) return false;
  *data = static_cast<const int32_t*>(ptr);
  return true;
}

napi_value Elementwise(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  State* st = GetState(env, info, &argc, argv);
  if (argc < 5) return Throw(env, "expected (op, a, b, out, plan)");
  int32_t op = -1;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op > 3) return Throw(env, "op must be 0-3");
  float *a = nullptr, *b = nullptr, *o = nullptr;
  size_t la = 0, lb = 0, lo = 0;
  if (!GetF32(env, argv[1], &a, &la) || !GetF32(env, argv[2], &b, &lb) || !GetF32(env, argv[3], &o, &lo))
    return Throw(env, "arguments 2-4 must be Float32Arrays");
  const int32_t* p = nullptr;
  size_t lp = 0;
  if (!GetI32(env, argv[4], &p, &lp) || lp < 6) return Throw(env, "plan must be an Int32Array [M, n, as0, as1, bs0, bs1]");
  for (int i = 0; i < 6; ++i)
    if (p[i] < 0) return Throw(env, "plan entries must be >= 0");
  if (p[3] > 1 || p[5] > 1) return Throw(env, "inner strides must be 0 or 1");
  const long M = p[0], n = p[1];
  if (M == 0 || n == 0) return nullptr;
  // Memory safety: the last element each operand reads, and the output size.
  const long lastA = (M - 1) * p[2] + (n - 1) * p[3], lastB = (M - 1) * p[4] + (n - 1) * p[5];
  if (static_cast<size_t>(lastA) >= la || static_cast<size_t>(lastB) >= lb || static_cast<size_t>(M * n) != lo)
    return Throw(env, "plan does not match the array lengths");
  const long kChunk = 16384;
  EwCtx c{op, a, b, o, M, n, p[2], p[3], p[4], p[5], 1, n, 1};
  long ntasks;
  if (n >= 2 * kChunk) {
    c.colChunk = kChunk;
    c.chunksPerRow = (n + kChunk - 1) / kChunk;
    ntasks = M * c.chunksPerRow;
  } else {
    c.rowsPerTask = (kChunk + n - 1) / n;
    ntasks = (M + c.rowsPerTask - 1) / c.rowsPerTask;
  }
  if (ntasks > 1 << 30) return Throw(env, "tensor too large");
  st->pool.ParallelFor(static_cast<int>(ntasks), &EwTask, &c);
  return nullptr;
}

// unary(op, x, out, alpha): out[i] = f(x[i]) with op 0 relu (JS Math.max(0, x): -0 -> +0,
// NaN -> NaN), 1 step (NaN -> NaN, x > 0 -> 1, else alpha), 2 sqrt, 3 neg, 4 square. The
// same float32 values as tfjs's JS formulas (sqrt and x*x are correctly rounded in both).
struct UnCtx {
  int op;
  const float* x;
  float* o;
  long n;
  float alpha;
};

template <int OP>
void UnRun(const float* x, float* o, long i0, long i1, float alpha) {
  for (long i = i0; i < i1; ++i) {
    const float v = x[i];
    float r;
    if (OP == 0) {
      r = v > 0.f ? v : 0.f;
      if (v != v) r = v;
    } else if (OP == 1) {
      r = v > 0.f ? 1.f : alpha;
      if (v != v) r = v;
    } else if (OP == 2) {
      r = std::sqrt(v);
    } else if (OP == 3) {
      r = -v;
    } else {
      r = v * v;
    }
    o[i] = r;
  }
}

void UnTask(void* ctx, int t, int) {
  const UnCtx& c = *static_cast<const UnCtx*>(ctx);
  const long chunk = 16384;
  const long i0 = static_cast<long>(t) * chunk, i1 = i0 + chunk < c.n ? i0 + chunk : c.n;
  switch (c.op) {
    case 0: UnRun<0>(c.x, c.o, i0, i1, c.alpha); break;
    case 1: UnRun<1>(c.x, c.o, i0, i1, c.alpha); break;
    case 2: UnRun<2>(c.x, c.o, i0, i1, c.alpha); break;
    case 3: UnRun<3>(c.x, c.o, i0, i1, c.alpha); break;
    default: UnRun<4>(c.x, c.o, i0, i1, c.alpha); break;
  }
}

napi_value Unary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  State* st = GetState(env, info, &argc, argv);
  if (argc < 4) return Throw(env, "expected (op, x, out, alpha)");
  int32_t op = -1;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op > 4) return Throw(env, "op must be 0-4");
  float *x = nullptr, *o = nullptr;
  size_t lx = 0, lo = 0;
  if (!GetF32(env, argv[1], &x, &lx) || !GetF32(env, argv[2], &o, &lo)) return Throw(env, "x and out must be Float32Arrays");
  if (lx != lo) return Throw(env, "x and out differ in length");
  double alpha = 0;
  if (napi_get_value_double(env, argv[3], &alpha) != napi_ok) return Throw(env, "alpha must be a number");
  if (lx == 0) return nullptr;
  UnCtx c{op, x, o, static_cast<long>(lx), static_cast<float>(alpha)};
  const long ntasks = (c.n + 16383) / 16384;
  if (ntasks > 1 << 30) return Throw(env, "tensor too large");
  st->pool.ParallelFor(static_cast<int>(ntasks), &UnTask, &c);
  return nullptr;
}

// adam(p, m, v, g, c): one Adam step in place, c = Float32Array [b1, 1 - b1, b2, 1 - b2,
// 1 - b1^t, 1 - b2^t, eps, -lr] (each already rounded to float32, as tfjs's scalars are):
//   m = m*b1 + g*(1-b1);  v = v*b2 + (g*g)*(1-b2);
//   p = ((m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)) * -lr + p
// tfjs's AdamOptimizer.applyGradients, one float32 operation at a time in its order (no FMA:
// addon.cc is compiled without FMA flags), so the same bits as its ten tensor ops, with one
// pass over memory instead of ten freshly allocated tensors. ~16K-element tasks on the pool.
struct AdamCtx {
  float* p;
  float* m;
  float* v;
  const float* g;
  float c[8];
  long n;
};

void AdamTask(void* ctx, int t, int) {
  const AdamCtx& a = *static_cast<const AdamCtx*>(ctx);
  const long chunk = 16384;
  const long i0 = static_cast<long>(t) * chunk, i1 = i0 + chunk < a.n ? i0 + chunk : a.n;
  const float b1 = a.c[0], omb1 = a.c[1], b2 = a.c[2], omb2 = a.c[3];
  const float acc1 = a.c[4], acc2 = a.c[5], eps = a.c[6], nlr = a.c[7];
  for (long i = i0; i < i1; ++i) {
    const float g = a.g[i];
    const float m1 = a.m[i] * b1 + g * omb1;
    const float gg = g * g;
    const float v1 = a.v[i] * b2 + gg * omb2;
    a.m[i] = m1;
    a.v[i] = v1;
    const float mh = m1 / acc1;
    const float vh = v1 / acc2;
    const float den = std::sqrt(vh) + eps;
    const float step = (mh / den) * nlr;
    a.p[i] = step + a.p[i];
  }
}

napi_value Adam(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  State* st = GetState(env, info, &argc, argv);
  if (argc < 5) return Throw(env, "expected (p, m, v, g, consts)");
  float *p = nullptr, *m = nullptr, *v = nullptr, *g = nullptr, *c = nullptr;
  size_t lp = 0, lm = 0, lv = 0, lg = 0, lc = 0;
  if (!GetF32(env, argv[0], &p, &lp) || !GetF32(env, argv[1], &m, &lm) || !GetF32(env, argv[2], &v, &lv) ||
      !GetF32(env, argv[3], &g, &lg) || !GetF32(env, argv[4], &c, &lc))
    return Throw(env, "arguments must be Float32Arrays");
  if (lm != lp || lv != lp || lg != lp) return Throw(env, "p, m, v and g differ in length");
  if (lc < 8) return Throw(env, "consts must hold 8 floats");
  if (lp == 0) return nullptr;
  AdamCtx a{p, m, v, g, {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]}, static_cast<long>(lp)};
  const long ntasks = (a.n + 16383) / 16384;
  if (ntasks > 1 << 30) return Throw(env, "tensor too large");
  st->pool.ParallelFor(static_cast<int>(ntasks), &AdamTask, &a);
  return nullptr;
}

// reduce(op, x, acc, plan): tf-runtime's Sum (op 0) and Mean (op 1) loop nest (its
// reduce.ts), plan = Int32Array [k, dims[k], reduced[k], os[k]] (outermost loop first, os =
// output stride of a kept loop, 0 for a reduced one), scale = the Mean count (float32).
// Every input element in memory order is added to its output's double accumulator (Mean:
// x / scale rounded to float32 first), exactly as the JS loop and tfjs's kernels do, so the
// sums are the same bits. One thread: splitting a sum would change its order.
napi_value Reduce(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  GetState(env, info, &argc, argv);
  if (argc < 5) return Throw(env, "expected (op, x, acc, plan, scale)");
  int32_t op = -1;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op > 1) return Throw(env, "op must be 0 or 1");
  float* x = nullptr;
  size_t lx = 0, la = 0, lp = 0;
  void* accp = nullptr;
  if (!GetF32(env, argv[1], &x, &lx)) return Throw(env, "x must be a Float32Array");
  if (!GetTyped(env, argv[2], napi_float64_array, &accp, &la)) return Throw(env, "acc must be a Float64Array");
  double* acc = static_cast<double*>(accp);
  const int32_t* p = nullptr;
  if (!GetI32(env, argv[3], &p, &lp) || lp < 1) return Throw(env, "plan must be an Int32Array");
  const long k = p[0];
  if (k < 1 || k > 16 || lp < static_cast<size_t>(1 + 3 * k)) return Throw(env, "bad plan");
  double scaled = 1;
  if (napi_get_value_double(env, argv[4], &scaled) != napi_ok) return Throw(env, "scale must be a number");
  const float scale = static_cast<float>(scaled);
  const int32_t *dims = p + 1, *red = p + 1 + k, *os = p + 1 + 2 * k;
  long total = 1, last = 0;
  for (long d = 0; d < k; ++d) {
    if (dims[d] < 1 || os[d] < 0) return Throw(env, "bad plan");
    total *= dims[d];
    if (!red[d]) last += static_cast<long>(os[d]) * (dims[d] - 1);
  }
  if (static_cast<size_t>(total) != lx || static_cast<size_t>(last) >= la) return Throw(env, "plan does not match the arrays");
  const long n = dims[k - 1];
  const bool inner_reduced = red[k - 1] != 0;
  long idx[16] = {0};
  long oo = 0;
  for (long i = 0; i < total; i += n) {
    const float* xi = x + i;
    if (inner_reduced) {
      double s = acc[oo];
      if (op == 0)
        for (long j = 0; j < n; ++j) s += xi[j];
      else
        for (long j = 0; j < n; ++j) s += static_cast<float>(xi[j] / scale);
      acc[oo] = s;
    } else {
      double* a = acc + oo;
      if (op == 0)
        for (long j = 0; j < n; ++j) a[j] += xi[j];
      else
        for (long j = 0; j < n; ++j) a[j] += static_cast<float>(xi[j] / scale);
    }
    for (long d = k - 2; d >= 0; --d) {
      oo += os[d];
      if (++idx[d] < dims[d]) break;
      oo -= static_cast<long>(os[d]) * dims[d];
      idx[d] = 0;
    }
  }
  return nullptr;
}

// matmul(a, b, out, dims): tfjs's cpu BatchMatMul, dims = Int32Array [batch, batchA, batchB,
// M, N, K, aBatch, aOuter, aInner, bInner, bOuter, bBatch, blockSize] (tfjs's strides of the
// rank-3 views). out (zero-filled, [batch, M, N]) gets, per k-block of blockSize, the double
// sum of the block's products (exact in double) added and rounded to float32: tfjs's loop,
// so the same bits, vectorised over N (B packed row-major when transposed). Row tasks.
struct MmCtx {
  const float* a;
  const float* b;  // [batchB][K][N] rows (packed when B is transposed)
  float* o;
  long batch, batchA, batchB, M, N, K, aBatch, aOuter, aInner, bRow, bBatch, block;
};

void MmTask(void* ctx, int t, int) {
  const MmCtx& c = *static_cast<const MmCtx*>(ctx);
  const long bi = t / c.M, i = t % c.M;
  const float* arow = c.a + (bi % c.batchA) * c.aBatch + i * c.aOuter;
  const float* bmat = c.b + (bi % c.batchB) * c.bBatch;
  float* orow = c.o + (bi * c.M + i) * c.N;
  double s[256];
  for (long j0 = 0; j0 < c.N; j0 += 256) {
    const long nj = c.N - j0 < 256 ? c.N - j0 : 256;
    for (long k0 = 0; k0 < c.K; k0 += c.block) {
      const long k1 = k0 + c.block < c.K ? k0 + c.block : c.K;
      for (long j = 0; j < nj; ++j) s[j] = 0.0;
      for (long k = k0; k < k1; ++k) {
        const double av = arow[k * c.aInner];
        const float* br = bmat + k * c.bRow + j0;
        for (long j = 0; j < nj; ++j) s[j] += av * static_cast<double>(br[j]);
      }
      for (long j = 0; j < nj; ++j) orow[j0 + j] = static_cast<float>(static_cast<double>(orow[j0 + j]) + s[j]);
    }
  }
}

napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  State* st = GetState(env, info, &argc, argv);
  if (argc < 4) return Throw(env, "expected (a, b, out, dims)");
  float *a = nullptr, *b = nullptr, *o = nullptr;
  size_t la = 0, lb = 0, lo = 0, ld = 0;
  if (!GetF32(env, argv[0], &a, &la) || !GetF32(env, argv[1], &b, &lb) || !GetF32(env, argv[2], &o, &lo))
    return Throw(env, "a, b and out must be Float32Arrays");
  const int32_t* d = nullptr;
  if (!GetI32(env, argv[3], &d, &ld) || ld < 13) return Throw(env, "dims must be an Int32Array of 13");
  for (int i = 0; i < 13; ++i)
    if (d[i] < 0) return Throw(env, "dims must be >= 0");
  const long batch = d[0], batchA = d[1], batchB = d[2], M = d[3], N = d[4], K = d[5];
  const long aBatch = d[6], aOuter = d[7], aInner = d[8], bInner = d[9], bOuter = d[10], bBatch = d[11];
  const long block = d[12];
  if (batchA < 1 || batchB < 1 || block < 1) return Throw(env, "bad dims");
  if (static_cast<size_t>(batch * M * N) != lo) return Throw(env, "out does not match the dims");
  if (batch == 0 || M == 0 || N == 0) return nullptr;
  if (K > 0) {
    const long lastA = (batchA - 1) * aBatch + (M - 1) * aOuter + (K - 1) * aInner;
    const long lastB = (batchB - 1) * bBatch + (K - 1) * bInner + (N - 1) * bOuter;
    if (static_cast<size_t>(lastA) >= la || static_cast<size_t>(lastB) >= lb) return Throw(env, "dims read outside a or b");
  }
  float* packed = nullptr;
  MmCtx c{a, b, o, batch, batchA, batchB, M, N, K, aBatch, aOuter, aInner, bInner, bBatch, block};
  if (bOuter != 1 && K > 0) {
    packed = static_cast<float*>(malloc(sizeof(float) * batchB * K * N));
    if (!packed) return Throw(env, "out of memory");
    for (long bb = 0; bb < batchB; ++bb)
      for (long k = 0; k < K; ++k)
        for (long j = 0; j < N; ++j) packed[(bb * K + k) * N + j] = b[bb * bBatch + k * bInner + j * bOuter];
    c.b = packed;
    c.bRow = N;
    c.bBatch = K * N;
  }
  if (K > 0) {
    if (batch * M > 1 << 30) {
      free(packed);
      return Throw(env, "tensor too large");
    }
    st->pool.ParallelFor(static_cast<int>(batch * M), &MmTask, &c);
  }
  free(packed);
  return nullptr;
}

// keepHeap(mmapThreshold, trimThreshold) -> boolean: glibc's M_MMAP_THRESHOLD and
// M_TRIM_THRESHOLD (bytes). tfjs's cpu backend allocates every op's output as a fresh
// zero-filled ArrayBuffer (calloc) and frees it soon after; above the mmap threshold (and
// when the heap top is trimmed) each one is new pages from the kernel, faulted in one by
// one: ~2 ms for an 8 MB activation. Raising both keeps those blocks in the heap for reuse.
// False (nothing changed) where the C library is not glibc or refuses a value.
napi_value KeepHeap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  GetState(env, info, &argc, argv);
  double mmap_t = 0, trim_t = 0;
  if (argc < 2 || napi_get_value_double(env, argv[0], &mmap_t) != napi_ok ||
      napi_get_value_double(env, argv[1], &trim_t) != napi_ok || mmap_t < 0 || trim_t < 0)
    return Throw(env, "expected (mmapThreshold, trimThreshold) in bytes");
  bool ok = false;
#ifdef __GLIBC__
  ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_t > 2147483647.0 ? 2147483647.0 : mmap_t)) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_t > 2147483647.0 ? 2147483647.0 : trim_t)) == 1 && ok;
#endif
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

void Cleanup(void* arg) { delete static_cast<State*>(arg); }

}  // namespace

NAPI_MODULE_INIT() {
  State* st = new State();
  st->ops = BestOps();
  napi_add_env_cleanup_hook(env, Cleanup, st);
  napi_property_descriptor props[] = {
      {"forward", nullptr, Forward, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"backpropInput", nullptr, BackpropInput, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"backpropFilter", nullptr, BackpropFilter, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"elementwise", nullptr, Elementwise, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"keepHeap", nullptr, KeepHeap, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_enumerable, st},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_enumerable, st},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
