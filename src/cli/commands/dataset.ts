import type { Output } from '../output'
import type { Services } from '../../main/services/create-services'
import { WorkbenchError } from '../../shared/contract/errors'
import { parseFlags, stringFlag } from '../args'

const USAGE =
  'Usage: cnn-workbench dataset inspect NAME|PATH [--json], or cnn-workbench dataset import ' +
  'PATH [--name NAME] [--json]'

/** `dataset inspect|import`: per-class counts of both splits, or a copy into the data folder. */
export async function runDataset(
  argv: string[],
  services: () => Services,
  out: Output
): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    json: { type: 'boolean' },
    name: { type: 'string' }
  })
  const [sub, target] = positionals
  if (!target || (sub !== 'inspect' && sub !== 'import')) {
    throw new WorkbenchError('BAD_REQUEST', USAGE)
  }
  if (sub === 'import') {
    const info = await services().data.importPath(target, stringFlag(values, 'name'))
    out.event({ event: 'imported', ...info })
    out.text(
      `Imported ${info.name}: ${info.trainCount.toLocaleString('en-US')} training and ` +
        `${info.testCount.toLocaleString('en-US')} test images of ${info.shape.join(' × ')}, ` +
        `${info.classes.length} classes. Train on it with --dataset ${info.name}.`
    )
    return
  }
  if (stringFlag(values, 'name') !== undefined) {
    throw new WorkbenchError('BAD_REQUEST', '--name belongs to `dataset import`. ' + USAGE)
  }
  const info = await services().data.inspect(target)
  out.event(info as unknown as Record<string, unknown>)
  out.text(`${info.name}: ${info.shape.join(' × ')}, ${info.classes.length} classes`)
  for (const split of ['train', 'test'] as const) {
    out.text(`  ${split}: ${info[split].count.toLocaleString('en-US')} samples`)
    info.classes.forEach((c, i) => out.text(`    ${c.padEnd(14)} ${info[split].perClass[i]}`))
  }
}
