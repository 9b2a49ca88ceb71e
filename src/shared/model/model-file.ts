import type { z } from 'zod'
import { WorkbenchError } from '../contract/errors'
import { findJsonSyntaxProblem, lineAndColumn } from './json-position'
import {
  activationLayerSchema,
  batchNormSchema,
  conv2dSchema,
  denseSchema,
  dropoutSchema,
  flattenSchema,
  MODEL_FORMAT,
  modelSpecSchema,
  pool2dSchema
} from './spec'
import type { LayerType, ModelSpec } from './spec'

/** Longest model file text accepted; real files are a few kilobytes. */
export const MAX_MODEL_FILE_CHARS = 2_000_000
/** Most problems listed in one error message. */
const MAX_ISSUES_SHOWN = 5
const MAX_LAYERS = 200
const FORMAT_RE = /^cnn-workbench\.model\/(\d+)$/
const CURRENT_VERSION = Number(FORMAT_RE.exec(MODEL_FORMAT)?.[1] ?? 1)

const LAYER_FIELDS: Record<LayerType, string[]> = {
  conv2d: Object.keys(conv2dSchema.shape),
  maxPool2d: Object.keys(pool2dSchema.shape),
  avgPool2d: Object.keys(pool2dSchema.shape),
  flatten: Object.keys(flattenSchema.shape),
  dense: Object.keys(denseSchema.shape),
  dropout: Object.keys(dropoutSchema.shape),
  batchNorm: Object.keys(batchNormSchema.shape),
  activation: Object.keys(activationLayerSchema.shape)
}
const LAYER_TYPES = Object.keys(LAYER_FIELDS)
const TOP_LEVEL_FIELDS = Object.keys(modelSpecSchema.shape)
const SIZE_FIELDS = new Set(['kernelSize', 'stride', 'poolSize'])

/** A problem with one field of a model file. */
export interface ModelFileIssue {
  path: string
  message: string
}

function invalid(message: string, issues?: ModelFileIssue[]): WorkbenchError {
  return new WorkbenchError('INVALID_MODEL', message, issues ? { issues } : undefined)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') {
    return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value)
  }
  return String(value)
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let value = root
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

function parseJson(text: string): unknown {
  if (text.length > MAX_MODEL_FILE_CHARS) {
    throw invalid(
      `The file is ${text.length} characters long; a model file is at most ` +
        `${MAX_MODEL_FILE_CHARS}. Check that you picked a model file, not a dataset.`
    )
  }
  const clean = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return JSON.parse(clean)
  } catch {
    const problem = findJsonSyntaxProblem(clean)
    if (clean.trim() === '') throw invalid('The file is empty: a model file is a JSON object.')
    if (!problem || problem.truncated) {
      throw invalid(
        `The file is not valid JSON (truncated?) at position ${clean.length}: it ends before ` +
          'the model is complete. Save it again or re-export the model.',
        [{ path: '', message: 'truncated' }]
      )
    }
    const { line, column } = lineAndColumn(clean, problem.position)
    throw invalid(
      `The file is not valid JSON at position ${problem.position} (line ${line}, column ` +
        `${column}): expected ${problem.expected}.`
    )
  }
}

