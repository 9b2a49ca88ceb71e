import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { get as httpGet, type IncomingMessage } from 'node:http'
import { get as httpsGet } from 'node:https'
import { basename, dirname, join } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetInfo } from '../../shared/contract/types'
import { importDataset } from './import'
import type { DatasetRegistry } from '../../data/datasets/registry'

/** Least time between two progress callbacks of one download. */
export const PROGRESS_INTERVAL_MS = 100
/** A server that sends no bytes for this long is given up on. */
export const STALL_TIMEOUT_MS = 30_000
/** Largest file a download may bring (the CIFAR-10 archive is 163 MB). */
export const MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
const MAX_REDIRECTS = 5

/** One file to fetch, with the checksum it must have. */
export interface DownloadFile {
  url: string
  /** Bare file name to save it as. */
  file: string
  /** The file's SHA-256, pinned: a download that does not match it is refused. */
  sha256: string
  /** The publisher's MD5, where one is published: a second check, not the one relied on. */
  md5?: string
}

/** A dataset that can be downloaded: its name, title and files. */
export interface DownloadSpec {
  name: string
  title: string
  files: DownloadFile[]
}

// The publisher serves Fashion-MNIST from an S3 website endpoint, which has no https; the pinned
// SHA-256 is what makes the plain-http download safe to use.
const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'

/**
 * Official download locations of the datasets that are not bundled, with each file's SHA-256
 * (the check relied on) and the publisher's MD5 (a second check). Where the SHA-256s come from,
 * since neither publisher lists one:
 * - Fashion-MNIST: the same four values appear in two independent public loaders (Connor
 *   Olding's `mnists` and batchup's `fashion_mnist.py`); the MD5s are the ones zalandoresearch
 *   lists in its README. Debian's /usr/share/datasets/fashion-mnist files are recompressed (their
 *   MD5s differ from the publisher's), so they could not serve as the reference.
 * - CIFAR-10: TensorFlow Datasets' checksum registry (url_checksums/cifar10.txt) for
 *   https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, 170052171 bytes; other public
 *   pinning code gives the same value, and one records it beside this MD5 from Toronto's page.
 */
export const DATASET_DOWNLOADS: Record<string, DownloadSpec> = {
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST clothing',
    files: [
      {
        file: 'train-images-idx3-ubyte.gz',
        sha256: '08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc',
        md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d'
      },
      {
        file: 'train-labels-idx1-ubyte.gz',
        sha256: 'b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc',
        md5: '25c81989df183df01b3e8a0aad5dffbe'
      },
      {
        file: 't10k-images-idx3-ubyte.gz',
        sha256: '78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229',
        md5: 'bef4ecab320f06d8554ea6380940ec79'
      },
      {
        file: 't10k-labels-idx1-ubyte.gz',
        sha256: '42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf',
        md5: 'bb300cfdad3c16e7a12a480ee83cd310'
      }
    ].map((f) => ({ url: FASHION_MNIST_URL + f.file, ...f }))
  },
  'cifar-10': {
    name: 'cifar-10',
    title: 'CIFAR-10 small colour photos',
    files: [
      {
        url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
        file: 'cifar-10-binary.tar.gz',
        sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
        md5: 'c32a1d4ab5d03f1284b67883e8d87530'
      }
    ]
  }
}

/** How far a download has come; totalBytes is null when the server does not say. */
export interface DownloadProgress {
  file: string
  fileIndex: number
  fileCount: number
  receivedBytes: number
  totalBytes: number | null
}

/** Progress reporting, cancellation and limits for a download. */
export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void
  signal?: AbortSignal
  maxBytes?: number
  stallTimeoutMs?: number
}

/** Checksums of a finished download. */
export interface DownloadResult {
  path: string
  bytes: number
  md5: string
  sha256: string
}

function cancelled(): WorkbenchError {
  return new WorkbenchError('CANCELLED', 'The download was cancelled.')
}

