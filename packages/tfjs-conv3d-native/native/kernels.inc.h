// The convolution drivers and register-tiled micro-kernels, written once as templates over a
// vector type V (V::T, V::L lanes, zero/load/store/bcast/fma). Each isa_*.cc includes this
// file inside its own namespace, compiled with its own -m flags, so instantiations for
// different ISAs never share a symbol.
//
// All three operations are one "implicit GEMM" (no im2col matrix is built):
//   forward:         C[row = output voxel][co] = sum_{tap, ci} xpad[row + tapoff + ci] * w[tap, ci, co]
//   backprop-input:  per stride parity class, C[row = dx voxel][ci] =
//                    sum_{tap in class, co} dypad[row + tapoff + co] * w[tap, ci, co]
//   backprop-filter: C[(tap, ci)][co] = sum_{output voxel p} xpad[p + tapoff + ci] * dy[p, co]
// The inputs are copied once into zero-padded buffers, so every tap reads valid memory and
// the inner loops have no bounds tests. Output columns (channels) are split into panels of
// NR = NV * L lanes; the weights are packed per panel ([k][NR], zero-filled past the end).

#include <stdlib.h>
#include <string.h>

#define C3D_UNROLL _Pragma("GCC unroll 32")

static inline long lmin(long a, long b) { return a < b ? a : b; }
static inline long lmax(long a, long b) { return a > b ? a : b; }
static inline long ceil_div(long a, long b) { return (a + b - 1) / b; }
static inline long round_up(long a, long b) { return ceil_div(a, b) * b; }

// 64-byte aligned float buffer with `slack` extra floats (for reads past the last row).
static float* falloc(size_t n, size_t slack = 64) {
  size_t bytes = ((n + slack) * sizeof(float) + 63) & ~size_t(63);
  return static_cast<float*>(aligned_alloc(64, bytes));
}

// dst[N][Dp][Hp][Wp][C] = src[N][D][H][W][C] placed at offset (pd, ph, pw), zeros around
// it. One task per padded (n, d) plane; each byte of dst is written once.
struct PadJob {
  const float* src;
  float* dst;
  long N, D, H, W, C, Dp, Hp, Wp, pd, ph, pw;
};

static void pad_task(void* vjob, int t, int) {
  const PadJob& j = *static_cast<const PadJob*>(vjob);
  const long n = t / j.Dp, dp = t % j.Dp, d = dp - j.pd;
  const long row = j.Wp * j.C;
  float* plane = j.dst + (n * j.Dp + dp) * j.Hp * row;
  if (d < 0 || d >= j.D) {
    memset(plane, 0, sizeof(float) * j.Hp * row);
    return;
  }
  for (long hp = 0; hp < j.Hp; ++hp) {
    float* out = plane + hp * row;
    const long h = hp - j.ph;
    if (h < 0 || h >= j.H) {
      memset(out, 0, sizeof(float) * row);
      continue;
    }
    const float* in = j.src + ((n * j.D + d) * j.H + h) * j.W * j.C;
    memset(out, 0, sizeof(float) * j.pw * j.C);
    memcpy(out + j.pw * j.C, in, sizeof(float) * j.W * j.C);
    memset(out + (j.pw + j.W) * j.C, 0, sizeof(float) * (j.Wp - j.pw - j.W) * j.C);
  }
}

static void pad_copy(const Runtime* rt, const float* src, float* dst, long N, long D, long H, long W, long C,
                     long Dp, long Hp, long Wp, long pd, long ph, long pw) {
  PadJob j = {src, dst, N, D, H, W, C, Dp, Hp, Wp, pd, ph, pw};
  rt->parallel_for(rt, (int)(N * Dp), &pad_task, &j);
}

static const long kMaxChunk = 256;  // rows per GEMM task (bounds the on-stack row tables)

// ---------------------------------------------------------------------------------------
// GEMM over implicit rows: C[r][0:NR] (+)= sum_t sum_c a[r][toff[t] + c] * B[t*cseg + c][0:NR]
// ---------------------------------------------------------------------------------------
struct GemmJob {
  long M;                  // rows
  long dims[4];            // row index -> (i0, i1, i2, i3), i3 fastest
  long as[4];              // A row = abase + sum i_k * as[k]
  long cs[4];              // C row = cbase + sum i_k * cs[k]
  const float* abase;
  float* cbase;
  int ncols;               // valid output columns
  int ntaps;
  const long* toff;
  int cseg;                // contiguous k-run per tap
  const float* Bp;         // [panel][ntaps * cseg][NR]
  int npanels;
  int tap_block;           // taps per k-block (keeps the B block in L1/L2)
  long mchunk;             // rows per task, multiple of MR, <= kMaxChunk
};

template <class V, int MR, int NV>
struct Gemm {
  static constexpr int L = V::L;
  static constexpr int NR = NV * L;
  typedef typename V::T T;

