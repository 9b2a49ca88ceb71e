// Direct stride-1 convolution (NHWC input, HWIO filter) as an implicit matrix product, and its
// filter gradient, for the small-channel layers Winograd does not take (LeNet-5's 5x5
// convolutions over 1 and 6 channels, first layers over 1 or 3 channels). The input is first
// copied into a zero-padded buffer whose rows are wide enough for whole 4-pixel tiles, so the inner loop has no border
// tests: for one output row and one filter row r, the window of output pixel ow is the
// contiguous run of kw * ci floats starting at pixel ow of padded input row oh + r. Each tile
// keeps 4 output pixels x 8 (or 4) output channels in registers over the whole window
// (kh * kw * ci multiply-adds), then applies the bias and activation as it is written (a fused
// conv layer: no separate bias add or activation pass).
// Same memory rules as conv-grad.c: no C stack, no static data, writes only output and scratch.
#include <wasm_simd128.h>
#include "activation.h"
#include "tile.h"

typedef float f32;

#define ADD wasm_f32x4_add
#define MUL wasm_f32x4_mul
#define AI __attribute__((always_inline)) static inline
#define UNROLL _Pragma("clang loop unroll(full)")

static inline int round4(int v) { return (v + 3) & ~3; }
static inline int min_i(int a, int b) { return a < b ? a : b; }



