import { createApi, type WorkbenchApi } from '../../../shared/contract/client'
import { createWsTransport, wsUrlFromLocation } from './ws-transport'

/** The workbench API: Electron's preload bridge when present, the web host's WebSocket otherwise. */
export function getWorkbench(): WorkbenchApi {
  const injected = (window as unknown as { workbench?: WorkbenchApi }).workbench
  return injected ?? createApi(createWsTransport(wsUrlFromLocation(window.location)))
}
