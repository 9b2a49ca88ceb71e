import { computed, ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type { EngineStatus } from '../../../shared/contract/types'
import type { BackendName } from '../../../shared/hyper'
import { useWorkbench } from '../api/workbench'
import { useAlertsStore } from './alerts'

/** The training engine's state and backend, as the main process reports them. */
export const useEngineStore = defineStore('engine', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const status = shallowRef<EngineStatus | null>(null)
  const restarting = ref(false)
  let unsubscribe: (() => void) | null = null

  const crashed = computed(() => status.value?.state === 'crashed')
  /** Short text for the header: the backend in use, or what the engine is doing. */
  const label = computed(() => {
    const s = status.value
    if (!s) return 'connecting…'
    if (s.state === 'ready') return s.backend ?? 'ready'
    if (s.state === 'starting') return 'starting…'
    if (s.state === 'stopped') return 'idle, starts with the first training'
    return 'stopped unexpectedly'
  })

  /** Subscribes first, then asks for a snapshot, so no change between the two is lost. */
  async function init(): Promise<void> {
    if (unsubscribe) return
    let sawEvent = false
    unsubscribe = api.engine.onStatus((s) => {
      sawEvent = true
      status.value = s
    })
    try {
      const snapshot = await api.engine.status()
      if (!sawEvent) status.value = snapshot
    } catch (err) {
      alerts.report(err, 'Could not read the engine status')
    }
  }

  /** Records a crash learned from a run's failure, in case the engine event was missed. */
  function noteCrash(message: string): void {
    status.value = { state: 'crashed', backend: null, message }
  }

  /** A run that reports its backend proves the engine is up, even if its own event is late. */
  function noteBackend(backend: BackendName): void {
    if (status.value?.state === 'crashed') return
    status.value = { state: 'ready', backend }
  }

  async function restart(): Promise<void> {
    restarting.value = true
    try {
      status.value = await api.engine.restart()
    } catch (err) {
      alerts.report(err, 'Could not restart the engine')
    } finally {
      restarting.value = false
    }
  }

  function dispose(): void {
    unsubscribe?.()
    unsubscribe = null
  }

  return { status, restarting, crashed, label, init, noteCrash, noteBackend, restart, dispose }
})
