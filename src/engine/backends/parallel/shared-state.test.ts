import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { randomArray } from '../wasm-kernels/test-helpers'
import { allocateSharedState, rangeKernel, sharedViews, type AdamConstants } from './shared-state'

/** Double-precision reference of one ranged step (FlatOptimizer's JavaScript arithmetic). */
function reference(
  w: Float64Array,
  m: Float64Array | null,
  v: Float64Array | null,
  slots: Float32Array[],
  shares: number[],
  lo: number,
  hi: number,
  lr: number,
  c?: AdamConstants
): void {
  for (let i = lo; i < hi; i++) {
    const g = slots.reduce((sum, s, t) => sum + s[i]! * shares[t]!, 0)
    if (!c || !m || !v) {
      w[i] = w[i]! - lr * g
      continue
    }
    m[i] = c.beta1 * m[i]! + c.k1 * g
    v[i] = c.beta2 * v[i]! + c.k2 * g * g
    w[i] = w[i]! - (c.stepSize * m[i]!) / (Math.sqrt(v[i]!) * c.rootScale + c.epsilon)
  }
}

const relErr = (got: Float32Array, want: Float64Array): number =>
  got.reduce((worst, g, i) => Math.max(worst, Math.abs(g - want[i]!) / (Math.abs(want[i]!) + 1e-6)), 0)

// Step 3 of Adam at lr 0.01: bias corrections 1 - 0.9^3 and 1 - 0.999^3.
const ADAM: AdamConstants = {
  beta1: 0.9,
  beta2: 0.999,
  k1: 0.1,
  k2: 0.001,
  stepSize: 0.01 / (1 - 0.9 ** 3),
  rootScale: 1 / Math.sqrt(1 - 0.999 ** 3),
  epsilon: 1e-8
}

