import { parseArgs } from 'node:util'
import { WorkbenchError } from '../shared/contract/errors'
import { hyperSchema, type Hyper } from '../shared/hyper'

/** Hyperparameter fields and the flags that set them, so errors name the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  learningRate: '--lr',
  batchSize: '--batch-size',
  epochs: '--epochs',
  limit: '--limit',
  validationSplit: '--val-split',
  seed: '--seed',
  optimizer: '--optimizer',
  backend: '--backend',
  normalization: '--normalize',
  momentum: '--momentum',
  beta1: '--beta1',
  beta2: '--beta2',
  rho: '--rho',
  weightDecay: '--weight-decay',
  schedule: '--schedule',
  stepSize: '--step-size',
  gamma: '--gamma',
  earlyStopping: '--early-stopping'
}

export const TRAIN_OPTIONS = {
  preset: { type: 'string' },
  model: { type: 'string' },
  dataset: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  limit: { type: 'string' },
  'val-split': { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  normalize: { type: 'string' },
  stratify: { type: 'boolean' },
  momentum: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  rho: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  'step-size': { type: 'string' },
  gamma: { type: 'string' },
  'early-stopping': { type: 'string' },
  resume: { type: 'string' },
  json: { type: 'boolean' }
} as const

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>

/** Parsed flags: strings and booleans by name, plus positionals. */
export interface Flags {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/**
 * `--limit -5` becomes `--limit=-5`: Node's parser takes "-5" for a flag and says the value is
 * ambiguous, while the value's own check gives the message that says what to type.
 */
function joinNegativeValues(argv: string[], options: FlagSpec): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = argv[i + 1]
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else {
      out.push(a)
    }
  }
  return out
}

/** Parses flags strictly: an unknown flag or a missing value is a usage error, not a stack trace. */
export function parseFlags(argv: string[], options: FlagSpec): Flags {
  try {
    const args = joinNegativeValues(argv, options)
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { values: values as Flags['values'], positionals }
  } catch (err) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `${err instanceof Error ? err.message : String(err)}. Run \`cnn-workbench help\` for usage.`
    )
  }
}

/** A string flag's value, if it was given as a string. */
export const stringFlag = (v: Flags['values'], k: string): string | undefined =>
  typeof v[k] === 'string' ? (v[k] as string) : undefined

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new WorkbenchError('BAD_REQUEST', `${flag} must be a number, got "${value}".`)
  }
  return n
}

/** Builds validated hyperparameters from train flags; defaults fill the rest. */
export function hyperFromFlags(v: Flags['values']): Hyper {
  const str = (k: string): string | undefined => stringFlag(v, k)
  const raw = {
    epochs: numberFlag(str('epochs'), '--epochs'),
    batchSize: numberFlag(str('batch-size'), '--batch-size'),
    learningRate: numberFlag(str('lr'), '--lr'),
    limit: numberFlag(str('limit'), '--limit'),
    validationSplit: numberFlag(str('val-split'), '--val-split'),
    seed: numberFlag(str('seed'), '--seed'),
    optimizer: str('optimizer'),
    backend: str('backend'),
    normalization: str('normalize'),
    subset: v.stratify === true ? 'stratified' : undefined,
    momentum: numberFlag(str('momentum'), '--momentum'),
    beta1: numberFlag(str('beta1'), '--beta1'),
    beta2: numberFlag(str('beta2'), '--beta2'),
    rho: numberFlag(str('rho'), '--rho'),
    weightDecay: numberFlag(str('weight-decay'), '--weight-decay'),
    schedule: str('schedule'),
    stepSize: numberFlag(str('step-size'), '--step-size'),
    gamma: numberFlag(str('gamma'), '--gamma'),
    earlyStopping: numberFlag(str('early-stopping'), '--early-stopping')
  }
  const defined = Object.fromEntries(Object.entries(raw).filter(([, x]) => x !== undefined))
  const parsed = hyperSchema.safeParse(defined)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const field = String(issue.path[0] ?? '')
    const flag = FLAG_OF[field] ?? field
    throw new WorkbenchError('BAD_REQUEST', `${flag}: ${issue.message.replace(/^Invalid input: /, '')}. Fix the flag and run again.`)
  }
  return parsed.data
}
