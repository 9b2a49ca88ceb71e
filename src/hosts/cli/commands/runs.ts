import type { Output } from '../output'
import type { RunRecord } from '../../../shared/contract/types'

/**
 * `runs`: one line per kept run, newest first: id, date, status, dataset, parameters, test
 * accuracy; "data changed" when the dataset was replaced since the run trained.
 */
export function runRuns(records: RunRecord[], out: Output): void {
  if (records.length === 0) out.text('No runs yet. Train one with `cnn-workbench train`.')
  for (const r of records) {
    const testAccuracy = r.test?.testAccuracy ?? null
    out.event({
      id: r.id,
      name: r.name ?? null,
      createdAt: r.createdAt,
      status: r.status,
      dataset: r.dataset,
      model: r.spec.name,
      params: r.params,
      epochsDone: r.epochsDone,
      testAccuracy,
      datasetChanged: r.datasetChanged === true
    })
    const accuracy = testAccuracy === null ? '—' : `${(testAccuracy * 100).toFixed(2)} %`
    out.text(
      [
        r.id.padEnd(30),
        r.createdAt.slice(0, 16).replace('T', ' '),
        r.status.padEnd(9),
        r.dataset.padEnd(14),
        `${r.params.toLocaleString('en-US').padStart(11)} params`,
        `test ${accuracy.padStart(8)}`,
        r.name ?? '',
        r.datasetChanged ? '[data changed: the dataset was replaced since this run trained]' : ''
      ].join('  ').trimEnd()
    )
  }
}
