import { ipcMain, type WebContents, type IpcMainInvokeEvent } from 'electron'
import { requests, type EventSink } from '../../shared/contract/api'
import type { Envelope } from '../../core/router'

/** The only file in the main process that touches ipcMain: one handler per contract channel. */
export function registerIpcHandlers(
  dispatch: (channel: unknown, payload: unknown) => Promise<Envelope>,
  isTrustedSender: (e: IpcMainInvokeEvent) => boolean
): () => void {
  const channels = Object.keys(requests)
  for (const channel of channels) {
    ipcMain.handle(channel, async (event, payload: unknown): Promise<Envelope> => {
      if (!isTrustedSender(event)) {
        return { ok: false, error: { code: 'BAD_REQUEST', message: 'Request from an untrusted frame refused.' } }
      }
      return dispatch(channel, payload)
    })
  }
  return () => channels.forEach((c) => ipcMain.removeHandler(c))
}

/** An event sink that sends to one window's renderer. */
export function webContentsSink(target: () => WebContents | null): EventSink {
  return (channel, payload) => {
    const wc = target()
    if (wc && !wc.isDestroyed()) wc.send(channel, payload)
  }
}
