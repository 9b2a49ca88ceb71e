// Winograd F(4x4, 3x3) convolution for NHWC input and HWIO 3x3 filters, stride 1, dilation 1
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). Each 4x4 block of
// outputs is computed from a 6x6 block of input as A^T [(G g G^T) . (B^T d B)] A, and the 36
// element-wise products, summed over input channels, become 36 small matrix products: 36 * ci
// * co multiply-adds per 16 outputs instead of 144 * ci * co, a quarter of the direct work.
// The filter gradient uses the same transforms (the transpose of the forward algorithm):
// dW = G^T [sum over blocks of (A dy A^T) . (B^T d B)] G.
//
// Channel counts must be multiples of 4 (the transforms run on 4 channels at a time). Like the
// other kernels in this module: no C stack, no static data, writes only to its output and
// scratch (build.sh checks).
#include <wasm_simd128.h>
#include "activation.h"
#include "tile.h"

typedef float f32;

// Blocks of output tiles transformed and multiplied together: 32 tiles keep a block's
// transformed input (36 x 32 x channels floats) in the L2 cache.
#define TB 32
#define ALPHA 6
#define POS (ALPHA * ALPHA)

#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define K(c) wasm_f32x4_splat(c)
#define AI __attribute__((always_inline)) static inline
// Small fixed-size loops over registers must unroll, or their arrays would live on the C stack.
#define UNROLL _Pragma("clang loop unroll(full)")

static inline int min_i(int a, int b) { return a < b ? a : b; }

// Floats between consecutive positions p of a block buffer ([36][TB][channels]). The extra 16
// floats (a cache line) keep the 36 positions of one tile out of a single cache set: without
// them the stride is a multiple of 4 KiB and the transforms thrash the L1 cache.
static inline int block_stride(int channels) { return TB * channels + 16; }

// r = B^T d (6 -> 6), the input transform.
AI void bt6(v128_t r[6], const v128_t d0, const v128_t d1, const v128_t d2, const v128_t d3,
            const v128_t d4, const v128_t d5) {
  const v128_t four = K(4.f), mfour = K(-4.f), mfive = K(-5.f), two = K(2.f);
  const v128_t e = SUB(d4, d2), s = SUB(d3, d1);
  r[0] = MADD(MADD(d4, four, d0), mfive, d2);
  r[1] = MADD(ADD(d3, d4), mfour, ADD(d1, d2));
  r[2] = MADD(SUB(d4, d3), four, SUB(d1, d2));
  r[3] = MADD(e, two, s);
  r[4] = MADD(e, K(-2.f), s);
  r[5] = MADD(MADD(d5, four, d1), mfive, d3);
}

// r = G g (3 -> 6), the filter transform.
AI void g6(v128_t r[6], const v128_t g0, const v128_t g1, const v128_t g2) {
  const v128_t s = ADD(g0, g2);
  r[0] = MUL(K(0.25f), g0);
  r[1] = MUL(K(-1.f / 6.f), ADD(s, g1));
  r[2] = MUL(K(-1.f / 6.f), SUB(s, g1));
  const v128_t a = ADD(MUL(K(1.f / 24.f), g0), MUL(K(1.f / 6.f), g2));
  const v128_t b = MUL(K(1.f / 12.f), g1);
  r[3] = ADD(a, b);
  r[4] = SUB(a, b);
  r[5] = g2;
}

// r = A^T m (6 -> 4), the output transform.
AI void at4(v128_t r[4], const v128_t m0, const v128_t m1, const v128_t m2, const v128_t m3,
            const v128_t m4, const v128_t m5) {
  const v128_t p12 = ADD(m1, m2), d12 = SUB(m1, m2);
  const v128_t p34 = ADD(m3, m4), d34 = SUB(m3, m4);
  r[0] = ADD(ADD(m0, p12), p34);
  r[1] = MADD(d12, K(2.f), d34);
  r[2] = MADD(p12, K(4.f), p34);
  r[3] = MADD(ADD(d12, m5), K(8.f), d34);
}

// r = A y (4 -> 6), the transform of an output-gradient tile.
AI void a6(v128_t r[6], const v128_t y0, const v128_t y1, const v128_t y2, const v128_t y3) {
  const v128_t e = ADD(y0, y2), o = ADD(y1, y3);
  const v128_t e4 = MADD(y0, K(4.f), y2), o8 = MADD(MUL(K(2.f), y1), K(8.f), y3);
  r[0] = y0;
  r[1] = ADD(e, o);
  r[2] = SUB(e, o);
  r[3] = ADD(e4, o8);
  r[4] = SUB(e4, o8);
  r[5] = y3;
}