function netError(url: string, reason: string): WorkbenchError {
  return new WorkbenchError(
    'IO_ERROR',
    `Could not download ${url}: ${reason}. Check the internet connection and try again.`,
    { url, reason }
  )
}

function request(
  url: string,
  signal: AbortSignal | undefined,
  redirects = 0
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      reject(netError(url, 'the address is not a valid URL'))
      return
    }
    const get =
      parsed.protocol === 'https:' ? httpsGet : parsed.protocol === 'http:' ? httpGet : null
    if (!get) {
      reject(netError(url, `the ${parsed.protocol} protocol is not supported`))
      return
    }
    const req = get(parsed, { signal }, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume()
        if (redirects >= MAX_REDIRECTS) {
          reject(netError(url, 'too many redirects'))
          return
        }
        const next = new URL(res.headers.location, parsed).toString()
        request(next, signal, redirects + 1).then(resolve, reject)
        return
      }
      if (status !== 200) {
        res.resume()
        reject(netError(url, `the server answered ${status} ${res.statusMessage ?? ''}`.trim()))
        return
      }
      resolve(res)
    })
    req.on('error', (err) => reject(signal?.aborted ? cancelled() : netError(url, err.message)))
  })
}

/**
 * Downloads one file to `destPath` through a temp file in the same folder, verifying its
 * checksums; the destination appears only when the whole file arrived and matched.
 */
export async function downloadFile(
  file: DownloadFile,
  destPath: string,
  options: DownloadOptions & { fileIndex?: number; fileCount?: number } = {}
): Promise<DownloadResult> {
  const { signal, onProgress } = options
  const maxBytes = options.maxBytes ?? MAX_DOWNLOAD_BYTES
  const stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS
  if (signal?.aborted) throw cancelled()
  // Nothing is fetched without a pinned SHA-256 to check it against.
  if (!/^[0-9a-f]{64}$/i.test(file.sha256 ?? '')) {
    throw new WorkbenchError(
      'DATASET_ERROR',
      `${file.file} has no pinned SHA-256, so it cannot be verified; it was not downloaded.`
    )
  }
  await mkdir(dirname(destPath), { recursive: true })
  const tempPath = `${destPath}.part-${randomBytes(6).toString('hex')}`
  const md5 = createHash('md5')
  const sha256 = createHash('sha256')
  try {
    const res = await request(file.url, signal)
    const length = Number(res.headers['content-length'])
    const totalBytes = Number.isSafeInteger(length) && length >= 0 ? length : null
    if (totalBytes !== null && totalBytes > maxBytes) {
      res.destroy()
      throw netError(file.url, `the file is ${totalBytes} bytes, more than the ${maxBytes} allowed`)
    }
    const progress = (receivedBytes: number): DownloadProgress => ({
      file: file.file,
      fileIndex: options.fileIndex ?? 0,
      fileCount: options.fileCount ?? 1,
      receivedBytes,
      totalBytes
    })
    const receivedBytes = await new Promise<number>((resolve, reject) => {
      const out = createWriteStream(tempPath)
      let received = 0
      let lastReportMs = 0
      let settled = false
      const onAbort = () => finish(cancelled())
      const finish = (err: WorkbenchError | null) => {
        if (settled) return
        settled = true
        clearTimeout(stall)
        signal?.removeEventListener('abort', onAbort)
        if (err) {
          res.destroy()
          out.destroy()
          // Wait for the file handle to close so the temp file can be removed.
          out.once('close', () => reject(err))
          if (out.closed) reject(err)
        } else {
          out.end(() => resolve(received))
        }
      }
      let stall = setTimeout(
        () => finish(netError(file.url, 'the server stopped sending')),
        stallTimeoutMs
      )
      res.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received > maxBytes) {
          finish(netError(file.url, `the file is larger than the ${maxBytes} bytes allowed`))
          return
        }
        md5.update(chunk)
        sha256.update(chunk)
        if (!out.write(chunk)) {
          res.pause()
          out.once('drain', () => res.resume())
        }
        clearTimeout(stall)
        stall = setTimeout(
          () => finish(netError(file.url, 'the server stopped sending')),
          stallTimeoutMs
        )
        const now = Date.now()
        if (onProgress && now - lastReportMs >= PROGRESS_INTERVAL_MS) {
          lastReportMs = now
          onProgress(progress(received))
        }
      })
      res.on('end', () => {
        if (totalBytes !== null && received !== totalBytes) {
          finish(
            netError(file.url, `the connection closed after ${received} of ${totalBytes} bytes`)
          )
        } else {
          finish(null)
        }
      })
      res.on('aborted', () =>
        finish(netError(file.url, `the connection closed after ${received} bytes`))
      )
      res.on('error', (err) =>
        finish(
          signal?.aborted
            ? cancelled()
            : netError(file.url, `the connection broke after ${received} bytes (${err.message})`)
        )
      )
      res.on('close', () => {
        if (!res.complete) {
          finish(
            signal?.aborted
              ? cancelled()
              : netError(file.url, `the connection closed after ${received} bytes`)
          )
        }
      })
      out.on('error', (err) =>
        finish(new WorkbenchError('IO_ERROR', `Could not write ${tempPath}: ${err.message}.`))
      )
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    onProgress?.(progress(receivedBytes))
    const result = {
      path: destPath,
      bytes: receivedBytes,
      md5: md5.digest('hex'),
      sha256: sha256.digest('hex')
    }
    for (const algorithm of ['sha256', 'md5'] as const) {
      const expected = file[algorithm]?.toLowerCase()
      if (expected && expected !== result[algorithm]) {
        throw new WorkbenchError(
          'DATASET_ERROR',
          `${file.file} arrived damaged: its ${algorithm === 'sha256' ? 'SHA-256' : 'MD5'} is ${result[algorithm]}, ` +
            `expected ${expected}. Download it again; if this repeats, the server's copy changed.`
        )
      }
    }
    await rename(tempPath, destPath)
    return result
  } catch (err) {
    await rm(tempPath, { force: true })
    if (signal?.aborted) throw cancelled()
    if (err instanceof WorkbenchError) throw err
    throw netError(file.url, err instanceof Error ? err.message : String(err))
  }
}

