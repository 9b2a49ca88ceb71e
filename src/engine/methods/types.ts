import type { z } from 'zod'
import type { LoadedDataset } from '../../data/datasets/types'
import type { DatasetSource } from '../../data/datasets/types'

/** What a method gets besides its params: progress, cancellation, and the engine's dataset cache. */
export interface MethodContext {
  progress(payload: unknown): void
  readonly signal: AbortSignal
  loadDataset(source: DatasetSource): Promise<LoadedDataset>
}

/** One engine method: params validated with its schema before the handler runs. */
export interface EngineMethod<S extends z.ZodType = z.ZodType> {
  params: S
  handler(params: z.infer<S>, ctx: MethodContext): Promise<unknown>
}

/** Declares a method with its params typed from the schema. */
export function defineMethod<S extends z.ZodType>(params: S, handler: EngineMethod<S>['handler']): EngineMethod<S> {
  return { params, handler }
}
