// Test fixture for parallel-trainer.test.ts: the reference LeNet, except that in a worker thread
// its loss throws from the `failAt`-th call on, as a worker that breaks mid-training would.
import { isMainThread } from 'node:worker_threads'
import { createModel, type LeNet } from '../lenet-reference'

export function createFailingModel(init: unknown): LeNet {
  const { failAt } = init as { failAt: number }
  const model = createModel(init)
  let calls = 0
  const loss = model.loss.bind(model)
  return {
    ...model,
    variables: model.variables,
    loss: (x, y) => {
      calls++
      if (!isMainThread && calls >= failAt) throw new Error(`fixture worker broke at step ${calls}`)
      return loss(x, y)
    },
    dispose: () => model.dispose()
  }
}
