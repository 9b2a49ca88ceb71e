import { computed, ref, shallowRef, watch } from 'vue'
import { defineStore } from 'pinia'
import { parseModelFile, serializeModel } from '../../../shared/model/model-file'
import { formatShape } from '../../../shared/model/shape-inference'
import { layerSchema, MODEL_FORMAT } from '../../../shared/model/spec'
import type { InputShape, Layer, LayerType, ModelSpec } from '../../../shared/model/spec'
import type { LayerSummary, ShapeError } from '../../../shared/model/summary-types'
import { kindOf } from '../editor/layer-catalog'
import { useDatasetsStore } from './datasets'
import { useModelStore } from './model'

/** Undo steps kept; older ones drop off. */
export const MAX_HISTORY_STEPS = 100
const EMPTY_NAME = 'my-model'
const FALLBACK_INPUT: InputShape = { channels: 1, height: 28, width: 28 }

/** One undo step: the whole model, its row ids and the preset it came from. */
interface Snapshot {
  spec: ModelSpec | null
  ids: number[]
  presetId: string
}

/** One row of the editor: a layer with a stable id and what inference says about it. */
export interface EditorRow {
  id: number
  index: number
  layer: Layer
  summary: LayerSummary | null
  error: ShapeError | null
}

/** What a file load changed, for the learner to read. */
export interface LoadResult {
  name: string
  /** Set when the file's input differs from the chosen dataset's, which now decides it. */
  note?: string
}

/** What "unsaved" compares: the parts of a model the editor changes (the dataset sets the input). */
function editKey(spec: ModelSpec | null): string {
  if (!spec) return ''
  return JSON.stringify({ name: spec.name, description: spec.description, layers: spec.layers })
}

function inputText(input: InputShape): string {
  return formatShape([input.channels, input.height, input.width])
}

/**
 * Editing the current model: every change goes through here, so it can be undone, and lands in
 * the model store, so the Train view trains exactly what the editor shows.
 */
