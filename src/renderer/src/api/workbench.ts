import { inject, type InjectionKey } from 'vue'
import type { WorkbenchApi } from '../../../shared/contract/client'

/** Where the composition root provides the API; tests provide a fake under the same key. */
export const WORKBENCH_KEY: InjectionKey<WorkbenchApi> = Symbol('workbench')

/** The provided WorkbenchApi. Call it in a component's or a setup store's setup. */
export function useWorkbench(): WorkbenchApi {
  const api = inject(WORKBENCH_KEY, null)
  if (!api) {
    throw new Error('No WorkbenchApi provided: call app.provide(WORKBENCH_KEY, api) first')
  }
  return api
}
