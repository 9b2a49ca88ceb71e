import { ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type {
  DatasetInspection,
  DatasetProgress,
  DatasetStats,
  ImportRequest,
  Samples
} from '../../../shared/contract/datasets'
import { toErrorInfo, type ErrorInfo } from '../../../shared/contract/errors'
import type { Split } from '../../../shared/contract/types'
import { useWorkbench } from '../api/workbench'
import { useDatasetsStore } from './datasets'

/** Thumbnails per page of the sample grid. */
export const SAMPLES_PER_PAGE = 96

/** An import or download in progress, or its outcome. */
export interface TransferState {
  busy: boolean
  progress: DatasetProgress | null
  error: ErrorInfo | null
  /** What finished last, for the status line. */
  done: string | null
}

const idle = (): TransferState => ({ busy: false, progress: null, error: null, done: null })

/** The Data view: what the explored dataset holds, one page of samples, imports and downloads. */
export const useExplorerStore = defineStore('explorer', () => {
  const api = useWorkbench()
  const datasets = useDatasetsStore()
  const name = ref('')
  const inspection = shallowRef<DatasetInspection | null>(null)
  const stats = shallowRef<DatasetStats | null>(null)
  const page = shallowRef<Samples | null>(null)
  const split = ref<Split>('train')
  /** null shows every class in file order. */
  const classIndex = ref<number | null>(0)
  const offset = ref(0)
  const loading = ref(false)
  const error = ref<ErrorInfo | null>(null)
  const importState = ref<TransferState>(idle())
  const downloads = ref<Record<string, TransferState>>({})
  let pageRequest = 0
  let unsubscribe: (() => void) | null = null

  function listen(): void {
    unsubscribe ??= api.datasets.onProgress((p) => {
      const download = downloads.value[p.name]
      if (p.phase === 'download' || download?.busy) {
        downloads.value = { ...downloads.value, [p.name]: { ...(download ?? idle()), progress: p } }
      } else if (importState.value.busy) {
        importState.value = { ...importState.value, progress: p }
      }
    })
  }

  /** Loads counts, statistics and the first page of a dataset. */
  async function explore(target: string): Promise<void> {
    listen()
    if (!target) return
    name.value = target
    inspection.value = null
    stats.value = null
    page.value = null
    error.value = null
    offset.value = 0
    loading.value = true
    try {
      const info = await api.datasets.inspect({ name: target })
      if (name.value !== target) return
      inspection.value = info
      if (classIndex.value !== null && classIndex.value >= info.classes.length) classIndex.value = 0
      await loadPage()
      const s = await api.datasets.stats({ name: target })
      if (name.value === target) stats.value = s
    } catch (err) {
      if (name.value === target) error.value = toErrorInfo(err)
    } finally {
      if (name.value === target) loading.value = false
    }
  }

  /** Fetches the page at the current class, split and offset; stale replies are dropped. */
  async function loadPage(): Promise<void> {
    const id = ++pageRequest
    try {
      const reply = await api.datasets.samples({
        name: name.value,
        split: split.value,
        offset: offset.value,
        count: SAMPLES_PER_PAGE,
        ...(classIndex.value === null ? {} : { classIndex: classIndex.value })
      })
      if (id === pageRequest) page.value = reply
    } catch (err) {
      if (id === pageRequest) error.value = toErrorInfo(err)
    }
  }

  /** Shows another split, class or page of the grid. */
  function show(next: {
    split?: Split
    classIndex?: number | null
    offset?: number
  }): Promise<void> {
    if (next.split !== undefined) split.value = next.split
    if (next.classIndex !== undefined) classIndex.value = next.classIndex
    offset.value = Math.max(0, next.offset ?? 0)
    return loadPage()
  }

  /** Imports a folder or archive from the host machine; selects it on success. */
  async function importPath(
    path: string,
    asName?: string,
    images: Pick<ImportRequest, 'imageSize' | 'color' | 'testFraction' | 'replace'> = {}
  ): Promise<void> {
    listen()
    importState.value = { ...idle(), busy: true }
    try {
      const info = await api.datasets.import({
        path,
        ...(asName ? { name: asName } : {}),
        ...images
      })
      const skipped = info.skippedFiles
        ? ` Skipped ${info.skippedFiles} file${info.skippedFiles === 1 ? '' : 's'} that are not PNG or JPEG.`
        : ''
      importState.value = { ...idle(), done: `Imported ${info.title}.${skipped}` }
      await datasets.load()
      datasets.selectedName = info.name
    } catch (err) {
      importState.value = { ...idle(), error: toErrorInfo(err) }
    }
  }

  /** Downloads a dataset from its official location; selects it on success. */
  /** Whether a path is a folder of class folders of images; false when it cannot be told. */
  async function isImageFolder(path: string): Promise<boolean> {
    try {
      return (await api.datasets.probe({ path })).kind === 'images'
    } catch {
      return false
    }
  }

  async function download(target: string): Promise<void> {
    listen()
    downloads.value = { ...downloads.value, [target]: { ...idle(), busy: true } }
    try {
      const info = await api.datasets.download({ name: target })
      const done = `Downloaded ${info.title}.`
      downloads.value = { ...downloads.value, [target]: { ...idle(), done } }
      await datasets.load()
      datasets.selectedName = info.name
    } catch (err) {
      const info = toErrorInfo(err)
      const outcome: TransferState =
        info.code === 'CANCELLED'
          ? { ...idle(), done: 'Download cancelled; nothing was kept.' }
          : { ...idle(), error: info }
      downloads.value = { ...downloads.value, [target]: outcome }
    }
  }

  /** Asks the app to stop a download; the download itself then ends as cancelled. */
  async function cancel(target: string): Promise<void> {
    try {
      await api.datasets.cancel({ name: target })
    } catch {
      // It finished before the cancel arrived; its own outcome is shown.
    }
  }

  function dispose(): void {
    unsubscribe?.()
    unsubscribe = null
  }

  return {
    name,
    inspection,
    stats,
    page,
    split,
    classIndex,
    offset,
    loading,
    error,
    importState,
    downloads,
    explore,
    show,
    importPath,
    isImageFolder,
    download,
    cancel,
    dispose
  }
})
