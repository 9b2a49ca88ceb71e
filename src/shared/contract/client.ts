import type { z } from 'zod'
import { WorkbenchError, describeIssues } from './errors'
import {
  events,
  requests,
  type EventChannel,
  type EventOf,
  type RequestChannel,
  type RequestOf,
  type ResponseOf,
  type Transport,
  type WorkbenchApi,
  workbenchApi
} from './api'

export type { WorkbenchApi } from './api'

/** Builds the typed API over any transport (Electron IPC in the preload, WebSocket on the web). */
export function createApi(transport: Transport): WorkbenchApi {
  const call =
    <C extends RequestChannel>(channel: C) =>
    async (payload?: RequestOf<C>): Promise<ResponseOf<C>> => {
      const raw = await transport.invoke(channel, payload ?? {})
      const schema: z.ZodType = requests[channel].response
      const parsed = schema.safeParse(raw)
      if (!parsed.success) {
        throw new WorkbenchError(
          'INTERNAL',
          `The app sent a malformed reply on ${channel}: ${describeIssues(parsed.error)}`
        )
      }
      return parsed.data as ResponseOf<C>
    }
  const on =
    <C extends EventChannel>(channel: C) =>
    (listener: (e: EventOf<C>) => void): (() => void) =>
      transport.subscribe(channel, (payload) => {
        const parsed = events[channel].safeParse(payload)
        if (parsed.success) listener(parsed.data as EventOf<C>)
        else console.warn(`Dropped a malformed ${channel} event`, describeIssues(parsed.error))
      })

  const api: Record<string, Record<string, unknown>> = {}
  for (const [group, methods] of Object.entries(workbenchApi)) {
    api[group] = {}
    for (const [name, method] of Object.entries(methods)) {
      api[group][name] = method.kind === 'request' ? call(method.channel) : on(method.channel)
    }
  }
  return api as WorkbenchApi
}
