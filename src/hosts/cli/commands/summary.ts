import type { Output } from '../output'
import type { ModelSpec } from '../../../shared/model/spec'
import { summarizeModel, formatShape } from '../../../shared/model/shape-inference'
import { WorkbenchError } from '../../../shared/contract/errors'

/** `summary`: one row per layer with its output shape and parameters, then totals. */
export function runSummary(spec: ModelSpec, out: Output): void {
  const s = summarizeModel(spec)
  if (s.errors.length > 0) {
    const e = s.errors[0]
    throw new WorkbenchError('INVALID_MODEL', `Layer ${e.index + 1} (${spec.layers[e.index]?.type ?? 'input'}): ${e.message}`, {
      errors: s.errors
    })
  }
  out.event({
    name: spec.name,
    input: [spec.input.channels, spec.input.height, spec.input.width],
    layers: s.layers.map((l) => ({ type: l.type, outputShape: l.outputShape, params: l.params })),
    totalParams: s.totalParams,
    trainableParams: s.trainableParams,
    nonTrainableParams: s.nonTrainableParams,
    totalMacs: s.totalMacs
  })
  const rows = s.layers.map((l) => [String(l.index), l.label, formatShape(l.outputShape), l.params.toLocaleString('en-US')])
  const header = ['#', 'Layer', 'Output shape', 'Params']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (r: string[]): string => r.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')
  out.text(`${spec.name}: input ${spec.input.channels} × ${spec.input.height} × ${spec.input.width}`)
  out.text(line(header))
  out.text(widths.map((w) => '-'.repeat(w)).join('  '))
  rows.forEach((r) => out.text(line(r)))
  out.text(`Total params: ${s.totalParams.toLocaleString('en-US')}`)
  out.text(`Trainable params: ${s.trainableParams.toLocaleString('en-US')}`)
  out.text(`Non-trainable params: ${s.nonTrainableParams.toLocaleString('en-US')}`)
}
