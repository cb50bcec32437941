// Patch kernel of @lungflow/pipeline's workers: cut boxes from a padded int16 HU volume,
// apply one of the 48 cube symmetries (axis permutation + flips), add a HU offset,
// normalise and clamp, and write float32 patches into a batch with non-temporal stores.
//
// The arithmetic is the wasm kernel's, operation for operation (float32 convert, multiply
// by a, add b, min with hi, max with lo; no FMA contraction), so a batch is bit-identical
// whether this addon is built or not. Each patch is first copied row by row into a dense
// scratch (regular loads the prefetcher follows), transformed from there into a patch buffer
// that stays in cache (8x8 int16 transposes when the symmetry moves source rows onto another
// output axis), then streamed into the batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define LF_PATCH_X86 1
#endif

namespace lfpatch {

struct Job {
  int32_t oz, oy, ox;      // box origin in the padded volume (inside it)
  int32_t perm[3];         // output axis a reads source axis perm[a]
  int32_t flips;           // bit a: output axis a runs backwards
  int32_t outIndex;        // element offset of the patch in the batch
};

struct Norm {
  float a, b, lo, hi;
};

// One patch: scratch (int16 box) -> pbuf (float32 patch in output order). st: strides of
// the scratch along the output axes, m: output shape, ostride: strides of pbuf.
struct Plan {
  long base, st[3];
  int m[3];
  long ostride[3];
};

// spad / opad: elements between the slices of the scratch / the output planes of pbuf.
inline Plan MakePlan(const int size[3], const Job& j, long spad = 0, long opad = 0) {
  Plan p{};
  const long ss[3] = {static_cast<long>(size[1]) * size[2] + spad, size[2], 1};
  for (int a = 0; a < 3; ++a) {
    const int s = j.perm[a];
    p.m[a] = size[s];
    if (j.flips >> a & 1) {
      p.st[a] = -ss[s];
      p.base += (p.m[a] - 1) * ss[s];
    } else {
      p.st[a] = ss[s];
    }
  }
  p.ostride[0] = static_cast<long>(p.m[1]) * p.m[2] + opad;
  p.ostride[1] = p.m[2];
  p.ostride[2] = 1;
  return p;
}

inline float Apply(int16_t v, const Norm& n) {
  float y = static_cast<float>(v) * n.a;
  y = y + n.b;
  y = n.hi < y ? n.hi : y;
  y = y < n.lo ? n.lo : y;
  return y;
}

// Portable transform (any CPU, any size).
inline void TransformGeneric(const int16_t* scr, float* out, const Plan& p, const Norm& n) {
  for (int i0 = 0; i0 < p.m[0]; ++i0)
    for (int i1 = 0; i1 < p.m[1]; ++i1) {
      const int16_t* s = scr + p.base + i0 * p.st[0] + i1 * p.st[1];
      float* o = out + i0 * p.ostride[0] + i1 * p.ostride[1];
      for (int i2 = 0; i2 < p.m[2]; ++i2, s += p.st[2]) *o++ = Apply(*s, n);
    }
}

#ifdef LF_PATCH_X86
// float32 of 8 int16, then * a + b, min hi, max lo: the wasm kernel's operations in order.
__attribute__((target("avx2"))) inline __m256 Convert8(__m128i v, __m256 va, __m256 vb,
                                                        __m256 vlo, __m256 vhi) {
  __m256 y = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(v));
  y = _mm256_add_ps(_mm256_mul_ps(y, va), vb);
  y = _mm256_min_ps(y, vhi);  // y < hi ? y : hi
  return _mm256_max_ps(y, vlo);
}

