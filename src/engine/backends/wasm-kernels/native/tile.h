// Register-tile helpers shared by the kernels that write tiles of a row-major output (direct.c,
// gemm.c).
#ifndef TILE_H
#define TILE_H
#include <wasm_simd128.h>

// Stores the first n lanes of v (all four when n >= 4): a channel count that is not a multiple
// of 4 ends in a partial vector, which must not spill into the next pixel.
static inline __attribute__((always_inline)) void store_lanes(float *p, v128_t v, int n) {
  if (n >= 4) {
    wasm_v128_store(p, v);
  } else if (n >= 2) {
    wasm_v128_store64_lane(p, v, 0);
    // Lane 2 moved to lane 0 first: a lane index that depends on n would go through the C stack.
    if (n == 3) wasm_v128_store32_lane(p + 2, wasm_i32x4_shuffle(v, v, 2, 2, 2, 2), 0);
  } else if (n == 1) {
    wasm_v128_store32_lane(p, v, 0);
  }
}
#endif