  static inline void tile(const float* const* a, const long* toff, int nt, int cseg,
                          const float* B, float* const* c, bool accum) {
    T acc[MR][NV];
    if (accum) {
      C3D_UNROLL for (int r = 0; r < MR; ++r) C3D_UNROLL for (int v = 0; v < NV; ++v)
          acc[r][v] = V::load(c[r] + v * L);
    } else {
      C3D_UNROLL for (int r = 0; r < MR; ++r) C3D_UNROLL for (int v = 0; v < NV; ++v)
          acc[r][v] = V::zero();
    }
    for (int t = 0; t < nt; ++t) {
      const long o = toff[t];
      const float* ap[MR];
      C3D_UNROLL for (int r = 0; r < MR; ++r) ap[r] = a[r] + o;
      for (int k = 0; k < cseg; ++k) {
        T b[NV];
        C3D_UNROLL for (int v = 0; v < NV; ++v) b[v] = V::load(B + v * L);
        C3D_UNROLL for (int r = 0; r < MR; ++r) {
          const T xv = V::bcast(ap[r] + k);
          C3D_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(xv, b[v], acc[r][v]);
        }
        B += NR;
      }
    }
    C3D_UNROLL for (int r = 0; r < MR; ++r) C3D_UNROLL for (int v = 0; v < NV; ++v)
        V::store(c[r] + v * L, acc[r][v]);
  }

  static void task(void* vjob, int t, int /*thread*/) {
    const GemmJob& j = *static_cast<const GemmJob*>(vjob);
    const long chunk = t / j.npanels;
    const int panel = t % j.npanels;
    const long m0 = chunk * j.mchunk;
    const long m1 = lmin(j.M, m0 + j.mchunk);
    const long rows = m1 - m0;
    const long rows_p = round_up(rows, MR);
    const int col0 = panel * NR;
    const int colv = (int)lmin(NR, j.ncols - col0);
    const bool partial = colv < NR;

    const float* arow[kMaxChunk];
    float* crow[kMaxChunk];
    float* dst[kMaxChunk];  // destination rows of a partial panel (crow then points to scratch)
    alignas(64) float scratch[kMaxChunk * NR];

    long i[4];
    long rem = m0;
    for (int k = 3; k >= 0; --k) {
      i[k] = rem % j.dims[k];
      rem /= j.dims[k];
    }
    for (long m = 0; m < rows; ++m) {
      arow[m] = j.abase + i[0] * j.as[0] + i[1] * j.as[1] + i[2] * j.as[2] + i[3] * j.as[3];
      dst[m] = j.cbase + i[0] * j.cs[0] + i[1] * j.cs[1] + i[2] * j.cs[2] + i[3] * j.cs[3] + col0;
      crow[m] = partial ? scratch + m * NR : dst[m];
      for (int k = 3; k >= 0; --k) {
        if (++i[k] < j.dims[k]) break;
        i[k] = 0;
      }
    }
    for (long m = rows; m < rows_p; ++m) {  // ragged last tile: recompute a valid row, discard
      arow[m] = arow[rows - 1];
      crow[m] = scratch + m * NR;
    }
    const long kpanel = (long)j.ntaps * j.cseg * NR;
    const float* Bpanel = j.Bp + panel * kpanel;
    const int ntb = j.ntaps > 0 ? j.ntaps : 1;
    for (int tb = 0; tb < ntb; tb += j.tap_block) {
      const int nt = (int)lmin(j.tap_block, j.ntaps - tb);
      const float* B = Bpanel + (long)tb * j.cseg * NR;
      for (long r0 = 0; r0 < rows_p; r0 += MR)
        tile(arow + r0, j.toff + tb, nt > 0 ? nt : 0, j.cseg, B, crow + r0, tb > 0);
    }
    if (partial)
      for (long m = 0; m < rows; ++m) memcpy(dst[m], scratch + m * NR, sizeof(float) * colv);
  }

  static void run(const Runtime* rt, GemmJob& j) {
    if (j.M <= 0) return;
    const long target_tasks = 8L * rt->nthreads;
    long per = ceil_div(j.M * j.npanels, target_tasks);
    per = lmax(MR, lmin(rt->tune[1] > 0 ? rt->tune[1] : 128, per));
    j.mchunk = lmin(round_up(per, MR), (kMaxChunk / MR) * MR);
    if (j.tap_block <= 0) j.tap_block = (int)lmax(1, (rt->tune[0] > 0 ? rt->tune[0] : 256) / lmax(1, j.cseg));
    const long ntasks = ceil_div(j.M, j.mchunk) * j.npanels;
    rt->parallel_for(rt, (int)ntasks, &Gemm::task, &j);
  }
};

// Packs B (k rows x ncols, row stride ldb, column stride 1) into [panel][k][NR], zero past
// ncols. Tasks of 1024 rows of one panel on the pool (the seed's 256-channel layers pack 7 MB).
struct PackJob {
  const float* b;
  long k, ldb;
  int ncols, NR, nchunks;
  float* out;
};

static void pack_task(void* vjob, int t, int) {
  const PackJob& j = *static_cast<const PackJob*>(vjob);
  const int p = t / j.nchunks;
  const long r0 = (long)(t % j.nchunks) * 1024, r1 = lmin(j.k, r0 + 1024);
  float* o = j.out + (long)p * j.k * j.NR;
  const int c0 = p * j.NR;
  const int cv = (int)lmin(j.NR, j.ncols - c0);
  for (long r = r0; r < r1; ++r) {
    const float* s = j.b + r * j.ldb + c0;
    for (int c = 0; c < cv; ++c) o[r * j.NR + c] = s[c];
    for (int c = cv; c < j.NR; ++c) o[r * j.NR + c] = 0.f;
  }
}

