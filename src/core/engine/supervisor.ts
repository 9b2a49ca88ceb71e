import type { z } from 'zod'
import { fromEngineSchema, type FromEngine, type ToEngine } from '../../shared/engine-protocol'
import { runIdSchema, type EngineState, type EngineStatus } from '../../shared/contract/types'
import { WorkbenchError, describeIssues, type ErrorInfo } from '../../shared/contract/errors'

/** How long a new engine process has to say hello before it counts as failed. */
export const READY_TIMEOUT_MS = 30_000
/** How long a graceful stop waits before the process is killed. */
export const STOP_TIMEOUT_MS = 3_000

/** One running engine process, whatever started it (Node child process or Electron utilityProcess). */
export interface EngineHandle {
  send(message: ToEngine): void
  onMessage(listener: (message: unknown) => void): void
  onExit(listener: (code: number | null) => void): void
  kill(): void
}

/** Starts a fresh engine process. */
export type EngineLauncher = () => EngineHandle

type Listener<T> = (value: T) => void

/**
 * The one owner of the engine process: it alone starts, stops and restarts it, and tells
 * everyone when it dies.
 */
export class EngineSupervisor {
  private handle: EngineHandle | null = null
  private ready: Promise<EngineHandle> | null = null
  private state: EngineState = 'stopped'
  private message: string | undefined
  private backend: EngineStatus['backend'] = null
  private intentionalExit = false
  private nextRequestId = 1
  private readonly messageListeners = new Set<Listener<FromEngine>>()
  private readonly statusListeners = new Set<Listener<EngineStatus>>()
  private readonly crashListeners = new Set<Listener<string>>()

  constructor(private readonly launch: EngineLauncher) {}

  status(): EngineStatus {
    return { state: this.state, backend: this.backend, ...(this.message ? { message: this.message } : {}) }
  }

  /** Every message the engine sends. Returns its unsubscribe function. */
  onMessage(listener: Listener<FromEngine>): () => void {
    this.messageListeners.add(listener)
    return () => this.messageListeners.delete(listener)
  }

  onStatus(listener: Listener<EngineStatus>): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** Called with a reason when the engine dies without being asked to. */
  onCrash(listener: Listener<string>): () => void {
    this.crashListeners.add(listener)
    return () => this.crashListeners.delete(listener)
  }

  /** Records the backend the engine reported, for the status line. */
  setBackend(backend: EngineStatus['backend']): void {
    this.backend = backend
    this.emitStatus()
  }

  private setState(state: EngineState, message?: string): void {
    this.state = state
    this.message = message
    this.emitStatus()
  }

  private emitStatus(): void {
    const s = this.status()
    for (const l of this.statusListeners) l(s)
  }

  /** Starts the engine if it is not running, and resolves once it said hello. */
  ensureStarted(): Promise<EngineHandle> {
    if (this.ready) return this.ready
    this.setState('starting')
    this.intentionalExit = false
    this.ready = new Promise<EngineHandle>((resolve, reject) => {
      let handle: EngineHandle
      try {
        handle = this.launch()
      } catch (err) {
        this.ready = null
        this.setState('crashed', `The engine could not start: ${err instanceof Error ? err.message : String(err)}`)
        reject(new WorkbenchError('ENGINE_UNAVAILABLE', this.message ?? 'The engine could not start.'))
        return
      }
      this.handle = handle
      let hello = false
      const timer = setTimeout(() => {
        if (hello) return
        handle.kill()
        reject(new WorkbenchError('ENGINE_UNAVAILABLE', 'The engine did not start in time. Try again, or restart the app.'))
      }, READY_TIMEOUT_MS)
      handle.onMessage((raw) => {
        // Validated where it is received, as main's requests are: a bad message is a typed error.
        const parsed = fromEngineSchema.safeParse(raw)
        if (!parsed.success) {
          this.malformed(handle, raw, describeIssues(parsed.error))
          return
        }
        const m = parsed.data
        if (m.type === 'hello' && !hello) {
          hello = true
          clearTimeout(timer)
          this.setState('ready')
          resolve(handle)
          return
        }
        for (const l of this.messageListeners) l(m)
      })
      handle.onExit((code) => {
        clearTimeout(timer)
        if (this.handle !== handle) return
        this.handle = null
        this.ready = null
        if (this.intentionalExit) {
          this.setState('stopped')
          return
        }
        const reason = `The training engine stopped unexpectedly (exit code ${code ?? 'unknown'}). It restarts on the next request.`
        this.setState('crashed', reason)
        for (const l of this.crashListeners) l(reason)
        if (!hello) reject(new WorkbenchError('ENGINE_UNAVAILABLE', reason))
      })
    })
    return this.ready
  }

