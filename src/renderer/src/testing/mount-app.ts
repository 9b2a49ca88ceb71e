import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia } from 'pinia'
import App from '../App.vue'
import { WORKBENCH_KEY } from '../api/workbench'
import { FakeWorkbench } from './fake-workbench'

/** Mounts the whole app over a fake API and waits for its first replies. */
export async function mountApp(
  api: FakeWorkbench = new FakeWorkbench()
): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const wrapper = mount(App, {
    attachTo: document.body,
    global: { plugins: [createPinia()], provide: { [WORKBENCH_KEY as symbol]: api } }
  })
  await flushPromises()
  return { wrapper, api }
}

/** Lets the progress coalescing timer fire. */
export function waitForFlush(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
