import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { fromEngineSchema, type FromEngine, type ToEngine } from '../../shared/engine-protocol'
import { runIdSchema, type EngineState, type EngineStatus } from '../../shared/contract/types'
import { WorkbenchError, describeIssues, type ErrorInfo } from '../../shared/contract/errors'

/** How long a new engine process has to say hello before it counts as failed. */
export const READY_TIMEOUT_MS = 30_000
/** How long a graceful stop waits before the process is killed. */
export const STOP_TIMEOUT_MS = 3_000
/**
 * The engine says it is alive this often (src/engine/main.ts); any message counts as well.
 * Its event loop only blocks for one batch or one evaluation slice at a time, far below
 * ENGINE_FROZEN_AFTER_MS.
 */
export const HEARTBEAT_INTERVAL_MS = 500
/**
 * Silence this long from an engine the OS reports as stopped (SIGSTOP, a debugger, Ctrl+Z) means
 * it is frozen: it is killed. A running engine may be silent this long inside one synchronous
 * step (loading a dataset, a wasm kernel on a loaded machine), so that alone is not enough.
 */
export const ENGINE_FROZEN_AFTER_MS = 3_000
/** Silence this long means the engine hangs even though the OS says it runs: it is killed too. */
export const ENGINE_HUNG_AFTER_MS = 60_000

/** Timing of the watchdog; tests pass shorter ones. */
export interface SupervisorOptions {
  frozenAfterMs?: number
  hungAfterMs?: number
  /** The engine's heartbeat period, passed to it through CNN_WORKBENCH_HEARTBEAT_MS. */
  heartbeatIntervalMs?: number
}

/** One running engine process, whatever started it (Node child process or Electron utilityProcess). */
export interface EngineHandle {
  send(message: ToEngine): void
  onMessage(listener: (message: unknown) => void): void
  onExit(listener: (code: number | null) => void): void
  kill(): void
  /** The process id, where the launcher knows it (tests freeze the engine with SIGSTOP). */
  readonly pid?: number
}

/** Starts a fresh engine process; `env` is added to its environment. */
export type EngineLauncher = (env?: Record<string, string>) => EngineHandle

type Listener<T> = (value: T) => void

/**
 * Whether the OS has the process stopped (state T or t in /proc/PID/stat: SIGSTOP, SIGTSTP, a
 * tracer). False where /proc is missing (not Linux): there only the hung limit applies.
 */
