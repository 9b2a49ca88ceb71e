import { basename, dirname, resolve } from 'node:path'
import type { Output } from '../output'
import type { Services } from '../../../core/services/create-services'
import { WorkbenchError } from '../../../shared/contract/errors'

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`

/** A run id, or a run folder inside this workbench's runs folder, as the run's id. */
export function runIdOf(target: string, services: Services): string {
  if (!target.includes('/') && !target.includes('\\')) return target
  const dir = resolve(target)
  const id = basename(dir)
  if (dirname(dir) !== resolve(services.runs.dir(id), '..')) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `${dir} is not a run of this workbench (${resolve(services.runs.dir(id), '..')}). Import it first: cnn-workbench runs import ${target}`
    )
  }
  return id
}

/**
 * `evaluate RUN_DIR|RUN_ID`: the run's checkpoint evaluated afresh by our engine on the test split
 * (never a stored result, so a PyTorch-trained run is checked by the workbench itself).
 */
export async function runEvaluate(target: string, services: Services, out: Output): Promise<void> {
  const runId = runIdOf(target, services)
  const record = await services.runs.read(runId)
  const e = await services.evaluations.evaluate(runId)
  out.event({
    event: 'evaluation',
    runId,
    dataset: record.dataset,
    epoch: e.epoch,
    testAccuracy: e.testAccuracy,
    testLoss: e.testLoss,
    testCount: e.testCount,
    perClassAccuracy: e.perClassAccuracy,
    confusionMatrix: e.confusionMatrix
  })
  out.text(`Run ${runId} on the ${record.dataset} test split (${e.testCount.toLocaleString('en-US')} images): accuracy ${pct(e.testAccuracy)}, loss ${e.testLoss.toFixed(4)}`)
  out.text(`Per class: ${e.classes.map((c, i) => `${c} ${e.perClassAccuracy[i] === null ? '—' : pct(e.perClassAccuracy[i] as number)}`).join(', ')}`)
  out.text('Confusion matrix (rows: true class, columns: predicted):')
  for (const row of e.confusionMatrix) out.text(row.map((v) => String(v).padStart(5)).join(' '))
}
