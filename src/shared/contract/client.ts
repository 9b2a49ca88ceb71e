import type { z } from 'zod'
import { WorkbenchError, describeIssues } from './errors'
import {
  events,
  requests,
  type EventChannel,
  type EventOf,
  type RequestChannel,
  type RequestOf,
  type ResponseOf,
  type Transport
} from './api'

/** The one API the renderer sees as `window.workbench`. No channel strings leak past it. */
export interface WorkbenchApi {
  app: { info(): Promise<ResponseOf<'app:info'>> }
  datasets: {
    list(): Promise<ResponseOf<'datasets:list'>>
    inspect(request: RequestOf<'datasets:inspect'>): Promise<ResponseOf<'datasets:inspect'>>
    samples(request: RequestOf<'datasets:samples'>): Promise<ResponseOf<'datasets:samples'>>
    stats(request: RequestOf<'datasets:stats'>): Promise<ResponseOf<'datasets:stats'>>
    import(request: RequestOf<'datasets:import'>): Promise<ResponseOf<'datasets:import'>>
    probe(request: RequestOf<'datasets:probe'>): Promise<ResponseOf<'datasets:probe'>>
    download(request: RequestOf<'datasets:download'>): Promise<ResponseOf<'datasets:download'>>
    cancel(request: RequestOf<'datasets:cancel'>): Promise<ResponseOf<'datasets:cancel'>>
    onProgress(listener: (e: EventOf<'datasets:progress'>) => void): () => void
    images(request: RequestOf<'datasets:images'>): Promise<ResponseOf<'datasets:images'>>
  }
  presets: { list(): Promise<ResponseOf<'presets:list'>> }
  engine: {
    status(): Promise<ResponseOf<'engine:status'>>
    restart(): Promise<ResponseOf<'engine:restart'>>
    onStatus(listener: (e: EventOf<'engine:status'>) => void): () => void
  }
  training: {
    start(request: RequestOf<'training:start'>): Promise<ResponseOf<'training:start'>>
    stop(request: RequestOf<'training:stop'>): Promise<ResponseOf<'training:stop'>>
    pause(request: RequestOf<'training:pause'>): Promise<ResponseOf<'training:pause'>>
    resume(request: RequestOf<'training:resume'>): Promise<ResponseOf<'training:resume'>>
    onProgress(listener: (e: EventOf<'training:progress'>) => void): () => void
    onEpoch(listener: (e: EventOf<'training:epoch'>) => void): () => void
    onStatus(listener: (e: EventOf<'training:status'>) => void): () => void
  }
  runs: {
    list(): Promise<ResponseOf<'runs:list'>>
    get(request: RequestOf<'runs:get'>): Promise<ResponseOf<'runs:get'>>
    rename(request: RequestOf<'runs:rename'>): Promise<ResponseOf<'runs:rename'>>
    notes(request: RequestOf<'runs:notes'>): Promise<ResponseOf<'runs:notes'>>
    delete(request: RequestOf<'runs:delete'>): Promise<ResponseOf<'runs:delete'>>
    restore(request: RequestOf<'runs:restore'>): Promise<ResponseOf<'runs:restore'>>
    resume(request: RequestOf<'runs:resume'>): Promise<ResponseOf<'runs:resume'>>
    branch(request: RequestOf<'runs:branch'>): Promise<ResponseOf<'runs:branch'>>
    evaluation(request: RequestOf<'runs:evaluation'>): Promise<ResponseOf<'runs:evaluation'>>
    cancelEvaluation(request: RequestOf<'runs:cancelEvaluation'>): Promise<ResponseOf<'runs:cancelEvaluation'>>
    export(request: RequestOf<'runs:export'>): Promise<ResponseOf<'runs:export'>>
    import(request: RequestOf<'runs:import'>): Promise<ResponseOf<'runs:import'>>
    exportPytorch(request: RequestOf<'runs:exportPytorch'>): Promise<ResponseOf<'runs:exportPytorch'>>
    onEvaluation(listener: (e: EventOf<'training:evaluation'>) => void): () => void
  }
  inspect: {
    predict(request: RequestOf<'inspect:predict'>): Promise<ResponseOf<'inspect:predict'>>
    activations(request: RequestOf<'inspect:activations'>): Promise<ResponseOf<'inspect:activations'>>
    saliency(request: RequestOf<'inspect:saliency'>): Promise<ResponseOf<'inspect:saliency'>>
    filters(request: RequestOf<'inspect:filters'>): Promise<ResponseOf<'inspect:filters'>>
    embed(request: RequestOf<'inspect:embed'>): Promise<ResponseOf<'inspect:embed'>>
    cancelEmbed(request: RequestOf<'inspect:embedCancel'>): Promise<ResponseOf<'inspect:embedCancel'>>
    topImages(request: RequestOf<'inspect:topImages'>): Promise<ResponseOf<'inspect:topImages'>>
    onEmbed(listener: (e: EventOf<'inspect:embed'>) => void): () => void
  }
}

