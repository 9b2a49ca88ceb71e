// SIMD kernels for convolution gradients (NHWC input, HWIO filter), compiled into a small wasm
// module by build.sh. The module imports its memory: either the tfjs wasm backend's own heap,
// so tensors are used in place, or a private memory the JS side copies into. Kernels must
// therefore never use the C stack or static data (build.sh checks), and they write only to
// the output and scratch buffers they are given. They may read up to 3 floats past the end of
// an input row; callers guarantee that much readable memory after every input.
#include <wasm_simd128.h>

typedef float f32;

static inline int min_i(int a, int b) { return a < b ? a : b; }

// First output index o >= 0 with o * stride + offset >= 0.
static inline int first_valid(int offset, int stride) {
  return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
}

// One past the last output index o < out_size with o * stride + offset < in_size.
static inline int end_valid(int offset, int stride, int in_size, int out_size) {
  int lim = in_size - offset;
  return lim <= 0 ? 0 : min_i(out_size, (lim + stride - 1) / stride);
}

struct dw_args {
  const f32 *x, *dy;
  int in_w, in_c, out_w, out_c, stride_h, stride_w;
};

// Accumulates one (tap, ci block, co block) tile of the filter gradient for one image.
// NCI input channels x NCV vectors of 4 output channels stay in registers.
#define DW_TILE(NCI, NCV)                                                                      \
  static void dw_tile_##NCI##_##NCV(const struct dw_args *a, f32 *acc, int acc_stride,       \
                                    int oh0, int oh1, int ow0, int ow1, int row_off,         \
                                    int col_off) {                                           \
    v128_t s[NCI][NCV];                                                                      \
    for (int i = 0; i < NCI; i++)                                                            \
      for (int j = 0; j < NCV; j++) s[i][j] = wasm_v128_load(acc + i * acc_stride + 4 * j);  \
    for (int oh = oh0; oh < oh1; oh++) {                                                     \
      const f32 *xr = a->x + (oh * a->stride_h + row_off) * a->in_w * a->in_c;               \
      const f32 *dr = a->dy + oh * a->out_w * a->out_c;                                      \
      for (int ow = ow0; ow < ow1; ow++) {                                                   \
        const f32 *xp = xr + (ow * a->stride_w + col_off) * a->in_c;                         \
        const f32 *d = dr + ow * a->out_c;                                                   \
        v128_t dv[NCV];                                                                      \
        for (int j = 0; j < NCV; j++) dv[j] = wasm_v128_load(d + 4 * j);                     \
        for (int i = 0; i < NCI; i++) {                                                      \
          const v128_t xv = wasm_f32x4_splat(xp[i]);                                         \
          for (int j = 0; j < NCV; j++)                                                      \
            s[i][j] = wasm_f32x4_add(s[i][j], wasm_f32x4_mul(xv, dv[j]));                    \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    for (int i = 0; i < NCI; i++)                                                            \
      for (int j = 0; j < NCV; j++) wasm_v128_store(acc + i * acc_stride + 4 * j, s[i][j]);  \
  }

DW_TILE(1, 1) DW_TILE(2, 1) DW_TILE(3, 1) DW_TILE(4, 1)
DW_TILE(1, 2) DW_TILE(2, 2) DW_TILE(3, 2) DW_TILE(4, 2)
DW_TILE(1, 3) DW_TILE(2, 3) DW_TILE(1, 4) DW_TILE(2, 4)

// dw[fh][fw][ci][co] = sum_{n,oh,ow} x[n][oh*sh+fh-pt][ow*sw+fw-pl][ci] * dy[n][oh][ow][co]
// acc holds filter_h*filter_w*in_c*round_up(out_c, 4) floats of scratch. Images are the outer
// loop so each image's input and gradient stay in cache across all taps.
__attribute__((export_name("conv2d_backprop_filter"))) void conv2d_backprop_filter(
    const f32 *x, const f32 *dy, f32 *dw, f32 *acc, int batch, int in_h, int in_w, int in_c,
    int out_h, int out_w, int out_c, int filter_h, int filter_w, int stride_h, int stride_w,
    int pad_top, int pad_left) {
  const int co_vecs = (out_c + 3) / 4;
  const int co_pad = co_vecs * 4;
  const int acc_size = filter_h * filter_w * in_c * co_pad;
  for (int i = 0; i < acc_size; i++) acc[i] = 0.f;
  struct dw_args a = {0, 0, in_w, in_c, out_w, out_c, stride_h, stride_w};
  for (int n = 0; n < batch; n++) {
    a.x = x + n * in_h * in_w * in_c;
    a.dy = dy + n * out_h * out_w * out_c;
    for (int fh = 0; fh < filter_h; fh++) {
      const int row_off = fh - pad_top;
      const int oh0 = first_valid(row_off, stride_h);
      const int oh1 = end_valid(row_off, stride_h, in_h, out_h);
      for (int fw = 0; fw < filter_w; fw++) {
        const int col_off = fw - pad_left;
        const int ow0 = first_valid(col_off, stride_w);
        const int ow1 = end_valid(col_off, stride_w, in_w, out_w);
        if (oh0 >= oh1 || ow0 >= ow1) continue;
        f32 *acc_k = acc + (fh * filter_w + fw) * in_c * co_pad;
        for (int cv0 = 0; cv0 < co_vecs; cv0 += 4) {
          const int ncv = min_i(4, co_vecs - cv0);
          const int ci_step = ncv <= 2 ? 4 : 2;
          for (int ci0 = 0; ci0 < in_c; ci0 += ci_step) {
            const int nci = min_i(ci_step, in_c - ci0);
            struct dw_args b = a;
            b.x = a.x + ci0;
            b.dy = a.dy + cv0 * 4;
            f32 *t = acc_k + ci0 * co_pad + cv0 * 4;
            switch (ncv * 8 + nci) {
#define DW_CASE(NCI, NCV) \
  case NCV * 8 + NCI: dw_tile_##NCI##_##NCV(&b, t, co_pad, oh0, oh1, ow0, ow1, row_off, col_off); break;
              DW_CASE(1, 1) DW_CASE(2, 1) DW_CASE(3, 1) DW_CASE(4, 1)
              DW_CASE(1, 2) DW_CASE(2, 2) DW_CASE(3, 2) DW_CASE(4, 2)
              DW_CASE(1, 3) DW_CASE(2, 3) DW_CASE(1, 4) DW_CASE(2, 4)
            }
          }
        }
      }
    }
  }
  const int rows = filter_h * filter_w * in_c;
  for (int r = 0; r < rows; r++)
    for (int co = 0; co < out_c; co++) dw[r * out_c + co] = acc[r * co_pad + co];
}

// dx[n][ih][iw][ci] = sum_{fh,fw,co} dy[n][oh][ow][co] * w[fh][fw][ci][co], ih = oh*sh+fh-pt.
// scratch holds filter_h*filter_w*in_c*out_c floats (the filter transposed so ci is
// contiguous) followed by batch*in_h*in_w*round_up(in_c, 4) floats of padded output.
__attribute__((export_name("conv2d_backprop_input"))) void conv2d_backprop_input(
    const f32 *dy, const f32 *w, f32 *dx, f32 *scratch, int batch, int in_h, int in_w,
    int in_c, int out_h, int out_w, int out_c, int filter_h, int filter_w, int stride_h,
    int stride_w, int pad_top, int pad_left) {
  const int taps = filter_h * filter_w;
  const int ci_vecs = (in_c + 3) / 4;
  const int ci_pad = ci_vecs * 4;
  f32 *wt = scratch;
  f32 *out = scratch + taps * out_c * ci_pad;
  for (int k = 0; k < taps; k++)
    for (int co = 0; co < out_c; co++)
      for (int ci = 0; ci < ci_pad; ci++)
        wt[(k * out_c + co) * ci_pad + ci] = ci < in_c ? w[(k * in_c + ci) * out_c + co] : 0.f;
  for (int n = 0; n < batch; n++) {
    for (int ih = 0; ih < in_h; ih++) {
      for (int iw = 0; iw < in_w; iw++) {
        f32 *op = out + ((n * in_h + ih) * in_w + iw) * ci_pad;
        for (int cv = 0; cv < ci_vecs; cv++) {
          v128_t acc = wasm_f32x4_splat(0.f);
          for (int fh = 0; fh < filter_h; fh++) {
            const int t = ih + pad_top - fh;
            if (t < 0 || t % stride_h) continue;
            const int oh = t / stride_h;
            if (oh >= out_h) continue;
            for (int fw = 0; fw < filter_w; fw++) {
              const int u = iw + pad_left - fw;
              if (u < 0 || u % stride_w) continue;
              const int ow = u / stride_w;
              if (ow >= out_w) continue;
              const f32 *d = dy + ((n * out_h + oh) * out_w + ow) * out_c;
              const f32 *wk = wt + (fh * filter_w + fw) * out_c * ci_pad + cv * 4;
              for (int co = 0; co < out_c; co++)
                acc = wasm_f32x4_add(
                    acc, wasm_f32x4_mul(wasm_f32x4_splat(d[co]), wasm_v128_load(wk + co * ci_pad)));
            }
          }
          wasm_v128_store(op + cv * 4, acc);
        }
      }
    }
  }
  const int pixels = batch * in_h * in_w;
  for (int p = 0; p < pixels; p++)
    for (int ci = 0; ci < in_c; ci++) dx[p * in_c + ci] = out[p * ci_pad + ci];
}

// dx[n][oh*sh+fh-pt][ow*sw+fw-pl][ci] += cols[n][oh][ow][fh][fw][ci], positions outside the
// input dropped: the scatter half of an input gradient computed as dy [n*oh*ow, co] times the
// filter [fh*fw*ci, co] transposed (a matrix product) and then folded back ("col2im").
__attribute__((export_name("col2im"))) void col2im(const f32 *cols, f32 *dx, int batch, int in_h,
                                                   int in_w, int in_c, int out_h, int out_w,
                                                   int filter_h, int filter_w, int stride_h,
                                                   int stride_w, int pad_top, int pad_left) {
  const int pixels = batch * in_h * in_w * in_c;
  for (int i = 0; i < pixels; i++) dx[i] = 0.f;
  const int vec_c = in_c & ~3;
  for (int n = 0; n < batch; n++) {
    f32 *img = dx + n * in_h * in_w * in_c;
    for (int oh = 0; oh < out_h; oh++) {
      for (int ow = 0; ow < out_w; ow++) {
        const f32 *col = cols + ((n * out_h + oh) * out_w + ow) * filter_h * filter_w * in_c;
        for (int fh = 0; fh < filter_h; fh++) {
          const int ih = oh * stride_h + fh - pad_top;
          if (ih < 0 || ih >= in_h) continue;
          for (int fw = 0; fw < filter_w; fw++) {
            const int iw = ow * stride_w + fw - pad_left;
            if (iw < 0 || iw >= in_w) continue;
            const f32 *src = col + (fh * filter_w + fw) * in_c;
            f32 *dst = img + (ih * in_w + iw) * in_c;
            int c = 0;
            for (; c < vec_c; c += 4)
              wasm_v128_store(dst + c, wasm_f32x4_add(wasm_v128_load(dst + c), wasm_v128_load(src + c)));
            for (; c < in_c; c++) dst[c] += src[c];
          }
        }
      }
    }
  }
}

// The input gradient of a stride-1 convolution as one pass with no column buffer: the matrix
// product dy times the filter transposed and col2im's scatter-add, fused. With stride 1 the
// kw * ci values that one dy pixel and one filter row fh send to input row oh + fh - pad_top
// are contiguous in NHWC (kw adjacent pixels), so each tile computes NP adjacent dy pixels x NV
// vectors of that run over all out_c and adds them straight onto the input row. Nothing is
// multiplied by padding, unlike the forward convolution of a zero-padded dy.
#define FOLD_TILE(NP, NV)                                                                        \
  static inline __attribute__((always_inline)) void fold_tile_##NP##_##NV(                    \
      const f32 *d, int out_c, const f32 *w, int rp, f32 *dst, int in_c) {                     \
    v128_t s[NP][NV];                                                                          \
    for (int p = 0; p < NP; p++)                                                               \
      for (int j = 0; j < NV; j++) s[p][j] = wasm_f32x4_splat(0.f);                            \
    for (int co = 0; co < out_c; co++) {                                                       \
      v128_t wv[NV];                                                                           \
      for (int j = 0; j < NV; j++) wv[j] = wasm_v128_load(w + co * rp + 4 * j);                \
      for (int p = 0; p < NP; p++) {                                                           \
        const v128_t dv = wasm_v128_load32_splat(d + p * out_c + co);                          \
        for (int j = 0; j < NV; j++) s[p][j] = wasm_f32x4_add(s[p][j], wasm_f32x4_mul(dv, wv[j])); \
      }                                                                                        \
    }                                                                                          \
    for (int p = 0; p < NP; p++)                                                               \
      for (int j = 0; j < NV; j++) {                                                           \
        f32 *o = dst + p * in_c + 4 * j;                                                       \
        wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), s[p][j]));                        \
      }                                                                                        \
  }

