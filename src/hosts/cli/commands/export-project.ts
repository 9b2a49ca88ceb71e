import { resolve } from 'node:path'
import type { Output } from '../output'
import type { Services } from '../../../core/services/create-services'
import type { Hyper } from '../../../shared/hyper'
import type { ModelSpec } from '../../../shared/model/spec'
import { adaptPresetToInput } from '../../../shared/model/presets'
import { WorkbenchError } from '../../../shared/contract/errors'
import { runProjectInput, specProjectInput, writePytorchExport, type PytorchExportFormat } from '../../../core/services/pytorch-export'
import { RunStore } from '../../../data/runs/run-store'

/** Formats that write a training project rather than model code alone. */
export const PROJECT_FORMATS = ['pytorch-project', 'notebook'] as const

/** `export (--preset|--model) --format pytorch-project|notebook --dataset D --out DIR` with train's flags. */
export async function runExportProject(
  spec: ModelSpec,
  fromPreset: boolean,
  format: (typeof PROJECT_FORMATS)[number],
  dataset: string | undefined,
  hyper: Hyper,
  outPath: string | undefined,
  services: Services,
  out: Output
): Promise<void> {
  if (!outPath) throw new WorkbenchError('BAD_REQUEST', `Name where to write: --out ${format === 'notebook' ? 'FILE.ipynb' : 'DIR'}.`)
  const ref = dataset ?? 'mnist'
  let model = spec
  if (fromPreset) {
    const info = await services.datasets.inspect(ref)
    const [channels, height, width] = info.shape
    const adapted = adaptPresetToInput(spec, { channels, height, width }, info.classes.length)
    if (adapted.note) out.note(adapted.note)
    model = adapted.spec
  }
  const input = await specProjectInput(services.datasets, model, ref, hyper)
  const written = await writePytorchExport(input, format === 'notebook' ? 'notebook' : 'pytorch', resolve(outPath))
  out.event({ event: 'exported', format, path: written.path, files: written.files })
  out.text(`Wrote ${format === 'notebook' ? 'a notebook' : 'a PyTorch project'} for "${model.name}" on ${ref} to ${written.path} (${written.files.join(', ')}).`)
}

/** `runs export RUN --format pytorch|notebook --out DIR`: the run's recipe with its trained weights. */
export async function runExportRunProject(
  store: RunStore,
  runId: string,
  format: PytorchExportFormat,
  outPath: string,
  services: Services,
  out: Output
): Promise<void> {
  const input = await runProjectInput(store, services.datasets, runId)
  const written = await writePytorchExport(input, format, resolve(outPath))
  out.event({ event: 'exported', runId, format, dir: written.path, files: written.files })
  out.text(`Exported run ${runId} as ${format === 'notebook' ? 'a notebook' : 'a PyTorch project'} to ${written.path} (${written.files.join(', ')}).`)
}
