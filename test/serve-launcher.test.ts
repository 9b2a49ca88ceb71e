import { afterAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, tempDir } from './helpers'

/** Bound on waiting for the host to notice; a hang guard, not a speed claim. */
const EXIT_WAIT_MS = 60_000

/** Whether a process still runs (a zombie, waiting for a reaper, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

function childrenOf(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
  return r.stdout.split('\n').filter(Boolean).map(Number)
}

async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (done()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return done()
}

// `npm run serve` is scripts/start.js --web: it runs the built web host (out/main/web-host.js,
// built first by `npm test`, or by the launcher itself when missing).
describe('npm run serve launcher', () => {
  const tmp = tempDir()
  const started: number[] = []
  afterAll(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL')
    tmp.cleanup()
  })

  it('takes the web host and its engine down when the launcher is killed', async () => {
    const launcher = spawn(process.execPath, [join(ROOT, 'scripts/start.js'), '--web', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, CNN_WORKBENCH_HOME: tmp.dir },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const launcherPid = launcher.pid ?? 0
    started.push(launcherPid)
    let out = ''
    await new Promise<void>((resolve, reject) => {
      launcher.stdout.on('data', (c) => {
        out += String(c)
        if (/running at http:\/\/127\.0\.0\.1:\d+/.test(out)) resolve()
      })
      launcher.on('exit', (code) => reject(new Error(`launcher exited (${code}): ${out}`)))
    })
    const [hostPid] = childrenOf(launcherPid)
    expect(hostPid).toBeGreaterThan(0)
    started.push(hostPid)
    // The engine starts in the background; give it the chance to appear so it is checked too.
    await waitUntil(() => childrenOf(hostPid).length > 0, 20_000)
    const enginePids = childrenOf(hostPid)
    expect(enginePids.length).toBeGreaterThan(0)
    started.push(...enginePids)

    launcher.kill('SIGKILL')
    expect(await waitUntil(() => !alive(hostPid), EXIT_WAIT_MS)).toBe(true)
    for (const pid of enginePids) expect(await waitUntil(() => !alive(pid), EXIT_WAIT_MS)).toBe(true)
  }, 180_000)
})
