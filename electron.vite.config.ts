import { resolve } from 'node:path'
import { defineConfig, externalizeDepsPlugin } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import { contentSecurityPolicy } from './src/shared/content-security-policy'

/** Writes the one Content-Security-Policy (src/shared/content-security-policy.ts) into index.html. */
const cspPlugin = {
  name: 'cnn-workbench-csp',
  transformIndexHtml: (html: string): string =>
    html.replace('__CNN_WORKBENCH_CSP__', contentSecurityPolicy({ delivery: 'meta' }))
}

// electron-vite reads Electron's version from its package, which is absent where the optional
// dependency could not install; the build output is the same, so name the major version here.
process.env.ELECTRON_MAJOR_VER ||= '38'

// Node-side entries share one build: the Electron main process, the engine process, the web
// host and the CLI all run from out/main, so every host runs the same services.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      // The same bundle runs under Electron and under plain Node (web host, CLI, engine).
      target: 'node20',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          engine: resolve(__dirname, 'src/engine/main.ts'),
          'gradient-worker': resolve(__dirname, 'src/engine/gradient-worker.ts'),
          'web-host': resolve(__dirname, 'src/hosts/web/web-main.ts'),
          cli: resolve(__dirname, 'src/hosts/cli/main.ts')
        }
      }
    }
  },
  preload: {
    plugins: [externalizeDepsPlugin({ exclude: ['zod'] })],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: { alias: { '@renderer': resolve(__dirname, 'src/renderer/src') } },
    plugins: [vue(), cspPlugin],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } }
    }
  }
})