export function processSuspended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'T' || state === 't'
  } catch {
    return false
  }
}

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
  private readonly goneListeners = new Set<Listener<ErrorInfo>>()
  /** Why the current process is being killed by us, so its exit is reported as that. */
  private exitCause: ErrorInfo | null = null
  private watchdog: ReturnType<typeof setInterval> | null = null
  private lastHeardAt = 0
  readonly frozenAfterMs: number
  readonly hungAfterMs: number
  readonly heartbeatIntervalMs: number

  constructor(
    private readonly launch: EngineLauncher,
    options: SupervisorOptions = {}
  ) {
    this.frozenAfterMs = options.frozenAfterMs ?? ENGINE_FROZEN_AFTER_MS
    this.hungAfterMs = Math.max(this.frozenAfterMs, options.hungAfterMs ?? ENGINE_HUNG_AFTER_MS)
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS
  }

  /** The engine's process id while one runs. */
  get pid(): number | undefined {
    return this.handle?.pid
  }

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

  /**
   * Called whenever the engine process goes away for any reason (crash, kill, restart, stop,
   * frozen and killed by the watchdog), with a typed error saying which. Whatever was running on
   * it is lost, so owners of work on the engine fail that work here.
   */
  onGone(listener: Listener<ErrorInfo>): () => void {
    this.goneListeners.add(listener)
    return () => this.goneListeners.delete(listener)
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
      this.exitCause = null
      try {
        handle = this.launch({ CNN_WORKBENCH_HEARTBEAT_MS: String(this.heartbeatIntervalMs) })
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
        if (this.handle === handle) this.lastHeardAt = Date.now()
        // Validated where it is received, as main's requests are: a bad message is a typed error.
        const parsed = fromEngineSchema.safeParse(raw)
        if (!parsed.success) {
          this.malformed(handle, raw, describeIssues(parsed.error))
          return
        }
        const m = parsed.data
        if (m.type === 'heartbeat') return
        if (m.type === 'hello' && !hello) {
          hello = true
          clearTimeout(timer)
          this.setState('ready')
          this.startWatchdog(handle)
          resolve(handle)
          return
        }
        for (const l of this.messageListeners) l(m)
      })
      handle.onExit((code) => {
        clearTimeout(timer)
        if (this.handle !== handle) return
        this.stopWatchdog()
        this.handle = null
        this.ready = null
        const cause = this.exitCause
        this.exitCause = null
        if (this.intentionalExit) {
          this.setState('stopped')
          this.emitGone({
            code: 'ENGINE_STOPPED',
            message: 'The training engine was stopped or restarted while it was working.'
          })
          return
        }
        const reason =
          cause?.message ??
          `The training engine stopped unexpectedly (exit code ${code ?? 'unknown'}). It restarts on the next request.`
        this.setState('crashed', reason)
        for (const l of this.crashListeners) l(reason)
        this.emitGone(cause ?? { code: 'ENGINE_CRASHED', message: reason })
        if (!hello) reject(new WorkbenchError('ENGINE_UNAVAILABLE', reason))
      })
    })
    return this.ready
  }

  private emitGone(error: ErrorInfo): void {
    for (const l of this.goneListeners) l(error)
  }

  /** Kills an engine that has been silent for frozenAfterMs; its exit reports ENGINE_FROZEN. */
  private startWatchdog(handle: EngineHandle): void {
    this.stopWatchdog()
    this.lastHeardAt = Date.now()
    const checkEveryMs = Math.max(10, Math.min(1_000, this.frozenAfterMs / 5))
    let lastTickAt = Date.now()
    this.watchdog = setInterval(() => {
      if (this.handle !== handle) return this.stopWatchdog()
      const now = Date.now()
      const late = now - lastTickAt > this.frozenAfterMs / 2
      lastTickAt = now
      // Our own event loop was blocked: the engine's heartbeats may be waiting unread, so it
      // gets a fresh window rather than being killed for our stall.
      if (late) this.lastHeardAt = now
      const silentMs = now - this.lastHeardAt
      if (silentMs < this.frozenAfterMs) return
      const suspended = handle.pid !== undefined && processSuspended(handle.pid)
      if (!suspended && silentMs < this.hungAfterMs) return
      this.stopWatchdog()
      const why = suspended ? 'it was suspended (stopped by a signal or a debugger)' : 'it hangs'
      this.exitCause = {
        code: 'ENGINE_FROZEN',
        message:
          `The training engine stopped responding (silent for ${(silentMs / 1000).toFixed(1)} s; ` +
          `${why}), so it was stopped. Restart it; a run that was ` +
          'training can be resumed from its last saved epoch.',
        details: { silentMs, suspended, frozenAfterMs: this.frozenAfterMs, hungAfterMs: this.hungAfterMs }
      }
      // SIGKILL ends a stopped (SIGSTOP) process as well.
      handle.kill()
    }, checkEveryMs)
    // The watchdog alone must not keep a CLI process alive.
    this.watchdog.unref?.()
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog)
    this.watchdog = null
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
    return new Promise((resolve, reject) => {
      const off = this.onMessage((m) => {
        if (m.type === 'memory' && m.id === id) {
          off()
          offGone()
          resolve({ numTensors: m.numTensors, numBytes: m.numBytes, rssBytes: m.rssBytes })
        }
      })
      const offGone = this.onGone((error) => {
        off()
        offGone()
        reject(WorkbenchError.from(error))
      })
      this.send({ type: 'memory', id }).catch((err: unknown) => {
        off()
        offGone()
        reject(err)
      })
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
      const offCrash = this.onGone((error) => {
        cleanup()
        reject(WorkbenchError.from(error))
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
    if (this.handle === handle) {
      // It did not exit in time (frozen): report it gone now, a later exit is ignored.
      this.stopWatchdog()
      this.handle = null
      this.ready = null
      this.setState('stopped')
      this.emitGone({ code: 'ENGINE_STOPPED', message: 'The training engine was stopped or restarted while it was working.' })
    }
  }

  async restart(): Promise<EngineStatus> {
    await this.stop()
    await this.ensureStarted()
    return this.status()
  }
}
