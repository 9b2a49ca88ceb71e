import { OPTIMIZER_WASM_BASE64 } from '../wasm-kernels/native/optimizer-wasm'

const BYTES_PER_FLOAT = 4
const WASM_PAGE_BYTES = 65_536
/** A wasm32 memory's largest size in pages (4 GiB). */
const WASM_MAX_PAGES = 65_536
const GRADIENT_PARITIES = 2

// tsconfig.node.json has no DOM lib, so the few WebAssembly APIs used here are typed here.
/** A WebAssembly.Memory made with `shared: true`: its buffer is a SharedArrayBuffer. */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SharedWasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, (...args: number[]) => void> }
}
const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly

/**
 * Where the parallel trainer's shared floats live: each thread's weights and Adam moments, every
 * thread's gradient slots and each thread's slot shares, back to back in one shared wasm memory
 * (so the optimizer's wasm kernel steps them in place), or in a plain SharedArrayBuffer where no
 * shared wasm memory can be made (the JavaScript loop steps them then). Structured-cloneable:
 * the trainer sends it to every worker.
 */
export interface SharedState {
  memory: SharedWasmMemory | null
  buffer: SharedArrayBuffer
  params: number
  threads: number
  adam: boolean
}

/** Views of a SharedState, the same arrays on every thread. */
export interface SharedViews {
  /**
   * Thread t's copy of the weights. Every thread steps its own copy with the same averaged
   * gradient, so the copies stay identical; thread 0's is also where the main thread shares
   * weights when it alone steps (broadcast mode).
   */
  weights(t: number): Float32Array
  /** Thread t's Adam moments, first then second (2 floats a parameter); undefined for SGD. */
  moments(t: number): Float32Array | undefined
  /** Gradient slots: [2 step parities][threads][params]; thread 0 is the main one. */
  grads: Float32Array
  /** The slot shares thread `t` hands the kernel each step (`threads` floats). */
  shares(t: number): Float32Array
}

const round4 = (n: number): number => Math.ceil(n / 4) * 4

/** Float offsets of each region: shares, weights, moments, gradient slots (16-byte aligned). */
function layout(params: number, threads: number, adam: boolean) {
  const p = round4(params)
  const shares = 0
  const weights = round4(threads * threads)
  const moments = weights + threads * p
  const grads = moments + (adam ? 2 * threads * p : 0)
  return { p, shares, weights, moments, grads, end: grads + GRADIENT_PARITIES * threads * params }
}

/**
 * Allocates the trainer's shared floats for `params` parameters and `threads` threads. Prefers a
 * shared wasm memory; `wasm: false` (or a size past wasm32's 4 GiB, or no shared memory in this
 * runtime) gives a plain SharedArrayBuffer.
 */
export function allocateSharedState(
  params: number,
  threads: number,
  adam: boolean,
  options: { wasm?: boolean } = {}
): SharedState {
  const bytes = layout(params, threads, adam).end * BYTES_PER_FLOAT
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES)
  const api = wasmApi()
  if (options.wasm !== false && api && pages <= WASM_MAX_PAGES) {
    try {
      const memory = new api.Memory({ initial: pages, maximum: pages, shared: true })
      return { memory, buffer: memory.buffer, params, threads, adam }
    } catch {
      // No shared wasm memory here (e.g. a runtime without wasm threads): the plain buffer.
    }
  }
  return { memory: null, buffer: new SharedArrayBuffer(bytes), params, threads, adam }
}

/** The arrays of a SharedState, views into its buffer. */
export function sharedViews(state: SharedState): SharedViews {
  const { params, threads, adam, buffer } = state
  const at = layout(params, threads, adam)
  const inRange = (t: number): void => {
    if (!Number.isInteger(t) || t < 0 || t >= threads) throw new Error(`No thread ${t} among ${threads}.`)
  }
  const view = (offset: number, length: number): Float32Array =>
    new Float32Array(buffer, offset * BYTES_PER_FLOAT, length)
  return {
    weights: (t) => (inRange(t), view(at.weights + t * at.p, params)),
    moments: (t) => (inRange(t), adam ? view(at.moments + 2 * t * at.p, 2 * params) : undefined),
    grads: view(at.grads, GRADIENT_PARITIES * threads * params),
    shares: (t) => (inRange(t), view(at.shares + t * threads, threads))
  }
}

/**
 * The optimizer step of native/optimizer.c over a shared memory, for FlatOptimizer's ranges.
 * Arrays are views into that memory; `slots` must be consecutive, equally long gradient slots.
 */
export interface RangeKernel {
  sgd(w: Float32Array, slots: Float32Array[], shares: Float32Array, lo: number, hi: number, lr: number): void
  adam(
    w: Float32Array,
    m: Float32Array,
    v: Float32Array,
    slots: Float32Array[],
    shares: Float32Array,
    lo: number,
    hi: number,
    c: AdamConstants
  ): void
}

/** One Adam step's constants (FlatOptimizer.adamConstants): k1 = 1 - beta1, k2 = 1 - beta2. */
export interface AdamConstants {
  beta1: number
  beta2: number
  k1: number
  k2: number
  stepSize: number
  rootScale: number
  epsilon: number
}

/** optimizer.wasm over a SharedState's memory, or null for a plain buffer (the JavaScript loop). */
export function rangeKernel(state: SharedState): RangeKernel | null {
  const api = wasmApi()
  if (!state.memory || !api) return null
  const bytes = Uint8Array.from(Buffer.from(OPTIMIZER_WASM_BASE64, 'base64'))
  const { exports } = new api.Instance(new api.Module(bytes), { env: { memory: state.memory } })
  const buffer = state.memory.buffer
  const pointer = (a: Float32Array): number => {
    if (a.buffer !== buffer) throw new Error('The optimizer kernel was given an array outside its shared memory.')
    return a.byteOffset
  }
  const slotArgs = (slots: Float32Array[], shares: Float32Array): [number, number, number, number] => {
    const first = slots[0]!
    const stride = first.length
    slots.forEach((s, t) => {
      if (s.length !== stride || pointer(s) !== first.byteOffset + t * stride * BYTES_PER_FLOAT)
        throw new Error('The optimizer kernel takes consecutive gradient slots of equal length.')
    })
    if (shares.length < slots.length) throw new Error(`${shares.length} shares for ${slots.length} gradient slots.`)
    return [pointer(first), stride, slots.length, pointer(shares)]
  }
  const range = (w: Float32Array, lo: number, hi: number): void => {
    if (lo < 0 || hi > w.length || lo > hi) throw new Error(`Parameter range [${lo}, ${hi}) outside ${w.length} weights.`)
  }
  return {
    sgd(w, slots, shares, lo, hi, lr) {
      range(w, lo, hi)
      exports.sgd_range!(pointer(w), ...slotArgs(slots, shares), lo, hi, lr)
    },
    adam(w, m, v, slots, shares, lo, hi, c) {
      range(w, lo, hi)
      if (m.length !== w.length || v.length !== w.length) throw new Error('Adam moments and weights differ in length.')
      exports.adam_range!(
        pointer(w),
        pointer(m),
        pointer(v),
        ...slotArgs(slots, shares),
        lo,
        hi,
        c.beta1,
        c.beta2,
        c.k1,
        c.k2,
        c.stepSize,
        c.rootScale,
        c.epsilon
      )
    }
  }
}
