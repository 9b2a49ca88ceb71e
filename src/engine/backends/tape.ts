import * as tf from '@tensorflow/tfjs-core'

type Saved = tf.Tensor[]

/** The parts of tfjs's Engine this module touches (tfjs-core 4.x, engine.ts). */
interface EngineInternals {
  saveTensorsForBackwardMode(tensors: Saved): Saved
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: tf.DataType }): tf.Tensor
  keep<T extends tf.Tensor>(tensor: T): T
}

interface RefCountingBackend {
  incRef(dataId: object): void
}

/**
 * Runs `record` (a first-order gradient: tf.variableGrads, optimizer.minimize) with tfjs's engine
 * keeping the tensors that gradients need as new references to the same data, where it would
 * clone each: a clone is an Identity kernel run plus a tape node of its own (about 27 a LeNet-5
 * step, each 3 to 10 us, and a third of the nodes the backward pass filters). The reference is
 * what the clone amounts to on cpu and on this project's wasm Identity (the data's reference
 * count goes up, so disposing or reassigning the original leaves the saved values alive); what
 * is lost is the clone's tape node, which only a gradient of a gradient would walk. Strings and
 * complex tensors, and backends without reference counts, keep tfjs's clone; so does everything
 * outside `record`.
 */
export function withLightSaves<T>(record: () => T): T {
  const engine = tf.engine() as unknown as EngineInternals
  install(engine)
  const backend = tf.backend() as unknown as Partial<RefCountingBackend>
  if (typeof backend.incRef !== 'function') return record()
  const outer = light
  light = { engine, incRef: backend.incRef.bind(backend) }
  try {
    return record()
  } finally {
    light = outer
  }
}

/** The engine and backend withLightSaves is running for, or null: tfjs's own clones. */
let light: { engine: EngineInternals; incRef: (dataId: object) => void } | null = null
const patched = new WeakSet<object>()

/**
 * Gives the engine, once, a saveTensorsForBackwardMode that saves light while withLightSaves runs
 * and defers to tfjs's otherwise. Installed for good rather than set and deleted around each
 * step: deleting a property would turn the engine into a slow dictionary-mode object in V8.
 */
function install(engine: EngineInternals): void {
  if (patched.has(engine)) return
  const original = engine.saveTensorsForBackwardMode
  if (typeof original !== 'function') return
  patched.add(engine)
  engine.saveTensorsForBackwardMode = function (this: EngineInternals, tensors: Saved): Saved {
    const now = light
    if (now === null || now.engine !== this) return original.call(this, tensors)
    return tensors.map((t) => {
      if (t.dtype === 'string' || t.dtype === 'complex64') return original.call(this, [t])[0]!
      now.incRef(t.dataId)
      return this.keep(this.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }))
    })
  }
}