describe('the parallel trainer\'s shared state', () => {
  it('lays each thread\'s weights and moments, the gradient slots and shares out in one shared wasm memory, apart and aligned', () => {
    const state = allocateSharedState(1003, 3, true)
    expect(state.memory).not.toBeNull()
    expect(state.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(state.buffer).toBe(state.memory!.buffer)
    const views = sharedViews(state)
    const threads = [0, 1, 2]
    const regions = [
      ...threads.map((t) => views.shares(t)),
      ...threads.map((t) => views.weights(t)),
      ...threads.map((t) => views.moments(t)!),
      views.grads
    ]
    expect(regions.map((r) => r.length)).toEqual([3, 3, 3, 1003, 1003, 1003, 2006, 2006, 2006, 2 * 3 * 1003])
    // Each region starts 16-byte aligned (for the shares, the first thread's) and none overlaps the next.
    for (const r of [regions[0]!, ...regions.slice(3)]) expect(r.byteOffset % 16).toBe(0)
    for (let i = 1; i < regions.length; i++) {
      expect(regions[i]!.byteOffset).toBeGreaterThanOrEqual(regions[i - 1]!.byteOffset + regions[i - 1]!.byteLength)
    }
    expect(views.grads.byteOffset + views.grads.byteLength).toBeLessThanOrEqual(state.buffer.byteLength)
    // SGD keeps no moments; there is no fourth thread.
    expect(sharedViews(allocateSharedState(10, 2, false)).moments(1)).toBeUndefined()
    expect(() => views.weights(3)).toThrow(/No thread 3 among 3/)
  })

  it('falls back to a plain SharedArrayBuffer, stepped in JavaScript, when asked', () => {
    const state = allocateSharedState(100, 2, true, { wasm: false })
    expect(state.memory).toBeNull()
    expect(state.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(rangeKernel(state)).toBeNull()
    expect(sharedViews(state).weights(1).length).toBe(100)
  })

  it('reaches a worker thread as the same memory: a write there is read here', async () => {
    const state = allocateSharedState(64, 2, false)
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       new Float32Array(workerData.memory.buffer)[5] = 42;
       parentPort.postMessage(workerData.memory.buffer instanceof SharedArrayBuffer);`,
      { eval: true, workerData: state }
    )
    const shared = await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()
    expect(shared).toBe(true)
    expect(new Float32Array(state.buffer)[5]).toBe(42)
  })

  // Ranges that start and end off a 4-float vector exercise the scalar head and tail.
  it.each([
    ['sgd', 1, [0, 1001]],
    ['sgd', 3, [3, 998]],
    ['adam', 2, [0, 1001]],
    ['adam', 2, [501, 1001]],
    ['adam', 3, [1, 7]]
  ] as const)('%s over %i slots, parameters [%j), matches the double-precision step', (kind, slots, [lo, hi]) => {
    const params = 1001
    const state = allocateSharedState(params, slots, kind === 'adam')
    const views = sharedViews(state)
    const kernel = rangeKernel(state)!
    // The last thread's copy, which lies past the others'.
    const weights = views.weights(slots - 1)
    const moments = views.moments(slots - 1)
    weights.set(randomArray(params, 1, 1))
    views.grads.set(randomArray(views.grads.length, 0.5, 2))
    if (moments) {
      moments.set(randomArray(params, 0.1, 3), 0)
      moments.set(randomArray(params, 0.1, 4).map((x) => x * x), params)
    }
    // Unequal shards: 3 of 8 samples, 5 of 8, ...
    const counts = Array.from({ length: slots }, (_, t) => 3 + 2 * t)
    const shares = counts.map((c) => c / counts.reduce((a, b) => a + b, 0))
    // Step parity 1: the slots after the first parity's.
    const slotViews = Array.from({ length: slots }, (_, t) => views.grads.subarray((slots + t) * params, (slots + t + 1) * params))
    const before = weights.slice()
    const w = Float64Array.from(weights)
    const m = moments ? Float64Array.from(moments.subarray(0, params)) : null
    const v = moments ? Float64Array.from(moments.subarray(params)) : null
    reference(w, m, v, slotViews, shares, lo, hi, 0.1, kind === 'adam' ? ADAM : undefined)
    const scratch = views.shares(slots - 1)
    scratch.set(shares)
    if (kind === 'adam') {
      kernel.adam(weights, moments!.subarray(0, params), moments!.subarray(params), slotViews, scratch, lo, hi, ADAM)
    } else {
      kernel.sgd(weights, slotViews, scratch, lo, hi, 0.1)
    }
    // Outside the range nothing moved; inside, float32 arithmetic against double.
    expect(Array.from(weights.subarray(0, lo))).toEqual(Array.from(before.subarray(0, lo)))
    expect(Array.from(weights.subarray(hi))).toEqual(Array.from(before.subarray(hi)))
    expect(relErr(weights.subarray(lo, hi), w.subarray(lo, hi))).toBeLessThan(1e-5)
    if (m && v) {
      expect(relErr(moments!.subarray(lo, hi), m.subarray(lo, hi))).toBeLessThan(1e-5)
      expect(relErr(moments!.subarray(params + lo, params + hi), v.subarray(lo, hi))).toBeLessThan(1e-5)
    }
    // The step moved every weight in the range.
    expect(weights.subarray(lo, hi).every((x, i) => x !== before[lo + i])).toBe(true)
  })

  it('refuses arrays outside its memory, slots that are not consecutive, and ranges past the weights', () => {
    const state = allocateSharedState(16, 2, false)
    const views = sharedViews(state)
    const kernel = rangeKernel(state)!
    const weights = views.weights(0)
    const slots = [views.grads.subarray(0, 16), views.grads.subarray(16, 32)]
    const shares = views.shares(0)
    expect(() => kernel.sgd(new Float32Array(16), slots, shares, 0, 16, 0.1)).toThrow(/outside its shared memory/)
    expect(() => kernel.sgd(weights, [slots[1]!, slots[0]!], shares, 0, 16, 0.1)).toThrow(/consecutive gradient slots/)
    expect(() => kernel.sgd(weights, [slots[0]!, views.grads.subarray(16, 31)], shares, 0, 16, 0.1)).toThrow(/consecutive/)
    expect(() => kernel.sgd(weights, slots, shares, 0, 17, 0.1)).toThrow(/outside 16 weights/)
    expect(() => kernel.sgd(weights, slots, shares.subarray(0, 1), 0, 16, 0.1)).toThrow(/1 shares for 2 gradient slots/)
  })
})
