import { contextBridge } from 'electron'
import { createApi } from '../shared/contract/client'
import { ipcTransport } from './ipc-renderer-helper'

// The preload exposes one narrow, typed API; the renderer never sees ipcRenderer or a channel.
contextBridge.exposeInMainWorld('workbench', createApi(ipcTransport))
