import { connectParent } from './port'
import { EngineServer } from './server'

// Entry of the engine process, the only process that loads TensorFlow.js.
const parent = connectParent()
const server = new EngineServer((m) => parent.send(m))
parent.onMessage((m) => server.handle(m))
parent.send({ type: 'hello', pid: process.pid })

/** Fallback when the supervisor does not say (see HEARTBEAT_INTERVAL_MS in supervisor.ts). */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 500
const heartbeatMs = Number(process.env.CNN_WORKBENCH_HEARTBEAT_MS) || DEFAULT_HEARTBEAT_INTERVAL_MS
// Proof of life for the supervisor's watchdog; unref'd so it never keeps the process up alone.
setInterval(() => parent.send({ type: 'heartbeat' }), heartbeatMs).unref()
