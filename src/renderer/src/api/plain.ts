import { toRaw } from 'vue'

/**
 * A deep copy free of Vue proxies and undefined fields, safe for structured clone over IPC.
 * `toRaw` alone unwraps only the top level of objects assembled from reactive parts.
 */
export function toPlain<T>(value: T): T {
  const raw = toRaw(value)
  if (Array.isArray(raw)) return raw.map((item: unknown) => toPlain(item)) as T
  if (raw !== null && typeof raw === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(raw)) {
      if (item !== undefined) out[key] = toPlain(item)
    }
    return out as T
  }
  return raw
}
