import { join } from 'node:path'
import type { EventSink, Handlers } from '../../shared/contract/api'
import type { AppInfo } from '../../shared/contract/types'
import { EngineSupervisor, type EngineLauncher, type SupervisorOptions } from '../engine/supervisor'
import { RunStore } from '../../data/runs/run-store'
import { TrainingService } from './training-service'
import { EvaluationService } from './evaluation-service'
import { RunsService } from './runs-service'
import { DatasetRegistry } from '../../data/datasets/registry'
import { DatasetService } from './dataset-service'
import { cleanStaleImports } from '../datasets/import'
import { InspectService } from './inspect-service'
import { PRESETS } from '../../shared/model/presets'
import { buildTrainedFiles, importTrainedFiles } from './model-exchange'
import { importPytorchRunUpload, isPytorchRunUpload } from './pytorch-run-import'
import { exportPytorchToDataFolder } from './pytorch-export'

export interface ServiceOptions {
  /** The app's data folder: datasets/ and runs/ live under it. */
  dataDir: string
  launcher: EngineLauncher
  /** Which host serves the services; app:info reports it. */
  host: AppInfo['host']
  version: string
  /** Watchdog timing; tests shorten it. */
  engine?: SupervisorOptions
}

/** The services every host shares, and the request handlers built on them. */
export interface Services {
  engine: EngineSupervisor
  runs: RunStore
  datasets: DatasetRegistry
  /** Serves the dataset explorer and import: inspect, samples, stats, import, download. */
  datasetService: DatasetService
  training: TrainingService
  evaluations: EvaluationService
  inspect: InspectService
  handlers: Handlers
  /** Where events go; a host sets it once its transport is up. */
  setSink(sink: EventSink): void
  dispose(): Promise<void>
}

/** The composition root for the main process's services; hosts add only a transport. */
export function createServices(opts: ServiceOptions): Services {
  let sink: EventSink = () => undefined
  const emit: EventSink = (channel, payload) => sink(channel, payload)
  const engine = new EngineSupervisor(opts.launcher, opts.engine)
  engine.onStatus((s) => emit('engine:status', s))
  const runs = new RunStore(join(opts.dataDir, 'runs'))
  const datasets = new DatasetRegistry({ dataDir: opts.dataDir })
  const datasetService = new DatasetService({ registry: datasets, emit })
  // Imports killed mid-way leave `.import-*` temp folders: clear them now, in the background.
  void cleanStaleImports(datasets)
  const evaluations = new EvaluationService(engine, runs, datasets, emit)
  const training = new TrainingService(engine, runs, datasets, emit, (id, source) =>
    evaluations.afterTraining(id, source)
  )
  const inspect = new InspectService(engine, runs, datasets, emit)
  const runsService = new RunsService(runs, evaluations, datasets, () => training.activeRunId)
  const handlers: Handlers = {
    'app:info': async () => ({ version: opts.version, host: opts.host, dataDir: opts.dataDir }),
    'datasets:list': () => datasets.list(),
    'datasets:inspect': (req) => datasetService.inspect(req.name),
    'datasets:samples': (req) => datasetService.samples(req),
    'datasets:stats': (req) => datasetService.getStats(req.name),
    'datasets:import': (req) => datasetService.importPath(req.path, req.name, req),
    'datasets:probe': (req) => datasetService.probe(req.path),
    'datasets:download': (req) => datasetService.download(req.name),
    'datasets:cancel': (req) => datasetService.cancel(req.name),
    'presets:list': async () => PRESETS.map((p) => ({ id: p.id, title: p.title, note: p.note, spec: p.spec })),
    'engine:status': async () => engine.status(),
    'engine:restart': () => engine.restart(),
    'training:start': (req) => training.start(req),
    'training:stop': (req) => training.stop(req.runId),
    'training:pause': (req) => training.pause(req.runId),
    'training:resume': (req) => training.resume(req.runId),
    'runs:resume': (req) => training.resumeRun(req.runId),
    'runs:branch': (req) => training.branchRun(req),
    // Each run says whether its dataset still holds the data it trained on (hashes are cached).
    'runs:list': async () =>
      Promise.all(
        (await runs.list()).map(async (r) => ((await training.datasetChanged(r)) ? { ...r, datasetChanged: true } : r))
      ),
    'runs:get': (req) => runsService.get(req.runId),
    'runs:rename': (req) => runsService.rename(req.runId, req.name),
    'runs:notes': (req) => runsService.notes(req.runId, req.notes),
    'runs:delete': (req) => runsService.delete(req.runId),
    'runs:restore': (req) => runsService.restore(req.runId),
    'runs:evaluation': (req) => evaluations.get(req.runId),
    'runs:cancelEvaluation': async (req) => {
      evaluations.cancel(req.runId)
      return { ok: true as const }
    },
    'runs:export': async (req) => {
      const record = await runs.read(req.runId)
      const classes = (await datasets.list()).find((d) => d.name === record.dataset)?.classes ?? []
      const files = await buildTrainedFiles(runs, req.runId, classes)
      return {
        files: [
          { name: 'model.json', base64: Buffer.from(files.modelJson).toString('base64') },
          { name: 'weights.bin', base64: Buffer.from(files.weightsBin).toString('base64') }
        ]
      }
    },
    'runs:import': (req) =>
      isPytorchRunUpload(req.files) ? importPytorchRunUpload(runs, req.files) : importTrainedFiles(runs, req.files),
    'runs:exportPytorch': (req) => exportPytorchToDataFolder(join(opts.dataDir, 'exports'), runs, datasets, req),
    'datasets:images': (req) => runsService.images(req),
    'inspect:predict': (req) => inspect.predict(req),
    'inspect:activations': (req) => inspect.activations(req),
    'inspect:saliency': (req) => inspect.saliency(req),
    'inspect:filters': (req) => inspect.filters(req.runId, req.epoch),
    'inspect:embed': (req) => inspect.embed(req),
    'inspect:embedCancel': (req) => inspect.cancelEmbed(req.jobId),
    'inspect:topImages': (req) => inspect.topImages(req)
  }
  return {
    engine,
    runs,
    datasets,
    datasetService,
    training,
    evaluations,
    inspect,
    handlers,
    setSink: (s) => {
      sink = s
    },
    dispose: () => engine.stop()
  }
}
