// SIMD kernels for convolution gradients (NHWC input, HWIO filter), compiled to a standalone
// wasm32 module by build.sh. Buffers live in this module's own linear memory; the JS side
// copies tensors in and out. Vector tails read past the end of a row and write garbage lanes
// into the next row, which a later iteration overwrites, so every buffer the JS side hands in
// must have VEC_PAD_FLOATS of slack after it.
#include <wasm_simd128.h>

typedef float f32;

extern unsigned char __heap_base;

__attribute__((export_name("heap_base"))) unsigned heap_base(void) {
  return (unsigned)&__heap_base;
}

static inline int max_i(int a, int b) { return a > b ? a : b; }
static inline int min_i(int a, int b) { return a < b ? a : b; }

// First output index o >= 0 with o * stride + offset >= 0.
static inline int first_valid(int offset, int stride) {
  if (offset >= 0) return 0;
  return (-offset + stride - 1) / stride;
}

// One past the last output index o < out_size with o * stride + offset < in_size.
static inline int end_valid(int offset, int stride, int in_size, int out_size) {
  int lim = in_size - offset;
  if (lim <= 0) return 0;
  return min_i(out_size, (lim + stride - 1) / stride);
}

// dw[fh][fw][ci][co] = sum_{n,oh,ow} x[n][oh*sh+fh-pt][ow*sw+fw-pl][ci] * dy[n][oh][ow][co]
// acc_scratch holds filter_h*filter_w*in_c*round_up(out_c, 4) floats.
__attribute__((export_name("conv2d_backprop_filter"))) void conv2d_backprop_filter(
    const f32 *x, const f32 *dy, f32 *dw, f32 *acc_scratch, int batch, int in_h, int in_w, int in_c, int out_h,
    int out_w, int out_c, int filter_h, int filter_w, int stride_h, int stride_w, int pad_top,
    int pad_left) {
  const int co_vecs = (out_c + 3) / 4;
  const int co_pad = co_vecs * 4;
  for (int fh = 0; fh < filter_h; fh++) {
    const int row_off = fh - pad_top;
    const int oh0 = first_valid(row_off, stride_h);
    const int oh1 = end_valid(row_off, stride_h, in_h, out_h);
    for (int fw = 0; fw < filter_w; fw++) {
      const int col_off = fw - pad_left;
      const int ow0 = first_valid(col_off, stride_w);
      const int ow1 = end_valid(col_off, stride_w, in_w, out_w);
      f32 *dw_k = acc_scratch + (fh * filter_w + fw) * in_c * co_pad;
      for (int ci0 = 0; ci0 < in_c; ci0 += 4) {
        const int nci = min_i(4, in_c - ci0);
        for (int cv0 = 0; cv0 < co_vecs; cv0 += 4) {
          const int ncv = min_i(4, co_vecs - cv0);
          v128_t acc[4][4];
          for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) acc[i][j] = wasm_f32x4_splat(0.f);
          for (int n = 0; n < batch; n++) {
            for (int oh = oh0; oh < oh1; oh++) {
              const int ih = oh * stride_h + row_off;
              const f32 *xrow = x + ((n * in_h + ih) * in_w) * in_c + ci0;
              const f32 *dyrow = dy + ((n * out_h + oh) * out_w) * out_c + cv0 * 4;
              if (nci == 1 && ncv <= 2) {
                v128_t a0 = acc[0][0], a1 = acc[0][1];
                for (int ow = ow0; ow < ow1; ow++) {
                  const int iw = ow * stride_w + col_off;
                  const v128_t xv = wasm_f32x4_splat(xrow[iw * in_c]);
                  const f32 *d = dyrow + ow * out_c;
                  a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(xv, wasm_v128_load(d)));
                  a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(xv, wasm_v128_load(d + 4)));
                }
                acc[0][0] = a0;
                acc[0][1] = a1;
              } else {
                for (int ow = ow0; ow < ow1; ow++) {
                  const int iw = ow * stride_w + col_off;
                  const f32 *xp = xrow + iw * in_c;
                  const f32 *d = dyrow + ow * out_c;
                  v128_t dv[4];
                  for (int j = 0; j < 4; j++) dv[j] = j < ncv ? wasm_v128_load(d + 4 * j) : wasm_f32x4_splat(0.f);
                  for (int i = 0; i < 4; i++) {
                    if (i < nci) {
                      const v128_t xv = wasm_f32x4_splat(xp[i]);
                      for (int j = 0; j < 4; j++)
                        acc[i][j] = wasm_f32x4_add(acc[i][j], wasm_f32x4_mul(xv, dv[j]));
                    }
                  }
                }
              }
            }
          }
          for (int i = 0; i < nci; i++)
            for (int j = 0; j < ncv; j++)
              wasm_v128_store(dw_k + (ci0 + i) * co_pad + (cv0 + j) * 4, acc[i][j]);
        }
      }
    }
  }
  const int rows = filter_h * filter_w * in_c;
  for (int r = 0; r < rows; r++)
    for (int co = 0; co < out_c; co++) dw[r * out_c + co] = acc_scratch[r * co_pad + co];
}

