// Shared declarations of the conv3d addon: problem geometry, the thread-pool hook and the
// per-ISA operation tables. The ISA translation units (isa_*.cc) include only this header,
// <immintrin.h> and C headers: no std:: templates, so that code compiled with -mavx512f can
// never be merged (ODR/COMDAT) into the code paths that run on older CPUs.
#pragma once
#include <stddef.h>

namespace c3d {

// NDHWC convolution geometry. x: [N, D, H, W, C]; w: [KD, KH, KW, C, CO];
// y: [N, OD, OH, OW, CO]; y[o] reads x[o * s - pad + k]. Pads are tfjs's padInfo
// "front/top/left" (the "before" pads); the "after" pads follow from the shapes.
struct Geom {
  int N, D, H, W, C;
  int KD, KH, KW;
  int OD, OH, OW, CO;
  int sd, sh, sw;
  int pd, ph, pw;
};

typedef void (*TaskFn)(void* ctx, int task, int thread);

// Runs fn(ctx, t, thread) for t in [0, ntasks) on the pool; thread < nthreads.
struct Runtime {
  void (*parallel_for)(const Runtime* rt, int ntasks, TaskFn fn, void* ctx);
  int nthreads;
  void* pool;
  int tune[4];  // block sizes, 0 = default: [k-block floats, GEMM rows per task, filter-gradient positions per group, -]
};

// Each operation returns 0, or 1 when a work buffer could not be allocated.
struct IsaOps {
  const char* name;
  int (*forward)(const Runtime* rt, const Geom& g, const float* x, const float* w, float* y);
  int (*backprop_input)(const Runtime* rt, const Geom& g, const float* dy, const float* w, float* dx);
  int (*backprop_filter)(const Runtime* rt, const Geom& g, const float* x, const float* dy, float* dw);
};

const IsaOps* isa_generic();    // portable C++, 8-float tiles (compiler-vectorised)
const IsaOps* isa_generic16();  // portable C++ with the AVX-512 tile shapes (for tests)
const IsaOps* isa_avx2();       // AVX2 + FMA
const IsaOps* isa_avx512();     // AVX-512F (+ AVX2 tiles for <= 8 output channels)

}  // namespace c3d