// r = G^T m (6 -> 3), the transform back to a filter gradient.
AI void gt3(v128_t r[3], const v128_t m0, const v128_t m1, const v128_t m2, const v128_t m3,
            const v128_t m4, const v128_t m5) {
  const v128_t p12 = ADD(m1, m2), d12 = SUB(m1, m2);
  const v128_t p34 = ADD(m3, m4), d34 = SUB(m3, m4);
  r[0] = ADD(SUB(MUL(K(0.25f), m0), MUL(K(1.f / 6.f), p12)), MUL(K(1.f / 24.f), p34));
  r[1] = ADD(MUL(K(-1.f / 6.f), d12), MUL(K(1.f / 12.f), d34));
  r[2] = ADD(ADD(MUL(K(-1.f / 6.f), p12), MUL(K(1.f / 6.f), p34)), m5);
}

struct geom {
  int in_h, in_w, ci, out_h, out_w, co, pad_top, pad_left, tiles_w, per_image;
};

// V[p][k][c..c+3] = (B^T d B)[p] for the 6x6 input block of tile `tile`, for every channel
// vector; input outside the image reads as zero.
AI void input_transform(const struct geom *g, const f32 *x, int tile, f32 *v, int k) {
  const int n = tile / g->per_image, r = tile % g->per_image;
  const int iy0 = (r / g->tiles_w) * 4 - g->pad_top, ix0 = (r % g->tiles_w) * 4 - g->pad_left;
  const f32 *img = x + n * g->in_h * g->in_w * g->ci;
  // Rows [r0, r1) and columns [c0, c1) of the block lie inside the image.
  const int r0 = iy0 < 0 ? -iy0 : 0, r1 = min_i(ALPHA, g->in_h - iy0);
  const int c0 = ix0 < 0 ? -ix0 : 0, c1 = min_i(ALPHA, g->in_w - ix0);
  const v128_t zero = K(0.f);
  for (int c = 0; c < g->ci; c += 4) {
    v128_t t[ALPHA][ALPHA];
    UNROLL
    for (int i = 0; i < ALPHA; i++) {
      v128_t d[ALPHA];
      const f32 *row = img + ((iy0 + i) * g->in_w + ix0) * g->ci + c;
      UNROLL
      for (int j = 0; j < ALPHA; j++) d[j] = i >= r0 && i < r1 && j >= c0 && j < c1 ? wasm_v128_load(row + j * g->ci) : zero;
      bt6(t[i], d[0], d[1], d[2], d[3], d[4], d[5]);
    }
    UNROLL
    for (int j = 0; j < ALPHA; j++) {
      v128_t o[ALPHA];
      bt6(o, t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]);
      UNROLL
      for (int i = 0; i < ALPHA; i++) wasm_v128_store(v + (i * ALPHA + j) * block_stride(g->ci) + k * g->ci + c, o[i]);
    }
  }
}

static void zero_tile(f32 *v, int k, int channels) {
  for (int p = 0; p < POS; p++)
    for (int c = 0; c < channels; c += 4) wasm_v128_store(v + p * block_stride(channels) + k * channels + c, K(0.f));
}

// out[i][n..] (+)= sum_k a[i * a_row + k * a_k] * b[k][n..] for 4 rows i, as 4 x 8 (NV = 2) or
// 4 x 4 (NV = 1) register tiles: one matrix product of the Winograd domain. The forward pass
// reads a by rows (a_row = lda, a_k = 1) into a fresh out; the filter gradient reads it
// transposed (a_row = 1, a_k = lda) and adds to out (`accumulate`, a constant once inlined).
#define GEMM_TILE(NV)                                                                        \
  AI void gemm_4x##NV(const f32 *a, int a_row, int a_k, const f32 *b, int ldb, f32 *out,    \
                      int ldo, int kdim, int accumulate) {                                  \
    v128_t acc[4][NV];                                                                      \
    UNROLL                                                                                  \
    for (int i = 0; i < 4; i++)                                                             \
      UNROLL                                                                                \
      for (int j = 0; j < NV; j++)                                                          \
        acc[i][j] = accumulate ? wasm_v128_load(out + i * ldo + 4 * j) : K(0.f);            \
    for (int k = 0; k < kdim; k++) {                                                        \
      v128_t bv[NV];                                                                        \
      UNROLL                                                                                \
      for (int j = 0; j < NV; j++) bv[j] = wasm_v128_load(b + k * ldb + 4 * j);             \
      UNROLL                                                                                \
      for (int i = 0; i < 4; i++) {                                                         \
        const v128_t av = wasm_v128_load32_splat(a + i * a_row + k * a_k);                  \
        UNROLL                                                                              \
        for (int j = 0; j < NV; j++) acc[i][j] = MADD(acc[i][j], av, bv[j]);                 \
      }                                                                                     \
    }                                                                                       \
    UNROLL                                                                                  \
    for (int i = 0; i < 4; i++)                                                             \
      UNROLL                                                                                \
      for (int j = 0; j < NV; j++) wasm_v128_store(out + i * ldo + 4 * j, acc[i][j]);       \
  }
