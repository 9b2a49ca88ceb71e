import * as tf from '@tensorflow/tfjs-core'
import type { AdamConstants, RangeKernel } from './shared-state'

/** A named tensor as optimizers' getWeights() and setWeights() take them. */
type NamedTensor = { name: string; tensor: tf.Tensor }

/**
 * SGD or Adam over all parameters at once, as one loop over flat arrays: the parallel trainer
 * already holds the averaged gradient flat, and tfjs's optimizers spend about 14 small ops per
 * variable and step (about 140 per step for a LeNet), each a kernel launch and a tensor on the
 * wasm backend. Same arithmetic as tfjs's SGDOptimizer and AdamOptimizer (epsilon inside the
 * square root's sum, bias corrections from beta^t), and the same getWeights() names, so
 * checkpoints stay interchangeable with theirs.
 */
export class FlatOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'FlatOptimizer'
  }

  /** Adam's moments, flat, allocated at the first step. */
  private m: Float32Array | null = null
  private v: Float32Array | null = null
  private weights: Float32Array | null = null
  /** The threads' mean gradient for this thread's range (parallel steps), reused every step. */
  private mean: Float32Array | null = null
  /** beta1^t and beta2^t for the coming step t (tfjs's accBeta1/accBeta2). */
  private accBeta1: number
  private accBeta2: number
  /** Variables handed out by getWeights(), refreshed from the flat moments on each call. */
  private exported: Array<{ name: string; variable: tf.Variable }> = []
  private names: string[] = []
  /** Set by shareState(): weights and moments are arrays in shared memory, stepped in place. */
  private shared = false
  /** Set by shareState() where the shared arrays lie in a shared wasm memory: steps in wasm. */
  private kernel: { step: RangeKernel; shares: Float32Array } | null = null

  constructor(
    readonly kind: 'sgd' | 'adam',
    public learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-8
  ) {
    super()
    this.accBeta1 = beta1
    this.accBeta2 = beta2
  }

  /** One step with a flat gradient laid out as `variables` back to back. */
  applyFlat(variables: tf.Variable[], grad: Float32Array): void {
    if (this.shared) throw new Error('A FlatOptimizer with shared state steps through applyRange().')
    const params = variables.reduce((n, v) => n + v.size, 0)
    if (grad.length < params) throw new Error(`A flat gradient of ${grad.length} values for ${params} parameters.`)
    if (!this.weights || this.weights.length !== params) {
      this.weights = new Float32Array(params)
      if (this.kind === 'adam') {
        this.m = new Float32Array(params)
        this.v = new Float32Array(params)
      }
    }
    this.names = variables.map((v) => v.name)
    // Read the weights back every step (a copy on wasm and cpu), so nothing can go stale.
    const w = this.weights
    let offset = 0
    for (const variable of variables) {
      w.set(variable.dataSync() as Float32Array, offset)
      offset += variable.size
    }
    this.stepRange(w, [grad], [1], 0, params)
    offset = 0
    for (const variable of variables) {
      const values = w.subarray(offset, offset + variable.size)
      tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')))
      offset += variable.size
    }
  }

  /**
   * Parallel training: the weights and (Adam) moments live in shared memory, where applyRange
   * steps them in place. The parallel trainer gives each thread its own copy and steps all of it
   * (no thread waits for another's update); the arrays may also be one copy that threads step a
   * range each. Call once, before the first step. With `kernel` (the arrays and the gradient
   * slots in one shared wasm memory, see shared-state.ts) the steps run in wasm, SIMD and
   * compiled before the first step, rather than as a JavaScript loop that reaches full speed only
   * after some hundred steps; `shares` is this thread's scratch for the slot weights, in the same
   * memory.
   */
  shareState(
    variables: tf.Variable[],
    shared: { weights: Float32Array; moments?: Float32Array; kernel?: { step: RangeKernel; shares: Float32Array } }
  ): void {
    const params = variables.reduce((n, v) => n + v.size, 0)
    if (shared.weights.length !== params) throw new Error(`Shared weights hold ${shared.weights.length} values for ${params} parameters.`)
    this.names = variables.map((v) => v.name)
    this.weights = shared.weights
    if (this.kind === 'adam') {
      if (!shared.moments || shared.moments.length !== 2 * params) throw new Error('Adam needs shared moments: two values per parameter.')
      this.m = shared.moments.subarray(0, params)
      this.v = shared.moments.subarray(params)
    }
    this.kernel = shared.kernel ?? null
    this.shared = true
  }

  /**
   * One parallel step for parameters lo..hi-1 of the weights shareState() placed: the batch
   * gradient is the mean of the threads' gradients (`slots`, weighted by shard size `counts`),
   * and the update is SGD's or Adam's, as applyFlat's. The caller then reloads its variables from
   * the weights (once every range is written, where threads share one copy).
   */
  applyRange(slots: Float32Array[], counts: number[], lo: number, hi: number): void {
    if (!this.shared || !this.weights) throw new Error('applyRange needs shareState() first.')
    this.stepRange(this.weights, slots, counts, lo, hi)
  }

  /**
   * The step itself, for parameters lo..hi-1 of `w`: the gradient is the mean of `slots`
   * weighted by `counts` (one slot: that slot as it is). Counts the step (iterations, Adam's
   * bias corrections) once.
   */
  private stepRange(w: Float32Array, slots: Float32Array[], counts: number[], lo: number, hi: number): void {
    const total = counts.reduce((a, b) => a + b, 0)
    const shares = counts.map((c) => c / total)
    const lr = this.learningRate
    const adam = this.kind === 'adam' ? this.adamConstants(lr) : null
    if (this.kernel) {
      // native/optimizer.c: the same arithmetic in float32, the slots averaged as it goes.
      const { step, shares: scratch } = this.kernel
      scratch.set(shares)
      if (adam) step.adam(w, this.m!, this.v!, slots, scratch, lo, hi, adam)
      else step.sgd(w, slots, scratch, lo, hi, lr)
    } else {
      // The batch gradient: the one slot, or the threads' slots averaged first.
      const g = slots.length > 1 ? this.averaged(slots, shares, lo, hi) : slots[0]!
      if (!adam) {
        for (let i = lo; i < hi; i++) w[i] = w[i]! - lr * g[i]!
      } else {
        const m = this.m!
        const v = this.v!
        const { beta1, beta2, k1, k2, stepSize, rootScale, epsilon } = adam
        // One plain loop, no closure or branches per value. In double precision, then rounded
        // to float32 like tfjs's: 50 steps over 61,706 weights gave identical weights.
        for (let i = lo; i < hi; i++) {
          const gi = g[i]!
          const mi = beta1 * m[i]! + k1 * gi
          const vi = beta2 * v[i]! + k2 * gi * gi
          m[i] = mi
          v[i] = vi
          w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) * rootScale + epsilon)
        }
      }
    }
    if (adam) {
      this.accBeta1 *= this.beta1
      this.accBeta2 *= this.beta2
    }
    this.incrementIterations()
  }

  /**
   * Adam's constants for this step: lr * (m / c1) / (sqrt(v / c2) + eps) with the bias
   * corrections c1 = 1 - beta1^t and c2 = 1 - beta2^t folded into stepSize and rootScale, one
   * division and one square root a value instead of three divisions (31,000 values a thread for
   * lenet5: 0.175 -> 0.107 ms in JavaScript, fastest of 2,000).
   */
  private adamConstants(lr: number): AdamConstants {
    const { beta1, beta2, epsilon } = this
    return {
      beta1,
      beta2,
      epsilon,
      k1: 1 - beta1,
      k2: 1 - beta2,
      stepSize: lr / (1 - this.accBeta1),
      rootScale: 1 / Math.sqrt(1 - this.accBeta2)
    }
  }

  /** sum_t slots[t][i] * shares[t] for i in lo..hi-1, into a scratch array indexed like the slots. */
  private averaged(slots: Float32Array[], shares: number[], lo: number, hi: number): Float32Array {
    if (!this.mean || this.mean.length < hi) this.mean = new Float32Array(slots[0]!.length)
    const out = this.mean
    const [s0, s1] = [slots[0]!, slots[1]!]
    const [a0, a1] = [shares[0]!, shares[1]!]
    if (slots.length === 2) {
      for (let i = lo; i < hi; i++) out[i] = s0[i]! * a0 + s1[i]! * a1
      return out
    }
    for (let i = lo; i < hi; i++) {
      let sum = 0
      for (let t = 0; t < slots.length; t++) sum += slots[t]![i]! * shares[t]!
      out[i] = sum
    }
    return out
  }

  applyGradients(grads: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(grads) ? grads : Object.entries(grads).map(([name, tensor]) => ({ name, tensor }))
    const registered = tf.engine().registeredVariables
    const variables = list.map((g) => registered[g.name]!)
    const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0))
    let offset = 0
    for (const g of list) {
      flat.set(g.tensor.dataSync() as Float32Array, offset)
      offset += g.tensor.size
    }
    this.applyFlat(variables, flat)
  }

  /** The step count, then (Adam) every variable's first moments and second moments, as tfjs's. */
  async getWeights(): Promise<NamedTensor[]> {
    const iter = await this.saveIterations()
    if (this.kind === 'sgd' || !this.m || !this.v) return [iter]
    const shapes = this.names.map((name) => tf.engine().registeredVariables[name]!.shape)
    const starts: number[] = []
    let offset = 0
    for (const shape of shapes) {
      starts.push(offset)
      offset += shape.reduce((a, b) => a * b, 1)
    }
    const wanted = (['m', 'v'] as const).flatMap((moment) =>
      this.names.map((name, i) => {
        const size = shapes[i]!.reduce((a, b) => a * b, 1)
        return { name: `${name}/${moment}`, shape: shapes[i]!, values: this[moment]!.subarray(starts[i]!, starts[i]! + size) }
      })
    )
    wanted.forEach((want, i) => {
      const held = this.exported[i]
      if (held && held.name === want.name) {
        tf.tidy(() => held.variable.assign(tf.tensor(want.values, want.shape)))
      } else {
        held?.variable.dispose()
        this.exported[i] = { name: want.name, variable: tf.tidy(() => tf.variable(tf.tensor(want.values, want.shape), false)) }
      }
    })
    return [iter, ...this.exported.map((e) => ({ name: e.name, tensor: e.variable }))]
  }

  async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues)
    const t = this.iterations
    this.accBeta1 = this.beta1 ** (t + 1)
    this.accBeta2 = this.beta2 ** (t + 1)
    if (this.kind === 'sgd' || rest.length === 0) return
    const half = rest.length / 2
    const flat = (list: NamedTensor[]): Float32Array => {
      const out = new Float32Array(list.reduce((n, e) => n + e.tensor.size, 0))
      let offset = 0
      for (const e of list) {
        out.set(e.tensor.dataSync() as Float32Array, offset)
        offset += e.tensor.size
      }
      return out
    }
    const m = flat(rest.slice(0, half))
    const v = flat(rest.slice(half))
    if (this.shared) {
      // Every thread reads these arrays: fill them in place rather than replace them.
      if (m.length !== this.m?.length) throw new Error(`Adam moments for ${m.length} parameters, not ${this.m?.length ?? 0}.`)
      this.m.set(m)
      this.v!.set(v)
      return
    }
    this.m = m
    this.v = v
    this.weights = new Float32Array(this.m.length)
    this.names = rest.slice(0, half).map((e) => e.name.replace(/\/m$/, ''))
  }

  getConfig(): tf.serialization.ConfigDict {
    return { kind: this.kind, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon }
  }

  dispose(): void {
    tf.dispose(this.exported.map((e) => e.variable))
    this.exported = []
  }
}
