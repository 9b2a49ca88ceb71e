// tanh for float32 tensors: Eigen's generic_fast_tanh_float, a 13/6 rational minimax fit on
// [-7.9, 7.9], within a few float32 ulps of tanh and without exp; four values per SIMD step.
// About four times faster than the wasm backend's libm tanhf even as scalar code, which made
// tanh LeNet-5's second most expensive kernel. Same memory rules as conv-grad.c.
#include <wasm_simd128.h>

typedef float f32;

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

// y = tanh(x) for n values. |x| < TINY returns x itself (keeps -0); NaN stays NaN (the
// clamp's min and max propagate it); +-Inf clamps to +-7.9, whose tanh rounds to +-1.
__attribute__((export_name("tanh_f32"))) void tanh_f32(const f32 *x, f32 *y, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t raw = wasm_v128_load(x + i);
    const v128_t v = wasm_f32x4_min(wasm_f32x4_max(raw, S(-CLAMP)), S(CLAMP));
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
    wasm_v128_store(y + i, wasm_v128_bitselect(raw, wasm_f32x4_div(p, q), tiny));
  }
  for (; i < n; i++) {
    const f32 raw = x[i];
    const f32 a = raw < 0 ? -raw : raw;
    if (a < TINY) {
      y[i] = raw;
      continue;
    }
    // NaN fails both comparisons and passes through to p / q unchanged.
    const f32 v = raw > CLAMP ? CLAMP : raw < -CLAMP ? -CLAMP : raw;
    const f32 x2 = v * v;
    const f32 p = v * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))));
    const f32 q = B0 + x2 * (B2 + x2 * (B4 + x2 * B6));
    y[i] = p / q;
  }
}
