import { parseArgs } from 'node:util'
import { WorkbenchError } from '../../shared/contract/errors'
import { z } from 'zod'
import { HYPER_FIELDS, hyperSchema, innerSchema, type Hyper } from '../../shared/hyper'

/** The flag of each hyperparameter, without its dashes (parseArgs names options so). */
const optionOf = (flag: string): string => flag.replace(/^--/, '')

export const TRAIN_OPTIONS = {
  preset: { type: 'string' },
  model: { type: 'string' },
  dataset: { type: 'string' },
  ...Object.fromEntries(
    Object.values(HYPER_FIELDS).map((f) => [optionOf(f.flag), { type: f.flagSets ? 'boolean' : 'string' }])
  ),
  resume: { type: 'string' },
  json: { type: 'boolean' }
} as Record<string, { type: 'string' | 'boolean' }>

/** The train command's hyperparameter flags for the help text, generated from HYPER_FIELDS. */
export function hyperFlagsUsage(): string[] {
  return Object.values(HYPER_FIELDS).map((f) => {
    if (f.flagSets) return `[${f.flag}]`
    const inner = innerSchema(f.schema)
    const metavar =
      f.metavar ??
      (inner instanceof z.ZodEnum
        ? (inner.options as string[]).join('|')
        : inner instanceof z.ZodNumber && inner.isInt
          ? 'N'
          : 'X')
    return `[${f.flag} ${metavar}]`
  })
}

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>

/** Parsed flags: strings and booleans by name, plus positionals. */
export interface Flags {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/** Parses flags strictly: an unknown flag or a missing value is a usage error, not a stack trace. */
export function parseFlags(argv: string[], options: FlagSpec): Flags {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
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
  const raw: Record<string, unknown> = {}
  for (const [key, f] of Object.entries(HYPER_FIELDS)) {
    const name = optionOf(f.flag)
    if (f.flagSets) {
      if (v[name] === true) raw[key] = f.flagSets
    } else if (innerSchema(f.schema) instanceof z.ZodNumber) {
      const n = numberFlag(stringFlag(v, name), f.flag)
      if (n !== undefined) raw[key] = n
    } else if (stringFlag(v, name) !== undefined) {
      raw[key] = stringFlag(v, name)
    }
  }
  const parsed = hyperSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const field = String(issue.path[0] ?? '')
    const flag = HYPER_FIELDS[field as keyof typeof HYPER_FIELDS]?.flag ?? field
    throw new WorkbenchError('BAD_REQUEST', `${flag}: ${issue.message.replace(/^Invalid input: /, '')}. Fix the flag and run again.`)
  }
  return parsed.data
}