GEMM_TILE(1)
GEMM_TILE(2)

static struct geom make_geom(int in_h, int in_w, int ci, int out_h, int out_w, int co,
                             int pad_top, int pad_left) {
  struct geom g = {in_h, in_w, ci, out_h, out_w, co, pad_top, pad_left, 0, 0};
  g.tiles_w = (out_w + 3) / 4;
  g.per_image = ((out_h + 3) / 4) * g.tiles_w;
  return g;
}

// y[n][oy][ox][o] = sum_{ky,kx,c} x[n][oy+ky-pad_top][ox+kx-pad_left][c] * w[ky][kx][c][o],
// then + bias[o] unless bias is 0 (no tensor lives at address 0), then the activation `act`
// (activation.h: 0 linear, 1 relu, 2 tanh): the epilogue of a fused conv + bias + activation
// layer, applied as each tile is written.
// scratch: 36 * (ci * co + block_stride(ci) + block_stride(co)) floats.
__attribute__((export_name("winograd_conv2d"))) void winograd_conv2d(
    const f32 *x, const f32 *w, const f32 *bias, f32 *y, f32 *scratch, int batch, int in_h,
    int in_w, int ci, int out_h, int out_w, int co, int pad_top, int pad_left, int act) {
  const struct geom g = make_geom(in_h, in_w, ci, out_h, out_w, co, pad_top, pad_left);
  f32 *u = scratch;
  f32 *v = u + POS * ci * co;
  f32 *m = v + POS * block_stride(ci);
  // U[p][c][o] = (G g G^T)[p] for every channel pair.
  for (int c = 0; c < ci; c++) {
    for (int o = 0; o < co; o += 4) {
      v128_t t[3][ALPHA];
      UNROLL
      for (int a = 0; a < 3; a++) {
        const f32 *wr = w + (a * 3 * ci + c) * co + o;
        g6(t[a], wasm_v128_load(wr), wasm_v128_load(wr + ci * co), wasm_v128_load(wr + 2 * ci * co));
      }
      UNROLL
      for (int j = 0; j < ALPHA; j++) {
        v128_t r[ALPHA];
        g6(r, t[0][j], t[1][j], t[2][j]);
        UNROLL
        for (int i = 0; i < ALPHA; i++) wasm_v128_store(u + ((i * ALPHA + j) * ci + c) * co + o, r[i]);
      }
    }
  }
  const int total = batch * g.per_image;
  for (int t0 = 0; t0 < total; t0 += TB) {
    const int nt = min_i(TB, total - t0);
    const int ntp = (nt + 3) & ~3;
    for (int k = 0; k < ntp; k++) {
      if (k < nt) input_transform(&g, x, t0 + k, v, k);
      else zero_tile(v, k, ci);
    }
    for (int p = 0; p < POS; p++) {
      const f32 *vp = v + p * block_stride(ci), *up = u + p * ci * co;
      f32 *mp = m + p * block_stride(co);
      for (int k = 0; k < ntp; k += 4) {
        int o = 0;
        for (; o + 8 <= co; o += 8) gemm_4x2(vp + k * ci, ci, 1, up + o, co, mp + k * co + o, co, ci, 0);
        if (o < co) gemm_4x1(vp + k * ci, ci, 1, up + o, co, mp + k * co + o, co, ci, 0);
      }
    }
    // Y = A^T M A for each tile, written where it lies inside the output.
    const int ms = block_stride(co);
    for (int k = 0; k < nt; k++) {
      const int tile = t0 + k, n = tile / g.per_image, r = tile % g.per_image;
      const int oy0 = (r / g.tiles_w) * 4, ox0 = (r % g.tiles_w) * 4;
      const int rows = min_i(4, out_h - oy0), cols = min_i(4, out_w - ox0);
      f32 *img = y + n * out_h * out_w * co;
      for (int o = 0; o < co; o += 4) {
        const v128_t bv = bias ? wasm_v128_load(bias + o) : K(0.f);
        v128_t t[ALPHA][4];
        UNROLL
        for (int i = 0; i < ALPHA; i++) {
          const f32 *mr = m + i * ALPHA * ms + k * co + o;
          at4(t[i], wasm_v128_load(mr), wasm_v128_load(mr + ms), wasm_v128_load(mr + 2 * ms),
              wasm_v128_load(mr + 3 * ms), wasm_v128_load(mr + 4 * ms), wasm_v128_load(mr + 5 * ms));
        }
        UNROLL
        for (int b = 0; b < 4; b++) {
          v128_t res[4];
          at4(res, t[0][b], t[1][b], t[2][b], t[3][b], t[4][b], t[5][b]);
          if (b >= cols) continue;
          UNROLL
          for (int a = 0; a < 4; a++) {
            if (a >= rows) continue;
            wasm_v128_store(img + ((oy0 + a) * out_w + ox0 + b) * co + o, activate(ADD(res[a], bv), act));
          }
        }
      }
    }
  }
}

