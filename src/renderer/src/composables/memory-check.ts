import { computed, type ComputedRef } from 'vue'
import { DEFAULT_HYPER, optimizerSchema, type BackendName } from '../../../shared/hyper'
import {
  backendMemoryLimit,
  checkMemoryBudget,
  type MemoryVerdict
} from '../../../shared/model/memory-budget'
import { useEngineStore } from '../stores/engine'
import { useHyperStore } from '../stores/hyper'
import { useModelStore } from '../stores/model'

/**
 * Whether one training step of the edited model fits the backend, checked as the training
 * service checks it at start (it refuses with MODEL_TOO_LARGE), so the editor says so first.
 * The renderer cannot see the main process's free memory: only wasm's fixed heap and the
 * checkpoint file limit are checked here; other backends are checked again at start.
 */
export function useMemoryCheck(): ComputedRef<MemoryVerdict | null> {
  const model = useModelStore()
  const hyper = useHyperStore()
  const engine = useEngineStore()

  return computed<MemoryVerdict | null>(() => {
    const summary = model.summary
    if (!summary || summary.errors.length > 0 || summary.layers.length === 0) return null
    const b = hyper.draft.batchSize
    const batchSize = typeof b === 'number' && Number.isInteger(b) && b >= 1 ? b : DEFAULT_HYPER.batchSize
    const optimizer = optimizerSchema.safeParse(hyper.draft.optimizer).data ?? DEFAULT_HYPER.optimizer
    const chosen = hyper.draft.backend
    const backend: BackendName =
      chosen !== 'auto' ? chosen : (engine.status?.backend ?? 'wasm')
    return checkMemoryBudget(summary, {
      batchSize,
      optimizer,
      backend,
      limitBytes: backendMemoryLimit(backend, Number.POSITIVE_INFINITY)
    })
  })
}