__attribute__((target("avx2"))) inline void TransformAvx2(const int16_t* scr, float* out,
                                                          const Plan& p, const Norm& n) {
  const __m256 va = _mm256_set1_ps(n.a), vb = _mm256_set1_ps(n.b);
  const __m256 vlo = _mm256_set1_ps(n.lo), vhi = _mm256_set1_ps(n.hi);
  if (p.st[2] == 1 || p.st[2] == -1) {
    // Source rows stay output rows (forwards or mirrored): 8 voxels per step.
    const __m128i rev = _mm_setr_epi8(14, 15, 12, 13, 10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1);
    const int m2 = p.m[2], m8 = m2 & ~7;
    for (int i0 = 0; i0 < p.m[0]; ++i0)
      for (int i1 = 0; i1 < p.m[1]; ++i1) {
        float* o = out + i0 * p.ostride[0] + i1 * m2;
        const int16_t* s = scr + p.base + i0 * p.st[0] + i1 * p.st[1];
        int i2 = 0;
        if (p.st[2] == 1) {
          for (; i2 < m8; i2 += 8)
            _mm256_storeu_ps(o + i2, Convert8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i2)), va, vb, vlo, vhi));
        } else {
          for (; i2 < m8; i2 += 8) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s - i2 - 7));
            _mm256_storeu_ps(o + i2, Convert8(_mm_shuffle_epi8(v, rev), va, vb, vlo, vhi));
          }
        }
        for (; i2 < m2; ++i2) o[i2] = Apply(s[i2 * p.st[2]], n);
      }
    return;
  }
  // Source rows (x, stride +-1) run along output axis c (0 or 1): 8x8 blocks, transposed.
  const int c = p.st[0] == 1 || p.st[0] == -1 ? 0 : 1;
  const int q = 1 - c;
  if (p.m[c] % 8 || p.m[2] % 8) {
    TransformGeneric(scr, out, p, n);
    return;
  }
  // Walk source x forwards; a mirrored axis c writes its output backwards.
  long base = p.base, dst0 = 0, oc = p.ostride[c];
  if (p.st[c] < 0) {
    base += (p.m[c] - 1) * p.st[c];
    dst0 += (p.m[c] - 1) * p.ostride[c];
    oc = -oc;
  }
  const long s2 = p.st[2];
  for (int iq = 0; iq < p.m[q]; ++iq)
    for (int ic = 0; ic < p.m[c]; ic += 8)
      for (int i2 = 0; i2 < p.m[2]; i2 += 8) {
        const int16_t* s = scr + base + iq * p.st[q] + ic + i2 * s2;
        float* d = out + dst0 + iq * p.ostride[q] + ic * oc + i2;
        __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + s2));
        __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 2 * s2));
        __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 3 * s2));
        __m128i r4 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 4 * s2));
        __m128i r5 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 5 * s2));
        __m128i r6 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 6 * s2));
        __m128i r7 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 7 * s2));
        // 8x8 transpose of int16: t_j = (r0[j], ..., r7[j]).
        const __m128i a0 = _mm_unpacklo_epi16(r0, r1), a1 = _mm_unpackhi_epi16(r0, r1);
        const __m128i a2 = _mm_unpacklo_epi16(r2, r3), a3 = _mm_unpackhi_epi16(r2, r3);
        const __m128i a4 = _mm_unpacklo_epi16(r4, r5), a5 = _mm_unpackhi_epi16(r4, r5);
        const __m128i a6 = _mm_unpacklo_epi16(r6, r7), a7 = _mm_unpackhi_epi16(r6, r7);
        const __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
        const __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
        const __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
        const __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
        const __m128i t[8] = {
            _mm_unpacklo_epi64(b0, b4), _mm_unpackhi_epi64(b0, b4), _mm_unpacklo_epi64(b1, b5),
            _mm_unpackhi_epi64(b1, b5), _mm_unpacklo_epi64(b2, b6), _mm_unpackhi_epi64(b2, b6),
            _mm_unpacklo_epi64(b3, b7), _mm_unpackhi_epi64(b3, b7)};
        for (int k = 0; k < 8; ++k) _mm256_storeu_ps(d + k * oc, Convert8(t[k], va, vb, vlo, vhi));
      }
}

// dst[i] = src[i] (float32) with non-temporal stores after a plain head to 16-byte alignment;
// the caller fences (_mm_sfence) after its last run.
inline void StreamRun(const float* src, float* dst, long n) {
  long i = 0;
  if (n >= 64) {
    while (i < n && (reinterpret_cast<uintptr_t>(dst + i) & 15)) {
      dst[i] = src[i];
      ++i;
    }
    for (; i + 16 <= n; i += 16) {
      _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
      _mm_stream_ps(dst + i + 4, _mm_loadu_ps(src + i + 4));
      _mm_stream_ps(dst + i + 8, _mm_loadu_ps(src + i + 8));
      _mm_stream_ps(dst + i + 12, _mm_loadu_ps(src + i + 12));
    }
  }
  if (i < n) std::memcpy(dst + i, src + i, (n - i) * sizeof(float));
}
inline void Fence() { _mm_sfence(); }
#else
inline void StreamRun(const float* src, float* dst, long n) { std::memcpy(dst, src, n * sizeof(float)); }
inline void Fence() {}
#endif

inline void Stream(const float* src, float* dst, long n) {
  StreamRun(src, dst, n);
  Fence();
}

inline bool HasAvx2() {
#ifdef LF_PATCH_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#else
  return false;
#endif
}

