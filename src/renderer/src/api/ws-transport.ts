import type { Transport } from '../../../shared/contract/api'
import { WorkbenchError, errorInfoSchema } from '../../../shared/contract/errors'
import { WS_PATH, type ServerFrame } from '../../../shared/contract/wire'

/** How long a request may wait for the host before it fails. */
const REQUEST_TIMEOUT_MS = 60_000
const RECONNECT_DELAY_MS = 1_000

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: number }

/** The web host's transport: one WebSocket carrying the same contract as Electron's IPC. */
export function createWsTransport(url: string): Transport {
  let opened: Promise<WebSocket> | null = null
  let nextId = 1
  const pending = new Map<number, Pending>()
  const listeners = new Map<string, Set<(payload: unknown) => void>>()

  const failAll = (message: string): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer)
      p.reject(new WorkbenchError('ENGINE_UNAVAILABLE', message))
      pending.delete(id)
    }
  }

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.onopen = () => resolve(ws)
      ws.onerror = () => reject(new WorkbenchError('ENGINE_UNAVAILABLE', 'Cannot reach the workbench host. Is `npm start` still running?'))
      ws.onclose = () => {
        opened = null
        failAll('The connection to the workbench host closed. Reload the page once the host runs again.')
        if (listeners.size > 0) setTimeout(() => void connect().catch(() => undefined), RECONNECT_DELAY_MS)
      }
      ws.onmessage = (msg) => {
        let frame: ServerFrame
        try {
          frame = JSON.parse(String(msg.data)) as ServerFrame
        } catch {
          return
        }
        if (frame.type === 'event') {
          listeners.get(frame.channel)?.forEach((l) => l(frame.payload))
        } else if (frame.type === 'result') {
          const p = pending.get(frame.id)
          if (!p) return
          pending.delete(frame.id)
          clearTimeout(p.timer)
          if (frame.ok) p.resolve(frame.value)
          else {
            const info = errorInfoSchema.safeParse(frame.error)
            p.reject(
              info.success
                ? WorkbenchError.from(info.data)
                : new WorkbenchError('INTERNAL', 'The host sent a malformed error.')
            )
          }
        }
      }
    })
    return opened
  }

  return {
    async invoke(channel, payload) {
      const ws = await connect()
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = window.setTimeout(() => {
          pending.delete(id)
          reject(new WorkbenchError('ENGINE_UNAVAILABLE', `No answer from the host on ${channel}.`))
        }, REQUEST_TIMEOUT_MS)
        pending.set(id, { resolve, reject, timer })
        ws.send(JSON.stringify({ type: 'invoke', id, channel, payload }))
      })
    },
    subscribe(channel, listener) {
      let set = listeners.get(channel)
      if (!set) listeners.set(channel, (set = new Set()))
      set.add(listener)
      void connect().catch(() => undefined)
      return () => {
        set.delete(listener)
      }
    }
  }
}

/** The WebSocket URL for this page, carrying the token the host printed. */
export function wsUrlFromLocation(loc: Location): string {
  const token = new URLSearchParams(loc.search).get('token') ?? ''
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${loc.host}${WS_PATH}?token=${encodeURIComponent(token)}`
}
