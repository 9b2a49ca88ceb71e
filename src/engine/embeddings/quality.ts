/**
 * Mean fraction of each point's k nearest neighbours (2-D, Euclidean) that share its label: how
 * well a layout keeps classes together. 1 means every neighbourhood is pure.
 */
export function neighbourAgreement(points: ArrayLike<number>, labels: ArrayLike<number>, k = 10): number {
  const n = labels.length
  if (n < 2) return 1
  const kk = Math.min(k, n - 1)
  const bestD = new Float64Array(kk)
  const bestJ = new Int32Array(kk)
  let total = 0
  for (let i = 0; i < n; i++) {
    bestD.fill(Infinity)
    const xi = points[2 * i]
    const yi = points[2 * i + 1]
    for (let j = 0; j < n; j++) {
      if (j === i) continue
      const d = (points[2 * j] - xi) ** 2 + (points[2 * j + 1] - yi) ** 2
      if (d >= bestD[kk - 1]) continue
      let p = kk - 1
      while (p > 0 && bestD[p - 1] > d) {
        bestD[p] = bestD[p - 1]
        bestJ[p] = bestJ[p - 1]
        p--
      }
      bestD[p] = d
      bestJ[p] = j
    }
    let same = 0
    for (let m = 0; m < kk; m++) if (labels[bestJ[m]] === labels[i]) same++
    total += same / kk
  }
  return total / n
}
