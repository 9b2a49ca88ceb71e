import { seededRandom } from '../../shared/random'
/** Result of a principal component analysis. */
export interface PcaResult {
  /** n × k projections, row-major. */
  projected: Float32Array
  k: number
  /** Fraction of the total variance each component explains. */
  explainedVariance: number[]
}


/** Orthonormalizes the l columns of an m × l row-major matrix in place (modified Gram-Schmidt). */
function orthonormalize(a: Float64Array, m: number, l: number): void {
  for (let j = 0; j < l; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0
      for (let i = 0; i < m; i++) dot += a[i * l + j] * a[i * l + p]
      for (let i = 0; i < m; i++) a[i * l + j] -= dot * a[i * l + p]
    }
    let norm = 0
    for (let i = 0; i < m; i++) norm += a[i * l + j] ** 2
    norm = Math.sqrt(norm) || 1
    for (let i = 0; i < m; i++) a[i * l + j] /= norm
  }
}

/** Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations; values descending. */
export function symmetricEigen(input: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(input)
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) v[i * n + i] = 1
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2
    if (off < 1e-22) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]
        if (Math.abs(apq) < 1e-300) continue
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]
          const akq = a[k * n + q]
          a[k * n + p] = c * akp - s * akq
          a[k * n + q] = s * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]
          const aqk = a[q * n + k]
          a[p * n + k] = c * apk - s * aqk
          a[q * n + k] = s * apk + c * aqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]
          const vkq = v[k * n + q]
          v[k * n + p] = c * vkp - s * vkq
          v[k * n + q] = s * vkp + c * vkq
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i])
  const vectors = new Float64Array(n * n)
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]
  })
  return { values: order.map((i) => a[i * n + i]), vectors }
}

/**
 * The top k principal components of n points in d dimensions (row-major), by randomized subspace
 * iteration (Halko et al. 2011): exact for d ≤ k + oversampling, and accurate to the leading
 * components otherwise, at O(n·d·l) per pass instead of a d × d covariance.
 */
export function pca(data: Float32Array, n: number, d: number, k: number, seed = 1): PcaResult {
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j]
  for (let j = 0; j < d; j++) mean[j] /= n
  let total = 0
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) total += (data[i * d + j] - mean[j]) ** 2
  const l = Math.min(d, n, k + 10)
  const uniform = seededRandom(seed)
  const rand = (): number => uniform() - 0.5
  // z: d × l basis of the row space, refined by power iterations.
  let z = new Float64Array(d * l)
  for (let i = 0; i < z.length; i++) z[i] = rand()
  const y = new Float64Array(n * l)
  const passes = d <= l ? 1 : 4
  for (let pass = 0; pass < passes; pass++) {
    orthonormalize(z, d, l)
    // y = Xc z
    y.fill(0)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const x = data[i * d + j] - mean[j]
        if (x === 0) continue
        for (let c = 0; c < l; c++) y[i * l + c] += x * z[j * l + c]
      }
    }
    // z = Xc^T y
    const next = new Float64Array(d * l)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const x = data[i * d + j] - mean[j]
        if (x === 0) continue
        for (let c = 0; c < l; c++) next[j * l + c] += x * y[i * l + c]
      }
    }
    z = next
  }
  orthonormalize(z, d, l)
  // Rayleigh-Ritz: covariance restricted to span(z), an l × l problem.
  y.fill(0)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const x = data[i * d + j] - mean[j]
      if (x !== 0) for (let c = 0; c < l; c++) y[i * l + c] += x * z[j * l + c]
    }
  const small = new Float64Array(l * l)
  for (let i = 0; i < n; i++)
    for (let a = 0; a < l; a++) for (let b = 0; b < l; b++) small[a * l + b] += y[i * l + a] * y[i * l + b]
  const eig = symmetricEigen(small, l)
  const kk = Math.min(k, l)
  const projected = new Float32Array(n * k)
  for (let i = 0; i < n; i++)
    for (let c = 0; c < kk; c++) {
      let s = 0
      for (let a = 0; a < l; a++) s += y[i * l + a] * eig.vectors[a * l + c]
      projected[i * k + c] = s
    }
  return {
    projected,
    k,
    explainedVariance: eig.values.slice(0, kk).map((v) => (total > 0 ? Math.max(0, v) / total : 0))
  }
}
