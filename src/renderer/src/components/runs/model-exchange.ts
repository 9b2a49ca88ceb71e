import { ref, type Ref } from 'vue'
import { useWorkbench } from '../../api/workbench'
import { useAlertsStore } from '../../stores/alerts'
import { useRunsStore } from '../../stores/runs'
import { decodeBase64 } from '../data/pixels'

/** Bytes to base64 in slices, so a large weights file does not overflow the call stack. */
function encodeBase64(bytes: Uint8Array): string {
  const SLICE_BYTES = 0x8000
  let binary = ''
  for (let i = 0; i < bytes.length; i += SLICE_BYTES) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE_BYTES))
  }
  return btoa(binary)
}

/** Export of a run's model as downloads, and import of chosen model.json + weights.bin. */
export function useModelExchange(): {
  busy: Ref<boolean>
  exportModel(runId: string, label: string): Promise<void>
  /** Where the last PyTorch export was written (in the data folder), to show the learner. */
  exportedPath: Ref<string | null>
  exportPytorch(runId: string, label: string): Promise<void>
  importModel(files: readonly File[] | FileList | null): Promise<void>
} {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const runs = useRunsStore()
  const busy = ref(false)
  const exportedPath = ref<string | null>(null)

  /** The run as a PyTorch project (model.py, train.py, README.md, run.json, its weights) in the data folder. */
  async function exportPytorch(runId: string, label: string): Promise<void> {
    busy.value = true
    try {
      exportedPath.value = (await api.runs.exportPytorch({ runId, format: 'pytorch' })).path
    } catch (err) {
      alerts.report(err, `Could not export ${label} for PyTorch`)
    } finally {
      busy.value = false
    }
  }

  async function exportModel(runId: string, label: string): Promise<void> {
    busy.value = true
    try {
      const { files } = await api.runs.export({ runId })
      for (const f of files) {
        const url = URL.createObjectURL(new Blob([decodeBase64(f.base64) as BlobPart]))
        const a = document.createElement('a')
        a.href = url
        a.download = f.name
        a.click()
        URL.revokeObjectURL(url)
      }
    } catch (err) {
      alerts.report(err, `Could not export ${label}`)
    } finally {
      busy.value = false
    }
  }

  async function importModel(list: readonly File[] | FileList | null): Promise<void> {
    if (!list || list.length === 0) return
    busy.value = true
    try {
      const files = await Promise.all(
        Array.from(list).map(async (f) => ({ name: f.name, base64: encodeBase64(new Uint8Array(await f.arrayBuffer())) }))
      )
      await api.runs.import({ files })
      await runs.load()
    } catch (err) {
      alerts.report(err, 'Could not import the model')
    } finally {
      busy.value = false
    }
  }

  return { busy, exportModel, exportedPath, exportPytorch, importModel }
}
