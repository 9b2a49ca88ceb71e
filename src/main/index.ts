import { app, BrowserWindow, session, shell } from 'electron'
import { join } from 'node:path'
import { createServices } from '../core/services/create-services'
import { createDispatcher } from '../core/router'
import { registerIpcHandlers, webContentsSink } from './ipc/ipc-main-helper'
import { utilityEngineLauncher } from './engine/utility-launcher'
import { engineEntry } from '../core/paths'
import { version } from '../../package.json'

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Entry of the Electron host: the composition root for the desktop app.
function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'CNN Workbench',
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  })
  win.once('ready-to-show', () => win.show())
  // Navigation and new windows are blocked; external links open in the system browser.
  win.webContents.on('will-navigate', (e) => e.preventDefault())
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL)
  else void win.loadFile(join(__dirname, '../renderer/index.html'))
  return win
}

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false))
  const services = createServices({
    dataDir: app.getPath('userData'),
    launcher: utilityEngineLauncher(engineEntry(__dirname)),
    host: 'electron',
    version
  })
  let win: BrowserWindow | null = createWindow()
  services.setSink(webContentsSink(() => win?.webContents ?? null))
  registerIpcHandlers(createDispatcher(services.handlers), (e) => {
    const url = e.senderFrame?.url ?? ''
    return e.sender === win?.webContents && (url.startsWith('file://') || url.startsWith(process.env.ELECTRON_RENDERER_URL ?? '\0'))
  })
  win.on('closed', () => (win = null))
  app.on('window-all-closed', () => {
    void services.dispose().then(() => app.quit())
  })
  app.on('activate', () => {
    if (!win) {
      win = createWindow()
    }
  })
})
