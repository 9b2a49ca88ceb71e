// Activations of 4 float32 lanes, shared by the Tanh kernel (activation.c) and the epilogues of
// the fused convolutions (direct.c, winograd.c).
//
// tanh4:  Eigen's generic_fast_tanh_float, a 13/6 rational minimax fit on
// [-7.9, 7.9], within a few float32 ulps of tanh and without exp. |x| < TINY returns x itself
// (keeps -0); NaN stays NaN (the clamp's pmax and pmin return their first operand when a
// comparison fails); +-Inf clamps to +-7.9, whose tanh rounds to +-1. pmin/pmax rather than
// min/max: V8 lowers f32x4.min and max to about 7 x64 instructions each (NaN and -0 rules), the
// pseudo-minimum to one minps (tanh over LeNet-5's first layer at batch 64: 0.59 -> 0.35 ms).
#ifndef ACTIVATION_H
#define ACTIVATION_H
#include <wasm_simd128.h>

#define CLAMP 7.90531110763549805f
#define TINY 0.0004f
#define A1 4.89352455891786e-3f
#define A3 6.37261928875436e-4f
#define A5 1.48572235717979e-5f
#define A7 5.12229709037114e-8f
#define A9 -8.60467152213735e-11f
#define A11 2.00018790482477e-13f
#define A13 -2.76076847742355e-16f
#define B0 4.89352518554385e-3f
#define B2 2.26843463243900e-3f
#define B4 1.18534705686654e-4f
#define B6 1.19825839466702e-6f

#define S wasm_f32x4_splat
#define ADD wasm_f32x4_add
#define MUL wasm_f32x4_mul

static inline __attribute__((always_inline)) v128_t tanh4(v128_t raw) {
  const v128_t v = wasm_f32x4_pmin(wasm_f32x4_pmax(raw, S(-CLAMP)), S(CLAMP));
  const v128_t x2 = MUL(v, v);
  v128_t p = ADD(S(A11), MUL(x2, S(A13)));
  p = ADD(S(A9), MUL(x2, p));
  p = ADD(S(A7), MUL(x2, p));
  p = ADD(S(A5), MUL(x2, p));
  p = ADD(S(A3), MUL(x2, p));
  p = ADD(S(A1), MUL(x2, p));
  p = MUL(v, p);
  v128_t q = ADD(S(B4), MUL(x2, S(B6)));
  q = ADD(S(B2), MUL(x2, q));
  q = ADD(S(B0), MUL(x2, q));
  const v128_t tiny = wasm_f32x4_lt(wasm_f32x4_abs(raw), S(TINY));
  return wasm_v128_bitselect(raw, wasm_f32x4_div(p, q), tiny);
}

/** Activation codes, as native-module.ts passes them. */
enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_TANH = 2 };

static inline __attribute__((always_inline)) v128_t activate(v128_t v, int act) {
  if (act == ACT_RELU) return wasm_f32x4_pmax(v, wasm_f32x4_splat(0.f));
  if (act == ACT_TANH) return tanh4(v);
  return v;
}
#endif
