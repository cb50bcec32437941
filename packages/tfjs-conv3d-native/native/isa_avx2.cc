// AVX2 + FMA kernels (compiled with -mavx2 -mfma; only called when the CPU has both).
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "conv3d.h"

namespace c3d {
namespace isa_avx2_ns {

struct V8 {
  typedef __m256 T;
  static constexpr int L = 8;
  static inline T zero() { return _mm256_setzero_ps(); }
  static inline T load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static inline T bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static inline T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
};

#include "kernels.inc.h"

static const IsaOps kOps = {"avx2", &Table8<V8>::forward, &Table8<V8>::backprop_input,
                            &Table8<V8>::backprop_filter};

}  // namespace isa_avx2_ns

const IsaOps* isa_avx2() { return &isa_avx2_ns::kOps; }

}  // namespace c3d
