import { ref } from 'vue'
import { defineStore } from 'pinia'
import { toErrorInfo, type ErrorCode } from '../../../shared/contract/errors'

/** Older alerts drop off so a repeating failure cannot fill the screen. */
const MAX_ALERTS = 5

export interface Alert {
  id: number
  code: ErrorCode
  message: string
}

/** Errors from API calls, shown until the user dismisses them. */
export const useAlertsStore = defineStore('alerts', () => {
  const alerts = ref<Alert[]>([])
  let nextId = 1

  /** Shows anything thrown by an API call; `action` says what the user was doing. */
  function report(err: unknown, action?: string): void {
    const info = toErrorInfo(err)
    const message = action ? `${action}: ${info.message}` : info.message
    alerts.value = [
      ...alerts.value.filter((a) => a.message !== message),
      { id: nextId++, code: info.code, message }
    ].slice(-MAX_ALERTS)
  }

  function dismiss(id: number): void {
    alerts.value = alerts.value.filter((a) => a.id !== id)
  }

  return { alerts, report, dismiss }
})
