// N-API entry points of the patch kernels (patches.h).
//
// JS API (synchronous):
//   cutPatches(vol, dims, size, jobs, b, norm, out[, simd])  cut + symmetry + normalise
//   streamCopy(src, dst, dstOffset)                           copy with non-temporal stores
// Arguments are checked here; a bad one throws a TypeError (code ERR_PATCH_KERNELS_NATIVE)
// naming it, and nothing is written.
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "patches.h"

namespace {

napi_value Throw(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, "ERR_PATCH_KERNELS_NATIVE", msg.c_str());
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

// streamCopy(src, dst, dstOffset): dst[dstOffset + i] = src[i] for every element of src,
// written with non-temporal stores where the CPU has them: the destination lines are not
// read first (no write-allocate) and do not evict the caller's working set. For filling large
// batch buffers that the consumer reads much later (the patch stream writes 128 KiB per
// patch into 4 MB batches that are long out of cache by then).
napi_value StreamCopy(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3)
    return Throw(env, "expected (src, dst, dstOffset)");
  float *src = nullptr, *dst = nullptr;
  size_t ls = 0, ld = 0;
  if (!GetF32(env, argv[0], &src, &ls) || !GetF32(env, argv[1], &dst, &ld))
    return Throw(env, "src and dst must be Float32Arrays");
  double off = -1;
  if (napi_get_value_double(env, argv[2], &off) != napi_ok || !(off >= 0) || off != std::floor(off) ||
      off + static_cast<double>(ls) > static_cast<double>(ld))
    return Throw(env, "dstOffset must be an integer with dstOffset + src.length <= dst.length");
  lfpatch::Stream(src, dst + static_cast<size_t>(off), static_cast<long>(ls));
  return nullptr;
}

// cutPatches(vol, dims, size, jobs, b, norm, out[, simd]): the patch workers' kernel
// (patches.h). vol: Int16Array, the padded volume of shape dims (Int32Array [z, y, x]);
// size: Int32Array [d, h, w]; jobs: Int32Array of 8 ints per patch (oz, oy, ox, perm0..2,
// flip bits, out offset); b: Float32Array, per patch the shift after the HU offset;
// norm: Float32Array [a, lo, hi]; out: Float32Array. Boxes must lie inside the volume and
// patches inside out (checked). simd false forces the portable code (tests).
napi_value CutPatches(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 7)
    return Throw(env, "expected (vol, dims, size, jobs, b, norm, out[, simd])");
  void *vol = nullptr, *dimsP = nullptr, *sizeP = nullptr, *jobsP = nullptr, *bP = nullptr, *normP = nullptr, *outP = nullptr;
  size_t lv = 0, ld = 0, ls = 0, lj = 0, lb = 0, ln = 0, lo = 0;
  if (!GetTyped(env, argv[0], napi_int16_array, &vol, &lv)) return Throw(env, "vol must be an Int16Array");
  if (!GetTyped(env, argv[1], napi_int32_array, &dimsP, &ld) || ld != 3) return Throw(env, "dims must be an Int32Array of 3");
  if (!GetTyped(env, argv[2], napi_int32_array, &sizeP, &ls) || ls != 3) return Throw(env, "size must be an Int32Array of 3");
  if (!GetTyped(env, argv[3], napi_int32_array, &jobsP, &lj) || lj % 8) return Throw(env, "jobs must be an Int32Array of 8 ints per patch");
  if (!GetTyped(env, argv[4], napi_float32_array, &bP, &lb) || lb * 8 != lj) return Throw(env, "b must be a Float32Array of one value per patch");
  if (!GetTyped(env, argv[5], napi_float32_array, &normP, &ln) || ln != 3) return Throw(env, "norm must be a Float32Array [a, lo, hi]");
  if (!GetTyped(env, argv[6], napi_float32_array, &outP, &lo)) return Throw(env, "out must be a Float32Array");
  bool simd = true;
  if (argc > 7) napi_get_value_bool(env, argv[7], &simd);
  const int32_t* dims = static_cast<const int32_t*>(dimsP);
  const int32_t* sz = static_cast<const int32_t*>(sizeP);
  int size[3], dimv[3];
  for (int a = 0; a < 3; ++a) {
    if (dims[a] < 1 || sz[a] < 1) return Throw(env, "dims and size must be positive");
    size[a] = sz[a];
    dimv[a] = dims[a];
  }
  if (static_cast<double>(dims[0]) * dims[1] * dims[2] != static_cast<double>(lv)) return Throw(env, "vol length does not match dims");
  const long per = static_cast<long>(size[0]) * size[1] * size[2];
  const long n = static_cast<long>(lj / 8);
  const lfpatch::Job* jobs = static_cast<const lfpatch::Job*>(jobsP);
  for (long k = 0; k < n; ++k) {
    const lfpatch::Job& j = jobs[k];
    const int32_t o[3] = {j.oz, j.oy, j.ox};
    for (int a = 0; a < 3; ++a)
      if (o[a] < 0 || o[a] + size[a] > dims[a]) return Throw(env, "a patch box reaches outside the volume");
    if ((1 << j.perm[0] | 1 << j.perm[1] | 1 << j.perm[2]) != 7 || j.perm[0] < 0 || j.perm[1] < 0 || j.perm[2] < 0 || j.perm[0] > 2 || j.perm[1] > 2 || j.perm[2] > 2)
      return Throw(env, "perm must be a permutation of 0, 1, 2");
    if (j.outIndex < 0 || static_cast<double>(j.outIndex) + per > static_cast<double>(lo)) return Throw(env, "a patch does not fit in out");
  }
  const float* nv = static_cast<const float*>(normP);
  lfpatch::Cut(static_cast<const int16_t*>(vol), dimv, size, jobs, static_cast<const float*>(bP), n,
               lfpatch::Norm{nv[0], 0.f, nv[1], nv[2]}, static_cast<float*>(outP), simd && lfpatch::HasAvx2());
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"streamCopy", nullptr, StreamCopy, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cutPatches", nullptr, CutPatches, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
