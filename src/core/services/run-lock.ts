import { open, readFile, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'

/** The lock file inside a run folder; "." keeps it out of listings of run files. */
export const RUN_LOCK_FILE = '.lock'

/** Who holds a run folder: written into its lock file when taken. */
export interface RunLockOwner {
  pid: number
  host: string
  startedAt: string
  /** What the holder does with the run ("training", "resuming"), for the error message. */
  purpose: string
}

/** A held lock; release() removes the file if it is still ours. */
export interface RunLock {
  readonly owner: RunLockOwner
  release(): Promise<void>
}

/** Whether a process with this id exists on this machine (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readOwner(path: string): Promise<RunLockOwner | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<RunLockOwner>
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null
    return {
      pid: parsed.pid,
      host: parsed.host,
      startedAt: String(parsed.startedAt ?? ''),
      purpose: String(parsed.purpose ?? 'training')
    }
  } catch {
    return null
  }
}

/**
 * Takes the one-writer lock of a run folder: `<dir>/.lock` created with O_EXCL (atomic on local
 * file systems), holding process id, host and start time. A lock left by a process that no
 * longer runs on this host is taken over; a live holder (or one on another host, which cannot be
 * checked) makes this fail with RUN_LOCKED. Known limit: a stale lock whose process id was reused
 * by an unrelated process counts as held until that process ends.
 */
export async function acquireRunLock(dir: string, purpose: string): Promise<RunLock> {
  const path = join(dir, RUN_LOCK_FILE)
  const owner: RunLockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    purpose
  }
  // Twice at most: once, and once more after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx')
      try {
        await fh.writeFile(JSON.stringify(owner) + '\n')
      } finally {
        await fh.close()
      }
      return {
        owner,
        release: async () => {
          const now = await readOwner(path)
          if (now && now.pid === owner.pid && now.startedAt === owner.startedAt) {
            await rm(path, { force: true })
          }
        }
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EEXIST') {
        throw new WorkbenchError(
          'IO_ERROR',
          `Cannot lock the run folder ${dir}: ${code ?? String(err)}. Check that it exists and is writable.`
        )
      }
    }
    const holder = await readOwner(path)
    // An unreadable lock is one whose writer died between create and write: stale.
    const stale =
      holder === null || (holder.host === owner.host && holder.pid !== process.pid && !processAlive(holder.pid))
    if (!stale) {
      const where = holder.host === owner.host ? '' : ` on ${holder.host}`
      const who = holder.pid === process.pid ? 'this app' : `process ${holder.pid}${where}`
      throw new WorkbenchError(
        'RUN_LOCKED',
        `Run folder ${dir} is in use: ${who} has been ${holder.purpose} it since ${holder.startedAt}. ` +
          'Wait for it to finish or stop it there; only one process may write a run at a time.',
        { lock: holder }
      )
    }
    await rm(path, { force: true })
  }
  throw new WorkbenchError('RUN_LOCKED', `Run folder ${dir} is being taken by another process just now. Try again.`)
}
