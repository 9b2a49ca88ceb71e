// The slice of Electron's API this project uses, for type-checking on machines where the
// optional `electron` package could not install (its binary download needs the internet).
// Where Electron is installed, scripts/typecheck.js checks against its real types instead.
declare module 'electron' {
  interface Event {
    preventDefault(): void
  }
  export interface WebContents {
    send(channel: string, ...args: unknown[]): void
    isDestroyed(): boolean
    on(event: 'will-navigate', listener: (e: Event, url: string) => void): this
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void
  }
  export interface IpcMainInvokeEvent {
    sender: WebContents
    senderFrame: { url: string } | null
  }
  export interface IpcRendererEvent {
    sender: unknown
  }
  export const ipcMain: {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void
    removeHandler(channel: string): void
  }
  export const ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>
    on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): void
    removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): void
  }
  export const contextBridge: { exposeInMainWorld(key: string, api: unknown): void }
  export class BrowserWindow {
    constructor(options: {
      width?: number
      height?: number
      show?: boolean
      title?: string
      webPreferences?: {
        preload?: string
        contextIsolation?: boolean
        sandbox?: boolean
        nodeIntegration?: boolean
        webSecurity?: boolean
      }
    })
    webContents: WebContents
    once(event: 'ready-to-show', listener: () => void): this
    on(event: 'closed', listener: () => void): this
    show(): void
    loadURL(url: string): Promise<void>
    loadFile(path: string): Promise<void>
  }
  export const app: {
    readonly isPackaged: boolean
    whenReady(): Promise<void>
    getPath(name: 'userData'): string
    on(event: 'window-all-closed' | 'activate', listener: () => void): void
    quit(): void
  }
  export const shell: { openExternal(url: string): Promise<void> }
  export const session: {
    defaultSession: {
      webRequest: {
        onHeadersReceived(
          listener: (
            details: { responseHeaders?: Record<string, string[]> },
            callback: (response: { responseHeaders?: Record<string, string[]> }) => void
          ) => void
        ): void
      }
      setPermissionRequestHandler(
        handler: (wc: WebContents, permission: string, callback: (granted: boolean) => void) => void
      ): void
    }
  }
  export interface UtilityProcess {
    postMessage(message: unknown): void
    on(event: 'message', listener: (message: unknown) => void): this
    on(event: 'exit', listener: (code: number) => void): this
    kill(): boolean
  }
  export const utilityProcess: {
    fork(modulePath: string, args?: string[], options?: { serviceName?: string; stdio?: 'inherit' | 'pipe' | 'ignore' }): UtilityProcess
  }
}
