import { seededRandom } from '../../shared/random'
/** Settings of a t-SNE run; defaults follow van der Maaten (2014) and openTSNE. */
export interface TsneOptions {
  perplexity?: number
  /** Barnes-Hut accuracy: 0 is exact, larger is faster and coarser. */
  theta?: number
  /** Iterations with exaggerated attraction, which lets clusters form before they settle. */
  exaggerationIterations?: number
  exaggeration?: number
  /** Step size; defaults to max(n / exaggeration, 50). */
  learningRate?: number
  seed?: number
}

const MIN_GAIN = 0.01
const MOMENTUM_EARLY = 0.5
const MOMENTUM_LATE = 0.8
const PERPLEXITY_TOLERANCE = 1e-5
const BINARY_SEARCH_STEPS = 64

/** Sparse symmetric affinities P as a CSR matrix. */
interface Affinities {
  rowStart: Int32Array
  cols: Int32Array
  values: Float64Array
}

/** The k nearest neighbours of every point by squared Euclidean distance (brute force). */
export function nearestNeighbours(data: Float32Array, n: number, d: number, k: number): { idx: Int32Array; dist: Float64Array } {
  const idx = new Int32Array(n * k)
  const dist = new Float64Array(n * k).fill(Infinity)
  const sq = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let c = 0; c < d; c++) s += data[i * d + c] ** 2
    sq[i] = s
  }
  for (let i = 0; i < n; i++) {
    const base = i * k
    const oi = i * d
    for (let j = 0; j < n; j++) {
      if (j === i) continue
      let dot = 0
      const oj = j * d
      for (let c = 0; c < d; c++) dot += data[oi + c] * data[oj + c]
      const dd = Math.max(0, sq[i] + sq[j] - 2 * dot)
      if (dd >= dist[base + k - 1]) continue
      let p = k - 1
      while (p > 0 && dist[base + p - 1] > dd) {
        dist[base + p] = dist[base + p - 1]
        idx[base + p] = idx[base + p - 1]
        p--
      }
      dist[base + p] = dd
      idx[base + p] = j
    }
  }
  return { idx, dist }
}

/** Conditional affinities p(j|i) with a per-point bandwidth matching the perplexity, symmetrized. */
function affinities(idx: Int32Array, dist: Float64Array, n: number, k: number, perplexity: number): Affinities {
  const cond = new Float64Array(n * k)
  const target = Math.log(perplexity)
  for (let i = 0; i < n; i++) {
    let beta = 1
    let lo = -Infinity
    let hi = Infinity
    const base = i * k
    const dmin = dist[base]
    for (let step = 0; step < BINARY_SEARCH_STEPS; step++) {
      let sum = 0
      let h = 0
      for (let m = 0; m < k; m++) {
        const p = Math.exp(-beta * (dist[base + m] - dmin))
        cond[base + m] = p
        sum += p
        h += beta * (dist[base + m] - dmin) * p
      }
      const entropy = Math.log(sum) + h / sum
      for (let m = 0; m < k; m++) cond[base + m] /= sum
      const diff = entropy - target
      if (Math.abs(diff) < PERPLEXITY_TOLERANCE) break
      if (diff > 0) {
        lo = beta
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2
      } else {
        hi = beta
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2
      }
    }
  }
  // P = (P_cond + P_cond^T) / 2n, built through a map per row.
  const rows: Array<Map<number, number>> = Array.from({ length: n }, () => new Map())
  for (let i = 0; i < n; i++)
    for (let m = 0; m < k; m++) {
      const j = idx[i * k + m]
      const v = cond[i * k + m] / (2 * n)
      rows[i].set(j, (rows[i].get(j) ?? 0) + v)
      rows[j].set(i, (rows[j].get(i) ?? 0) + v)
    }
  const rowStart = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) rowStart[i + 1] = rowStart[i] + rows[i].size
  const cols = new Int32Array(rowStart[n])
  const values = new Float64Array(rowStart[n])
  rows.forEach((row, i) => {
    let p = rowStart[i]
    for (const [j, v] of row) {
      cols[p] = j
      values[p++] = v
    }
  })
  return { rowStart, cols, values }
}

/** A quadtree over the current layout, stored in flat arrays and rebuilt every iteration. */
class QuadTree {
  private cap = 0
  count = 0
  cx!: Float64Array
  cy!: Float64Array
  half!: Float64Array
  mass!: Float64Array
  comX!: Float64Array
  comY!: Float64Array
  /** First child index, or -1 for a leaf. Children are stored as four consecutive nodes. */
  child!: Int32Array
  /** Point held by a leaf (-1 when empty). */
  point!: Int32Array

