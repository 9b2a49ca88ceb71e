// Register-tile helpers shared by the kernels that write tiles of a row-major output (direct.c,
// gemm.c).
#ifndef TILE_H
#define TILE_H
#include <wasm_simd128.h>

// acc + a * b. Built with relaxed SIMD (-mrelaxed-simd, the conv-grad-relaxed module) it is
// f32x4.relaxed_madd, one fused multiply-add where the CPU has one (x86 FMA3, Arm NEON), else the
// same two instructions as without; in the plain module, a multiply and an add.
#ifdef __wasm_relaxed_simd__
#define MADD(acc, a, b) __builtin_wasm_relaxed_madd_f32x4((a), (b), (acc))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

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