FOLD_TILE(1, 1) FOLD_TILE(1, 2) FOLD_TILE(1, 3) FOLD_TILE(1, 4)
FOLD_TILE(2, 1) FOLD_TILE(2, 2) FOLD_TILE(2, 3) FOLD_TILE(2, 4)

// dx[n][oh+fh-pt][ow+fw-pl][ci] += sum_co dy[n][oh][ow][co] * w[fh][fw][ci][co], stride 1.
// scratch: filter_h * out_c * rp floats (the filter as wt[fh][co][fw * in_c + ci], each run
// zero-padded to rp = round_up(kw * in_c, 4)) and one image's gradient with the padding
// columns included, in_h x (out_w + filter_w - 1) pixels + 4 floats: whole vectors are added,
// and the zero weights past a run add 0 to the floats after it, which this buffer holds.
__attribute__((export_name("fold_backprop_input"))) void fold_backprop_input(
    const f32 *dy, const f32 *w, f32 *dx, f32 *scratch, int batch, int in_h, int in_w, int in_c,
    int out_h, int out_w, int out_c, int filter_h, int filter_w, int pad_top, int pad_left) {
  const int run = filter_w * in_c;
  const int rp = (run + 3) & ~3;
  const int rv = rp / 4;
  const int wp = out_w + filter_w - 1;
  f32 *wt = scratch;
  f32 *img = scratch + filter_h * out_c * rp;
  const int img_size = in_h * wp * in_c + 4;
  for (int fh = 0; fh < filter_h; fh++)
    for (int co = 0; co < out_c; co++)
      for (int r = 0; r < rp; r++)
        wt[(fh * out_c + co) * rp + r] = r < run ? w[(fh * run + r) * out_c + co] : 0.f;
  for (int n = 0; n < batch; n++) {
    for (int i = 0; i < img_size; i++) img[i] = 0.f;
    const f32 *dyn = dy + n * out_h * out_w * out_c;
    for (int oh = 0; oh < out_h; oh++) {
      for (int fh = 0; fh < filter_h; fh++) {
        const int ih = oh + fh - pad_top;
        if (ih < 0 || ih >= in_h) continue;
        f32 *row = img + ih * wp * in_c;
        const f32 *wr = wt + fh * out_c * rp;
        const f32 *dr = dyn + oh * out_w * out_c;
        for (int v0 = 0; v0 < rv; v0 += 4) {
          const int nv = min_i(4, rv - v0);
          const f32 *wv = wr + 4 * v0;
          // NP dy pixels from ow, the run's vectors v0 .. v0 + nv - 1.
#define FOLD_CALL(NP)                                                                  \
  switch (nv) {                                                                        \
    case 4: fold_tile_##NP##_4(dr + ow * out_c, out_c, wv, rp, row + ow * in_c + 4 * v0, in_c); break; \
    case 3: fold_tile_##NP##_3(dr + ow * out_c, out_c, wv, rp, row + ow * in_c + 4 * v0, in_c); break; \
    case 2: fold_tile_##NP##_2(dr + ow * out_c, out_c, wv, rp, row + ow * in_c + 4 * v0, in_c); break; \
    default: fold_tile_##NP##_1(dr + ow * out_c, out_c, wv, rp, row + ow * in_c + 4 * v0, in_c); break; \
  }
          int ow = 0;
          for (; ow + 2 <= out_w; ow += 2) FOLD_CALL(2)
          if (ow < out_w) FOLD_CALL(1)
#undef FOLD_CALL
        }
      }
    }
    f32 *dxn = dx + n * in_h * in_w * in_c;
    for (int ih = 0; ih < in_h; ih++) {
      const f32 *src = img + (ih * wp + pad_left) * in_c;
      f32 *dst = dxn + ih * in_w * in_c;
      for (int i = 0; i < in_w * in_c; i++) dst[i] = src[i];
    }
  }
}
