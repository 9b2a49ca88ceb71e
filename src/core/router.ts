import { requests, type Handlers, type RequestChannel } from '../shared/contract/api'
import { WorkbenchError, describeIssues, toErrorInfo, type ErrorInfo } from '../shared/contract/errors'
import type { z } from 'zod'

export type Envelope = { ok: true; value: unknown } | { ok: false; error: ErrorInfo }

/**
 * Largest request accepted on any channel, in bytes of JSON: room for a trained model's weights
 * sent as base64 by runs:import (each channel's schema caps its own fields further).
 */
export const MAX_REQUEST_BYTES = 64_000_000

const isChannel = (c: unknown): c is RequestChannel => typeof c === 'string' && Object.hasOwn(requests, c)

/**
 * Validates every request against the contract and runs its handler. It never throws: every
 * failure comes back as a typed error, so no payload can take a process down.
 */
export function createDispatcher(handlers: Handlers): (channel: unknown, payload: unknown) => Promise<Envelope> {
  return async (channel, payload) => {
    try {
      if (!isChannel(channel)) {
        throw new WorkbenchError('BAD_REQUEST', `Unknown request ${JSON.stringify(String(channel)).slice(0, 80)}.`)
      }
      const schema: z.ZodType = requests[channel].request
      const parsed = schema.safeParse(payload ?? {})
      if (!parsed.success) {
        throw new WorkbenchError('BAD_REQUEST', `Invalid ${channel} request: ${describeIssues(parsed.error)}`)
      }
      const handler = handlers[channel] as (req: unknown) => Promise<unknown>
      return { ok: true, value: await handler(parsed.data) }
    } catch (err) {
      return { ok: false, error: toErrorInfo(err) }
    }
  }
}
