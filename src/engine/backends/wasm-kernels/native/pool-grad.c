// Max-pool gradient (NHWC): each output's gradient goes to the first maximal input of its
// window, matching tfjs's cpu backend on ties. Same memory rules as conv-grad.c.
#include <wasm_simd128.h>

typedef float f32;

// Whether the pooling windows tile the input exactly (stride = window, no padding, nothing left
// over: 2x2 stride 2 on an even map), so every input belongs to exactly one window.
static inline int windows_tile(int in_h, int in_w, int out_h, int out_w, int filter_h,
                               int filter_w, int stride_h, int stride_w, int pad_top,
                               int pad_left) {
  return stride_h == filter_h && stride_w == filter_w && pad_top == 0 && pad_left == 0 &&
         in_h == out_h * filter_h && in_w == out_w * filter_w;
}

// Windows that tile the input (windows_tile): dx is written once, window by window, with no
// zeroing pass and no scattered adds. Per 4 channels: the window position of the first maximum in each lane (strictly greater
// replaces, so ties and NaN go as in the general loop below), then dy where a lane's position
// matches and 0 elsewhere. Past a multiple of 4 channels the last vector starts at channels - 4,
// recomputing a few lanes with the same values.
static void max_pool_grad_tiled(const f32 *x, const f32 *dy, f32 *dx, int batch, int in_h,
                                int in_w, int channels, int out_h, int out_w, int filter_h,
                                int filter_w) {
  const int row = in_w * channels;
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      for (int ow = 0; ow < out_w; ow++) {
        const int base = ((n * in_h + oh * filter_h) * in_w + ow * filter_w) * channels;
        const f32 *d = dy + ((n * out_h + oh) * out_w + ow) * channels;
        for (int c0 = 0; c0 < channels; c0 += 4) {
          const int c = c0 + 4 <= channels ? c0 : channels - 4;
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t at = wasm_i32x4_splat(-1);
          int k = 0;
          for (int fh = 0; fh < filter_h; fh++)
            for (int fw = 0; fw < filter_w; fw++, k++) {
              const v128_t v = wasm_v128_load(x + base + fh * row + fw * channels + c);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              at = wasm_v128_bitselect(wasm_i32x4_splat(k), at, gt);
            }
          const v128_t g = wasm_v128_load(d + c);
          k = 0;
          for (int fh = 0; fh < filter_h; fh++)
            for (int fw = 0; fw < filter_w; fw++, k++)
              wasm_v128_store(dx + base + fh * row + fw * channels + c,
                              wasm_v128_and(g, wasm_i32x4_eq(at, wasm_i32x4_splat(k))));
        }
      }
    }
  }
}

__attribute__((export_name("max_pool_grad"))) void max_pool_grad(
    const f32 *x, const f32 *dy, f32 *dx, int batch, int in_h, int in_w, int channels,
    int out_h, int out_w, int filter_h, int filter_w, int stride_h, int stride_w, int pad_top,
    int pad_left) {
  if (windows_tile(in_h, in_w, out_h, out_w, filter_h, filter_w, stride_h, stride_w, pad_top, pad_left) &&
      channels >= 4) {
    max_pool_grad_tiled(x, dy, dx, batch, in_h, in_w, channels, out_h, out_w, filter_h, filter_w);
    return;
  }
  const int in_size = batch * in_h * in_w * channels;
  for (int i = 0; i < in_size; i++) dx[i] = 0.f;
  const v128_t lane_ids = wasm_i32x4_make(0, 1, 2, 3);
  for (int n = 0; n < batch; n++) {
    const f32 *xn = x + n * in_h * in_w * channels;
    f32 *dxn = dx + n * in_h * in_w * channels;
    for (int oh = 0; oh < out_h; oh++) {
      const int h0 = oh * stride_h - pad_top;
      const int fh0 = h0 < 0 ? -h0 : 0;
      const int fh1 = h0 + filter_h > in_h ? in_h - h0 : filter_h;
      for (int ow = 0; ow < out_w; ow++) {
        const int w0 = ow * stride_w - pad_left;
        const int fw0 = w0 < 0 ? -w0 : 0;
        const int fw1 = w0 + filter_w > in_w ? in_w - w0 : filter_w;
        const f32 *d = dy + ((n * out_h + oh) * out_w + ow) * channels;
        int c = 0;
        for (; c + 4 <= channels; c += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t at = wasm_i32x4_splat(-1);
          for (int fh = fh0; fh < fh1; fh++) {
            const int row = (h0 + fh) * in_w;
            for (int fw = fw0; fw < fw1; fw++) {
              const int off = (row + w0 + fw) * channels + c;
              const v128_t v = wasm_v128_load(xn + off);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              at = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(off), lane_ids), at, gt);
            }
          }
          const int a0 = wasm_i32x4_extract_lane(at, 0), a1 = wasm_i32x4_extract_lane(at, 1);
          const int a2 = wasm_i32x4_extract_lane(at, 2), a3 = wasm_i32x4_extract_lane(at, 3);
          if (a0 >= 0) dxn[a0] += d[c];
          if (a1 >= 0) dxn[a1] += d[c + 1];
          if (a2 >= 0) dxn[a2] += d[c + 2];
          if (a3 >= 0) dxn[a3] += d[c + 3];
        }
        for (; c < channels; c++) {
          f32 best = -__builtin_inff();
          int best_at = -1;
          for (int fh = fh0; fh < fh1; fh++) {
            const int row = (h0 + fh) * in_w;
            for (int fw = fw0; fw < fw1; fw++) {
              const int at = (row + w0 + fw) * channels + c;
              if (xn[at] > best) {
                best = xn[at];
                best_at = at;
              }
            }
          }
          if (best_at >= 0) dxn[best_at] += d[c];
        }
      }
    }
  }
}