  private grow(need: number): void {
    if (need <= this.cap) return
    const cap = Math.max(need, this.cap * 2, 1024)
    const f = (a: Float64Array | undefined): Float64Array => {
      const b = new Float64Array(cap)
      if (a) b.set(a.subarray(0, this.count))
      return b
    }
    const g = (a: Int32Array | undefined): Int32Array => {
      const b = new Int32Array(cap)
      if (a) b.set(a.subarray(0, this.count))
      return b
    }
    this.cx = f(this.cx)
    this.cy = f(this.cy)
    this.half = f(this.half)
    this.mass = f(this.mass)
    this.comX = f(this.comX)
    this.comY = f(this.comY)
    this.child = g(this.child)
    this.point = g(this.point)
    this.cap = cap
  }

  private node(cx: number, cy: number, half: number): number {
    this.grow(this.count + 1)
    const i = this.count++
    this.cx[i] = cx
    this.cy[i] = cy
    this.half[i] = half
    this.mass[i] = 0
    this.comX[i] = 0
    this.comY[i] = 0
    this.child[i] = -1
    this.point[i] = -1
    return i
  }

  build(y: Float64Array, n: number): void {
    this.count = 0
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, y[2 * i])
      maxX = Math.max(maxX, y[2 * i])
      minY = Math.min(minY, y[2 * i + 1])
      maxY = Math.max(maxY, y[2 * i + 1])
    }
    const half = Math.max(maxX - minX, maxY - minY) / 2 + 1e-5
    this.node((minX + maxX) / 2, (minY + maxY) / 2, half)
    for (let i = 0; i < n; i++) this.insert(i, y[2 * i], y[2 * i + 1])
  }

  private insert(p: number, x: number, yy: number): void {
    let node = 0
    for (let depth = 0; ; depth++) {
      const m = this.mass[node]
      this.comX[node] = (this.comX[node] * m + x) / (m + 1)
      this.comY[node] = (this.comY[node] * m + yy) / (m + 1)
      this.mass[node] = m + 1
      if (this.child[node] === -1) {
        if (this.point[node] === -1 && m === 0) {
          this.point[node] = p
          return
        }
        const q = this.point[node]
        // Coincident points (or a very deep tree) share one leaf: its mass counts them all.
        if (depth > 40 || (q >= 0 && this.leafX[q] === x && this.leafY[q] === yy)) return
        this.split(node)
        if (q >= 0) {
          this.point[node] = -1
          this.place(q, node, m)
        }
      }
      node = this.child[node] + this.quadrant(node, x, yy)
    }
  }

  private leafX = new Float64Array(0)
  private leafY = new Float64Array(0)

  /** Remembers point coordinates for leaf moves during a build. */
  setCoords(y: Float64Array, n: number): void {
    if (this.leafX.length < n) {
      this.leafX = new Float64Array(n)
      this.leafY = new Float64Array(n)
    }
    for (let i = 0; i < n; i++) {
      this.leafX[i] = y[2 * i]
      this.leafY[i] = y[2 * i + 1]
    }
  }

  /** Moves a leaf's existing point (with its mass) down into the right child. */
  private place(q: number, node: number, m: number): void {
    const c = this.child[node] + this.quadrant(node, this.leafX[q], this.leafY[q])
    this.point[c] = q
    this.mass[c] = m
    this.comX[c] = this.leafX[q]
    this.comY[c] = this.leafY[q]
  }

  private quadrant(node: number, x: number, yy: number): number {
    return (x >= this.cx[node] ? 1 : 0) + (yy >= this.cy[node] ? 2 : 0)
  }

  private split(node: number): void {
    const h = this.half[node] / 2
    const cx = this.cx[node]
    const cy = this.cy[node]
    const first = this.node(cx - h, cy - h, h)
    this.node(cx + h, cy - h, h)
    this.node(cx - h, cy + h, h)
    this.node(cx + h, cy + h, h)
    this.child[node] = first
  }
}

/**
 * Barnes-Hut t-SNE (van der Maaten 2014) in two dimensions. Call `step()` once per iteration;
 * `embedding` holds the current layout (n × 2, row-major).
 */
