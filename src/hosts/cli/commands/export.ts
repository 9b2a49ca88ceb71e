import { resolve } from 'node:path'
import { writeFileAtomic } from '../../../data/atomic-write'
import { WorkbenchError } from '../../../shared/contract/errors'
import { exportKeras } from '../../../shared/export/keras'
import { exportPytorch } from '../../../shared/export/pytorch'
import type { ModelSpec } from '../../../shared/model/spec'
import type { Output } from '../output'

/** Code formats `export` writes. */
export const EXPORT_FORMATS = ['pytorch', 'keras'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** Checks `--format`; an unknown or missing one is a BAD_REQUEST naming the valid formats. */
export function parseExportFormat(value: string | undefined): ExportFormat {
  if (value === undefined) {
    throw new WorkbenchError('BAD_REQUEST', `Name a format: --format ${EXPORT_FORMATS.join('|')}.`)
  }
  const format = EXPORT_FORMATS.find((f) => f === value.toLowerCase())
  if (!format) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `Unknown format "${value}". Use --format ${EXPORT_FORMATS.join(' or --format ')}.`,
      { format: value, valid: [...EXPORT_FORMATS] }
    )
  }
  return format
}

/** `export`: PyTorch or Keras code for a model, on stdout or written atomically to `--out`. */
export async function runExport(
  spec: ModelSpec,
  format: ExportFormat,
  outFile: string | undefined,
  out: Output
): Promise<void> {
  const code = format === 'keras' ? exportKeras(spec) : exportPytorch(spec)
  if (outFile === undefined) {
    process.stdout.write(code)
    return
  }
  const path = resolve(outFile)
  try {
    await writeFileAtomic(path, code)
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new WorkbenchError(
      'IO_ERROR',
      `Cannot write ${path} (${reason}). Check that the folder exists and is writable.`
    )
  }
  out.event({ event: 'exported', format, path, bytes: Buffer.byteLength(code) })
  out.note(`Wrote ${format === 'keras' ? 'Keras' : 'PyTorch'} code for "${spec.name}" to ${path}.`)
}
