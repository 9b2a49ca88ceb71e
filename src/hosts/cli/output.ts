import type { ErrorInfo } from '../../shared/contract/errors'

/** Where the CLI writes: JSON lines on stdout with --json, readable text otherwise. */
export interface Output {
  json: boolean
  /** One JSON object per line (only with --json). */
  event(obj: Record<string, unknown>): void
  /** A line for people (only without --json). */
  text(line: string): void
  /** Transient notes for people, on stderr in both modes. */
  note(line: string): void
  error(info: ErrorInfo): void
}

export function createOutput(json: boolean): Output {
  return {
    json,
    event: (obj) => {
      if (json) process.stdout.write(JSON.stringify(obj) + '\n')
    },
    text: (line) => {
      if (!json) process.stdout.write(line + '\n')
    },
    note: (line) => {
      process.stderr.write(line + '\n')
    },
    error: (info) => {
      if (json) process.stdout.write(JSON.stringify({ event: 'error', code: info.code, message: info.message }) + '\n')
      else process.stderr.write(`Error (${info.code}): ${info.message}\n`)
    }
  }
}
