import { connectParent } from './port'
import { EngineServer } from './server'

// Entry of the engine process, the only process that loads TensorFlow.js.
const parent = connectParent()
const server = new EngineServer((m) => parent.send(m))
parent.onMessage((m) => server.handle(m))
parent.send({ type: 'hello', pid: process.pid })
