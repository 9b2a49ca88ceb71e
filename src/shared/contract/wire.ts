import { z } from 'zod'
import { errorInfoSchema } from './errors'

/** WebSocket path of the web host; the per-launch token travels as `?token=`. */
export const WS_PATH = '/ws'

/** Browser-to-host frame on the web host's WebSocket. */
export const clientFrameSchema = z.strictObject({
  type: z.literal('invoke'),
  id: z.number().int().min(0),
  channel: z.string().max(100),
  payload: z.unknown()
})
export type ClientFrame = z.infer<typeof clientFrameSchema>

/** Host-to-browser frames: a reply to one invoke, or an event for every subscriber. */
export type ServerFrame =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: z.infer<typeof errorInfoSchema> }
  | { type: 'event'; channel: string; payload: unknown }
