import { createApp, type App as VueApp } from 'vue'
import { createPinia } from 'pinia'
import type { WorkbenchApi } from '../../shared/contract/client'
import App from './App.vue'
import { WORKBENCH_KEY } from './api/workbench'

/** Builds the renderer around a given API, so tests and hosts choose the transport. */
export function createWorkbenchApp(api: WorkbenchApi): VueApp {
  const app = createApp(App)
  app.provide(WORKBENCH_KEY, api)
  app.use(createPinia())
  return app
}
