import type { WorkbenchApi } from '../shared/contract/client'

declare global {
  interface Window {
    workbench?: WorkbenchApi
  }
}
