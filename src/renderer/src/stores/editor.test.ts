import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApp } from 'vue'
import { WorkbenchError } from '../../../shared/contract/errors'
import { MODEL_FORMAT } from '../../../shared/model/spec'
import { WORKBENCH_KEY } from '../api/workbench'
import { FakeWorkbench } from '../testing/fake-workbench'
import { useDatasetsStore } from './datasets'
import { useEditorStore } from './editor'
import { useModelStore } from './model'

async function setup(): Promise<{
  editor: ReturnType<typeof useEditorStore>
  model: ReturnType<typeof useModelStore>
}> {
  const app = createApp({})
  app.provide(WORKBENCH_KEY, new FakeWorkbench())
  const pinia = createPinia()
  app.use(pinia)
  setActivePinia(pinia)
  // Stores call inject(); run them inside the app's context.
  return app.runWithContext(async () => {
    await useDatasetsStore().load()
    const model = useModelStore()
    await model.load()
    return { editor: useEditorStore(), model }
  })
}

/** Builds cnn3 as a learner would: add rows from the palette, then set their fields. */
function buildCnn3(editor: ReturnType<typeof useEditorStore>): void {
  editor.startEmpty()
  for (const filters of [16, 32, 64]) {
    const conv = editor.add('conv2d')
    expect(editor.update(conv, 'filters', filters)).toBeNull()
    editor.add('maxPool2d')
  }
  editor.add('flatten')
  editor.add('dense')
  const out = editor.add('dense')
  editor.update(out, 'units', 10)
  editor.update(out, 'activation', 'linear')
}

let editor: ReturnType<typeof useEditorStore>
let model: ReturnType<typeof useModelStore>

beforeEach(async () => {
  ;({ editor, model } = await setup())
})