export const useEditorStore = defineStore('editor', () => {
  const model = useModelStore()
  const datasets = useDatasetsStore()
  const past = shallowRef<Snapshot[]>([])
  const future = shallowRef<Snapshot[]>([])
  const ids = shallowRef<number[]>([])
  /** editKey of the model as last saved, loaded or started; differs when there is unsaved work. */
  const baseline = ref('')
  let nextId = 1
  /** Consecutive edits of one field merge into one undo step until `endTyping`. */
  let typingKey: string | null = null
  /** The spec this store last wrote, to tell its own writes from the start-up preset. */
  let written: ModelSpec | null = null

  const freshIds = (n: number): number[] => Array.from({ length: n }, () => nextId++)

  watch(
    () => model.current,
    (spec) => {
      if (spec === written) return
      ids.value = freshIds(spec?.layers.length ?? 0)
      past.value = []
      future.value = []
      baseline.value = editKey(spec)
    },
    { immediate: true, flush: 'sync' }
  )

  const layers = computed<Layer[]>(() => model.current?.layers ?? [])
  const canUndo = computed(() => past.value.length > 0)
  const canRedo = computed(() => future.value.length > 0)
  const dirty = computed(() => model.current !== null && editKey(model.current) !== baseline.value)
  const rows = computed<EditorRow[]>(() => {
    const summary = model.summary
    return layers.value.map((layer, index) => ({
      id: ids.value[index],
      index,
      layer,
      summary: summary?.layers[index] ?? null,
      error: summary?.errors.find((e) => e.index === index) ?? null
    }))
  })

  function snapshot(): Snapshot {
    return { spec: model.current, ids: ids.value, presetId: model.presetId }
  }

  function restore(s: Snapshot): void {
    written = s.spec
    ids.value = s.ids
    model.replace(s.spec, s.presetId)
  }

  function commit(next: ModelSpec, nextIds: number[], key: string | null, presetId?: string): void {
    if (key === null || key !== typingKey) {
      past.value = [...past.value, snapshot()].slice(-MAX_HISTORY_STEPS)
    }
    typingKey = key
    future.value = []
    written = next
    ids.value = nextIds
    model.replace(next, presetId ?? model.presetId)
  }

  function datasetInput(): InputShape {
    const d = datasets.selected
    if (!d) return model.current?.input ?? FALLBACK_INPUT
    const [channels, height, width] = d.shape
    return { channels, height, width }
  }

  function base(): ModelSpec {
    return (
      model.current ?? { format: MODEL_FORMAT, name: EMPTY_NAME, input: datasetInput(), layers: [] }
    )
  }

  function withLayers(next: Layer[]): ModelSpec {
    return { ...base(), layers: next }
  }

  /** Adds a new layer of `type` with sensible defaults at `at` (the end by default). */
  function add(type: LayerType, at = layers.value.length): number {
    const index = Math.max(0, Math.min(at, layers.value.length))
    const next = [...layers.value]
    next.splice(index, 0, kindOf(type).make())
    const nextIds = [...ids.value]
    nextIds.splice(index, 0, ...freshIds(1))
    commit(withLayers(next), nextIds, null)
    return index
  }

  function remove(index: number): void {
    if (index < 0 || index >= layers.value.length) return
    commit(
      withLayers(layers.value.filter((_, i) => i !== index)),
      ids.value.filter((_, i) => i !== index),
      null
    )
  }

  /** Inserts a copy of the layer right after it. */
  function duplicate(index: number): void {
    const layer = layers.value[index]
    if (!layer) return
    const next = [...layers.value]
    next.splice(index + 1, 0, structuredClone(layer))
    const nextIds = [...ids.value]
    nextIds.splice(index + 1, 0, ...freshIds(1))
    commit(withLayers(next), nextIds, null)
  }

  /** Moves the layer at `from` so that it ends up at index `to`. */
  function move(from: number, to: number): void {
    const n = layers.value.length
    const target = Math.max(0, Math.min(to, n - 1))
    if (from < 0 || from >= n || target === from) return
    const next = [...layers.value]
    const nextIds = [...ids.value]
    next.splice(target, 0, ...next.splice(from, 1))
    nextIds.splice(target, 0, ...nextIds.splice(from, 1))
    commit(withLayers(next), nextIds, null)
  }

  /**
   * Sets one field of a layer (undefined removes an optional one). Returns why the value was
   * refused, or null when it was applied.
   */
  function update(index: number, field: string, value: unknown): string | null {
    const layer = layers.value[index]
    if (!layer) return 'That layer no longer exists.'
    const candidate: Record<string, unknown> = { ...layer, [field]: value }
    if (value === undefined) delete candidate[field]
    const parsed = layerSchema.safeParse(candidate)
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'That value is not allowed.'
    if (JSON.stringify(parsed.data) === JSON.stringify(layer)) return null
    const next = layers.value.map((l, i) => (i === index ? parsed.data : l))
    commit(withLayers(next), ids.value, `${ids.value[index]}:${field}`)
    return null
  }

  /** Renames the model; the name becomes the file name. Returns why a name was refused. */
  function rename(name: string): string | null {
    const trimmed = name.trim()
    if (trimmed === '') return 'Give the model a name; it becomes the file name.'
    if (trimmed.length > 200) return 'Use at most 200 characters.'
    if (trimmed === base().name) return null
    commit({ ...base(), name: trimmed }, ids.value, 'name')
    return null
  }

  /** Ends the merging of keystrokes into one undo step (the field lost focus). */
  function endTyping(): void {
    typingKey = null
  }

  /** Replaces the model with a preset (undoable). */
  function startFromPreset(id: string): void {
    const preset = model.presets.find((p) => p.id === id)
    if (!preset) return
    const spec = structuredClone(preset.spec)
    commit(spec, freshIds(spec.layers.length), null, id)
    baseline.value = editKey(spec)
  }

  /** Replaces the model with one that has no layers yet (undoable). */
  function startEmpty(): void {
    const spec: ModelSpec = {
      format: MODEL_FORMAT,
      name: EMPTY_NAME,
      input: datasetInput(),
      layers: []
    }
    commit(spec, [], null, '')
    baseline.value = editKey(spec)
  }

  /**
   * Opens a model file's text (undoable). Throws INVALID_MODEL naming the field to fix, and then
   * leaves the current model as it was.
   */
  function loadFile(text: string): LoadResult {
    const spec = parseModelFile(text)
    commit(spec, freshIds(spec.layers.length), null, '')
    baseline.value = editKey(spec)
    const used = datasetInput()
    const sameInput = inputText(used) === inputText(spec.input)
    const dataset = datasets.selected
    if (sameInput || !dataset) return { name: spec.name }
    return {
      name: spec.name,
      note:
        `"${spec.name}" was made for ${inputText(spec.input)} input; it takes ` +
        `${dataset.title}'s ${inputText(used)} images here, as the dataset decides the input.`
    }
  }

  /** The model file to save: what the learner sees, with the dataset's input. */
  function fileText(): string | null {
    const spec = model.spec
    return spec && spec.layers.length > 0 ? serializeModel(spec) : null
  }

  /** Records that the current model is saved. */
  function markSaved(): void {
    baseline.value = editKey(model.current)
  }

  function undo(): void {
    const previous = past.value[past.value.length - 1]
    if (!previous) return
    typingKey = null
    future.value = [...future.value, snapshot()]
    past.value = past.value.slice(0, -1)
    restore(previous)
  }

  function redo(): void {
    const next = future.value[future.value.length - 1]
    if (!next) return
    typingKey = null
    past.value = [...past.value, snapshot()]
    future.value = future.value.slice(0, -1)
    restore(next)
  }

  return {
    ids,
    rows,
    canUndo,
    canRedo,
    dirty,
    add,
    remove,
    duplicate,
    move,
    update,
    rename,
    endTyping,
    startFromPreset,
    startEmpty,
    loadFile,
    fileText,
    markSaved,
    undo,
    redo
  }
})