// Asks for the cache lines of `n` int16 from `p` (the first and the last: a row of a 32^3
// box is 64 bytes, on at most two lines; longer rows are left to the hardware prefetcher).
inline void PrefetchRow(const int16_t* p, int n) {
  __builtin_prefetch(p, 0, 3);
  __builtin_prefetch(p + n - 1, 0, 3);
}

// Cuts every job from `vol` (padded shape dims[3]) into `out`.
inline void Cut(const int16_t* vol, const int dims[3], const int size[3], const Job* jobs,
                const float* b, long njobs, Norm norm, float* out, bool simd) {
  const long per = static_cast<long>(size[0]) * size[1] * size[2];
  // Slices of the scratch and planes of the patch buffer are padded by a cache line: a 32^3
  // box's slices (2 KiB) and planes (4 KiB) would otherwise map onto the same L1 sets, and
  // the transposing symmetries walk across them (mean transform 7.8 -> 6.3 us a patch).
  // The padding shifts the patch buffer against its destination by 64 bytes a plane, so it
  // starts a quarter page off (see below) and is used for up to 32 planes.
  const long spad = 32;
  const long maxPlanes = std::max({size[0], size[1], size[2]});
  const long opad = maxPlanes <= 32 ? 16 : 0;
  const long slices = size[0];
  thread_local std::vector<int16_t> scratch;
  thread_local std::vector<float> pbuf;
  if (static_cast<long>(scratch.size()) < per + slices * spad + 16) scratch.resize(per + slices * spad + 16);
  if (static_cast<long>(pbuf.size()) < per + maxPlanes * opad + 1024 + 16)
    pbuf.resize(per + maxPlanes * opad + 1024 + 16);
  int16_t* scr = scratch.data();
  float* const raw = pbuf.data();
  const long plane = static_cast<long>(dims[1]) * dims[2];
  const size_t row = static_cast<size_t>(size[2]) * sizeof(int16_t);
  for (long k = 0; k < njobs; ++k) {
    const Job& j = jobs[k];
    const int16_t* src = vol + j.oz * plane + static_cast<long>(j.oy) * dims[2] + j.ox;
    int16_t* d = scr;
    // Rows of one slice are a constant stride apart (the hardware prefetcher follows them);
    // the jump to the next slice is not, so the next slice's rows are prefetched while this
    // one is copied, and the next box's first slice after the last: 40 -> 30 us a patch on
    // a 30 MB volume, no change on volumes that stay in cache.
    for (int z = 0; z < size[0]; ++z) {
      const int16_t* ahead = z + 1 < size[0] ? src + (z + 1) * plane : nullptr;
      for (int y = 0; y < size[1]; ++y, d += size[2]) {
        const long at = static_cast<long>(y) * dims[2];
        if (ahead) PrefetchRow(ahead + at, size[2]);
        std::memcpy(d, src + z * plane + at, row);
      }
      d += spad;
    }
    if (k + 1 < njobs) {
      const Job& jn = jobs[k + 1];
      const int16_t* next = vol + jn.oz * plane + static_cast<long>(jn.oy) * dims[2] + jn.ox;
      for (int y = 0; y < size[1]; ++y) PrefetchRow(next + static_cast<long>(y) * dims[2], size[2]);
    }
    // The patch buffer sits 1 KiB (+ 64 bytes a padded plane) off its destination: a copy
    // whose source and destination agree modulo 4 KiB, or whose source is a little behind,
    // suffers 4K aliasing (every load waits on the stores).
    float* const dst = out + j.outIndex;
    const uintptr_t shift =
        (reinterpret_cast<uintptr_t>(dst) + (opad ? 1024 : 2048) - reinterpret_cast<uintptr_t>(raw)) & 4095 &
        ~uintptr_t{63};
    float* const pb = raw + shift / sizeof(float);
    const Plan p = MakePlan(size, j, spad, opad);
    Norm n = norm;
    n.b = b[k];
#ifdef LF_PATCH_X86
    if (simd) TransformAvx2(scr, pb, p, n);
    else TransformGeneric(scr, pb, p, n);
#else
    (void)simd;
    TransformGeneric(scr, pb, p, n);
#endif
    const long planeLen = static_cast<long>(p.m[1]) * p.m[2];
    if (opad == 0) {
      StreamRun(pb, dst, per);
    } else {
      for (int i0 = 0; i0 < p.m[0]; ++i0) StreamRun(pb + i0 * p.ostride[0], dst + i0 * planeLen, planeLen);
    }
  }
  Fence();
}

}  // namespace lfpatch
