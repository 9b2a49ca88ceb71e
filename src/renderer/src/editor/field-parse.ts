import { MAX_DIMENSION } from '../../../shared/model/spec'
import type { Padding, Size } from '../../../shared/model/spec'

/** How an editable layer field is typed and read back. */
export type FieldKind = 'int' | 'size' | 'optionalSize' | 'padding' | 'rate'

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string }

const INT_RE = /^\s*(\d+)\s*$/
/** "3", "3x3", "3×5", "3 * 5", "3,5", "[3, 5]" or "(3, 5)". */
const SIZE_RE = /^\s*[[(]?\s*(\d+)\s*(?:[x×*,]\s*(\d+))?\s*[\])]?\s*$/i
const DECIMAL_RE = /^\s*(?:\d+(?:\.\d*)?|\.\d+)\s*$/

const MAX_TEXT = MAX_DIMENSION.toLocaleString('en-US')

function wholeNumber(text: string, min: number, hint: string): ParseResult<number> {
  const m = INT_RE.exec(text)
  const n = m ? Number(m[1]) : NaN
  if (!m || n < min || n > MAX_DIMENSION) return { ok: false, message: hint }
  return { ok: true, value: n }
}

function size(text: string): ParseResult<Size> {
  const hint = `Use a whole number from 1 to ${MAX_TEXT}, or height×width such as 3×5.`
  const m = SIZE_RE.exec(text)
  if (!m) return { ok: false, message: hint }
  const h = Number(m[1])
  const w = m[2] === undefined ? h : Number(m[2])
  if (h < 1 || w < 1 || h > MAX_DIMENSION || w > MAX_DIMENSION) return { ok: false, message: hint }
  return { ok: true, value: h === w ? h : [h, w] }
}

/** Reads what the learner typed into a field; the message says what to type instead. */
export function parseField(kind: FieldKind, text: string): ParseResult<unknown> {
  switch (kind) {
    case 'int':
      return wholeNumber(text, 1, `Use a whole number from 1 to ${MAX_TEXT}.`)
    case 'size':
      return size(text)
    case 'optionalSize':
      return text.trim() === '' ? { ok: true, value: undefined } : size(text)
    case 'padding': {
      const word = text.trim().toLowerCase()
      if (word === 'valid' || word === 'same') return { ok: true, value: word }
      return wholeNumber(
        text,
        0,
        `Use "valid" (no padding), "same" (keep the size) or a whole number of pixels from 0 to ${MAX_TEXT}.`
      )
    }
    case 'rate': {
      const n = Number(text)
      if (!DECIMAL_RE.test(text) || !(n >= 0 && n < 1)) {
        return { ok: false, message: 'Use a fraction from 0 up to (not including) 1, such as 0.25.' }
      }
      return { ok: true, value: n }
    }
  }
}

/** The text a field shows for a stored value; squares as "3×3", an unset stride as "". */
export function formatField(kind: FieldKind, value: unknown): string {
  if (value === undefined) return ''
  if (kind === 'size' || kind === 'optionalSize') {
    const s = value as Size
    return typeof s === 'number' ? `${s}×${s}` : `${s[0]}×${s[1]}`
  }
  if (kind === 'padding') return String(value as Padding)
  return String(value)
}
