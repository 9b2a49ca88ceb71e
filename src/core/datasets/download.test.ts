import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../../shared/contract/errors'
import {
  type DownloadFile,
  DATASET_DOWNLOADS,
  downloadDataset,
  downloadFile,
  downloadSpecFor,
  type DownloadProgress
} from './download'
import { DatasetRegistry } from '../../data/datasets/registry'
import { writeIdxFolder } from '../../data/datasets/testing/fixtures'

const BIG_FILE_BYTES = 3 * 1024 * 1024

let dir: string
let server: Server
let baseUrl: string
const served = new Map<string, Buffer>()
const big = Buffer.alloc(BIG_FILE_BYTES, 7)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'download-test-'))
  const fixture = await writeIdxFolder(join(dir, 'fixture'), { gzip: true })
  for (const name of await readdir(fixture))
    served.set(`/fm/${name}`, await readFile(join(fixture, name)))
  server = createServer((req, res) => {
    const url = req.url ?? ''
    if (url === '/big') {
      res.writeHead(200, { 'content-length': big.length })
      res.end(big)
    } else if (url === '/cut') {
      // Promise the whole file, send part of it, then drop the connection.
      res.writeHead(200, { 'content-length': big.length })
      res.write(big.subarray(0, 100_000), () => res.socket?.destroy())
    } else if (url === '/slow') {
      res.writeHead(200, { 'content-length': big.length })
      res.write(big.subarray(0, 1000))
    } else if (url === '/moved') {
      res.writeHead(302, { location: '/big' })
      res.end()
    } else if (served.has(url)) {
      res.writeHead(200, { 'content-length': (served.get(url) as Buffer).length })
      res.end(served.get(url))
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex')
const md5 = (buf: Buffer) => createHash('md5').update(buf).digest('hex')

async function errorOf(promise: Promise<unknown>): Promise<WorkbenchError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  return err as WorkbenchError
}

async function onlyFile(folder: string): Promise<string[]> {
  return (await readdir(folder)).sort()
}

describe('downloadFile', () => {
  it('saves a verified file and reports progress up to the total', async () => {
    const dest = join(dir, 'ok', 'big.bin')
    const seen: DownloadProgress[] = []
    const result = await downloadFile(
      { url: `${baseUrl}/big`, file: 'big.bin', sha256: sha256(big), md5: md5(big) },
      dest,
      { onProgress: (p) => seen.push(p) }
    )
    expect(result.bytes).toBe(BIG_FILE_BYTES)
    expect((await readFile(dest)).equals(big)).toBe(true)
    expect(seen.at(-1)).toMatchObject({ receivedBytes: BIG_FILE_BYTES, totalBytes: BIG_FILE_BYTES })
    expect(await onlyFile(join(dir, 'ok'))).toEqual(['big.bin'])
  })

  it('follows redirects', async () => {
    const dest = join(dir, 'redirect', 'big.bin')
    await downloadFile({ url: `${baseUrl}/moved`, file: 'big.bin', sha256: sha256(big) }, dest)
    expect(existsSync(dest)).toBe(true)
  })

  it('refuses a file with the wrong checksum and keeps nothing', async () => {
    const dest = join(dir, 'bad-sum', 'big.bin')
    const err = await errorOf(
      downloadFile({ url: `${baseUrl}/big`, file: 'big.bin', sha256: sha256(big), md5: '0'.repeat(32) }, dest)
    )
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/big\.bin arrived damaged: its MD5 is [0-9a-f]{32}, expected 0{32}/)
    expect(await onlyFile(join(dir, 'bad-sum'))).toEqual([])
  })

  it('relies on SHA-256: a file whose MD5 matches but whose SHA-256 does not is refused', async () => {
    const dest = join(dir, 'bad-sha', 'big.bin')
    const err = await errorOf(
      downloadFile({ url: `${baseUrl}/big`, file: 'big.bin', sha256: 'f'.repeat(64), md5: md5(big) }, dest)
    )
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/big\.bin arrived damaged: its SHA-256 is [0-9a-f]{64}, expected f{64}/)
    expect(await onlyFile(join(dir, 'bad-sha'))).toEqual([])
  })

  it('fetches nothing without a pinned SHA-256 (an MD5 alone is not enough)', async () => {
    const dest = join(dir, 'no-sha', 'big.bin')
    const unpinned = { url: `${baseUrl}/big`, file: 'big.bin', md5: md5(big) } as unknown as DownloadFile
    const err = await errorOf(downloadFile(unpinned, dest))
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/no pinned SHA-256/)
    expect(existsSync(dest)).toBe(false)
  })

  it('reports a connection cut mid-file and keeps nothing', async () => {
    const dest = join(dir, 'cut', 'big.bin')
    const err = await errorOf(downloadFile({ url: `${baseUrl}/cut`, file: 'big.bin', sha256: sha256(big) }, dest))
    expect(err.code).toBe('IO_ERROR')
    expect(err.message).toMatch(/connection (closed|broke) after \d+/)
    expect(await onlyFile(join(dir, 'cut'))).toEqual([])
  })

  it('stops on cancel and keeps nothing', async () => {
    const dest = join(dir, 'cancel', 'big.bin')
    const controller = new AbortController()
    const pending = downloadFile({ url: `${baseUrl}/slow`, file: 'big.bin', sha256: sha256(big) }, dest, {
      signal: controller.signal,
      onProgress: () => controller.abort()
    })
    const err = await errorOf(pending)
    expect(err.code).toBe('CANCELLED')
    expect(await onlyFile(join(dir, 'cancel'))).toEqual([])
  })

  it('gives up on a server that stops sending', async () => {
    const dest = join(dir, 'stall', 'big.bin')
    const err = await errorOf(
      downloadFile({ url: `${baseUrl}/slow`, file: 'big.bin', sha256: sha256(big) }, dest, { stallTimeoutMs: 200 })
    )
    expect(err.message).toMatch(/stopped sending/)
    expect(await onlyFile(join(dir, 'stall'))).toEqual([])
  })

  it('reports an HTTP error status', async () => {
    const err = await errorOf(
      downloadFile({ url: `${baseUrl}/missing`, file: 'x', sha256: '0'.repeat(64) }, join(dir, 'missing', 'x'))
    )
    expect(err.code).toBe('IO_ERROR')
    expect(err.message).toMatch(/answered 404/)
  })
})

