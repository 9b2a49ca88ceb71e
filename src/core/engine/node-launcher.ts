import { fork } from 'node:child_process'
import type { EngineHandle, EngineLauncher } from './supervisor'

/** Launches the engine as a Node child process (web host, CLI, tests). */
export function nodeEngineLauncher(entry: string, execArgv: string[] = []): EngineLauncher {
  // Tests and development run the TypeScript entry directly through tsx.
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', ...execArgv] : execArgv
  return (): EngineHandle => {
    const child = fork(entry, [], {
      serialization: 'advanced',
      execArgv: args,
      // The engine's stdout goes to our stderr so it never mixes into the CLI's JSON lines.
      stdio: ['ignore', 2, 2, 'ipc']
    })
    return {
      send: (m) => {
        if (child.connected) child.send(m)
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.on('exit', (code) => l(code)),
      kill: () => {
        child.kill('SIGKILL')
      }
    }
  }
}
