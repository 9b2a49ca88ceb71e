// The parallel trainer's optimizer step over its shared memory: each thread updates its range
// [lo, hi) of the weights (and Adam's moments) from the threads' gradient slots, averaged with
// the shard shares. Slots lie `slot_stride` floats apart starting at `g`. Arithmetic as tfjs's
// SGD and Adam (epsilon outside the square root, bias corrections folded into step_size and
// root_scale by the caller), in float32. No C stack, no static data (build.sh checks): the
// module runs over memory every thread shares.
#include <wasm_simd128.h>

typedef float f32;

// The averaged gradient of 4 parameters from i on.
static inline v128_t mean4(const f32 *g, int slot_stride, int slots, const f32 *shares, int i) {
  v128_t sum = wasm_f32x4_mul(wasm_v128_load(g + i), wasm_f32x4_splat(shares[0]));
  for (int t = 1; t < slots; t++)
    sum = wasm_f32x4_add(sum, wasm_f32x4_mul(wasm_v128_load(g + t * slot_stride + i), wasm_f32x4_splat(shares[t])));
  return sum;
}

static inline f32 mean1(const f32 *g, int slot_stride, int slots, const f32 *shares, int i) {
  f32 sum = g[i] * shares[0];
  for (int t = 1; t < slots; t++) sum += g[t * slot_stride + i] * shares[t];
  return sum;
}

// w -= lr * mean gradient.
__attribute__((export_name("sgd_range"))) void sgd_range(f32 *w, const f32 *g, int slot_stride,
                                                          int slots, const f32 *shares, int lo,
                                                          int hi, f32 lr) {
  int i = lo;
  const v128_t vlr = wasm_f32x4_splat(lr);
  for (; i + 4 <= hi; i += 4)
    wasm_v128_store(w + i, wasm_f32x4_sub(wasm_v128_load(w + i), wasm_f32x4_mul(vlr, mean4(g, slot_stride, slots, shares, i))));
  for (; i < hi; i++) w[i] -= lr * mean1(g, slot_stride, slots, shares, i);
}

// m = beta1 m + k1 g; v = beta2 v + k2 g^2; w -= step_size m / (sqrt(v) root_scale + eps).
__attribute__((export_name("adam_range"))) void adam_range(f32 *w, f32 *m, f32 *v, const f32 *g,
                                                            int slot_stride, int slots,
                                                            const f32 *shares, int lo, int hi,
                                                            f32 beta1, f32 beta2, f32 k1, f32 k2,
                                                            f32 step_size, f32 root_scale, f32 eps) {
  const v128_t b1 = wasm_f32x4_splat(beta1), b2 = wasm_f32x4_splat(beta2);
  const v128_t c1 = wasm_f32x4_splat(k1), c2 = wasm_f32x4_splat(k2);
  const v128_t ss = wasm_f32x4_splat(step_size), rs = wasm_f32x4_splat(root_scale);
  const v128_t ve = wasm_f32x4_splat(eps);
  int i = lo;
  for (; i + 4 <= hi; i += 4) {
    const v128_t gi = mean4(g, slot_stride, slots, shares, i);
    const v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(b1, wasm_v128_load(m + i)), wasm_f32x4_mul(c1, gi));
    const v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(v + i)), wasm_f32x4_mul(c2, wasm_f32x4_mul(gi, gi)));
    wasm_v128_store(m + i, mi);
    wasm_v128_store(v + i, vi);
    const v128_t den = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vi), rs), ve);
    wasm_v128_store(w + i, wasm_f32x4_sub(wasm_v128_load(w + i), wasm_f32x4_div(wasm_f32x4_mul(ss, mi), den)));
  }
  for (; i < hi; i++) {
    const f32 gi = mean1(g, slot_stride, slots, shares, i);
    const f32 mi = beta1 * m[i] + k1 * gi;
    const f32 vi = beta2 * v[i] + k2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step_size * mi / (__builtin_sqrtf(vi) * root_scale + eps);
  }
}