// dw[ky][kx][c][o] = sum_{n,oy,ox} x[n][oy+ky-pad_top][ox+kx-pad_left][c] * dy[n][oy][ox][o].
// scratch: 36 * (ci * co + block_stride(ci) + block_stride(co)) floats.
__attribute__((export_name("winograd_conv2d_backprop_filter"))) void winograd_conv2d_backprop_filter(
    const f32 *x, const f32 *dy, f32 *dw, f32 *scratch, int batch, int in_h, int in_w, int ci,
    int out_h, int out_w, int co, int pad_top, int pad_left) {
  const struct geom g = make_geom(in_h, in_w, ci, out_h, out_w, co, pad_top, pad_left);
  f32 *acc = scratch;
  f32 *v = acc + POS * ci * co;
  f32 *z = v + POS * block_stride(ci);
  for (int i = 0; i < POS * ci * co; i += 4) wasm_v128_store(acc + i, K(0.f));
  const int total = batch * g.per_image;
  const v128_t zero = K(0.f);
  for (int t0 = 0; t0 < total; t0 += TB) {
    const int nt = min_i(TB, total - t0);
    const int ntp = (nt + 3) & ~3;
    for (int k = 0; k < ntp; k++) {
      if (k >= nt) {
        zero_tile(v, k, ci);
        zero_tile(z, k, co);
        continue;
      }
      input_transform(&g, x, t0 + k, v, k);
      // Z = A dy A^T for the tile's 4x4 output gradient (zero outside the output).
      const int tile = t0 + k, n = tile / g.per_image, r = tile % g.per_image;
      const int oy0 = (r / g.tiles_w) * 4, ox0 = (r % g.tiles_w) * 4;
      const int rows = min_i(4, out_h - oy0), cols = min_i(4, out_w - ox0);
      const f32 *img = dy + n * out_h * out_w * co;
      for (int o = 0; o < co; o += 4) {
        v128_t t[4][ALPHA];
        UNROLL
        for (int a = 0; a < 4; a++) {
          v128_t d[4];
          UNROLL
          for (int b = 0; b < 4; b++)
            d[b] = a < rows && b < cols ? wasm_v128_load(img + ((oy0 + a) * out_w + ox0 + b) * co + o) : zero;
          a6(t[a], d[0], d[1], d[2], d[3]);
        }
        UNROLL
        for (int j = 0; j < ALPHA; j++) {
          v128_t res[ALPHA];
          a6(res, t[0][j], t[1][j], t[2][j], t[3][j]);
          UNROLL
          for (int i = 0; i < ALPHA; i++) wasm_v128_store(z + (i * ALPHA + j) * block_stride(co) + k * co + o, res[i]);
        }
      }
    }
    for (int p = 0; p < POS; p++) {
      const f32 *vp = v + p * block_stride(ci), *zp = z + p * block_stride(co);
      f32 *ap = acc + p * ci * co;
      for (int c = 0; c < ci; c += 4) {
        int o = 0;
        for (; o + 8 <= co; o += 8) gemm_4x2(vp + c, 1, ci, zp + o, co, ap + c * co + o, co, ntp, 1);
        if (o < co) gemm_4x1(vp + c, 1, ci, zp + o, co, ap + c * co + o, co, ntp, 1);
      }
    }
  }
  // dW = G^T M G for every channel pair.
  for (int c = 0; c < ci; c++) {
    for (int o = 0; o < co; o += 4) {
      v128_t t[ALPHA][3];
      UNROLL
      for (int i = 0; i < ALPHA; i++) {
        const f32 *mr = acc + (i * ALPHA * ci + c) * co + o;
        const int s = ci * co;
        gt3(t[i], wasm_v128_load(mr), wasm_v128_load(mr + s), wasm_v128_load(mr + 2 * s),
            wasm_v128_load(mr + 3 * s), wasm_v128_load(mr + 4 * s), wasm_v128_load(mr + 5 * s));
      }
      UNROLL
      for (int b = 0; b < 3; b++) {
        v128_t res[3];
        gt3(res, t[0][b], t[1][b], t[2][b], t[3][b], t[4][b], t[5][b]);
        UNROLL
        for (int a = 0; a < 3; a++) wasm_v128_store(dw + ((a * 3 + b) * ci + c) * co + o, res[a]);
      }
    }
  }
}
