import type { Output } from '../output'
import type { Services } from '../../../core/services/create-services'
import type { EventSink } from '../../../shared/contract/api'
import { DATASET_DOWNLOADS, type DownloadSpec } from '../../../core/datasets/download'
import { DatasetService } from '../../../core/services/dataset-service'
import type { DatasetProgress, ImportRequest } from '../../../shared/contract/datasets'
import { importRequestSchema } from '../../../shared/contract/datasets'
import { WorkbenchError } from '../../../shared/contract/errors'
import { parseFlags, stringFlag, type Flags } from '../args'

const USAGE =
  'Usage: cnn-workbench dataset inspect NAME|PATH [--json], cnn-workbench dataset import PATH ' +
  '[--name NAME] [--size N] [--rgb] [--test-fraction F] [--json], or cnn-workbench dataset ' +
  `download ${Object.keys(DATASET_DOWNLOADS).join('|')} [--json]`
/** Environment variable with a base URL that serves the official file names (an offline mirror). */
export const MIRROR_ENV = 'CNN_WORKBENCH_MIRROR'
/** Least time between two progress lines on stderr, in milliseconds. */
const PROGRESS_LINE_MS = 500
const IMAGE_FLAGS = ['size', 'rgb', 'test-fraction'] as const

function mirrored(base: string): Record<string, DownloadSpec> {
  const root = base.endsWith('/') ? base : base + '/'
  return Object.fromEntries(
    Object.entries(DATASET_DOWNLOADS).map(([key, spec]) => [
      key,
      { ...spec, files: spec.files.map((f) => ({ ...f, url: root + f.file })) }
    ])
  )
}

function progressLine(p: DatasetProgress): string {
  if (p.phase === 'import') {
    return p.fileCount > 1
      ? `Decoded ${p.fileIndex} of ${p.fileCount} images (${p.file})`
      : `Importing ${p.file}…`
  }
  const mb = (n: number): string => (n / 1_000_000).toFixed(1)
  const total = p.totalBytes === null ? '' : ` of ${mb(p.totalBytes)}`
  return `File ${p.fileIndex + 1} of ${p.fileCount} (${p.file}): ${mb(p.receivedBytes)}${total} MB`
}

/** A sink that writes dataset progress to stderr, at most one line every PROGRESS_LINE_MS. */
function progressSink(out: Output): EventSink {
  let last = 0
  return (channel, payload) => {
    if (channel !== 'datasets:progress') return
    const p = payload as DatasetProgress
    const now = Date.now()
    const final = p.fileCount > 1 && p.fileIndex === p.fileCount
    if (now - last < PROGRESS_LINE_MS && !final) return
    last = now
    out.note(progressLine(p))
  }
}

/** The image-folder choices from flags, validated by the same schema as the app's request. */
function importRequest(target: string, values: Flags['values']): ImportRequest {
  const size = stringFlag(values, 'size')
  const fraction = stringFlag(values, 'test-fraction')
  const raw = {
    path: target,
    ...(stringFlag(values, 'name') === undefined ? {} : { name: stringFlag(values, 'name') }),
    ...(size === undefined ? {} : { imageSize: Number(size) }),
    ...(values.rgb === true ? { color: 'rgb' } : {}),
    ...(fraction === undefined ? {} : { testFraction: Number(fraction) })
  }
  const parsed = importRequestSchema.safeParse(raw)
  if (!parsed.success) {
    const flags: Record<string, string> = {
      imageSize: '--size (4 to 256)',
      testFraction: '--test-fraction (between 0 and 1)'
    }
    const field = String(parsed.error.issues[0].path[0] ?? '')
    throw new WorkbenchError(
      'BAD_REQUEST',
      `${flags[field] ?? field}: ${parsed.error.issues[0].message.replace(/^Invalid input: /, '')}. ` +
        'Fix the flag and run again.'
    )
  }
  return parsed.data
}

/** `dataset inspect|import|download`: counts per class, a copy into the data folder, or a download. */
export async function runDataset(
  argv: string[],
  services: () => Services,
  out: Output
): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    json: { type: 'boolean' },
    name: { type: 'string' },
    size: { type: 'string' },
    rgb: { type: 'boolean' },
    'test-fraction': { type: 'string' }
  })
  const [sub, target] = positionals
  if (!target || (sub !== 'inspect' && sub !== 'import' && sub !== 'download')) {
    throw new WorkbenchError('BAD_REQUEST', USAGE)
  }
  if (sub !== 'import') {
    const stray = ['name', ...IMAGE_FLAGS].find((f) => values[f] !== undefined)
    if (stray)
      throw new WorkbenchError('BAD_REQUEST', `--${stray} belongs to \`dataset import\`. ${USAGE}`)
  }
  if (sub === 'import') {
    const request = importRequest(target, values)
    const s = services()
    s.setSink(progressSink(out))
    const info = await s.datasetService.importPath(request.path, request.name, request)
    out.event({ event: 'imported', ...info })
    const skipped = info.skippedFiles
      ? ` Skipped ${info.skippedFiles} file${info.skippedFiles === 1 ? '' : 's'} that are not PNG or JPEG.`
      : ''
    out.text(
      `Imported ${info.name}: ${info.trainCount.toLocaleString('en-US')} training and ` +
        `${info.testCount.toLocaleString('en-US')} test images of ${info.shape.join(' × ')}, ` +
        `${info.classes.length} classes.${skipped} Train on it with --dataset ${info.name}.`
    )
    return
  }
  if (sub === 'download') {
    const s = services()
    const mirror = process.env[MIRROR_ENV]
    const sink = progressSink(out)
    s.setSink(sink)
    const data = mirror
      ? new DatasetService({ registry: s.datasets, emit: sink, downloads: mirrored(mirror) })
      : s.datasetService
    const info = await data.download(target)
    out.event({ event: 'downloaded', ...info })
    out.text(
      `Downloaded ${info.title}: ${info.trainCount.toLocaleString('en-US')} training and ` +
        `${info.testCount.toLocaleString('en-US')} test images. Train on it with --dataset ${info.name}.`
    )
    return
  }
  const info = await services().datasetService.inspect(target)
  out.event(info as unknown as Record<string, unknown>)
  out.text(`${info.name}: ${info.shape.join(' × ')}, ${info.classes.length} classes`)
  for (const split of ['train', 'test'] as const) {
    out.text(`  ${split}: ${info[split].count.toLocaleString('en-US')} samples`)
    info.classes.forEach((c, i) => out.text(`    ${c.padEnd(14)} ${info[split].perClass[i]}`))
  }
}