// wt[fh][fw][co][ci] = w[fh][fw][ci][co], so backprop-input can vectorise over ci.
static void transpose_filter(const f32 *w, f32 *wt, int taps, int in_c, int out_c) {
  for (int k = 0; k < taps; k++)
    for (int ci = 0; ci < in_c; ci++)
      for (int co = 0; co < out_c; co++)
        wt[(k * out_c + co) * in_c + ci] = w[(k * in_c + ci) * out_c + co];
}

// dx[n][ih][iw][ci] = sum_{fh,fw,co} dy[n][oh][ow][co] * w[fh][fw][ci][co]
// where ih = oh*sh + fh - pt. wt_scratch holds filter_h*filter_w*in_c*out_c floats.
__attribute__((export_name("conv2d_backprop_input"))) void conv2d_backprop_input(
    const f32 *dy, const f32 *w, f32 *dx, f32 *wt, int batch, int in_h, int in_w, int in_c,
    int out_h, int out_w, int out_c, int filter_h, int filter_w, int stride_h, int stride_w,
    int pad_top, int pad_left) {
  transpose_filter(w, wt, filter_h * filter_w, in_c, out_c);
  const int ci_vecs = (in_c + 3) / 4;
  for (int n = 0; n < batch; n++) {
    for (int ih = 0; ih < in_h; ih++) {
      for (int iw = 0; iw < in_w; iw++) {
        f32 *dxp = dx + ((n * in_h + ih) * in_w + iw) * in_c;
        for (int cv0 = 0; cv0 < ci_vecs; cv0 += 4) {
          const int ncv = min_i(4, ci_vecs - cv0);
          v128_t acc[4];
          for (int j = 0; j < 4; j++) acc[j] = wasm_f32x4_splat(0.f);
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
              const f32 *wk = wt + (fh * filter_w + fw) * out_c * in_c + cv0 * 4;
              if (ncv == 2) {
                v128_t a0 = acc[0], a1 = acc[1];
                for (int co = 0; co < out_c; co++) {
                  const v128_t dv = wasm_f32x4_splat(d[co]);
                  const f32 *wr = wk + co * in_c;
                  a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(dv, wasm_v128_load(wr)));
                  a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(dv, wasm_v128_load(wr + 4)));
                }
                acc[0] = a0;
                acc[1] = a1;
              } else {
                for (int co = 0; co < out_c; co++) {
                  const v128_t dv = wasm_f32x4_splat(d[co]);
                  const f32 *wr = wk + co * in_c;
                  for (int j = 0; j < 4; j++)
                    if (j < ncv) acc[j] = wasm_f32x4_add(acc[j], wasm_f32x4_mul(dv, wasm_v128_load(wr + 4 * j)));
                }
              }
            }
          }
          for (int j = 0; j < ncv; j++) wasm_v128_store(dxp + (cv0 + j) * 4, acc[j]);
        }
      }
    }
  }
}
