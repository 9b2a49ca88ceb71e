/** localStorage keys: what the workbench remembers across reloads. */
export const SETTINGS_KEY = 'cnn-workbench.settings/1'
export const LAST_RUN_KEY = 'cnn-workbench.last-run/1'

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    // Storage can be switched off (privacy settings): the app still works, it just forgets.
    return null
  }
}

/** The remembered object under `key`, or null when absent or unreadable. */
export function recall(key: string): Record<string, unknown> | null {
  try {
    const raw = storage()?.getItem(key)
    const value: unknown = raw ? JSON.parse(raw) : null
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/** Remembers `value` under `key`; a full or disabled storage is not an error. */
export function remember(key: string, value: unknown): void {
  try {
    storage()?.setItem(key, JSON.stringify(value))
  } catch {
    // Nothing to do: forgetting a setting must never break the app.
  }
}

/**
 * Copies remembered fields into `target` where the type matches the default's (a number stays a
 * number, '' is kept for optional numbers); anything else is ignored, so a stale or edited entry
 * cannot put a wrong type into the form. The form's own validation judges the values.
 */
export function restoreInto<T extends object>(target: T, saved: Record<string, unknown> | null): void {
  if (!saved) return
  const t = target as Record<string, unknown>
  for (const [key, value] of Object.entries(saved)) {
    if (!(key in t)) continue
    const current = t[key]
    const numberish = typeof current === 'number' || current === ''
    if (numberish ? typeof value === 'number' || value === '' : typeof value === typeof current) {
      t[key] = value
    }
  }
}