/** Turns one zod issue into wording that tells the user what to write instead. */
function issueMessage(issue: z.core.$ZodIssue, root: unknown): string {
  const value = valueAt(root, issue.path)
  const got = value === undefined ? '' : ` (got ${describeValue(value)})`
  const last = issue.path[issue.path.length - 1]
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required'
      if (issue.expected === 'int') return `must be a whole number${got}`
      return `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}${got}`
    case 'too_big': {
      const max = Number(issue.maximum)
      if (issue.origin === 'array') return `has too many entries (at most ${max})`
      if (issue.origin === 'string') return `is too long (at most ${max} characters)`
      return issue.inclusive ? `must be at most ${max}${got}` : `must be less than ${max}${got}`
    }
    case 'too_small': {
      const min = Number(issue.minimum)
      if (issue.origin === 'array')
        return `needs at least ${min} ${min === 1 ? 'entry' : 'entries'}`
      if (issue.origin === 'string') return 'must not be empty'
      return issue.inclusive ? `must be at least ${min}${got}` : `must be more than ${min}${got}`
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`
    case 'unrecognized_keys':
      return `unknown field`
    case 'invalid_union':
      if (last === 'type') {
        return value === undefined
          ? `is required; use one of ${LAYER_TYPES.join(', ')}`
          : `unknown layer type ${describeValue(value)}; use one of ${LAYER_TYPES.join(', ')}`
      }
      if (typeof last === 'string' && SIZE_FIELDS.has(last)) {
        return `must be a positive whole number or a [height, width] pair${got}`
      }
      if (last === 'padding') return `must be "valid", "same" or a whole number ≥ 0${got}`
      return `${issue.message}${got}`
    default:
      return issue.message
  }
}

function toIssues(error: z.ZodError, root: unknown): ModelFileIssue[] {
  const issues: ModelFileIssue[] = []
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') {
      const layer = valueAt(root, issue.path)
      const type = isRecord(layer) ? layer.type : undefined
      const allowed =
        typeof type === 'string' && type in LAYER_FIELDS
          ? `; a ${type} layer has ${LAYER_FIELDS[type as LayerType].join(', ')}`
          : ''
      for (const key of issue.keys) {
        issues.push({ path: path ? `${path}.${key}` : key, message: `unknown field${allowed}` })
      }
      continue
    }
    issues.push({ path, message: issueMessage(issue, root) })
  }
  return issues
}

function formatIssues(issues: ModelFileIssue[]): string {
  const shown = issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
  const more =
    issues.length > MAX_ISSUES_SHOWN ? `; and ${issues.length - MAX_ISSUES_SHOWN} more` : ''
  return `${shown.join('; ')}${more}`
}

function checkEnvelope(data: unknown): Record<string, unknown> {
  if (!isRecord(data)) {
    throw invalid(
      `The file holds ${describeValue(data)}, not a model: a model file is a JSON object with ` +
        'format, name, input and layers.'
    )
  }
  const format = data.format
  if (format === undefined) {
    throw invalid(`format: is required; a model file starts with "format": "${MODEL_FORMAT}".`, [
      { path: 'format', message: 'is required' }
    ])
  }
  if (format !== MODEL_FORMAT) {
    const version = typeof format === 'string' ? FORMAT_RE.exec(format) : null
    if (version && Number(version[1]) > CURRENT_VERSION) {
      throw invalid(
        `This model file was made by a newer version of CNN Workbench (format ${format}); ` +
          `this version reads ${MODEL_FORMAT}. Update the app to open it.`,
        [{ path: 'format', message: 'newer format' }]
      )
    }
    throw invalid(
      `format: ${describeValue(format)} is not a CNN Workbench model format; expected "${MODEL_FORMAT}".`,
      [{ path: 'format', message: 'unknown format' }]
    )
  }
  const unknown = Object.keys(data).filter((key) => !TOP_LEVEL_FIELDS.includes(key))
  if (unknown.length > 0) {
    const issues = unknown.map((key) => ({
      path: key,
      message: `unknown field; a model file has ${TOP_LEVEL_FIELDS.join(', ')}`
    }))
    throw invalid(`The model file is not valid: ${formatIssues(issues)}.`, issues)
  }
  if (Array.isArray(data.layers) && data.layers.length > MAX_LAYERS) {
    const issues = [{ path: 'layers', message: `has too many entries (at most ${MAX_LAYERS})` }]
    throw invalid(`The model file is not valid: ${formatIssues(issues)}.`, issues)
  }
  return data
}

/**
 * Reads a model file from its text or from already-parsed JSON, filling in defaults.
 * Throws INVALID_MODEL naming the field to fix, e.g. "layers.2.filters: must be at most 1000000".
 */
export function parseModelFile(input: unknown): ModelSpec {
  const data = checkEnvelope(typeof input === 'string' ? parseJson(input) : input)
  const result = modelSpecSchema.safeParse(data)
  if (!result.success) {
    const issues = toIssues(result.error, data)
    throw invalid(`The model file is not valid: ${formatIssues(issues)}.`, issues)
  }
  return result.data
}

/** Writes a model as pretty-printed JSON that `parseModelFile` reads back unchanged. */
export function serializeModel(spec: ModelSpec): string {
  const ordered = {
    format: spec.format,
    name: spec.name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    input: spec.input,
    layers: spec.layers
  }
  return `${JSON.stringify(ordered, null, 2)}\n`
}