// 4 output pixels (a_pix floats apart in the padded input) x NV vectors of output channels:
// the sum over kh filter rows (a_row floats apart) of kwci taps each, plus bias, activated.
// Writes `pixels` (the last tile of a row may have fewer than 4) x `lanes` channels.
#define CONV_TILE(NV)                                                                         \
  AI void conv_tile_##NV(const f32 *a, int a_pix, int a_row, int kh, int kwci, const f32 *b,  \
                         int ldb, const f32 *bias, int act, f32 *y, int ldy, int pixels,      \
                         int lanes) {                                               \
    v128_t acc[4][NV];                                                                        \
    UNROLL                                                                                    \
    for (int i = 0; i < 4; i++)                                                               \
      UNROLL                                                                                  \
      for (int j = 0; j < NV; j++) acc[i][j] = wasm_v128_load(bias + 4 * j);                  \
    for (int r = 0; r < kh; r++) {                                                            \
      const f32 *ar = a + r * a_row;                                                          \
      const f32 *br = b + r * kwci * ldb;                                                     \
      for (int k = 0; k < kwci; k++) {                                                        \
        v128_t bv[NV];                                                                        \
        UNROLL                                                                                \
        for (int j = 0; j < NV; j++) bv[j] = wasm_v128_load(br + k * ldb + 4 * j);            \
        UNROLL                                                                                \
        for (int i = 0; i < 4; i++) {                                                         \
          const v128_t av = wasm_v128_load32_splat(ar + i * a_pix + k);                       \
          UNROLL                                                                              \
          for (int j = 0; j < NV; j++) acc[i][j] = MADD(acc[i][j], av, bv[j]);                 \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
    UNROLL                                                                                    \
    for (int i = 0; i < 4; i++)                                                               \
      if (i < pixels)                                                                         \
        UNROLL                                                                                \
        for (int j = 0; j < NV; j++) store_lanes(y + i * ldy + 4 * j, activate(acc[i][j], act), lanes - 4 * j); \
  }
CONV_TILE(1)
CONV_TILE(2)


// One input channel, output channels not a multiple of 4 (LeNet-5's and lenet's first layers,
// 1 -> 6): pixels in lanes instead. Two output channels x NP vectors of 4 adjacent output
// pixels; a tap loads NP input vectors (unaligned, the padded row is contiguous) and two
// splatted weights, and every lane is a real output (the channel tiles above use 6 of 8 lanes
// at 6 channels). Bias and activation as in conv_tile; the two channels' lanes are interleaved
// back into NHWC as they are stored, 2 floats (or 1, past the last channel) per pixel.
#define CONV1_TILE(NP)                                                                          \
  AI void conv1_tile_##NP(const f32 *a, int a_row, int kh, int kw, const f32 *w, int ldw,      \
                          const f32 *bias, int act, f32 *y, int ldy, int pixels, int lanes) {  \
    v128_t acc0[NP], acc1[NP];                                                                  \
    const v128_t b0 = wasm_v128_load32_splat(bias), b1 = wasm_v128_load32_splat(bias + 1);      \
    UNROLL                                                                                      \
    for (int p = 0; p < NP; p++) {                                                              \
      acc0[p] = b0;                                                                             \
      acc1[p] = b1;                                                                             \
    }                                                                                           \
    for (int r = 0; r < kh; r++) {                                                              \
      const f32 *ar = a + r * a_row;                                                            \
      const f32 *wr = w + r * kw * ldw;                                                         \
      for (int s = 0; s < kw; s++) {                                                            \
        const v128_t w0 = wasm_v128_load32_splat(wr + s * ldw);                                 \
        const v128_t w1 = wasm_v128_load32_splat(wr + s * ldw + 1);                             \
        UNROLL                                                                                  \
        for (int p = 0; p < NP; p++) {                                                          \
          const v128_t xv = wasm_v128_load(ar + s + 4 * p);                                     \
          acc0[p] = MADD(acc0[p], xv, w0);                                                       \
          acc1[p] = MADD(acc1[p], xv, w1);                                                       \
        }                                                                                       \
      }                                                                                         \
    }                                                                                           \
    UNROLL                                                                                      \
    for (int p = 0; p < NP; p++) {                                                              \
      const v128_t c0 = activate(acc0[p], act), c1 = activate(acc1[p], act);                   \
      const v128_t lo = wasm_i32x4_shuffle(c0, c1, 0, 4, 1, 5);                                 \
      const v128_t hi = wasm_i32x4_shuffle(c0, c1, 2, 6, 3, 7);                                 \
      f32 *yp = y + 4 * p * ldy;                                                                \
      const int left = pixels - 4 * p;                                                          \
      if (lanes >= 2) {                                                                         \
        if (left > 0) wasm_v128_store64_lane(yp, lo, 0);                                        \
        if (left > 1) wasm_v128_store64_lane(yp + ldy, lo, 1);                                  \
        if (left > 2) wasm_v128_store64_lane(yp + 2 * ldy, hi, 0);                              \
        if (left > 3) wasm_v128_store64_lane(yp + 3 * ldy, hi, 1);                              \
      } else {                                                                                  \
        if (left > 0) wasm_v128_store32_lane(yp, c0, 0);                                        \
        if (left > 1) wasm_v128_store32_lane(yp + ldy, wasm_i32x4_shuffle(c0, c0, 1, 1, 1, 1), 0); \
        if (left > 2) wasm_v128_store32_lane(yp + 2 * ldy, wasm_i32x4_shuffle(c0, c0, 2, 2, 2, 2), 0); \
        if (left > 3) wasm_v128_store32_lane(yp + 3 * ldy, wasm_i32x4_shuffle(c0, c0, 3, 3, 3, 3), 0); \
      }                                                                                         \
    }                                                                                           \
  }
CONV1_TILE(1)
CONV1_TILE(2)
CONV1_TILE(3)
CONV1_TILE(4)

struct direct_geom {
  int hp, wp, kwci, co4;
};

static struct direct_geom direct_geom(int out_h, int out_w, int ci, int co, int kh, int kw) {
  struct direct_geom g;
  g.hp = out_h + kh - 1;
  g.wp = round4(out_w) + kw - 1;
  g.kwci = kw * ci;
  g.co4 = round4(co);
  return g;
}

// xp[n][r][c][:] = x[n][r - pad_top][c - pad_left][:] inside the image, else 0.
static void pad_input(const f32 *x, f32 *xp, int batch, int in_h, int in_w, int ci, int hp,
                      int wp, int pad_top, int pad_left) {
  const int row = wp * ci;
  const int c0 = pad_left < 0 ? 0 : pad_left;
  const int c1 = min_i(wp, pad_left + in_w);
  for (int n = 0; n < batch; n++) {
    for (int r = 0; r < hp; r++) {
      f32 *dst = xp + (n * hp + r) * row;
      const int sr = r - pad_top;
      if (sr < 0 || sr >= in_h || c1 <= c0) {
        for (int i = 0; i < row; i++) dst[i] = 0.f;
        continue;
      }
      const f32 *src = x + ((n * in_h + sr) * in_w + (c0 - pad_left)) * ci;
      for (int i = 0; i < c0 * ci; i++) dst[i] = 0.f;
      for (int i = 0; i < (c1 - c0) * ci; i++) dst[c0 * ci + i] = src[i];
      for (int i = c1 * ci; i < row; i++) dst[i] = 0.f;
    }
  }
}

// y[n][oy][ox][o] = act(bias[o] + sum_{r,s,c} xpad[n][oy + r][ox + s][c] * w[r][s][c][o]) with
// xpad the input padded by pad_top/pad_left (and whatever the output size implies at the
// bottom and right). bias 0 = none. act: 0 linear, 1 relu, 2 tanh (activation.h).
// scratch: direct_scratch floats (native-module.ts): the padded input, the packed filter
// [kh][kw*ci][co4], and the padded bias.
__attribute__((export_name("direct_conv2d"))) void direct_conv2d(
    const f32 *x, const f32 *w, const f32 *bias, f32 *y, f32 *scratch, int batch, int in_h,
    int in_w, int ci, int out_h, int out_w, int co, int kh, int kw, int pad_top, int pad_left,
    int act) {
  const struct direct_geom g = direct_geom(out_h, out_w, ci, co, kh, kw);
  f32 *xp = scratch;
  f32 *wk = xp + round4(batch * g.hp * g.wp * ci + 4);
  f32 *b4 = wk + kh * g.kwci * g.co4;
  pad_input(x, xp, batch, in_h, in_w, ci, g.hp, g.wp, pad_top, pad_left);
  for (int r = 0; r < kh; r++)
    for (int s = 0; s < kw; s++)
      for (int c = 0; c < ci; c++) {
        f32 *dst = wk + ((r * kw + s) * ci + c) * g.co4;
        for (int o = 0; o < g.co4; o++) {
          f32 v = 0.f;
          if (o < co) v = w[((r * kw + s) * ci + c) * co + o];
          dst[o] = v;
        }
      }
  for (int o = 0; o < g.co4; o++) b4[o] = bias && o < co ? bias[o] : 0.f;
  const int a_row = g.wp * ci;
  // One input channel into a channel count that is not a multiple of 4: pixels in lanes
  // (conv1_tile, 16 output pixels x 2 channels a tile); else the channel tiles below.
  const int pixels_in_lanes = ci == 1 && (co & 3) != 0;
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      const f32 *arow = xp + (n * g.hp + oh) * a_row;
      f32 *yrow = y + (n * out_h + oh) * out_w * co;
      if (pixels_in_lanes) {
        for (int ow = 0; ow < out_w; ow += 16) {
          const int pixels = min_i(16, out_w - ow);
          for (int o = 0; o < co; o += 2) {
            const f32 *a = arow + ow;
            f32 *yt = yrow + ow * co + o;
            const int lanes = min_i(2, co - o);
            switch ((pixels + 3) / 4) {
              case 4: conv1_tile_4(a, a_row, kh, kw, wk + o, g.co4, b4 + o, act, yt, co, pixels, lanes); break;
              case 3: conv1_tile_3(a, a_row, kh, kw, wk + o, g.co4, b4 + o, act, yt, co, pixels, lanes); break;
              case 2: conv1_tile_2(a, a_row, kh, kw, wk + o, g.co4, b4 + o, act, yt, co, pixels, lanes); break;
              default: conv1_tile_1(a, a_row, kh, kw, wk + o, g.co4, b4 + o, act, yt, co, pixels, lanes); break;
            }
          }
        }
        continue;
      }
      for (int ow = 0; ow < out_w; ow += 4) {
        const int pixels = min_i(4, out_w - ow);
        const f32 *a = arow + ow * ci;
        f32 *yt = yrow + ow * co;
        int o = 0;
        for (; o + 8 <= g.co4; o += 8)
          conv_tile_2(a, ci, a_row, kh, g.kwci, wk + o, g.co4, b4 + o, act, yt + o, co, pixels,
                      min_i(8, co - o));
        if (o < g.co4)
          conv_tile_1(a, ci, a_row, kh, g.kwci, wk + o, g.co4, b4 + o, act, yt + o, co, pixels,
                      co - o);
      }
    }
  }
}