// Average-pool gradient (NHWC): every input in an output's window gets dy / (filter_h *
// filter_w), padding included in the divisor, as tfjs's cpu backend does.
__attribute__((export_name("avg_pool_grad"))) void avg_pool_grad(
    const f32 *dy, f32 *dx, int batch, int in_h, int in_w, int channels, int out_h, int out_w,
    int filter_h, int filter_w, int stride_h, int stride_w, int pad_top, int pad_left) {
  const f32 scale = 1.f / (f32)(filter_h * filter_w);
  const v128_t vscale = wasm_f32x4_splat(scale);
  if (windows_tile(in_h, in_w, out_h, out_w, filter_h, filter_w, stride_h, stride_w, pad_top, pad_left)) {
    // Each input gets one output's gradient (windows_tile), stored once with no zeroing and no
    // read-back. Past 4 channels the last vector is stored at channels - 4, overlapping the one
    // before it with the same values.
    for (int n = 0; n < batch; n++) {
      for (int ih = 0; ih < in_h; ih++) {
        const f32 *dr = dy + (n * out_h + ih / filter_h) * out_w * channels;
        f32 *p = dx + (n * in_h + ih) * in_w * channels;
        for (int ow = 0; ow < out_w; ow++) {
          const f32 *d = dr + ow * channels;
          for (int fw = 0; fw < filter_w; fw++, p += channels) {
            if (channels < 4) {
              for (int c = 0; c < channels; c++) p[c] = d[c] * scale;
              continue;
            }
            int c = 0;
            for (; c + 4 < channels; c += 4) wasm_v128_store(p + c, wasm_f32x4_mul(wasm_v128_load(d + c), vscale));
            c = channels - 4;
            wasm_v128_store(p + c, wasm_f32x4_mul(wasm_v128_load(d + c), vscale));
          }
        }
      }
    }
    return;
  }
  const int in_size = batch * in_h * in_w * channels;
  for (int i = 0; i < in_size; i++) dx[i] = 0.f;
  for (int n = 0; n < batch; n++) {
    f32 *dxn = dx + n * in_h * in_w * channels;
    for (int oh = 0; oh < out_h; oh++) {
      const int h0 = oh * stride_h - pad_top;
      const int fh0 = h0 < 0 ? -h0 : 0;
      const int fh1 = h0 + filter_h > in_h ? in_h - h0 : filter_h;
      for (int ow = 0; ow < out_w; ow++) {
        const int w0 = ow * stride_w - pad_left;
        const int fw0 = w0 < 0 ? -w0 : 0;
        const int fw1 = w0 + filter_w > in_w ? in_w - w0 : filter_w;
        const f32 *d = dy + ((n * out_h + oh) * out_w + ow) * channels;
        for (int fh = fh0; fh < fh1; fh++) {
          for (int fw = fw0; fw < fw1; fw++) {
            f32 *p = dxn + ((h0 + fh) * in_w + w0 + fw) * channels;
            int c = 0;
            for (; c + 4 <= channels; c += 4) {
              const v128_t g = wasm_f32x4_mul(wasm_v128_load(d + c), vscale);
              wasm_v128_store(p + c, wasm_f32x4_add(wasm_v128_load(p + c), g));
            }
            for (; c < channels; c++) p[c] += d[c] * scale;
          }
        }
      }
    }
  }
}

// Max pooling (NHWC) where the windows tile the input (windows_tile) and channels >= 4: each
// output is the first maximum of its window (strictly greater replaces, from -inf: a NaN never
// wins, as in tfjs's cpu backend and max_pool_grad above). Past a multiple of 4 channels the
// last vector starts at channels - 4, recomputing a few lanes with the same values. Returns 0,
// computing nothing, for any other geometry (the caller keeps tfjs's kernel for those).
__attribute__((export_name("max_pool_tiled"))) int max_pool_tiled(
    const f32 *x, f32 *y, int batch, int in_h, int in_w, int channels, int out_h, int out_w,
    int filter_h, int filter_w, int stride_h, int stride_w, int pad_top, int pad_left) {
  if (!windows_tile(in_h, in_w, out_h, out_w, filter_h, filter_w, stride_h, stride_w, pad_top, pad_left) ||
      channels < 4)
    return 0;
  const int row = in_w * channels;
  for (int n = 0; n < batch; n++) {
    for (int oh = 0; oh < out_h; oh++) {
      for (int ow = 0; ow < out_w; ow++) {
        const f32 *base = x + ((n * in_h + oh * filter_h) * in_w + ow * filter_w) * channels;
        f32 *out = y + ((n * out_h + oh) * out_w + ow) * channels;
        for (int c0 = 0; c0 < channels; c0 += 4) {
          const int c = c0 + 4 <= channels ? c0 : channels - 4;
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          for (int fh = 0; fh < filter_h; fh++)
            for (int fw = 0; fw < filter_w; fw++) {
              const v128_t v = wasm_v128_load(base + fh * row + fw * channels + c);
              best = wasm_v128_bitselect(v, best, wasm_f32x4_gt(v, best));
            }
          wasm_v128_store(out + c, best);
        }
      }
    }
  }
  return 1;
}
