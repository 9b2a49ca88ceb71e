import { seededRandom } from '../../shared/random'

/** A shuffled copy of `items` (Fisher–Yates), the same for the same seed. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  const random = seededRandom(seed)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
