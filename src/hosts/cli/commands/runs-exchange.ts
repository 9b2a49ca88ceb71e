import { existsSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import type { Output } from '../output'
import { parseFlags, stringFlag } from '../args'
import type { Services } from '../../../core/services/create-services'
import { RunStore } from '../../../data/runs/run-store'
import { exportTrainedModel, importTrainedModel } from '../../../core/services/model-exchange'
import { WorkbenchError } from '../../../shared/contract/errors'
import { importPytorchRun, isPytorchRunFolder } from '../../../core/services/pytorch-run-import'
import { runExportRunProject } from './export-project'

/** `runs export RUN_DIR|RUN_ID --out DIR` and `runs import DIR`: trained models as files. */
export async function runRunsExchange(argv: string[], makeServices: () => Services, out: Output): Promise<void> {
  const [sub, ...rest] = argv
  const { values, positionals } = parseFlags(rest, { out: { type: 'string' }, format: { type: 'string' }, json: { type: 'boolean' } })
  const target = positionals[0]
  if (!target || positionals.length > 1) {
    throw new WorkbenchError('BAD_REQUEST', `Usage: cnn-workbench runs ${sub} ${sub === 'export' ? 'RUN_DIR|RUN_ID --out DIR' : 'DIR'} [--json]`)
  }
  const services = makeServices()
  if (sub === 'import') {
    // A folder train.py wrote (run.json + weights.safetensors), or a model exported by the app.
    const pytorch = await isPytorchRunFolder(resolve(target))
    const record = pytorch ? await importPytorchRun(services.runs, resolve(target)) : await importTrainedModel(services.runs, resolve(target))
    out.event({ event: 'imported', runId: record.id, runDir: services.runs.dir(record.id), name: record.name ?? null, dataset: record.dataset, epochsDone: record.epochsDone, ...(record.trainedBy ? { trainedBy: record.trainedBy } : {}) })
    out.text(`Imported as run ${record.id} (${record.name ?? record.spec.name}, dataset ${record.dataset}).`)
    return
  }
  const outDir = stringFlag(values, 'out')
  if (!outDir) throw new WorkbenchError('BAD_REQUEST', 'Name the folder to write: --out DIR.')
  // A path names a run folder anywhere; a bare id names a run in the data folder.
  const isPath = target.includes('/') || target.includes('\\') || (existsSync(target) && !existsSync(services.runs.dir(target)))
  const store = isPath ? new RunStore(dirname(resolve(target))) : services.runs
  const runId = isPath ? basename(resolve(target)) : target
  const format = stringFlag(values, 'format')
  if (format !== undefined && format !== 'tfjs') {
    if (format !== 'pytorch' && format !== 'notebook') {
      throw new WorkbenchError('BAD_REQUEST', `Unknown format "${format}". Use --format pytorch, --format notebook or --format tfjs (the default).`)
    }
    await runExportRunProject(store, runId, format, outDir, services, out)
    return
  }
  const record = await store.read(runId)
  const classes = (await services.datasets.list()).find((d) => d.name === record.dataset)?.classes ?? []
  const result = await exportTrainedModel(store, runId, resolve(outDir), classes)
  out.event({ event: 'exported', runId, dir: result.dir, files: result.files })
  out.text(`Exported run ${runId} to ${result.dir} (${result.files.join(', ')}).`)
}