static void pack_panels(const Runtime* rt, const float* b, long k, int ncols, long ldb, int NR, float* out) {
  const int np = (int)ceil_div(ncols, NR);
  PackJob j = {b, k, ldb, ncols, NR, (int)ceil_div(k, 1024), out};
  if (k > 0) rt->parallel_for(rt, np * j.nchunks, &pack_task, &j);
}

// ---------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------
template <class V, int MR, int NV>
static int forward_impl(const Runtime* rt, const Geom& g, const float* x, const float* w, float* y) {
  typedef Gemm<V, MR, NV> G;
  const long Dp = lmax(g.D + g.pd, (long)(g.OD - 1) * g.sd + g.KD);
  const long Hp = lmax(g.H + g.ph, (long)(g.OH - 1) * g.sh + g.KH);
  const long Wp = lmax(g.W + g.pw, (long)(g.OW - 1) * g.sw + g.KW);
  const long C = g.C;
  const bool need_pad = g.pd || g.ph || g.pw || Dp != g.D || Hp != g.H || Wp != g.W;
  float* xp = nullptr;
  if (need_pad) {
    xp = falloc((size_t)g.N * Dp * Hp * Wp * C);
    if (!xp) return 1;
    pad_copy(rt, x, xp, g.N, g.D, g.H, g.W, C, Dp, Hp, Wp, g.pd, g.ph, g.pw);
  }
  // The KW taps of one (kd, kh) read KW * C consecutive floats: one k-segment per (kd, kh).
  const int ntaps = g.KD * g.KH;
  const long cseg = (long)g.KW * C;
  const long K = (long)ntaps * cseg;
  const int np = (int)ceil_div(g.CO, G::NR);
  float* Bp = falloc((size_t)np * K * G::NR);
  long* toff = static_cast<long*>(malloc(sizeof(long) * (ntaps > 0 ? ntaps : 1)));
  if (!Bp || !toff) {
    free(xp);
    free(Bp);
    free(toff);
    return 1;
  }
  pack_panels(rt, w, K, g.CO, g.CO, G::NR, Bp);
  int t = 0;
  for (int kd = 0; kd < g.KD; ++kd)
    for (int kh = 0; kh < g.KH; ++kh) toff[t++] = (kd * Hp + kh) * Wp * C;
  GemmJob j;
  j.M = (long)g.N * g.OD * g.OH * g.OW;
  j.dims[0] = g.N, j.dims[1] = g.OD, j.dims[2] = g.OH, j.dims[3] = g.OW;
  j.as[0] = Dp * Hp * Wp * C, j.as[1] = g.sd * Hp * Wp * C, j.as[2] = g.sh * Wp * C, j.as[3] = g.sw * C;
  const long CO = g.CO;
  j.cs[0] = (long)g.OD * g.OH * g.OW * CO, j.cs[1] = (long)g.OH * g.OW * CO, j.cs[2] = g.OW * CO, j.cs[3] = CO;
  j.abase = need_pad ? xp : x;
  j.cbase = y;
  j.ncols = g.CO;
  j.ntaps = ntaps;
  j.toff = toff;
  j.cseg = (int)cseg;
  j.Bp = Bp;
  j.npanels = np;
  j.tap_block = 0;
  G::run(rt, j);
  free(xp);
  free(Bp);
  free(toff);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Backprop input: dx[id] = sum_{od*s - p + k = id} dy[od] * w[k]^T, split by stride parity.
// For class r = (id + p) mod s the contributing taps are k = r + j*s and od = q - j with
// q = (id + p - r) / s, so each class is a dense stride-1 correlation over dy.
// ---------------------------------------------------------------------------------------
struct AxisClass {
  long first;  // first dx index of the class
  long count;  // dx indices in the class
  long q0;     // q of the first index
  int taps;    // contributing taps j
};

static AxisClass axis_class(int r, int s, int K, int p, int in) {
  AxisClass a;
  a.first = ((r - p) % s + s) % s;
  a.count = a.first < in ? ceil_div(in - a.first, s) : 0;
  a.q0 = (a.first + p - r) / s;
  a.taps = r < K ? (int)ceil_div(K - r, s) : 0;
  return a;
}

// Packs the transposed weights of one stride class straight into panels (no transposed
// copy first): Bp[panel][(t * Jw + jj) * CO + co][lane] = w[kd, kh, kw][panel * NR + lane][co]
// (zero past CI), where segment t is the class's (jd, jh) and jj = Jw - 1 - jw. One task per
// (segment, panel): it reads NR rows of w per tap (NR * CO floats, cache-resident) and writes
// its part of the panel sequentially.
struct BpiPackJob {
  const float* w;
  float* Bp;
  const int* seg_kd;  // [nt] kd, kh of segment t (before adding the jw tap)
  const int* seg_kh;
  int nt, Jw, rw, sw, KH, KW, NR, npanels;
  long CI, CO;
};

static void bpi_pack_task(void* vjob, int task, int) {
  const BpiPackJob& j = *static_cast<const BpiPackJob*>(vjob);
  const int t = task / j.npanels, p = task % j.npanels;
  const long kpanel = (long)j.nt * j.Jw * j.CO * j.NR;
  const long ci0 = (long)p * j.NR;
  const int lanes = (int)lmin(j.NR, j.CI - ci0);
  for (int jj = 0; jj < j.Jw; ++jj) {
    const long kw = j.rw + (long)(j.Jw - 1 - jj) * j.sw;
    const float* wk = j.w + (((long)j.seg_kd[t] * j.KH + j.seg_kh[t]) * j.KW + kw) * j.CI * j.CO;
    float* dst = j.Bp + p * kpanel + ((long)t * j.Jw + jj) * j.CO * j.NR;
    for (long co = 0; co < j.CO; ++co, dst += j.NR) {
      for (int l = 0; l < lanes; ++l) dst[l] = wk[(ci0 + l) * j.CO + co];
      for (int l = lanes; l < j.NR; ++l) dst[l] = 0.f;
    }
  }
}

template <class V, int MR, int NV>
static int backprop_input_impl(const Runtime* rt, const Geom& g, const float* dy, const float* w, float* dx) {
  typedef Gemm<V, MR, NV> G;
  const int S[3] = {g.sd, g.sh, g.sw}, Kk[3] = {g.KD, g.KH, g.KW}, P[3] = {g.pd, g.ph, g.pw};
  const int In[3] = {g.D, g.H, g.W}, Out[3] = {g.OD, g.OH, g.OW};
  long F[3], Pd[3];
  for (int a = 0; a < 3; ++a) {
    F[a] = ceil_div(Kk[a], S[a]) - 1;
    long back = 0;
    for (int r = 0; r < S[a]; ++r) {
      AxisClass c = axis_class(r, S[a], Kk[a], P[a], In[a]);
      if (c.count > 0) back = lmax(back, c.q0 + c.count - 1 - (Out[a] - 1));
    }
    Pd[a] = F[a] + Out[a] + back;
  }
  const long CO = g.CO, CI = g.C;
  float* dyp = falloc((size_t)g.N * Pd[0] * Pd[1] * Pd[2] * CO);
  const int maxtaps = g.KD * g.KH * g.KW;
  const int np = (int)ceil_div(CI, G::NR);
  float* Bp = falloc((size_t)np * (maxtaps > 0 ? maxtaps : 1) * CO * G::NR);
  long* toff = static_cast<long*>(malloc(sizeof(long) * (maxtaps > 0 ? maxtaps : 1)));
  int* seg = static_cast<int*>(malloc(sizeof(int) * 2 * (maxtaps > 0 ? maxtaps : 1)));
  if (!dyp || !Bp || !toff || !seg) {
    free(dyp), free(Bp), free(toff), free(seg);
    return 1;
  }
  pad_copy(rt, dy, dyp, g.N, g.OD, g.OH, g.OW, CO, Pd[0], Pd[1], Pd[2], F[0], F[1], F[2]);
  for (int rd = 0; rd < g.sd; ++rd)
    for (int rh = 0; rh < g.sh; ++rh)
      for (int rw = 0; rw < g.sw; ++rw) {
        const AxisClass cd = axis_class(rd, g.sd, g.KD, g.pd, g.D);
        const AxisClass ch = axis_class(rh, g.sh, g.KH, g.ph, g.H);
        const AxisClass cw = axis_class(rw, g.sw, g.KW, g.pw, g.W);
        if (cd.count == 0 || ch.count == 0 || cw.count == 0) continue;
        // Taps of the class. The Jw taps of one (jd, jh) read Jw * CO consecutive floats of
        // dy (jw descending), so they form one k-segment; the weights are packed transposed.
        const int Jw = cw.taps;
        int nt = 0;
        if (Jw > 0)
          for (int jd = 0; jd < cd.taps; ++jd)
            for (int jh = 0; jh < ch.taps; ++jh) {
              toff[nt] = -((jd * Pd[1] + jh) * Pd[2] + (Jw - 1)) * CO;
              seg[nt] = rd + jd * g.sd;
              seg[maxtaps + nt] = rh + jh * g.sh;
              ++nt;
            }
        if (nt > 0) {
          BpiPackJob pj = {w, Bp, seg, seg + maxtaps, nt, Jw, rw, g.sw, g.KH, g.KW, G::NR, np, CI, CO};
          rt->parallel_for(rt, nt * np, &bpi_pack_task, &pj);
        }
        GemmJob j;
        j.M = (long)g.N * cd.count * ch.count * cw.count;
        j.dims[0] = g.N, j.dims[1] = cd.count, j.dims[2] = ch.count, j.dims[3] = cw.count;
        j.as[0] = Pd[0] * Pd[1] * Pd[2] * CO, j.as[1] = Pd[1] * Pd[2] * CO, j.as[2] = Pd[2] * CO, j.as[3] = CO;
        j.abase = dyp + (((cd.q0 + F[0]) * Pd[1] + (ch.q0 + F[1])) * Pd[2] + (cw.q0 + F[2])) * CO;
        const long H = g.H, W = g.W;
        j.cs[0] = (long)g.D * H * W * CI, j.cs[1] = g.sd * H * W * CI, j.cs[2] = g.sh * W * CI, j.cs[3] = g.sw * CI;
        j.cbase = dx + ((cd.first * H + ch.first) * W + cw.first) * CI;
        j.ncols = (int)CI;
        j.ntaps = nt;
        j.toff = toff;
        j.cseg = (int)(Jw * CO);
        j.Bp = Bp;
        j.npanels = np;
        j.tap_block = 0;
        G::run(rt, j);
      }
  free(dyp), free(Bp), free(toff), free(seg);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Backprop filter: dw[(tap, ci)][co] = sum_p xpad[p + toff[tap] + ci] * dy[p][co].
// The output rows (n, od, oh) are split into `nparts` fixed parts, each summed into its own
// partial dw (or straight into dw when there is one part and no padded columns), then the
// parts are added in order. nparts depends on the geometry only (at least 2048 output voxels
// a part, at most 8), so dw is bitwise the same for any thread count. Within a part, tasks
// own blocks of (weight-row tiles x channel panels): splitting the output does not change
// any sum's order. Tiles are MR weight rows x NR output channels.
// ---------------------------------------------------------------------------------------
struct FilterJob {
  const float* xp;
  const float* dyp;
  long Dp, Hp, Wp, C;
  long OD, OH, OW, COp;
  int sd, sh, sw;
  long R;          // output rows N * OD * OH
  long G;          // output rows per group
  int ntiles;
  const long* tile_off;   // [ntiles][MR] x offsets of the tile rows (relative to the voxel)
  const long* tile_row;   // [ntiles][MR] dw row of each tile row, -1 = discard
  int npanels;
  int ntblocks;           // tile blocks per (part, panel)
  float* partials;        // [part][K][ldo]
  long ldo;               // row stride of partials
  long K;
  long rows_per_part;
};

template <class V, int MR, int NV, bool CONTIG>
struct FilterKernel {
  static constexpr int L = V::L;
  static constexpr int NR = NV * L;
  typedef typename V::T T;

  static inline void tile(const float* xp, const long* xrow, const float* const* dyrow, long G,
                          long OW, long xstep, long dystep, const long* off, float* const* out,
                          bool accum) {
    T acc[MR][NV];
    if (accum) {
      C3D_UNROLL for (int r = 0; r < MR; ++r) C3D_UNROLL for (int v = 0; v < NV; ++v)
          acc[r][v] = V::load(out[r] + v * L);
    } else {
      C3D_UNROLL for (int r = 0; r < MR; ++r) C3D_UNROLL for (int v = 0; v < NV; ++v)
          acc[r][v] = V::zero();
    }
    long o[MR];
    C3D_UNROLL for (int r = 0; r < MR; ++r) o[r] = off[r];
    for (long gi = 0; gi < G; ++gi) {
      const float* xb = xp + xrow[gi] + (CONTIG ? o[0] : 0);
      const float* db = dyrow[gi];
      for (long ow = 0; ow < OW; ++ow) {
        T b[NV];
        C3D_UNROLL for (int v = 0; v < NV; ++v) b[v] = V::load(db + v * L);
        C3D_UNROLL for (int r = 0; r < MR; ++r) {
          const T xv = V::bcast(CONTIG ? xb + r : xb + o[r]);
          C3D_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(xv, b[v], acc[r][v]);
        }
        xb += xstep;
        db += dystep;
      }
    }
    C3D_UNROLL for (int r = 0; r < MR; ++r) C3D_UNROLL for (int v = 0; v < NV; ++v)
        V::store(out[r] + v * L, acc[r][v]);
  }

  // Task t = ((part * npanels + panel) * ntblocks + block): the tiles of `block` for the
  // channels of `panel`, summed over the output rows of `part` in order, group by group.
  static void task(void* vjob, int t, int /*thread*/) {
    const FilterJob& j = *static_cast<const FilterJob*>(vjob);
    const int blk = t % j.ntblocks;
    const int p = (t / j.ntblocks) % j.npanels;
    const long partix = t / ((long)j.ntblocks * j.npanels);
    float* part = j.partials + partix * j.K * j.ldo;
    const int ti0 = (int)((long)j.ntiles * blk / j.ntblocks);
    const int ti1 = (int)((long)j.ntiles * (blk + 1) / j.ntblocks);
    alignas(64) float dummy[MR * NR];
    const long pr0 = partix * j.rows_per_part, pr1 = lmin(j.R, pr0 + j.rows_per_part);
    for (long r0 = pr0; r0 < pr1; r0 += j.G) {
      const long r1 = lmin(pr1, r0 + j.G);
      const long G = r1 - r0;
      long xrow[kMaxChunk];
      const float* dyr[kMaxChunk];
      for (long r = r0; r < r1; ++r) {
        const long oh = r % j.OH, od = (r / j.OH) % j.OD, n = r / (j.OH * j.OD);
        xrow[r - r0] = (((n * j.Dp + od * j.sd) * j.Hp + oh * j.sh) * j.Wp) * j.C;
        dyr[r - r0] = j.dyp + r * j.OW * j.COp + p * NR;
      }
      for (int ti = ti0; ti < ti1; ++ti) {
        const long* rows = j.tile_row + (long)ti * MR;
        float* out[MR];
        for (int r = 0; r < MR; ++r) out[r] = rows[r] >= 0 ? part + rows[r] * j.ldo + p * NR : dummy + r * NR;
        tile(j.xp, xrow, dyr, G, j.OW, (long)j.sw * j.C, j.COp, j.tile_off + (long)ti * MR, out, r0 > pr0);
      }
    }
  }
};

struct ReduceJob {
  const float* partials;
  float* dw;
  long K, CO, COp;
  int nparts;
  long rows_per_task;
};

static void reduce_task(void* vjob, int t, int) {
  const ReduceJob& j = *static_cast<const ReduceJob*>(vjob);
  const long k0 = t * j.rows_per_task, k1 = lmin(j.K, k0 + j.rows_per_task);
  for (long k = k0; k < k1; ++k) {
    float* d = j.dw + k * j.CO;
    for (long c = 0; c < j.CO; ++c) d[c] = j.partials[k * j.COp + c];
    for (int p = 1; p < j.nparts; ++p) {
      const float* s = j.partials + ((long)p * j.K + k) * j.COp;
      for (long c = 0; c < j.CO; ++c) d[c] += s[c];
    }
  }
}

// ---------------------------------------------------------------------------------------
// Backprop filter of a 1-channel input with <= 4 output channels and stride 1 along W (the
// first layer of every network here): dw is only taps x CO numbers, so the GEMM tiles above
// (MR weight rows of a 3-float k-segment, output channels padded to 8 lanes) do almost no
// work per byte moved, and 4 channels fill half of each 8-lane vector. Instead the output
// positions along W are the vector lanes (with 8 channels the tiles are faster): for one
// output channel and a group of 9 taps, acc[t] += x[row + toff[t] + ow .. +L] * dyT[co][ow ..
// +L], with dy transposed channel-major once. Parts of the output rows are fixed by the
// geometry (as above); each task owns (part, channel, tap group) and sums its positions in
// order (lanes, then the scalar tail), so dw is the same for any thread count.
// ---------------------------------------------------------------------------------------
struct FilterC1Job {
  const float* xp;
  const float* dyT;  // [CO][P]
  long Dp, Hp, Wp, OD, OH, OW, P, CO;
  int sd, sh;
  long R, rows_per_part;
  int ngroups;
  const long* toff;  // [ngroups * 9] tap offsets in xp (dummy taps: 0)
  float* partials;   // [part][ngroups * 9][CO]
};

struct TransposeJob {
  const float* src;  // [P][CO]
  float* dst;        // [CO][P]
  long P, CO, chunk;
};

static void transpose_task(void* vjob, int t, int) {
  const TransposeJob& j = *static_cast<const TransposeJob*>(vjob);
  const long p0 = t * j.chunk, p1 = lmin(j.P, p0 + j.chunk);
  for (long p = p0; p < p1; ++p)
    for (long co = 0; co < j.CO; ++co) j.dst[co * j.P + p] = j.src[p * j.CO + co];
}

template <class V>
struct FilterC1 {
  static constexpr int L = V::L;
  static constexpr int TG = 9;
  typedef typename V::T T;

  static void task(void* vjob, int t, int) {
    const FilterC1Job& j = *static_cast<const FilterC1Job*>(vjob);
    const int grp = t % j.ngroups;
    const long co = (t / j.ngroups) % j.CO;
    const long part = t / (j.ngroups * j.CO);
    const long* off = j.toff + (long)grp * TG;
    T acc[TG];
    float tail[TG];
    C3D_UNROLL for (int k = 0; k < TG; ++k) acc[k] = V::zero(), tail[k] = 0.f;
    const long r0 = part * j.rows_per_part, r1 = lmin(j.R, r0 + j.rows_per_part);
    const long OWv = j.OW / L * L;
    for (long r = r0; r < r1; ++r) {
      const long oh = r % j.OH, od = (r / j.OH) % j.OD, n = r / (j.OH * j.OD);
      const float* xb = j.xp + ((n * j.Dp + od * j.sd) * j.Hp + oh * j.sh) * j.Wp;
      const float* d = j.dyT + co * j.P + r * j.OW;
      for (long ow = 0; ow < OWv; ow += L) {
        const T dv = V::load(d + ow);
        C3D_UNROLL for (int k = 0; k < TG; ++k) acc[k] = V::fma(V::load(xb + off[k] + ow), dv, acc[k]);
      }
      for (long ow = OWv; ow < j.OW; ++ow)
        C3D_UNROLL for (int k = 0; k < TG; ++k) tail[k] += xb[off[k] + ow] * d[ow];
    }
    alignas(64) float lanes[L];
    float* out = j.partials + (part * j.ngroups * TG + (long)grp * TG) * j.CO + co;
    for (int k = 0; k < TG; ++k) {
      V::store(lanes, acc[k]);
      float sum = 0.f;
      for (int l = 0; l < L; ++l) sum += lanes[l];
      out[(long)k * j.CO] = sum + tail[k];
    }
  }
};

template <class V>
static int backprop_filter_c1(const Runtime* rt, const Geom& g, const float* x, const float* dy, float* dw) {
  const long Dp = lmax(g.D + g.pd, (long)(g.OD - 1) * g.sd + g.KD);
  const long Hp = lmax(g.H + g.ph, (long)(g.OH - 1) * g.sh + g.KH);
  const long Wp = lmax(g.W + g.pw, (long)(g.OW - 1) + g.KW);
  const long CO = g.CO;
  const int ntaps = g.KD * g.KH * g.KW;
  const int ngroups = (int)ceil_div(ntaps, FilterC1<V>::TG);
  const long P = (long)g.N * g.OD * g.OH * g.OW;
  const long R = (long)g.N * g.OD * g.OH;
  if (ntaps == 0 || CO == 0) return 0;
  if (P == 0) {
    memset(dw, 0, sizeof(float) * ntaps * CO);
    return 0;
  }
  long nparts = lmax(1, lmin(lmin(8, P / 2048), R));
  const long rows_per_part = ceil_div(R, nparts);
  nparts = ceil_div(R, rows_per_part);
  const long KT = (long)ngroups * FilterC1<V>::TG;
  float* xp = falloc((size_t)g.N * Dp * Hp * Wp);
  float* dyT = falloc((size_t)P * CO);
  float* partials = falloc((size_t)nparts * KT * CO);
  long* toff = static_cast<long*>(malloc(sizeof(long) * KT));
  if (!xp || !dyT || !partials || !toff) {
    free(xp), free(dyT), free(partials), free(toff);
    return 1;
  }
  pad_copy(rt, x, xp, g.N, g.D, g.H, g.W, 1, Dp, Hp, Wp, g.pd, g.ph, g.pw);
  TransposeJob tj = {dy, dyT, P, CO, 65536};
  rt->parallel_for(rt, (int)ceil_div(P, tj.chunk), &transpose_task, &tj);
  long t = 0;
  for (int kd = 0; kd < g.KD; ++kd)
    for (int kh = 0; kh < g.KH; ++kh)
      for (int kw = 0; kw < g.KW; ++kw) toff[t++] = (kd * Hp + kh) * Wp + kw;
  for (; t < KT; ++t) toff[t] = 0;
  FilterC1Job j = {xp, dyT, Dp, Hp, Wp, g.OD, g.OH, g.OW, P, CO, g.sd, g.sh, R, rows_per_part, ngroups, toff, partials};
  rt->parallel_for(rt, (int)(nparts * CO * ngroups), &FilterC1<V>::task, &j);
  for (long k = 0; k < ntaps; ++k)
    for (long co = 0; co < CO; ++co) {
      float sum = partials[k * CO + co];
      for (long p = 1; p < nparts; ++p) sum += partials[(p * KT + k) * CO + co];
      dw[k * CO + co] = sum;
    }
  free(xp), free(dyT), free(partials), free(toff);
  return 0;
}

template <class V, int MR, int NV>
static int backprop_filter_impl(const Runtime* rt, const Geom& g, const float* x, const float* dy, float* dw) {
  constexpr int NR = NV * V::L;
  const long Dp = lmax(g.D + g.pd, (long)(g.OD - 1) * g.sd + g.KD);
  const long Hp = lmax(g.H + g.ph, (long)(g.OH - 1) * g.sh + g.KH);
  const long Wp = lmax(g.W + g.pw, (long)(g.OW - 1) * g.sw + g.KW);
  const long C = g.C, CO = g.CO;
  const long COp = round_up(CO, NR);
  const int ntaps = g.KD * g.KH * g.KW;
  const long K = (long)ntaps * C;
  const long P = (long)g.N * g.OD * g.OH * g.OW;
  if (K == 0 || CO == 0) return 0;
  if (P == 0) {
    memset(dw, 0, sizeof(float) * K * CO);
    return 0;
  }
  // MR floats of slack: a partial contiguous tile reads past the last channel.
  float* xp = falloc((size_t)g.N * Dp * Hp * Wp * C, MR + 64);
  float* dyp = COp == CO ? nullptr : falloc((size_t)P * COp);
  // Weight rows (kd, kh, kw, ci): the KW * C rows of one (kd, kh) read consecutive floats.
  const long seg = (long)g.KW * C;
  const int nseg = g.KD * g.KH;
  const bool contig = seg >= MR;
  const long ntiles = contig ? (long)nseg * ceil_div(seg, MR) : ceil_div(K, MR);
  long* tile_off = static_cast<long*>(malloc(sizeof(long) * ntiles * MR));
  long* tile_row = static_cast<long*>(malloc(sizeof(long) * ntiles * MR));
  // Parts: from the geometry only (>= 2048 output voxels a part, <= 8 parts, partial buffers
  // <= ~64 MB), so the summation order, hence dw, does not depend on the thread count.
  const long R = (long)g.N * g.OD * g.OH;
  long nparts = lmin(8, P / 2048);
  nparts = lmin(nparts, (64L << 20) / (long)(sizeof(float) * K * COp));
  nparts = lmax(1, lmin(nparts, R));
  // One part and no padded columns: the tiles write dw itself (no partials, no reduction).
  const bool direct = nparts == 1 && COp == CO;
  float* partials = direct ? dw : falloc((size_t)nparts * K * COp);
  if (!xp || (COp != CO && !dyp) || !tile_off || !tile_row || !partials) {
    free(xp), free(dyp), free(tile_off), free(tile_row);
    if (!direct) free(partials);
    return 1;
  }
  pad_copy(rt, x, xp, g.N, g.D, g.H, g.W, C, Dp, Hp, Wp, g.pd, g.ph, g.pw);
  memset(xp + (size_t)g.N * Dp * Hp * Wp * C, 0, sizeof(float) * (MR + 64));
  if (dyp) {
    for (long p = 0; p < P; ++p) {
      memcpy(dyp + p * COp, dy + p * CO, sizeof(float) * CO);
      memset(dyp + p * COp + CO, 0, sizeof(float) * (COp - CO));
    }
  }
  if (contig) {
    long ti = 0;
    for (int kd = 0; kd < g.KD; ++kd)
      for (int kh = 0; kh < g.KH; ++kh) {
        const long sidx = (long)kd * g.KH + kh;
        const long to = (kd * Hp + kh) * Wp * C;
        for (long e0 = 0; e0 < seg; e0 += MR, ++ti)
          for (int r = 0; r < MR; ++r) {
            tile_off[ti * MR + r] = to + e0 + r;
            tile_row[ti * MR + r] = e0 + r < seg ? sidx * seg + e0 + r : -1;
          }
      }
  } else {
    for (long k = 0; k < ntiles * MR; ++k) {
      if (k < K) {
        const long sidx = k / seg, e = k % seg;
        const long kh = sidx % g.KH, kd = sidx / g.KH;
        tile_off[k] = (kd * Hp + kh) * Wp * C + e;
        tile_row[k] = k;
      } else {
        tile_off[k] = 0;
        tile_row[k] = -1;
      }
    }
  }
  FilterJob j;
  j.xp = xp;
  j.dyp = dyp ? dyp : dy;
  j.Dp = Dp, j.Hp = Hp, j.Wp = Wp, j.C = C;
  j.OD = g.OD, j.OH = g.OH, j.OW = g.OW, j.COp = COp;
  j.sd = g.sd, j.sh = g.sh, j.sw = g.sw;
  j.R = R;
  j.rows_per_part = ceil_div(R, nparts);
  j.G = lmax(1, lmin(kMaxChunk, ceil_div(rt->tune[2] > 0 ? rt->tune[2] : 128, g.OW)));
  j.ntiles = (int)ntiles;
  j.tile_off = tile_off;
  j.tile_row = tile_row;
  j.npanels = (int)(COp / NR);
  j.partials = partials;
  j.ldo = direct ? CO : COp;
  j.K = K;
  const long nparts_used = ceil_div(R, j.rows_per_part);
  // Enough tasks for load balance (>= 8 per thread), tile blocks of >= 4 tiles.
  const long units = nparts_used * j.npanels;
  j.ntblocks = (int)lmax(1, lmin(ceil_div(8L * rt->nthreads, units), ntiles / 4));
  const int ntasks = (int)(units * j.ntblocks);
  if (contig)
    rt->parallel_for(rt, ntasks, &FilterKernel<V, MR, NV, true>::task, &j);
  else
    rt->parallel_for(rt, ntasks, &FilterKernel<V, MR, NV, false>::task, &j);
  if (direct) {
    free(xp), free(dyp), free(tile_off), free(tile_row);
    return 0;
  }
  ReduceJob rj;
  rj.partials = partials;
  rj.dw = dw;
  rj.K = K, rj.CO = CO, rj.COp = COp;
  rj.nparts = (int)nparts_used;
  rj.rows_per_task = lmax(1, ceil_div(K, 4L * rt->nthreads));
  rt->parallel_for(rt, (int)ceil_div(K, rj.rows_per_task), &reduce_task, &rj);
  free(xp), free(dyp), free(tile_off), free(tile_row), free(partials);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Tile-shape tables. V8: 8-lane vectors (16 registers); V16: 16-lane vectors (32 registers).
// Shapes are chosen by the number of output columns (channels) of each GEMM.
// ---------------------------------------------------------------------------------------
template <class V8>
struct Table8 {
  static int forward(const Runtime* rt, const Geom& g, const float* x, const float* w, float* y) {
    if (g.CO <= 8) return forward_impl<V8, 12, 1>(rt, g, x, w, y);
    return forward_impl<V8, 6, 2>(rt, g, x, w, y);
  }
  static int backprop_input(const Runtime* rt, const Geom& g, const float* dy, const float* w, float* dx) {
    if (g.C <= 8) return backprop_input_impl<V8, 12, 1>(rt, g, dy, w, dx);
    return backprop_input_impl<V8, 6, 2>(rt, g, dy, w, dx);
  }
  static int backprop_filter(const Runtime* rt, const Geom& g, const float* x, const float* dy, float* dw) {
    if (g.C == 1 && g.CO <= 4 && g.sw == 1) return backprop_filter_c1<V8>(rt, g, x, dy, dw);
    if (g.CO <= 8) return backprop_filter_impl<V8, 12, 1>(rt, g, x, dy, dw);
    return backprop_filter_impl<V8, 6, 2>(rt, g, x, dy, dw);
  }
};

template <class V8, class V16>
struct Table16 {
  static int forward(const Runtime* rt, const Geom& g, const float* x, const float* w, float* y) {
    if (g.CO <= 8) return forward_impl<V8, 12, 1>(rt, g, x, w, y);
    if (g.CO <= 16) return forward_impl<V16, 14, 1>(rt, g, x, w, y);
    return forward_impl<V16, 12, 2>(rt, g, x, w, y);
  }
  static int backprop_input(const Runtime* rt, const Geom& g, const float* dy, const float* w, float* dx) {
    if (g.C <= 8) return backprop_input_impl<V8, 12, 1>(rt, g, dy, w, dx);
    if (g.C <= 16) return backprop_input_impl<V16, 14, 1>(rt, g, dy, w, dx);
    return backprop_input_impl<V16, 12, 2>(rt, g, dy, w, dx);
  }
  static int backprop_filter(const Runtime* rt, const Geom& g, const float* x, const float* dy, float* dw) {
    if (g.C == 1 && g.CO <= 4 && g.sw == 1) return backprop_filter_c1<V16>(rt, g, x, dy, dw);
    if (g.CO <= 8) return backprop_filter_impl<V8, 12, 1>(rt, g, x, dy, dw);
    if (g.CO <= 16) return backprop_filter_impl<V16, 12, 1>(rt, g, x, dy, dw);
    return backprop_filter_impl<V16, 12, 2>(rt, g, x, dy, dw);
  }
};
