import { WorkbenchError } from '../contract/errors'
import { isTrainable, summarizeModel } from '../model/shape-inference'
import type { ModelSpec, Size } from '../model/spec'
import type { ModelSummary } from '../model/summary-types'

/** The dataset an exported script is written for; a `DatasetInfo` fits. */
export interface ExportDataset {
  name: string
  title?: string
  classes?: string[]
}

/** A Python string literal; JSON escapes are valid Python escapes. */
export function pyString(text: string): string {
  return JSON.stringify(text)
}

function isLineOrControl(ch: string): boolean {
  const code = ch.charCodeAt(0)
  return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029
}

/** One-line text safe inside a Python comment. */
export function commentText(text: string, maxChars = 200): string {
  const flat = Array.from(text, (ch) => (isLineOrControl(ch) ? ' ' : ch))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim()
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat
}

/** A Python int or (h, w) tuple for a size field. */
export function pySize(size: Size): string {
  return typeof size === 'number' ? String(size) : `(${size[0]}, ${size[1]})`
}

/** TensorFlow "same" padding for one dimension, split as TF does (extra pixel after). */
export function samePadding(input: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(input / stride)
  const total = Math.max((out - 1) * stride + kernel - input, 0)
  const before = Math.floor(total / 2)
  return [before, total - before]
}

/** Summarizes the spec and refuses to export a model that cannot be trained. */
export function summaryForExport(spec: ModelSpec): ModelSummary {
  const summary = summarizeModel(spec)
  if (!isTrainable(summary)) {
    const first = summary.errors[0]
    const where = first && first.index >= 0 ? `layer ${first.index + 1}: ` : ''
    throw new WorkbenchError(
      'INVALID_MODEL',
      `Fix the model before exporting it. ${where}${first?.message ?? 'the model has no output'}`,
      { errors: summary.errors }
    )
  }
  return summary
}
