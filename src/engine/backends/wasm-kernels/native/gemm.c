// Single-matrix product c = op(a) op(b) (op: as is or transposed), row-major, for the dense
// layers and the matrix products of the convolution routes. tfjs's wasm BatchMatMul goes
// through XNNPACK's fully-connected operator, which packs b anew on every call (b is a weight
// that changes every step) and ran a 32 x 784 x 120 product at about 3 G multiply-adds/s. Here b
// is copied once into [K][ldb] rows (ldb: N rounded up to 8, zeros beyond N, transposed on the
// way if asked), and each 4 x 8 block of c stays in registers over the whole K. Same memory
// rules as conv-grad.c: no C stack, no static data, writes only c and scratch.
#include <wasm_simd128.h>
#include "tile.h"

typedef float f32;

#define AI __attribute__((always_inline)) static inline
#define UNROLL _Pragma("clang loop unroll(full)")

static inline int min_i(int a, int b) { return a < b ? a : b; }

// Rows i of a 4-row block past the last row (`rows` < 4) repeat the last row, so no read leaves
// a; their results are not stored.
AI void mm_tile(const f32 *a, int a_row, int a_k, int rows, const f32 *b, int ldb, int kdim,
                f32 *c, int ldc, int lanes) {
  const f32 *a0 = a;
  const f32 *a1 = a + min_i(1, rows - 1) * a_row;
  const f32 *a2 = a + min_i(2, rows - 1) * a_row;
  const f32 *a3 = a + min_i(3, rows - 1) * a_row;
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kdim; k++) {
    const v128_t b0 = wasm_v128_load(b + k * ldb), b1 = wasm_v128_load(b + k * ldb + 4);
    const v128_t v0 = wasm_v128_load32_splat(a0 + k * a_k);
    const v128_t v1 = wasm_v128_load32_splat(a1 + k * a_k);
    const v128_t v2 = wasm_v128_load32_splat(a2 + k * a_k);
    const v128_t v3 = wasm_v128_load32_splat(a3 + k * a_k);
    c00 = MADD(c00, v0, b0);
    c01 = MADD(c01, v0, b1);
    c10 = MADD(c10, v1, b0);
    c11 = MADD(c11, v1, b1);
    c20 = MADD(c20, v2, b0);
    c21 = MADD(c21, v2, b1);
    c30 = MADD(c30, v3, b0);
    c31 = MADD(c31, v3, b1);
  }
  store_lanes(c, c00, lanes);
  store_lanes(c + 4, c01, lanes - 4);
  if (rows > 1) {
    store_lanes(c + ldc, c10, lanes);
    store_lanes(c + ldc + 4, c11, lanes - 4);
  }
  if (rows > 2) {
    store_lanes(c + 2 * ldc, c20, lanes);
    store_lanes(c + 2 * ldc + 4, c21, lanes - 4);
  }
  if (rows > 3) {
    store_lanes(c + 3 * ldc, c30, lanes);
    store_lanes(c + 3 * ldc + 4, c31, lanes - 4);
  }
}

// c [m][n] = op(a) [m][k] x op(b) [k][n]. a is [m][k], or [k][m] with trans_a; b is [k][n], or
// [n][k] with trans_b. scratch: k * round8(n) floats (the packed b).
__attribute__((export_name("matmul"))) void matmul(const f32 *a, const f32 *b, f32 *c, f32 *scratch,
                                                   int m, int n, int k, int trans_a, int trans_b) {
  const int ldb = (n + 7) & ~7;
  for (int kk = 0; kk < k; kk++) {
    f32 *row = scratch + kk * ldb;
    if (trans_b)
      for (int j = 0; j < n; j++) row[j] = b[j * k + kk];
    else
      for (int j = 0; j < n; j++) row[j] = b[kk * n + j];
    for (int j = n; j < ldb; j++) row[j] = 0.f;
  }
  const int a_row = trans_a ? 1 : k;
  const int a_k = trans_a ? m : 1;
  for (int i = 0; i < m; i += 4) {
    const int rows = min_i(4, m - i);
    for (int j = 0; j < n; j += 8)
      mm_tile(a + i * a_row, a_row, a_k, rows, scratch + j, ldb, k, c + i * n + j, n, n - j);
  }
}
