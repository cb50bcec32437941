// Portable kernels: fixed-size float arrays as "vectors", left to the compiler's
// auto-vectoriser (SSE2 on any x86-64, NEON on arm64). "generic" uses the AVX2 tile shapes,
// "generic16" the AVX-512 ones, so the tests exercise the AVX-512 tiling logic on any CPU.
#include <stdlib.h>
#include <string.h>

#include "conv3d.h"

namespace c3d {
namespace isa_generic_ns {

template <int LANES>
struct VGen {
  struct T {
    float v[LANES];
  };
  static constexpr int L = LANES;
  static inline T zero() {
    T r;
    for (int i = 0; i < L; ++i) r.v[i] = 0.f;
    return r;
  }
  static inline T load(const float* p) {
    T r;
    memcpy(r.v, p, sizeof r.v);
    return r;
  }
  static inline void store(float* p, const T& a) { memcpy(p, a.v, sizeof a.v); }
  static inline T bcast(const float* p) {
    T r;
    const float s = *p;
    for (int i = 0; i < L; ++i) r.v[i] = s;
    return r;
  }
  static inline T fma(const T& a, const T& b, T c) {
    for (int i = 0; i < L; ++i) c.v[i] += a.v[i] * b.v[i];
    return c;
  }
};

#include "kernels.inc.h"

static const IsaOps kOps8 = {"generic", &Table8<VGen<8> >::forward, &Table8<VGen<8> >::backprop_input,
                             &Table8<VGen<8> >::backprop_filter};
static const IsaOps kOps16 = {"generic16", &Table16<VGen<8>, VGen<16> >::forward,
                              &Table16<VGen<8>, VGen<16> >::backprop_input,
                              &Table16<VGen<8>, VGen<16> >::backprop_filter};

}  // namespace isa_generic_ns

const IsaOps* isa_generic() { return &isa_generic_ns::kOps8; }
const IsaOps* isa_generic16() { return &isa_generic_ns::kOps16; }

}  // namespace c3d
