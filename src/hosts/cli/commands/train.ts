import type { Output } from '../output'
import type { Services } from '../../../core/services/create-services'
import type { Hyper } from '../../../shared/hyper'
import type { ModelSpec } from '../../../shared/model/spec'
import type { EventOf } from '../../../shared/contract/api'
import { basename, dirname, resolve } from 'node:path'
import { WorkbenchError } from '../../../shared/contract/errors'
import { adaptPresetToInput } from '../../../shared/model/presets'

export interface TrainCommand {
  spec: ModelSpec
  fromPreset: boolean
  dataset: string
  hyper: Hyper
  /** A run id to go on with from its checkpoint instead of starting a new run. */
  resume?: string
}

/**
 * `train --resume RUN_DIR`: the run's own model, dataset and hyperparameters, from its folder.
 * The folder must be in this workbench's runs folder (where the app keeps and lists runs).
 */
export async function resumeCommand(runDir: string, services: Services): Promise<TrainCommand> {
  const dir = resolve(runDir)
  const id = basename(dir)
  if (dirname(dir) !== resolve(services.runs.dir(id), '..')) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `--resume takes a run folder inside ${resolve(services.runs.dir(id), '..')}; ${dir} is not one. Run \`cnn-workbench runs\` to list them.`
    )
  }
  const record = await services.runs.read(id)
  return { spec: record.spec, fromPreset: false, dataset: record.dataset, hyper: record.hyper, resume: id }
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`

/** `train`: runs one training through the same services as the app and reports each epoch. */
export async function runTrain(cmd: TrainCommand, services: Services, out: Output): Promise<void> {
  let spec = cmd.spec
  if (cmd.fromPreset) {
    const info = await services.datasets.inspect(cmd.dataset)
    const [channels, height, width] = info.shape
    const adapted = adaptPresetToInput(spec, { channels, height, width }, info.classes.length)
    if (adapted.note) out.note(adapted.note)
    spec = adapted.spec
  }
  let lastProgress = 0
  const finished = new Promise<EventOf<'training:status'>>((resolve) => {
    services.setSink((channel, payload) => {
      if (channel === 'training:status') {
        const e = payload as EventOf<'training:status'>
        if (e.status === 'running' && e.backend) {
          out.event({ event: 'start', backend: e.backend, params: e.params, runId: e.runId, runDir: services.runs.dir(e.runId) })
          out.text(`Training ${spec.name} (${e.params?.toLocaleString('en-US')} parameters) on ${cmd.dataset} with the ${e.backend} backend`)
        }
        if (e.status === 'completed' || e.status === 'stopped' || e.status === 'failed') resolve(e)
      } else if (channel === 'training:epoch') {
        const { runId: _r, ...m } = payload as EventOf<'training:epoch'>
        out.event({ event: 'epoch', ...m })
        const val = m.valAccuracy === null ? '' : `, validation loss ${m.valLoss?.toFixed(4)} accuracy ${pct(m.valAccuracy)}`
        out.text(
          `epoch ${m.epoch}: train loss ${m.loss.toFixed(4)} accuracy ${pct(m.accuracy)}${val} (${m.seconds.toFixed(1)} s, ${Math.round(m.samplesPerSecond)} samples/s)`
        )
      } else if (channel === 'training:progress' && !out.json && process.stderr.isTTY) {
        const p = payload as EventOf<'training:progress'>
        const now = Date.now()
        if (now - lastProgress > 250) {
          lastProgress = now
          process.stderr.write(
            `\r  epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batchesPerEpoch} loss ${p.loss.toFixed(3)} ${Math.round(p.samplesPerSecond)} samples/s   `
          )
        }
      }
    })
  })
  const { runId } = cmd.resume
    ? await services.training.resumeRun(cmd.resume)
    : await services.training.start({ spec, dataset: cmd.dataset, hyper: cmd.hyper })
  const stopOnSignal = (): void => {
    out.note('\nStopping after the current batch (Ctrl+C again to quit at once)…')
    process.once('SIGINT', () => process.exit(130))
    void services.training.stop(runId).catch(() => undefined)
  }
  process.once('SIGINT', stopOnSignal)
  const final = await finished
  process.off('SIGINT', stopOnSignal)
  await services.training.whenIdle()
  if (!out.json && process.stderr.isTTY) process.stderr.write('\n')
  if (final.status === 'failed') {
    throw new WorkbenchError(final.error?.code ?? 'INTERNAL', final.error?.message ?? 'Training failed.')
  }
  const runDir = services.runs.dir(runId)
  // The checkpoint's evaluation on the test split; a run stopped before its first epoch has none.
  const evaluation = await services.evaluations.get(runId).catch(() => null)
  out.event({
    event: 'done',
    status: final.status,
    testAccuracy: final.test?.testAccuracy,
    testLoss: final.test?.testLoss,
    testCount: final.test?.testCount,
    perClassAccuracy: evaluation?.perClassAccuracy,
    confusionMatrix: evaluation?.confusionMatrix,
    ...(final.note ? { note: final.note } : {}),
    runDir
  })
  if (final.note) out.text(final.note)
  if (final.test) {
    out.text(
      `${final.status === 'stopped' ? 'Stopped' : 'Done'}: test accuracy ${pct(final.test.testAccuracy)}, test loss ${final.test.testLoss.toFixed(4)} on ${final.test.testCount.toLocaleString('en-US')} test images`
    )
  }
  if (evaluation) {
    const perClass = evaluation.classes.map((c, i) => {
      const a = evaluation.perClassAccuracy[i]
      return `${c} ${a === null ? '—' : pct(a)}`
    })
    out.text(`Test accuracy per class: ${perClass.join(', ')}`)
  }
  out.text(`Run saved in ${runDir}`)
}
