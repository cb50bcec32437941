// AVX-512F kernels (compiled with -mavx512f -mavx2 -mfma; only called when the CPU has
// AVX-512F). Layers with <= 8 output channels use 8-lane AVX2 tiles, which waste no lanes.
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "conv3d.h"

namespace c3d {
namespace isa_avx512_ns {

struct V8 {
  typedef __m256 T;
  static constexpr int L = 8;
  static inline T zero() { return _mm256_setzero_ps(); }
  static inline T load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static inline T bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static inline T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
};

struct V16 {
  typedef __m512 T;
  static constexpr int L = 16;
  static inline T zero() { return _mm512_setzero_ps(); }
  static inline T load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static inline T bcast(const float* p) { return _mm512_set1_ps(*p); }
  static inline T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
};

#include "kernels.inc.h"

static const IsaOps kOps = {"avx512", &Table16<V8, V16>::forward, &Table16<V8, V16>::backprop_input,
                            &Table16<V8, V16>::backprop_filter};

}  // namespace isa_avx512_ns

const IsaOps* isa_avx512() { return &isa_avx512_ns::kOps; }

}  // namespace c3d
