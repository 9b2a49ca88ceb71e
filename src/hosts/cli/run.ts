import { createOutput } from './output'
import { TRAIN_OPTIONS, hyperFlagsUsage, hyperFromFlags, parseFlags, stringFlag } from './args'
import { loadModelFlag } from './load-model'
import { runSummary } from './commands/summary'
import { resumeCommand, runTrain } from './commands/train'
import { parseExportFormat, runExport } from './commands/export'
import { runRuns } from './commands/runs'
import { runRunsExchange } from './commands/runs-exchange'
import { runDataset } from './commands/dataset'
import { runEvaluate } from './commands/evaluate'
import { PROJECT_FORMATS, runExportProject } from './commands/export-project'
import { EMBED_OPTIONS, runEmbed } from './commands/embed'
import { createServices } from '../../core/services/create-services'
import { nodeEngineLauncher } from '../../core/engine/node-launcher'
import { defaultDataDir, engineEntry } from '../../core/paths'
import { WorkbenchError, toErrorInfo } from '../../shared/contract/errors'
import { PRESETS } from '../../shared/model/presets'
import { version } from '../../../package.json'

const USAGE_WIDTH = 96

/** One usage entry: words joined on lines of at most USAGE_WIDTH, continued with an indent. */
function wrapUsage(words: string[]): string {
  const lines = ['  ' + words[0]]
  for (const w of words.slice(1)) {
    if (lines[lines.length - 1].length + 1 + w.length > USAGE_WIDTH) lines.push('        ' + w)
    else lines[lines.length - 1] += ' ' + w
  }
  return lines.join('\n')
}

const USAGE = `cnn-workbench ${version}: train and inspect convolutional networks from the command line.

Usage:
  cnn-workbench summary (--preset NAME | --model FILE) [--json]
${wrapUsage(['cnn-workbench train (--preset NAME | --model FILE) --dataset NAME|PATH', ...hyperFlagsUsage(), '[--json]'])}
  cnn-workbench train --resume RUN_DIR [--json]
        (go on with a stopped or crashed run from its last checkpoint, to its epoch count)
  cnn-workbench datasets [--json]
  cnn-workbench dataset inspect NAME|PATH [--json]
  cnn-workbench dataset import PATH [--name NAME] [--size N] [--rgb] [--test-fraction F] [--json]
        (PATH: IDX files, CIFAR-10 files, or a folder with one sub-folder of PNG/JPEG per class)
  cnn-workbench dataset download fashion-mnist|cifar-10 [--json]
  cnn-workbench presets [--json]
  cnn-workbench export (--preset NAME | --model FILE) --format pytorch|keras [--out FILE]
  cnn-workbench export (--preset NAME | --model FILE) --format pytorch-project|notebook
        --dataset NAME|PATH --out DIR|FILE.ipynb [train's flags] [--json]
        (model.py, train.py, README.md, run.json: the recipe for PyTorch, torchrun, GPUs)
  cnn-workbench evaluate RUN_DIR|RUN_ID [--json]
        (test accuracy, loss, per-class accuracy and confusion matrix, by our engine)
  cnn-workbench runs [--json]
  cnn-workbench runs export RUN_DIR|RUN_ID --out DIR [--format tfjs|pytorch|notebook] [--json]
        (tfjs: DIR/model.json + weights.bin; pytorch: a PyTorch project with the trained
        weights as weights.safetensors; notebook: the recipe as a Jupyter notebook)
  cnn-workbench runs import DIR [--json]
        (adds an exported model, or a run folder written by an exported train.py, as a run)
  cnn-workbench embed --run RUN_DIR --layer INDEX [--method tsne|pca] [--points N]
        [--perplexity X] [--iterations N] [--json]

Presets: ${PRESETS.map((p) => p.id).join(', ')}
Data folder: $CNN_WORKBENCH_HOME, default ~/.cnn-workbench (runs and imported datasets).
Downloads: set $CNN_WORKBENCH_MIRROR=URL to fetch the same file names from a mirror.`

