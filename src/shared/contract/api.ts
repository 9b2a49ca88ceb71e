import { z } from 'zod'
import {
  appInfoSchema,
  datasetInfoSchema,
  engineStatusSchema,
  epochEventSchema,
  presetInfoSchema,
  progressEventSchema,
  runBranchSchema,
  runIdSchema,
  runRecordSchema,
  runStatusEventSchema,
  trainingStartSchema
} from './types'
import {
  evaluationEventSchema,
  evaluationSchema,
  imagesRequestSchema,
  imagesSchema,
  runDetailsSchema,
  runNotesSchema,
  runRefSchema,
  runRenameSchema
} from './runs'
import {
  datasetInspectionSchema,
  datasetProgressSchema,
  datasetRequestSchema,
  datasetStatsSchema,
  downloadRequestSchema,
  importRequestSchema,
  importResultSchema,
  probeRequestSchema,
  probeSchema,
  samplesRequestSchema,
  samplesSchema
} from './datasets'
import {
  activationsSchema,
  embedEventSchema,
  embedJobSchema,
  embedRequestSchema,
  filtersSchema,
  inspectRequestSchema,
  filtersRequestSchema,
  topImagesRequestSchema,
  topImagesSchema,
  predictRequestSchema,
  predictionResultSchema,
  saliencyRequestSchema,
  saliencySchema
} from './inspect'
import { pytorchExportRequestSchema, pytorchExportSchema, runExportRequestSchema, runExportSchema, runImportRequestSchema } from './model-exchange'

const empty = z.strictObject({})
const ok = z.object({ ok: z.literal(true) })

/**
 * Request/response channels. Each request is validated with its schema where it is received
 * (main process), each response where it is received (renderer client).
 */
export const requests = {
  'app:info': { request: empty, response: appInfoSchema },
  'datasets:list': { request: empty, response: z.array(datasetInfoSchema) },
  'datasets:inspect': { request: datasetRequestSchema, response: datasetInspectionSchema },
  'datasets:samples': { request: samplesRequestSchema, response: samplesSchema },
  'datasets:stats': { request: datasetRequestSchema, response: datasetStatsSchema },
  'datasets:import': { request: importRequestSchema, response: importResultSchema },
  'datasets:probe': { request: probeRequestSchema, response: probeSchema },
  'datasets:download': { request: downloadRequestSchema, response: datasetInfoSchema },
  'datasets:cancel': { request: downloadRequestSchema, response: ok },
  'presets:list': { request: empty, response: z.array(presetInfoSchema) },
  'engine:status': { request: empty, response: engineStatusSchema },
  'engine:restart': { request: empty, response: engineStatusSchema },
  'training:start': { request: trainingStartSchema, response: z.object({ runId: runIdSchema }) },
  'training:stop': { request: z.strictObject({ runId: runIdSchema }), response: ok },
  'training:pause': { request: z.strictObject({ runId: runIdSchema }), response: ok },
  'training:resume': { request: z.strictObject({ runId: runIdSchema }), response: ok },
  /** Continues a stopped or failed run from its last checkpoint; progress comes as training events. */
  'runs:resume': { request: z.strictObject({ runId: runIdSchema }), response: z.object({ runId: runIdSchema }) },
  /** A new run from another's last checkpoint with a new learning rate; it starts training at once. */
  'runs:branch': { request: runBranchSchema, response: z.object({ runId: runIdSchema }) },
  'runs:list': { request: empty, response: z.array(runRecordSchema) },
  'runs:get': { request: runRefSchema, response: runDetailsSchema },
  'runs:rename': { request: runRenameSchema, response: runRecordSchema },
  'runs:notes': { request: runNotesSchema, response: runRecordSchema },
  'runs:delete': { request: runRefSchema, response: ok },
  'runs:restore': { request: runRefSchema, response: runRecordSchema },
  'runs:evaluation': { request: runRefSchema, response: evaluationSchema },
  'runs:cancelEvaluation': { request: runRefSchema, response: ok },
  /** A run's trained model as model.json + weights.bin (TensorFlow.js weights manifest). */
  'runs:export': { request: runExportRequestSchema, response: runExportSchema },
  /** Adds an exported model as a new completed run. */
  'runs:import': { request: runImportRequestSchema, response: runRecordSchema },
  /** A run (with its weights) or a model + settings as a PyTorch project or notebook, in <data folder>/exports. */
  'runs:exportPytorch': { request: pytorchExportRequestSchema, response: pytorchExportSchema },
  'datasets:images': { request: imagesRequestSchema, response: imagesSchema },
  'inspect:predict': { request: predictRequestSchema, response: predictionResultSchema },
  'inspect:activations': { request: inspectRequestSchema, response: activationsSchema },
  'inspect:saliency': { request: saliencyRequestSchema, response: saliencySchema },
  'inspect:filters': { request: filtersRequestSchema, response: filtersSchema },
  'inspect:embed': { request: embedRequestSchema, response: embedJobSchema },
  'inspect:embedCancel': { request: embedJobSchema, response: ok },
  'inspect:topImages': { request: topImagesRequestSchema, response: topImagesSchema }
} as const

