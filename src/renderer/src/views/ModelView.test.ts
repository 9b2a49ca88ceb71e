import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { mountApp } from '../testing/mount-app'

let current: VueWrapper | null = null

async function openEditor(): Promise<VueWrapper> {
  const { wrapper } = await mountApp()
  current = wrapper
  await wrapper.find('[data-testid="tab-model"]').trigger('click')
  await flushPromises()
  return wrapper
}

const byId = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)
const rows = (w: VueWrapper) => w.findAll('[data-testid="editor-row"]')

afterEach(() => {
  current?.unmount()
  current = null
})

describe('Model view', () => {
  it('lists the current model with shapes, formulas and totals', async () => {
    const w = await openEditor()
    expect(rows(w)).toHaveLength(8)
    expect(rows(w)[0].find('[data-testid="row-output"]').text()).toContain('6 × 28 × 28')
    expect(rows(w)[0].find('[data-testid="row-formula"]').text()).toBe('6 × (1 × 3 × 3) + 6 = 60')
    expect(byId(w, 'editor-total-params').text()).toBe('106,154')
    expect(byId(w, 'editor-memory').text()).toMatch(/MiB/)
    expect(byId(w, 'editor-ready').exists()).toBe(true)
  })

  it('pins an error to the row that causes it and blocks Train with the reason', async () => {
    const w = await openEditor()
    const kernel = rows(w)[0].find('[data-testid="field-kernelSize"]')
    await kernel.setValue('31')
    await flushPromises()
    const first = rows(w)[0]
    expect(first.attributes('aria-invalid')).toBe('true')
    expect(first.find('[data-testid="editor-row-error"]').text()).toContain(
      'floor((28 + 2·1 − 31) / 1) + 1 = 0'
    )
    expect(w.findAll('[data-testid="editor-row-error"]')).toHaveLength(1)
    expect(byId(w, 'editor-blocker').text()).toContain('layer 1')
    expect(byId(w, 'dirty-marker').exists()).toBe(true)

    await byId(w, 'undo-button').trigger('click')
    await flushPromises()
    expect(w.findAll('[data-testid="editor-row-error"]')).toHaveLength(0)
    expect((rows(w)[0].find('[data-testid="field-kernelSize"]').element as HTMLInputElement).value).toBe('3×3')
    expect(byId(w, 'dirty-marker').exists()).toBe(false)
  })

  it('blocks Train when a 10^8-parameter model cannot fit the wasm heap, and not for a preset', async () => {
    const w = await openEditor()
    // The preset fits: no memory message.
    expect(byId(w, 'editor-ready').exists()).toBe(true)
    // flatten gives 16 × 7 × 7 = 784 values: 784 × 127,552 + 127,552 ≈ 10^8 weights in one layer.
    const units = rows(w)[5].find('[data-testid="field-units"]')
    await units.setValue('127552')
    await flushPromises()
    expect(Number(byId(w, 'editor-total-params').text().replace(/,/g, ''))).toBeGreaterThan(1e8)
    const blocker = byId(w, 'editor-blocker').text()
    expect(blocker).toMatch(/needs about \d+(\.\d+)? GB to train a batch of \d+/)
    expect(blocker).toContain("wasm backend's 4.00 GB heap")
    expect(byId(w, 'editor-memory').classes()).toContain('over')

    await w.find('[data-testid="tab-train"]').trigger('click')
    await flushPromises()
    expect(byId(w, 'train-button').attributes('disabled')).toBeDefined()
    expect(byId(w, 'train-blocker').text()).toContain("wasm backend's 4.00 GB heap")
  })

  it('shows a typing mistake at the field and keeps the model as it was', async () => {
    const w = await openEditor()
    const filters = rows(w)[0].find('[data-testid="field-filters"]')
    // Typing, before the field is left (setValue would also send change).
    ;(filters.element as HTMLInputElement).value = 'six'
    await filters.trigger('input')
    expect(filters.attributes('aria-invalid')).toBe('true')
    expect(rows(w)[0].text()).toContain('Use a whole number from 1 to 1,000,000.')
    expect(byId(w, 'editor-total-params').text()).toBe('106,154')
    // Leaving the field keeps the mistake and its message in view until it is fixed.
    await filters.trigger('change')
    await flushPromises()
    expect((filters.element as HTMLInputElement).value).toBe('six')
    expect(filters.attributes('aria-invalid')).toBe('true')
    expect(rows(w)[0].text()).toContain('Use a whole number from 1 to 1,000,000.')
    expect(rows(w)[0].text()).toContain('The layer keeps 6 until this is fixed.')
    ;(filters.element as HTMLInputElement).value = '8'
    await filters.trigger('input')
    await filters.trigger('change')
    await flushPromises()
    expect(filters.attributes('aria-invalid')).toBe('false')
    expect(rows(w)[0].text()).not.toContain('until this is fixed')
  })

  it('adds from the palette, moves with Alt+arrows and undoes with Ctrl+Z', async () => {
    const w = await openEditor()
    await byId(w, 'palette-dropout').trigger('click')
    expect(rows(w)).toHaveLength(9)
    expect(rows(w)[8].text()).toContain('Dropout')
    await rows(w)[8].trigger('keydown', { key: 'ArrowUp', altKey: true })
    await flushPromises()
    expect(rows(w)[7].text()).toContain('Dropout')
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'z', ctrlKey: true }))
    await flushPromises()
    expect(rows(w)[8].text()).toContain('Dropout')
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Z', ctrlKey: true, shiftKey: true }))
    await flushPromises()
    expect(rows(w)[7].text()).toContain('Dropout')
  })

  it('draws blocks whose height follows the image height', async () => {
    const w = await openEditor()
    const blocks = w.findAll('[data-testid="diagram-block"]')
    expect(blocks).toHaveLength(9)
    const height = (i: number) => Number(blocks[i].attributes('data-height'))
    // input 28, conv 28, pool 14, conv 14, pool 7
    expect(height(1)).toBe(height(0))
    expect(height(2)).toBe(Math.round(height(1) / 2))
    expect(height(4)).toBe(Math.round(height(3) / 2))
    expect(Number(blocks[3].attributes('data-width'))).toBeGreaterThan(
      Number(blocks[1].attributes('data-width'))
    )
  })

  it('shows PyTorch and Keras code for the model, and the reason when it cannot', async () => {
    const w = await openEditor()
    expect(byId(w, 'export-code').text()).toContain('nn.Conv2d(1, 6, kernel_size=3, stride=1, padding=1)')
    await byId(w, 'export-keras').trigger('click')
    expect(byId(w, 'export-code').text()).toContain('layers.Conv2D(6, 3')
    await byId(w, 'start-empty').trigger('click')
    expect(byId(w, 'editor-empty').exists()).toBe(true)
    expect(byId(w, 'export-error').text()).toContain('Add layers')
    expect(byId(w, 'editor-blocker').text()).toContain('no layers')
  })
})
