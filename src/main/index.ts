import { app, BrowserWindow, session, shell } from 'electron'
import { join } from 'node:path'
import { createServices } from '../core/services/create-services'
import { createDispatcher } from '../core/router'
import { registerIpcHandlers, webContentsSink } from './ipc/ipc-main-helper'
import { utilityEngineLauncher } from './engine/utility-launcher'
import { engineEntry } from '../core/paths'
import { version } from '../../package.json'
import { contentSecurityPolicy } from '../shared/content-security-policy'
import { isTrustedSenderUrl, rendererSource, type RendererSource } from './renderer-source'

const CSP = contentSecurityPolicy()

// Entry of the Electron host: the composition root for the desktop app.
function createWindow(source: RendererSource): BrowserWindow {
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
  if (source.kind === 'dev') void win.loadURL(source.url)
  else void win.loadFile(source.path)
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
  const source = rendererSource({
    packaged: app.isPackaged,
    env: process.env,
    indexFile: join(__dirname, '../renderer/index.html')
  })
  let win: BrowserWindow | null = createWindow(source)
  services.setSink(webContentsSink(() => win?.webContents ?? null))
  registerIpcHandlers(createDispatcher(services.handlers), (e) => {
    return e.sender === win?.webContents && isTrustedSenderUrl(e.senderFrame?.url ?? '', source)
  })
  win.on('closed', () => (win = null))
  app.on('window-all-closed', () => {
    void services.dispose().then(() => app.quit())
  })
  app.on('activate', () => {
    if (!win) {
      win = createWindow(source)
    }
  })
})