/** Builds the typed API over any transport (Electron IPC in the preload, WebSocket on the web). */
export function createApi(transport: Transport): WorkbenchApi {
  const call =
    <C extends RequestChannel>(channel: C) =>
    async (payload?: RequestOf<C>): Promise<ResponseOf<C>> => {
      const raw = await transport.invoke(channel, payload ?? {})
      const schema: z.ZodType = requests[channel].response
      const parsed = schema.safeParse(raw)
      if (!parsed.success) {
        throw new WorkbenchError(
          'INTERNAL',
          `The app sent a malformed reply on ${channel}: ${describeIssues(parsed.error)}`
        )
      }
      return parsed.data as ResponseOf<C>
    }
  const on =
    <C extends EventChannel>(channel: C) =>
    (listener: (e: EventOf<C>) => void): (() => void) =>
      transport.subscribe(channel, (payload) => {
        const parsed = events[channel].safeParse(payload)
        if (parsed.success) listener(parsed.data as EventOf<C>)
        else console.warn(`Dropped a malformed ${channel} event`, describeIssues(parsed.error))
      })

  return {
    app: { info: call('app:info') },
    datasets: {
      list: call('datasets:list'),
      inspect: call('datasets:inspect'),
      samples: call('datasets:samples'),
      stats: call('datasets:stats'),
      import: call('datasets:import'),
      probe: call('datasets:probe'),
      download: call('datasets:download'),
      cancel: call('datasets:cancel'),
      onProgress: on('datasets:progress'),
      images: call('datasets:images')
    },
    presets: { list: call('presets:list') },
    engine: { status: call('engine:status'), restart: call('engine:restart'), onStatus: on('engine:status') },
    training: {
      start: call('training:start'),
      stop: call('training:stop'),
      pause: call('training:pause'),
      resume: call('training:resume'),
      onProgress: on('training:progress'),
      onEpoch: on('training:epoch'),
      onStatus: on('training:status')
    },
    runs: {
      list: call('runs:list'),
      get: call('runs:get'),
      rename: call('runs:rename'),
      notes: call('runs:notes'),
      delete: call('runs:delete'),
      restore: call('runs:restore'),
      resume: call('runs:resume'),
      branch: call('runs:branch'),
      evaluation: call('runs:evaluation'),
      cancelEvaluation: call('runs:cancelEvaluation'),
      export: call('runs:export'),
      import: call('runs:import'),
      exportPytorch: call('runs:exportPytorch'),
      onEvaluation: on('training:evaluation')
    },
    inspect: {
      predict: call('inspect:predict'),
      activations: call('inspect:activations'),
      saliency: call('inspect:saliency'),
      filters: call('inspect:filters'),
      embed: call('inspect:embed'),
      cancelEmbed: call('inspect:embedCancel'),
      topImages: call('inspect:topImages'),
      onEmbed: on('inspect:embed')
    }
  }
}