export class Tsne {
  readonly embedding: Float64Array
  iteration = 0
  private readonly p: Affinities
  private readonly gains: Float64Array
  private readonly update: Float64Array
  private readonly grad: Float64Array
  private readonly tree = new QuadTree()
  private readonly stack = new Int32Array(4096)
  private readonly theta: number
  private readonly exaggeration: number
  private readonly exaggerationIterations: number
  private readonly learningRate: number

  constructor(
    data: Float32Array,
    readonly n: number,
    d: number,
    opts: TsneOptions = {}
  ) {
    const perplexity = Math.min(opts.perplexity ?? 30, Math.max(1, (n - 1) / 3))
    const k = Math.min(n - 1, Math.floor(3 * perplexity))
    const { idx, dist } = nearestNeighbours(data, n, d, k)
    this.p = affinities(idx, dist, n, k, perplexity)
    this.theta = opts.theta ?? 0.5
    this.exaggeration = opts.exaggeration ?? 12
    this.exaggerationIterations = opts.exaggerationIterations ?? 250
    this.learningRate = opts.learningRate ?? Math.max(n / this.exaggeration, 50)
    const rand = seededRandom(opts.seed ?? 1)
    this.embedding = new Float64Array(2 * n)
    for (let i = 0; i < 2 * n; i++) {
      // Gaussian start with standard deviation 1e-4 (Box-Muller).
      this.embedding[i] = 1e-4 * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand())
    }
    this.gains = new Float64Array(2 * n).fill(1)
    this.update = new Float64Array(2 * n)
    this.grad = new Float64Array(2 * n)
  }

  /** One gradient step. */
  step(): void {
    const { n, embedding: y, grad, gains, update } = this
    const early = this.iteration < this.exaggerationIterations
    const exag = early ? this.exaggeration : 1
    const momentum = early ? MOMENTUM_EARLY : MOMENTUM_LATE
    // Attraction along the sparse P.
    grad.fill(0)
    const { rowStart, cols, values } = this.p
    for (let i = 0; i < n; i++) {
      const xi = y[2 * i]
      const yi = y[2 * i + 1]
      for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
        const j = cols[e]
        const dx = xi - y[2 * j]
        const dy = yi - y[2 * j + 1]
        const q = 1 / (1 + dx * dx + dy * dy)
        const f = exag * values[e] * q
        grad[2 * i] += f * dx
        grad[2 * i + 1] += f * dy
      }
    }
    // Repulsion from the Barnes-Hut tree.
    const tree = this.tree
    tree.setCoords(y, n)
    tree.build(y, n)
    const rep = new Float64Array(2 * n)
    let z = 0
    const theta2 = this.theta * this.theta
    const stack = this.stack
    for (let i = 0; i < n; i++) {
      const xi = y[2 * i]
      const yi = y[2 * i + 1]
      let top = 0
      stack[top++] = 0
      let fx = 0
      let fy = 0
      while (top > 0) {
        const node = stack[--top]
        const m = tree.mass[node]
        if (m === 0) continue
        const dx = xi - tree.comX[node]
        const dy = yi - tree.comY[node]
        const d2 = dx * dx + dy * dy
        const leaf = tree.child[node] === -1
        const width = 2 * tree.half[node]
        if (leaf || width * width < theta2 * d2) {
          // A leaf at distance zero holds this point (and any coincident twins).
          const mass = leaf && d2 === 0 ? m - 1 : m
          if (mass <= 0) continue
          const q = 1 / (1 + d2)
          z += mass * q
          fx += mass * q * q * dx
          fy += mass * q * q * dy
        } else {
          const c = tree.child[node]
          stack[top++] = c
          stack[top++] = c + 1
          stack[top++] = c + 2
          stack[top++] = c + 3
        }
      }
      rep[2 * i] = fx
      rep[2 * i + 1] = fy
    }
    for (let i = 0; i < 2 * n; i++) {
      const g = 4 * (grad[i] - rep[i] / z)
      gains[i] = Math.sign(g) !== Math.sign(update[i]) ? gains[i] + 0.2 : Math.max(MIN_GAIN, gains[i] * 0.8)
      update[i] = momentum * update[i] - this.learningRate * gains[i] * g
      y[i] += update[i]
    }
    // Keep the layout centred.
    let mx = 0
    let my = 0
    for (let i = 0; i < n; i++) {
      mx += y[2 * i]
      my += y[2 * i + 1]
    }
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx / n
      y[2 * i + 1] -= my / n
    }
    this.iteration++
  }
}