/** Main-to-renderer event streams. */
export const events = {
  'training:progress': progressEventSchema,
  'training:epoch': epochEventSchema,
  'training:status': runStatusEventSchema,
  'training:evaluation': evaluationEventSchema,
  'engine:status': engineStatusSchema,
  'datasets:progress': datasetProgressSchema,
  'inspect:embed': embedEventSchema
} as const

export type RequestChannel = keyof typeof requests
export type EventChannel = keyof typeof events
export type RequestOf<C extends RequestChannel> = z.input<(typeof requests)[C]['request']>
export type ParsedRequestOf<C extends RequestChannel> = z.infer<(typeof requests)[C]['request']>
export type ResponseOf<C extends RequestChannel> = z.infer<(typeof requests)[C]['response']>
export type EventOf<C extends EventChannel> = z.infer<(typeof events)[C]>

const request = <C extends RequestChannel>(channel: C) => ({ kind: 'request', channel }) as const
const event = <C extends EventChannel>(channel: C) => ({ kind: 'event', channel }) as const

/**
 * The API the renderer sees as `window.workbench`: each method names the request it sends or the
 * event stream it subscribes to. `WorkbenchApi` and `createApi` (client.ts) are derived from it.
 */
export const workbenchApi = {
  app: { info: request('app:info') },
  datasets: {
    list: request('datasets:list'),
    inspect: request('datasets:inspect'),
    samples: request('datasets:samples'),
    stats: request('datasets:stats'),
    import: request('datasets:import'),
    probe: request('datasets:probe'),
    download: request('datasets:download'),
    cancel: request('datasets:cancel'),
    onProgress: event('datasets:progress'),
    images: request('datasets:images')
  },
  presets: { list: request('presets:list') },
  engine: {
    status: request('engine:status'),
    restart: request('engine:restart'),
    onStatus: event('engine:status')
  },
  training: {
    start: request('training:start'),
    stop: request('training:stop'),
    pause: request('training:pause'),
    resume: request('training:resume'),
    onProgress: event('training:progress'),
    onEpoch: event('training:epoch'),
    onStatus: event('training:status')
  },
  runs: {
    list: request('runs:list'),
    get: request('runs:get'),
    rename: request('runs:rename'),
    notes: request('runs:notes'),
    delete: request('runs:delete'),
    restore: request('runs:restore'),
    resume: request('runs:resume'),
    branch: request('runs:branch'),
    evaluation: request('runs:evaluation'),
    cancelEvaluation: request('runs:cancelEvaluation'),
    export: request('runs:export'),
    import: request('runs:import'),
    exportPytorch: request('runs:exportPytorch'),
    onEvaluation: event('training:evaluation')
  },
  inspect: {
    predict: request('inspect:predict'),
    activations: request('inspect:activations'),
    saliency: request('inspect:saliency'),
    filters: request('inspect:filters'),
    embed: request('inspect:embed'),
    cancelEmbed: request('inspect:embedCancel'),
    topImages: request('inspect:topImages'),
    onEmbed: event('inspect:embed')
  }
} as const

/** One method of the API: a request (no argument when its payload is empty) or a subscription. */
type ApiMethod<M> = M extends { kind: 'request'; channel: infer C extends RequestChannel }
  ? RequestOf<C> extends Record<string, never>
    ? () => Promise<ResponseOf<C>>
    : (request: RequestOf<C>) => Promise<ResponseOf<C>>
  : M extends { kind: 'event'; channel: infer C extends EventChannel }
    ? (listener: (e: EventOf<C>) => void) => () => void
    : never

/** The one API the renderer sees as `window.workbench`. No channel strings leak past it. */
export type WorkbenchApi = {
  [N in keyof typeof workbenchApi]: {
    [M in keyof (typeof workbenchApi)[N]]: ApiMethod<(typeof workbenchApi)[N][M]>
  }
}

/** What a transport must provide: one invoke and one subscribe. */
export interface Transport {
  invoke(channel: string, payload: unknown): Promise<unknown>
  subscribe(channel: string, listener: (payload: unknown) => void): () => void
}

/** Server-side handlers, one per request channel, as the services implement them. */
export type Handlers = {
  [C in RequestChannel]: (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>>
}

/** Fire-and-forget sink for event streams, as the services see it. */
export type EventSink = <C extends EventChannel>(channel: C, payload: EventOf<C>) => void
