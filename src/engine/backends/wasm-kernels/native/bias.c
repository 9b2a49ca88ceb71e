// Bias add and its gradient for channels-last tensors viewed as [rows, channels]. tfjs's wasm
// Add broadcasts through a generic index loop and its Sum transposes before reducing; these
// are the two shapes every conv and dense layer produces. Same memory rules as conv-grad.c.
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

// out[c] = sum_r x[r][c]; partial holds `channels` floats of scratch.
__attribute__((export_name("channel_sum"))) void channel_sum(const f32 *x, f32 *out, f32 *partial,
                                                             int rows, int channels) {
  for (int c = 0; c < channels; c++) out[c] = 0.f;
  for (int r0 = 0; r0 < rows; r0 += SUM_BLOCK_ROWS) {
    const int r1 = r0 + SUM_BLOCK_ROWS < rows ? r0 + SUM_BLOCK_ROWS : rows;
    for (int c = 0; c < channels; c++) partial[c] = 0.f;
    for (int r = r0; r < r1; r++) {
      const f32 *xr = x + r * channels;
      for (int c = 0; c < channels; c++) partial[c] += xr[c];
    }
    for (int c = 0; c < channels; c++) out[c] += partial[c];
  }
}