describe('downloadDataset', () => {
  it('knows the official sources', () => {
    expect(downloadSpecFor('Fashion-MNIST').files).toHaveLength(4)
    expect(DATASET_DOWNLOADS['cifar-10'].files[0].md5).toBe('c32a1d4ab5d03f1284b67883e8d87530')
    expect(DATASET_DOWNLOADS['cifar-10'].files[0].sha256).toBe(
      'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd'
    )
    expect(DATASET_DOWNLOADS['cifar-10'].files[0].url).toMatch(/^https:\/\/www\.cs\.toronto\.edu\//)
    // Every official file carries a pinned SHA-256 (the check relied on) beside the MD5.
    for (const spec of Object.values(DATASET_DOWNLOADS)) {
      for (const f of spec.files) {
        expect(f.sha256, f.file).toMatch(/^[0-9a-f]{64}$/)
        expect(f.md5, f.file).toMatch(/^[0-9a-f]{32}$/)
      }
    }
    expect(() => downloadSpecFor('imagenet')).toThrow(WorkbenchError)
  })

  it('downloads, verifies and imports a dataset, listed as downloaded', async () => {
    const registry = new DatasetRegistry({ dataDir: join(dir, 'data') })
    const files = [...served.keys()].map((path) => ({
      url: baseUrl + path,
      file: path.slice('/fm/'.length),
      sha256: sha256(served.get(path) as Buffer)
    }))
    const info = await downloadDataset(registry, { name: 'fashion-mnist', title: 'F', files })
    expect(info).toMatchObject({ name: 'fashion-mnist', source: 'downloaded', trainCount: 30 })
    const listed = (await registry.list()).find((i) => i.name === 'fashion-mnist')
    expect(listed).toMatchObject({ available: true, source: 'downloaded' })
    expect(await onlyFile(registry.datasetsDir)).toEqual(['fashion-mnist'])
  })
})
