import { join } from 'node:path'
import { createServices } from '../../core/services/create-services'
import { createDispatcher } from '../../core/router'
import { nodeEngineLauncher } from '../../core/engine/node-launcher'
import { startWebHost } from './web-host'
import { defaultDataDir, engineEntry } from '../../core/paths'
import { version } from '../../../package.json'

// Entry of the web host: the same services as Electron, over HTTP + WebSocket on 127.0.0.1.
async function main(): Promise<void> {
  const portArg = process.argv.indexOf('--port')
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : Number(process.env.PORT ?? 0) || 0
  const services = createServices({
    dataDir: defaultDataDir(),
    launcher: nodeEngineLauncher(engineEntry(__dirname)),
    host: 'web',
    version
  })
  const host = await startWebHost({
    staticDir: join(__dirname, '../renderer'),
    dispatch: createDispatcher(services.handlers),
    port,
    token: process.env.CNN_WORKBENCH_TOKEN || undefined
  })
  services.setSink(host.sink)
  void services.engine.ensureStarted().catch(() => undefined)
  console.log(`CNN Workbench is running at ${host.url}`)
  console.log('Open that URL in a browser. Press Ctrl+C to quit.')
  let closing = false
  const shutdown = async (): Promise<void> => {
    if (closing) return
    closing = true
    await host.close()
    await services.dispose()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())
  // Started by `npm start`/`npm run serve` (scripts/start.js), the host has an IPC channel to its
  // launcher; it closes when the launcher dies, so the host does not outlive it.
  if (process.channel) {
    process.on('disconnect', () => void shutdown())
    process.channel.unref()
  }
}

main().catch((err) => {
  console.error(`CNN Workbench could not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
