import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { resolve } from 'node:path'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/{shared,data,core,engine,main,hosts}/**/*.test.ts', 'test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000
        }
      },
      {
        plugins: [vue()],
        resolve: { alias: { '@renderer': resolve(__dirname, 'src/renderer/src') } },
        test: {
          name: 'renderer',
          environment: 'happy-dom',
          include: ['src/renderer/**/*.test.ts'],
          setupFiles: ['src/renderer/src/testing/setup.ts'],
          // Whole-app mounts take seconds on a busy machine; the limit only catches hangs.
          testTimeout: 30_000
        }
      }
    ]
  }
})