/** The download spec of a dataset name; UNKNOWN_DATASET when it cannot be downloaded. */
export function downloadSpecFor(name: string): DownloadSpec {
  const spec = DATASET_DOWNLOADS[name.trim().toLowerCase()]
  if (!spec) {
    throw new WorkbenchError(
      'UNKNOWN_DATASET',
      `"${name}" cannot be downloaded. Downloadable: ${Object.keys(DATASET_DOWNLOADS).join(', ')}.`
    )
  }
  return spec
}

/** Downloads all files of a dataset, verifies them, and imports them as `downloaded`. */
export async function downloadDataset(
  registry: DatasetRegistry,
  spec: DownloadSpec,
  options: DownloadOptions = {}
): Promise<DatasetInfo> {
  await mkdir(registry.datasetsDir, { recursive: true })
  const tempDir = await mkdtemp(join(registry.datasetsDir, `.download-${spec.name}-`))
  try {
    for (const [fileIndex, file] of spec.files.entries()) {
      const dest = join(tempDir, basename(file.file))
      await downloadFile(file, dest, { ...options, fileIndex, fileCount: spec.files.length })
    }
    if (options.signal?.aborted) throw cancelled()
    const source = spec.files.length === 1 ? join(tempDir, basename(spec.files[0].file)) : tempDir
    return await importDataset(registry, source, {
      name: spec.name,
      title: spec.title,
      origin: 'downloaded'
    })
  } finally {
    await rm(tempDir, { recursive: true, force: true })
  }
}