describe('editor store', () => {
  it('starts on the default preset with nothing to undo and no unsaved changes', () => {
    expect(model.presetId).toBe('lenet')
    expect(editor.rows).toHaveLength(8)
    expect(model.summary?.totalParams).toBe(106_154)
    expect(editor.canUndo).toBe(false)
    expect(editor.dirty).toBe(false)
  })

  it('builds cnn3 from an empty model with the same 98,442 parameters as the preset', () => {
    buildCnn3(editor)
    expect(editor.rows.map((r) => r.layer.type)).toEqual([
      'conv2d',
      'maxPool2d',
      'conv2d',
      'maxPool2d',
      'conv2d',
      'maxPool2d',
      'flatten',
      'dense',
      'dense'
    ])
    expect(model.summary?.errors).toEqual([])
    expect(model.summary?.totalParams).toBe(98_442)
    expect(editor.rows[6].summary?.outputShape).toEqual([576])
    expect(editor.dirty).toBe(true)
  })

  it('pins a shape error to the layer that causes it, with the arithmetic', () => {
    buildCnn3(editor)
    expect(editor.update(4, 'kernelSize', 30)).toBeNull()
    const errors = editor.rows.filter((r) => r.error)
    expect(errors.map((r) => r.index)).toEqual([4])
    expect(errors[0].error?.field).toBe('kernelSize')
    expect(errors[0].error?.message).toContain('floor((7 + 2·1 − 30) / 1) + 1 = −20')
    // Rows after the error have no shape; rows before keep theirs.
    expect(editor.rows[3].summary?.outputShape).toEqual([32, 7, 7])
    expect(editor.rows[5].summary).toBeNull()
  })

  it('undo and redo step through every edit, and undo back to the start clears unsaved', () => {
    const before = model.summary?.totalParams
    editor.remove(0)
    editor.duplicate(0)
    expect(editor.rows).toHaveLength(8)
    editor.undo()
    editor.undo()
    expect(editor.rows).toHaveLength(8)
    expect(model.summary?.totalParams).toBe(before)
    expect(editor.dirty).toBe(false)
    expect(editor.canRedo).toBe(true)
    editor.redo()
    expect(editor.rows).toHaveLength(7)
    expect(editor.rows[0].layer.type).toBe('maxPool2d')
    // A new edit drops the redo branch.
    editor.add('flatten', 0)
    expect(editor.canRedo).toBe(false)
  })

  it('merges keystrokes in one field into one undo step until the field is left', () => {
    editor.update(0, 'filters', 1)
    editor.update(0, 'filters', 12)
    editor.endTyping()
    editor.update(0, 'filters', 8)
    editor.undo()
    expect(editor.rows[0].layer).toMatchObject({ filters: 12 })
    editor.undo()
    expect(editor.rows[0].layer).toMatchObject({ filters: 6 })
    expect(editor.canUndo).toBe(false)
  })

  it('reorders rows and keeps their ids with them', () => {
    const ids = editor.rows.map((r) => r.id)
    editor.move(0, 2)
    expect(editor.rows.map((r) => r.layer.type).slice(0, 3)).toEqual([
      'maxPool2d',
      'conv2d',
      'conv2d'
    ])
    expect(editor.rows.map((r) => r.id).slice(0, 3)).toEqual([ids[1], ids[2], ids[0]])
    // Pooling now comes first, so the convolutions see 14 × 14: the summary follows the order.
    expect(model.summary?.layers[0].outputShape).toEqual([1, 14, 14])
    expect(model.summary?.layers[1].outputShape).toEqual([16, 14, 14])
    editor.move(2, -5)
    expect(editor.rows[0].id).toBe(ids[0])
  })

  it('refuses an invalid value without changing the model', () => {
    expect(editor.update(0, 'filters', 0)).not.toBeNull()
    expect(editor.update(0, 'activation', 'swish')).not.toBeNull()
    expect(editor.rows[0].layer).toMatchObject({ filters: 6, activation: 'relu' })
    expect(editor.canUndo).toBe(false)
  })

  it('removes an optional field when given undefined (pool stride back to the pool size)', () => {
    editor.update(1, 'stride', 1)
    expect(model.summary?.layers[1].outputShape).toEqual([6, 27, 27])
    editor.update(1, 'stride', undefined)
    expect(editor.rows[1].layer).toEqual({ type: 'maxPool2d', poolSize: 2 })
  })

  it('what the editor shows is what Train gets: model.spec follows every edit', () => {
    editor.update(0, 'filters', 8)
    expect(model.spec?.layers[0]).toMatchObject({ type: 'conv2d', filters: 8 })
    expect(model.spec?.input).toEqual({ channels: 1, height: 28, width: 28 })
  })

  it('saves a file that loads back unchanged and clears the unsaved marker', () => {
    editor.update(0, 'filters', 8)
    editor.rename('my lenet')
    const text = editor.fileText()!
    editor.markSaved()
    expect(editor.dirty).toBe(false)
    editor.startEmpty()
    expect(editor.rows).toHaveLength(0)
    expect(editor.fileText()).toBeNull()
    const result = editor.loadFile(text)
    expect(result).toEqual({ name: 'my lenet' })
    expect(model.current?.layers[0]).toMatchObject({ filters: 8 })
    expect(editor.dirty).toBe(false)
    editor.undo()
    expect(editor.rows).toHaveLength(0)
  })

  it('a broken file throws INVALID_MODEL naming the field and leaves the model as it was', () => {
    const bad = JSON.stringify({
      format: MODEL_FORMAT,
      name: 'x',
      input: { channels: 1, height: 28, width: 28 },
      layers: [{ type: 'conv2d', filters: 1e9, kernelSize: 3 }]
    })
    let error: unknown
    try {
      editor.loadFile(bad)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(WorkbenchError)
    expect((error as WorkbenchError).message).toContain('layers.0.filters')
    expect(editor.rows).toHaveLength(8)
    expect(editor.canUndo).toBe(false)
    expect(() => editor.loadFile('{"format": "cnn-workbench.model/1", "name": "x", "lay')).toThrow(
      /truncated/
    )
    expect(() => editor.loadFile(JSON.stringify({ format: 'cnn-workbench.model/9' }))).toThrow(
      /newer version/
    )
  })

  it('says when a loaded file was made for another input than the dataset gives', () => {
    const cifar = JSON.stringify({
      format: MODEL_FORMAT,
      name: 'colour',
      input: { channels: 3, height: 32, width: 32 },
      layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }]
    })
    const result = editor.loadFile(cifar)
    expect(result.note).toContain('3 × 32 × 32')
    expect(model.spec?.input).toEqual({ channels: 1, height: 28, width: 28 })
    expect(model.summary?.totalParams).toBe(7_850)
  })

  it('picking a preset replaces the model and can be undone', () => {
    editor.update(0, 'filters', 8)
    editor.startFromPreset('cnn3')
    expect(model.presetId).toBe('cnn3')
    expect(model.summary?.totalParams).toBe(98_442)
    expect(editor.dirty).toBe(false)
    editor.undo()
    expect(model.presetId).toBe('lenet')
    expect(editor.rows[0].layer).toMatchObject({ filters: 8 })
    expect(editor.dirty).toBe(true)
  })
})
