// Batched matrix transpose (the NHWC <-> NCHW permutes around a PyTorch-order Flatten and its
// gradient). tfjs's wasm Transpose computes each element's source index by division; this
// moves 4 x 4 blocks through registers. Same memory rules as conv-grad.c.
#include <wasm_simd128.h>

typedef float f32;

// out[b][c][r] = in[b][r][c]: each of `batch` row-major [rows, cols] matrices transposed.
__attribute__((export_name("transpose_batched"))) void transpose_batched(const f32 *in, f32 *out,
                                                                         int batch, int rows,
                                                                         int cols) {
  const int rows4 = rows & ~3;
  const int cols4 = cols & ~3;
  for (int b = 0; b < batch; b++) {
    const f32 *src = in + b * rows * cols;
    f32 *dst = out + b * rows * cols;
    for (int r = 0; r < rows4; r += 4) {
      const f32 *s = src + r * cols;
      int c = 0;
      for (; c < cols4; c += 4) {
        const v128_t a0 = wasm_v128_load(s + c);
        const v128_t a1 = wasm_v128_load(s + cols + c);
        const v128_t a2 = wasm_v128_load(s + 2 * cols + c);
        const v128_t a3 = wasm_v128_load(s + 3 * cols + c);
        const v128_t t0 = wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5);
        const v128_t t1 = wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5);
        const v128_t t2 = wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7);
        const v128_t t3 = wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7);
        f32 *d = dst + c * rows + r;
        wasm_v128_store(d, wasm_i64x2_shuffle(t0, t1, 0, 2));
        wasm_v128_store(d + rows, wasm_i64x2_shuffle(t0, t1, 1, 3));
        wasm_v128_store(d + 2 * rows, wasm_i64x2_shuffle(t2, t3, 0, 2));
        wasm_v128_store(d + 3 * rows, wasm_i64x2_shuffle(t2, t3, 1, 3));
      }
      for (; c < cols; c++)
        for (int i = 0; i < 4; i++) dst[c * rows + r + i] = s[i * cols + c];
    }
    for (int r = rows4; r < rows; r++)
      for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }
}
