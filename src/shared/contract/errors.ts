import { z } from 'zod'

export const ERROR_CODES = [
  'BAD_REQUEST',
  'INVALID_MODEL',
  'UNKNOWN_PRESET',
  'UNKNOWN_DATASET',
  'DATASET_ERROR',
  'INCOMPATIBLE',
  'BUSY',
  'NOT_FOUND',
  'ENGINE_UNAVAILABLE',
  'ENGINE_CRASHED',
  'BACKEND_UNAVAILABLE',
  'IO_ERROR',
  'CANCELLED',
  'INTERNAL',
  /** Training loss became NaN or Infinity, or exploded: the learning rate is too high. */
  'LOSS_DIVERGED',
  /** The engine was stopped or restarted (by request) while it was working. */
  'ENGINE_STOPPED',
  /** The engine stopped answering (suspended, hung) and was killed by the watchdog. */
  'ENGINE_FROZEN',
  /** Another process or window is writing this run folder. */
  'RUN_LOCKED',
  /** The model or its batch needs more memory than the backend can hold. */
  'MODEL_TOO_LARGE'
] as const
export const errorCodeSchema = z.enum(ERROR_CODES)
export type ErrorCode = z.infer<typeof errorCodeSchema>

export const errorInfoSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  details: z.unknown().optional()
})
/** The shape of every error that crosses a process boundary. */
export type ErrorInfo = z.infer<typeof errorInfoSchema>

/** An error with a stable code and a message that tells the user what to do. */
export class WorkbenchError extends Error {
  readonly code: ErrorCode
  readonly details?: unknown

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'WorkbenchError'
    this.code = code
    this.details = details
  }

  toInfo(): ErrorInfo {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }

  static from(info: ErrorInfo): WorkbenchError {
    return new WorkbenchError(info.code, info.message, info.details)
  }
}

/** Turns anything thrown into a typed error without leaking a stack trace to the user. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof WorkbenchError) return err.toInfo()
  const parsed = errorInfoSchema.safeParse(err)
  if (parsed.success) return parsed.data
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'INTERNAL', message: `Unexpected error: ${message}` }
}

/** Formats zod issues as "field: problem" lines, naming the field a user must fix. */
export function describeIssues(error: z.ZodError, root = ''): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.')
      return path ? `${path}: ${issue.message}` : issue.message
    })
    .join('; ')
}