/** Runs one CLI invocation; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const out = createOutput(json)
  const [command, ...rest] = argv
  let services: ReturnType<typeof createServices> | null = null
  const makeServices = (): ReturnType<typeof createServices> =>
    (services = createServices({
      dataDir: defaultDataDir(),
      launcher: nodeEngineLauncher(process.env.CNN_WORKBENCH_ENGINE || engineEntry(__dirname)),
      host: 'cli',
      version
    }))
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n')
        return 0
      case '--version':
        process.stdout.write(version + '\n')
        return 0
      case 'summary': {
        const { values } = parseFlags(rest, { preset: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' } })
        runSummary(await loadModelFlag(stringFlag(values, 'preset'), stringFlag(values, 'model')), out)
        return 0
      }
      case 'presets': {
        parseFlags(rest, { json: { type: 'boolean' } })
        for (const p of PRESETS) {
          out.event({ id: p.id, title: p.title, note: p.note })
          out.text(`${p.id.padEnd(14)} ${p.title}`)
        }
        return 0
      }
      case 'export': {
        const project = PROJECT_FORMATS.find((f) => rest.includes(f) && rest[rest.indexOf(f) - 1] === '--format')
        if (project) {
          const { values } = parseFlags(rest, { ...TRAIN_OPTIONS, format: { type: 'string' }, out: { type: 'string' } })
          const spec = await loadModelFlag(stringFlag(values, 'preset'), stringFlag(values, 'model'))
          const preset = Boolean(stringFlag(values, 'preset'))
          await runExportProject(spec, preset, project, stringFlag(values, 'dataset'), hyperFromFlags(values), stringFlag(values, 'out'), makeServices(), out)
          return 0
        }
        const { values } = parseFlags(rest, { preset: { type: 'string' }, model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } })
        const format = parseExportFormat(stringFlag(values, 'format'))
        const spec = await loadModelFlag(stringFlag(values, 'preset'), stringFlag(values, 'model'))
        await runExport(spec, format, stringFlag(values, 'out'), out)
        return 0
      }
      case 'train': {
        const { values } = parseFlags(rest, TRAIN_OPTIONS)
        const resumeDir = stringFlag(values, 'resume')
        if (resumeDir !== undefined) {
          const services = makeServices()
          await runTrain(await resumeCommand(resumeDir, services), services, out)
          return 0
        }
        const dataset = stringFlag(values, 'dataset')
        if (!dataset) throw new WorkbenchError('BAD_REQUEST', 'Name a dataset: --dataset mnist, or a path to a folder of IDX files.')
        const spec = await loadModelFlag(stringFlag(values, 'preset'), stringFlag(values, 'model'))
        const hyper = hyperFromFlags(values)
        await runTrain({ spec, fromPreset: Boolean(stringFlag(values, 'preset')), dataset, hyper }, makeServices(), out)
        return 0
      }
      case 'evaluate': {
        const { positionals } = parseFlags(rest, { json: { type: 'boolean' } })
        if (positionals.length !== 1) throw new WorkbenchError('BAD_REQUEST', 'Usage: cnn-workbench evaluate RUN_DIR|RUN_ID [--json]')
        await runEvaluate(positionals[0], makeServices(), out)
        return 0
      }
      case 'embed': {
        await runEmbed(parseFlags(rest, EMBED_OPTIONS).values, makeServices(), out)
        return 0
      }
      case 'runs': {
        if (rest[0] === 'export' || rest[0] === 'import') {
          await runRunsExchange(rest, makeServices, out)
          return 0
        }
        parseFlags(rest, { json: { type: 'boolean' } })
        // Through runs:list so each run says whether its dataset was replaced since it trained.
        runRuns(await makeServices().handlers['runs:list']({}), out)
        return 0
      }
      case 'datasets': {
        parseFlags(rest, { json: { type: 'boolean' } })
        const list = await makeServices().datasets.list()
        if (json) out.event({ datasets: list })
        for (const d of list) {
          out.text(
            `${d.name.padEnd(16)} ${d.available ? 'available' : 'not installed'}  ${d.shape.join(' × ')}  ${d.classes.length} classes  ${d.title}`
          )
        }
        return 0
      }
      case 'dataset':
        await runDataset(rest, makeServices, out)
        return 0
      default:
        throw new WorkbenchError('BAD_REQUEST', `Unknown command "${command}". Run \`cnn-workbench help\` for usage.`)
    }
  } catch (err) {
    out.error(toErrorInfo(err))
    return 1
  } finally {
    await (services as ReturnType<typeof createServices> | null)?.dispose()
  }
}
