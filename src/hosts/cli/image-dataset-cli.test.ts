import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { ENGINE_TS, ROOT, tempDir } from '../../../test/helpers'
import { writeImageFolder } from '../../core/datasets/testing/images'

const home = tempDir('cnnwb-image-cli-')
let server: Server
let baseUrl: string
beforeAll(async () => {
  // Serves every file name with bytes that cannot match the official checksums.
  server = createServer((_req, res) => {
    const body = Buffer.alloc(2048, 1)
    res.writeHead(200, { 'content-length': body.length })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  home.cleanup()
})

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  lines: Record<string, unknown>[]
}

/** Runs the real CLI through tsx (asynchronously, so the test's HTTP server keeps serving). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/hosts/cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          CNN_WORKBENCH_HOME: home.dir,
          CNN_WORKBENCH_ENGINE: ENGINE_TS,
          ...env
        }
      }
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      resolve({ code, stdout, stderr, lines })
    })
  })
}

describe('cnn-workbench dataset import of a folder of class folders', () => {
  it('imports PNG and JPEG class folders, inspects them, and trains a tiny model for 1 epoch', async () => {
    const folder = await writeImageFolder(join(home.dir, 'shapes'), {
      perClass: { circle: 20, square: 10, star: 15 },
      extraFiles: 1
    })
    const r = await cli(['dataset', 'import', folder, '--name', 'shapes', '--size', '16', '--json'])
    expect(r.stderr).toMatch(/Decoded 45 of 45 images/)
    expect(r.code).toBe(0)
    expect(r.lines[0]).toMatchObject({
      event: 'imported',
      name: 'shapes',
      shape: [1, 16, 16],
      classes: ['circle', 'square', 'star'],
      trainCount: 36,
      testCount: 9,
      skippedFiles: 3
    })
    const inspected = await cli(['dataset', 'inspect', 'shapes', '--json'])
    expect(inspected.lines[0]).toMatchObject({
      shape: [1, 16, 16],
      train: { count: 36, perClass: [16, 8, 12] },
      test: { count: 9, perClass: [4, 2, 3] }
    })

    const model = join(home.dir, 'tiny.json')
    writeFileSync(
      model,
      JSON.stringify({
        format: 'cnn-workbench.model/1',
        name: 'Tiny',
        input: { channels: 1, height: 16, width: 16 },
        layers: [
          { type: 'conv2d', filters: 4, kernelSize: 3, stride: 1, padding: 1, activation: 'relu' },
          { type: 'maxPool2d', poolSize: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 3 }
        ]
      })
    )
    const trained = await cli([
      'train',
      '--model',
      model,
      '--dataset',
      'shapes',
      '--epochs',
      '1',
      '--json'
    ])
    expect(trained.code, trained.stderr + trained.stdout).toBe(0)
    const done = trained.lines.find((l) => l.event === 'done')
    expect(done).toMatchObject({ status: 'completed', testCount: 9 })
    expect(done?.testAccuracy).toEqual(expect.any(Number))
  }, 180_000)

  it('keeps colour with --rgb (32 × 32 by default) and splits with --test-fraction', async () => {
    const folder = await writeImageFolder(join(home.dir, 'colours'), {
      perClass: { red: 10, blue: 10 }
    })
    const r = await cli(['dataset', 'import', folder, '--rgb', '--test-fraction', '0.3'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /Imported colours: 14 training and 6 test images of 3 × 32 × 32, 2 classes\./
    )
  }, 60_000)

  it('refuses bad flags and bad folders with typed errors that name the flag or file', async () => {
    const size = await cli(['dataset', 'import', join(home.dir, 'shapes'), '--size', '2', '--json'])
    expect(size.code).toBe(1)
    expect(size.lines.at(-1)).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(String(size.lines.at(-1)?.message)).toMatch(/--size/)
    const stray = await cli(['dataset', 'inspect', 'mnist', '--rgb', '--json'])
    expect(stray.lines.at(-1)).toMatchObject({ code: 'BAD_REQUEST' })
    expect(String(stray.lines.at(-1)?.message)).toMatch(/--rgb belongs to `dataset import`/)

    const bad = await writeImageFolder(join(home.dir, 'bad'), { perClass: { a: 2, b: 2 } })
    writeFileSync(
      join(bad, 'b', 'broken.png'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2])
    )
    const same = await cli(['dataset', 'import', bad, '--name', 'shapes', '--json'])
    expect(same.lines.at(-1)).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(String(same.lines.at(-1)?.message)).toMatch(/exists already.*--replace/s)
    const r = await cli(['dataset', 'import', bad, '--name', 'shapes', '--replace', '--json'])
    expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'DATASET_ERROR' })
    expect(String(r.lines.at(-1)?.message)).toMatch(/b\/broken\.png/)
    // The earlier import of that name is untouched.
    const still = await cli(['dataset', 'inspect', 'shapes', '--json'])
    expect(still.lines[0]).toMatchObject({ shape: [1, 16, 16], train: { count: 36 } })
  }, 60_000)
})

describe('cnn-workbench dataset download', () => {
  it('says which host it could not reach and how to import instead, when offline', async () => {
    const r = await cli(['dataset', 'download', 'fashion-mnist', '--json'], {
      CNN_WORKBENCH_MIRROR: 'http://127.0.0.1:9/'
    })
    expect(r.code).toBe(1)
    expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'IO_ERROR' })
    expect(String(r.lines.at(-1)?.message)).toMatch(
      /Could not reach 127\.0\.0\.1:9 .*import the files/
    )
  }, 60_000)

  it('shows progress on stderr and refuses files whose checksum is wrong', async () => {
    const r = await cli(['dataset', 'download', 'fashion-mnist', '--json'], {
      CNN_WORKBENCH_MIRROR: baseUrl
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/File 1 of 4 \(train-images-idx3-ubyte\.gz\)/)
    expect(String(r.lines.at(-1)?.message)).toMatch(/train-images-idx3-ubyte\.gz/)
    const listed = await cli(['datasets', '--json'])
    const entries = (listed.lines[0] as { datasets: { name: string; available: boolean }[] })
      .datasets
    expect(entries.find((d) => d.name === 'fashion-mnist')?.available).toBe(false)
  }, 60_000)

  it('refuses a name it cannot download', async () => {
    const r = await cli(['dataset', 'download', 'imagenet', '--json'])
    expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'UNKNOWN_DATASET' })
    expect(String(r.lines.at(-1)?.message)).toMatch(/fashion-mnist/)
  }, 60_000)
})