// NK taps (t0 .. t0 + NK - 1 in [kh][kw * ci] order, which may span filter rows) x NV vectors
// of output channels: adds sum_{oh, ow} xpad[oh + r][ow * ci + k] * dy[oh][ow][o] for one image
// into acc (one row of ldacc floats a tap). Each tap's accumulators are independent chains, so
// the adds overlap, and dy's channel vectors are loaded once per pixel for all NK taps. At most
// 8 accumulators: V8 spilled larger tiles (10 or 12: 1.3 to 2x slower).
#define GRAD_TILE(NK, NV)                                                                      \
  AI void grad_tile_##NK##_##NV(const f32 *img, int t0, int kwci, int a_pix, int a_row,        \
                                int out_h, int out_w, const f32 *dy, int ldy, f32 *acc,        \
                                int ldacc) {                                                   \
    v128_t s[NK][NV];                                                                          \
    const f32 *ap[NK];                                                                         \
    UNROLL                                                                                     \
    for (int i = 0; i < NK; i++) {                                                             \
      ap[i] = img + ((t0 + i) / kwci) * a_row + (t0 + i) % kwci;                               \
      UNROLL                                                                                   \
      for (int j = 0; j < NV; j++) s[i][j] = wasm_v128_load(acc + (t0 + i) * ldacc + 4 * j);   \
    }                                                                                          \
    for (int oh = 0; oh < out_h; oh++) {                                                       \
      const f32 *dr = dy + oh * out_w * ldy;                                                   \
      const int row = oh * a_row;                                                              \
      for (int ow = 0; ow < out_w; ow++) {                                                     \
        v128_t dv[NV];                                                                         \
        UNROLL                                                                                 \
        for (int j = 0; j < NV; j++) dv[j] = wasm_v128_load(dr + ow * ldy + 4 * j);            \
        UNROLL                                                                                 \
        for (int i = 0; i < NK; i++) {                                                         \
          const v128_t av = wasm_v128_load32_splat(ap[i] + row + ow * a_pix);                  \
          UNROLL                                                                               \
          for (int j = 0; j < NV; j++) s[i][j] = MADD(s[i][j], av, dv[j]);                      \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
    UNROLL                                                                                     \
    for (int i = 0; i < NK; i++)                                                               \
      UNROLL                                                                                   \
      for (int j = 0; j < NV; j++) wasm_v128_store(acc + (t0 + i) * ldacc + 4 * j, s[i][j]);   \
  }
GRAD_TILE(1, 1) GRAD_TILE(2, 1) GRAD_TILE(3, 1) GRAD_TILE(4, 1)
GRAD_TILE(5, 1) GRAD_TILE(6, 1) GRAD_TILE(7, 1) GRAD_TILE(8, 1)
GRAD_TILE(1, 2) GRAD_TILE(2, 2) GRAD_TILE(3, 2) GRAD_TILE(4, 2)
GRAD_TILE(1, 4) GRAD_TILE(2, 4)

// dw[r][s][c][o] = sum_{n, oy, ox} xpad[n][oy + r][ox + s][c] * dy[n][oy][ox][o]: the filter
// gradient of direct_conv2d's convolution (same padding), over the same zero-padded copy of the
// input, so no tap needs border tests. A register tile takes 8 taps x 4 output channels, 4 x 8
// or 2 x 16; images are the outer loop, so one image's input and gradient stay in cache for
// every tile. scratch: the padded input and the accumulators [kh][kw*ci][co4]
// (native-module.ts). dy may be read up to 3 floats past its end (callers leave that slack).
__attribute__((export_name("direct_conv2d_backprop_filter"))) void direct_conv2d_backprop_filter(
    const f32 *x, const f32 *dy, f32 *dw, f32 *scratch, int batch, int in_h, int in_w, int ci,
    int out_h, int out_w, int co, int kh, int kw, int pad_top, int pad_left) {
  const struct direct_geom g = direct_geom(out_h, out_w, ci, co, kh, kw);
  f32 *xp = scratch;
  f32 *acc = xp + round4(batch * g.hp * g.wp * ci + 4);
  const int taps = kh * g.kwci;
  for (int i = 0; i < taps * g.co4; i++) acc[i] = 0.f;
  pad_input(x, xp, batch, in_h, in_w, ci, g.hp, g.wp, pad_top, pad_left);
  const int a_row = g.wp * ci;
  for (int n = 0; n < batch; n++) {
    const f32 *img = xp + n * g.hp * a_row;
    const f32 *dimg = dy + n * out_h * out_w * co;
    for (int o = 0; o < g.co4;) {
      const int nv = g.co4 - o >= 16 ? 4 : g.co4 - o >= 8 ? 2 : 1;
      const int step = 8 / nv;
      for (int t = 0; t < taps; t += step) {
        const int nk = min_i(step, taps - t);
        switch (nv * 8 + nk) {
#define GRAD_CASE(NK, NV) \
  case NV * 8 + NK: grad_tile_##NK##_##NV(img, t, g.kwci, ci, a_row, out_h, out_w, dimg + o, co, acc + o, g.co4); break;
          GRAD_CASE(1, 1) GRAD_CASE(2, 1) GRAD_CASE(3, 1) GRAD_CASE(4, 1)
          GRAD_CASE(5, 1) GRAD_CASE(6, 1) GRAD_CASE(7, 1) GRAD_CASE(8, 1)
          GRAD_CASE(1, 2) GRAD_CASE(2, 2) GRAD_CASE(3, 2) GRAD_CASE(4, 2)
          GRAD_CASE(1, 4) GRAD_CASE(2, 4)
        }
      }
      o += 4 * nv;
    }
  }
  for (int t = 0; t < taps; t++)
    for (int o = 0; o < co; o++) dw[t * co + o] = acc[t * g.co4 + o];
}
