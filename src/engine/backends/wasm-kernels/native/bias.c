// Bias add and its gradient for channels-last tensors viewed as [rows, channels]. tfjs's wasm
// Add broadcasts through a generic index loop and its Sum transposes before reducing; these
// are the two shapes every conv and dense layer produces. Same memory rules as conv-grad.c.
#include <wasm_simd128.h>

typedef float f32;

/** Rows summed into a partial before it joins the total, to keep float32 rounding small. */
#define SUM_BLOCK_ROWS 256

__attribute__((export_name("bias_add"))) void bias_add(const f32 *x, const f32 *bias, f32 *out,
                                                       int rows, int channels) {
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * channels;
    f32 *o = out + r * channels;
    for (int c = 0; c < channels; c++) o[c] = xr[c] + bias[c];
  }
}

// out[c] = sum_r x[r][c]. x is read as a flat stream of periods of p = lcm(channels, 4) floats
// (whole vectors, every lane the same channel each period: 3 vectors for 6 channels), summed
// in blocks of SUM_BLOCK_ROWS rows before they join the total. scratch holds 2 * p floats.
__attribute__((export_name("channel_sum"))) void channel_sum(const f32 *x, f32 *out, f32 *scratch,
                                                             int rows, int channels) {
  const int g = (channels & 3) == 0 ? 4 : (channels & 1) ? 1 : 2;
  const int p = channels * 4 / g;
  const int pv = p / 4;
  const int periods = (int)((long long)rows * channels / p);
  const int block = SUM_BLOCK_ROWS * g / 4;
  f32 *total = scratch;
  f32 *part = scratch + p;
  for (int j = 0; j < p; j++) total[j] = 0.f;
  for (int b0 = 0; b0 < periods; b0 += block) {
    const int b1 = b0 + block < periods ? b0 + block : periods;
    // Four vectors of the period at a time stay in registers over the block (which stays in
    // cache across the groups): 6 channels are one group of 3, 32 channels two of 4.
    for (int v0 = 0; v0 < pv; v0 += 4) {
      const int nv = pv - v0 < 4 ? pv - v0 : 4;
      v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0;
      for (int b = b0; b < b1; b++) {
        const f32 *xp = x + b * p + 4 * v0;
        a0 = wasm_f32x4_add(a0, wasm_v128_load(xp));
        if (nv > 1) a1 = wasm_f32x4_add(a1, wasm_v128_load(xp + 4));
        if (nv > 2) a2 = wasm_f32x4_add(a2, wasm_v128_load(xp + 8));
        if (nv > 3) a3 = wasm_f32x4_add(a3, wasm_v128_load(xp + 12));
      }
      f32 *pp = part + 4 * v0;
      wasm_v128_store(pp, a0);
      if (nv > 1) wasm_v128_store(pp + 4, a1);
      if (nv > 2) wasm_v128_store(pp + 8, a2);
      if (nv > 3) wasm_v128_store(pp + 12, a3);
    }
    for (int j = 0; j < p; j++) total[j] += part[j];
  }
  for (int c = 0; c < channels; c++) out[c] = 0.f;
  for (int j = 0; j < p; j++) out[j % channels] += total[j];
  const int end = rows * channels;
  for (int i = periods * p; i < end; i++) out[i % channels] += x[i];
}