  /**
   * Turns a message that failed validation into the failure it stands for: a failed call when it
   * answered one, a failed (and stopped) run when it named one, an engine error otherwise.
   */
  private malformed(handle: EngineHandle, raw: unknown, issues: string): void {
    const r = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
    const type = typeof r.type === 'string' ? r.type.slice(0, 40) : 'untyped'
    const error: ErrorInfo = {
      code: 'INTERNAL',
      message: `The training engine sent a malformed ${type} message (${issues}), so it was not used. Restart the engine (Engine → Restart) if this repeats.`
    }
    let stands: FromEngine
    const runId = runIdSchema.safeParse(r.runId)
    if ((type === 'reply' || type === 'callProgress') && typeof r.id === 'number') {
      stands = { type: 'reply', id: r.id, ok: false, error }
    } else if (runId.success) {
      // The engine's own run goes no further: what it reports can no longer be trusted.
      handle.send({ type: 'stop', runId: runId.data })
      stands = { type: 'failed', runId: runId.data, error }
    } else {
      stands = { type: 'error', error }
    }
    for (const l of this.messageListeners) l(stands)
  }

  /** Sends a message, starting the engine first if needed. */
  async send(message: ToEngine): Promise<void> {
    const handle = await this.ensureStarted()
    handle.send(message)
  }

  /** Asks the engine for its tensor and memory counts (used by tests and benchmarks). */
  async memory(): Promise<{ numTensors: number; numBytes: number; rssBytes: number }> {
    const id = this.nextRequestId++
    return new Promise((resolve) => {
      const off = this.onMessage((m) => {
        if (m.type === 'memory' && m.id === id) {
          off()
          resolve({ numTensors: m.numTensors, numBytes: m.numBytes, rssBytes: m.rssBytes })
        }
      })
      void this.send({ type: 'memory', id })
    })
  }

  /**
   * Calls one of the engine's methods (src/engine/methods) and resolves with its reply, validated
   * with `result` (a reply that does not match fails with INTERNAL). Progress payloads go to
   * onProgress; aborting the signal asks the engine to cancel. If the engine dies meanwhile, the
   * call fails with ENGINE_CRASHED.
   */
  async call<S extends z.ZodType>(
    method: string,
    params: unknown,
    result: S,
    opts: { onProgress?: (payload: unknown) => void; signal?: AbortSignal } = {}
  ): Promise<z.infer<S>> {
    const id = this.nextRequestId++
    const handle = await this.ensureStarted()
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        off()
        offCrash()
        opts.signal?.removeEventListener('abort', onAbort)
      }
      const off = this.onMessage((m) => {
        if (m.type === 'callProgress' && m.id === id) opts.onProgress?.(m.payload)
        if (m.type !== 'reply' || m.id !== id) return
        cleanup()
        if (!m.ok) {
          reject(WorkbenchError.from(m.error))
          return
        }
        const value = result.safeParse(m.value)
        if (value.success) resolve(value.data)
        else {
          reject(
            new WorkbenchError(
              'INTERNAL',
              `The training engine sent a malformed ${method} reply (${describeIssues(value.error)}). Restart the engine (Engine → Restart) if this repeats.`
            )
          )
        }
      })
      const offCrash = this.onCrash((reason) => {
        cleanup()
        reject(new WorkbenchError('ENGINE_CRASHED', reason))
      })
      const onAbort = (): void => handle.send({ type: 'cancel', id })
      opts.signal?.addEventListener('abort', onAbort)
      handle.send({ type: 'call', id, method, params })
    })
  }

  /** Stops the engine process; resolves once it is gone. */
  async stop(): Promise<void> {
    const handle = this.handle
    if (!handle) return
    this.intentionalExit = true
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_TIMEOUT_MS)
      handle.onExit(() => {
        clearTimeout(timer)
        resolve()
      })
      handle.kill()
    })
    this.handle = null
    this.ready = null
    this.setState('stopped')
  }

  async restart(): Promise<EngineStatus> {
    await this.stop()
    await this.ensureStarted()
    return this.status()
  }
}
