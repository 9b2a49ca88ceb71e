import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { join } from 'node:path'
import WebSocket from 'ws'
import { startWebHost, type WebHost } from './web-host'
import { contentSecurityPolicy } from '../../shared/content-security-policy'
import { seededRandom } from '../../shared/random'
import { tempDir } from '../../../test/helpers'
import type { Envelope } from '../../core/router'

const HTTP_FUZZ_REQUESTS = 1000
const HTTP_FUZZ_PARALLEL = 25
const SECRET = 'top-secret-outside-the-static-folder'

interface RawReply {
  status: number | null
  head: string
  body: string
  bytes: number
}

/** Sends bytes over a plain TCP socket (no client-side URL normalising) and reads until close. */
function raw(port: number, data: string | Buffer, opts: { end?: boolean } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = netConnect(port, '127.0.0.1', () => {
      socket.write(data)
      if (opts.end !== false) socket.end()
    })
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The host may reset a connection it refuses; that is an answer too.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return
      reject(err)
    })
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const [head, ...rest] = text.split('\r\n\r\n')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      resolve({ status: m ? Number(m[1]) : null, head, body: rest.join('\r\n\r\n'), bytes: text.length })
    })
  })
}

function get(port: number, path: string, headers: Record<string, string>): Promise<RawReply> {
  const lines = [`GET ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close']
  // Connection: close ends it once answered; a client hanging up first would get no answer.
  return raw(port, `${lines.join('\r\n')}\r\n\r\n`, { end: false })
}

function wsConnect(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
}

/** A minimal masked WebSocket text frame, as a client must send it. */
function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const len = payload.length
  const head =
    len < 126
      ? Buffer.from([0x81, 0x80 | len])
      : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
  // An all-zero mask key is valid and leaves the payload as it is.
  return Buffer.concat([head, Buffer.alloc(4), payload])
}

describe('web host hardening', () => {
  let host: WebHost
  let cookie: string
  const tmp = tempDir()
  const staticDir = join(tmp.dir, 'renderer')
  const basePolicy = contentSecurityPolicy({ delivery: 'meta' })

  beforeAll(async () => {
    mkdirSync(staticDir, { recursive: true })
    // As the build writes it: the base policy in a meta tag.
    writeFileSync(
      join(staticDir, 'index.html'),
      `<!doctype html><meta http-equiv="Content-Security-Policy" content="${basePolicy}"><title>ok</title>`
    )
    writeFileSync(join(tmp.dir, 'secret.txt'), SECRET)
    writeFileSync(join(staticDir, '%2e%2e'), 'a file with an odd but harmless name')
    const dispatch = async (channel: unknown): Promise<Envelope> =>
      channel === 'app:info' ? { ok: true, value: { name: 'test' } } : { ok: false, error: { code: 'BAD_REQUEST', message: 'Unknown channel in this test.' } }
    host = await startWebHost({ staticDir, dispatch })
    const res = await fetch(host.url)
    cookie = res.headers.get('set-cookie')?.split(';')[0] ?? ''
  })

  afterAll(async () => {
    await host.close()
    tmp.cleanup()
  })

  const own = (): Record<string, string> => ({ Host: `127.0.0.1:${host.port}`, Cookie: cookie })

  it('names its token cookie after its port, so two hosts never share one', () => {
    expect(cookie).toMatch(new RegExp(`^cnnwb_token_${host.port}=[0-9a-f]{48}$`))
  })

  it('refuses a WebSocket from another origin or through another Host, even with the cookie', async () => {
    const wsUrl = `ws://127.0.0.1:${host.port}/ws`
    const attacks: WebSocket.ClientOptions[] = [
      // Another local server (cookies ignore ports, so it holds the cookie too).
      { origin: 'http://127.0.0.1:8888', headers: { cookie } },
      { origin: 'http://localhost:8888', headers: { cookie } },
      { origin: 'https://evil.example', headers: { cookie } },
      { origin: 'null', headers: { cookie } },
      // DNS rebinding: the page's origin and Host are the attacker's name for 127.0.0.1.
      { origin: `http://evil.example:${host.port}`, headers: { cookie, host: `evil.example:${host.port}` } },
      { headers: { cookie, host: `evil.example:${host.port}` } },
      { origin: `http://127.0.0.1:${host.port}`, headers: { cookie, host: `127.0.0.1:${host.port + 1}` } }
    ]
    for (const options of attacks) {
      await expect(wsConnect(wsUrl, options), JSON.stringify(options)).rejects.toThrow(/HTTP 403/)
    }
    // Its own origin, by either name, still connects.
    const a = await wsConnect(wsUrl, { origin: `http://127.0.0.1:${host.port}`, headers: { cookie } })
    a.close()
    const b = await wsConnect(wsUrl, {
      origin: `http://localhost:${host.port}`,
      headers: { cookie, host: `localhost:${host.port}` }
    })
    b.close()
  })

  it('refuses HTTP requests whose Host is not its own (DNS rebinding)', async () => {
    for (const hostHeader of [`evil.example:${host.port}`, 'evil.example', `127.0.0.1:${host.port + 1}`, '127.0.0.1']) {
      const r = await get(host.port, `/?token=${host.token}`, { Host: hostHeader })
      expect(r.status, hostHeader).toBe(403)
      expect(r.head).not.toMatch(/set-cookie/i)
    }
    const r = await get(host.port, `/?token=${host.token}`, { Host: `LOCALHOST:${host.port}` })
    expect(r.status).toBe(200)
  })

  it('answers 400 to undecodable paths and URLs, and keeps running', async () => {
    expect((await get(host.port, '/%E0%A4%A', own())).status).toBe(400)
    expect((await get(host.port, '/%', own())).status).toBe(400)
    expect((await raw(host.port, 'GET http://[ HTTP/1.1\r\n\r\n')).status).toBe(400)
    expect((await raw(host.port, `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n\r\n`)).status).toBe(400)
    const upgrade = await raw(
      host.port,
      `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
    )
    expect(upgrade.status).toBe(400)
    expect((await get(host.port, '/index.html', own())).status).toBe(200)
  })

  it('sends one policy whose connect-src is only its own ws:// origin', async () => {
    const r = await get(host.port, '/index.html', own())
    const header = /content-security-policy: ([^\r\n]+)/i.exec(r.head)?.[1] ?? ''
    expect(header).toContain(`connect-src 'self' ws://127.0.0.1:${host.port};`)
    expect(header).not.toMatch(/ ws: /)
    const webSocketOrigin = `ws://127.0.0.1:${host.port}`
    expect(header).toBe(contentSecurityPolicy({ webSocketOrigin }))
    expect(header).toContain("frame-ancestors 'none'")
    // The page's own meta policy is the same one (less frame-ancestors, which meta cannot carry).
    const meta = contentSecurityPolicy({ webSocketOrigin, delivery: 'meta' })
    expect(`${meta}; frame-ancestors 'none'`).toBe(header)
    expect(r.body).toContain(`content="${meta}"`)
    expect(r.body).not.toContain(basePolicy)
  })

  it('never serves a file outside its folder, whatever the encoding (raw socket)', async () => {
    const attacks = [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/.%2e/secret.txt',
      '/..\\secret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%5csecret.txt',
      '/%252e%252e%252fsecret.txt',
      '/..%252fsecret.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '/%c0%ae%c0%ae%c0%afsecret.txt',
      '/..%00/secret.txt',
      '/x/../../secret.txt',
      '/x/..%2f..%2fsecret.txt',
      '//../secret.txt',
      '/./../secret.txt',
      `/${'..%2f'.repeat(20)}secret.txt`,
      `/${'../'.repeat(20)}etc/passwd`,
      `/${'..%2f'.repeat(20)}etc%2fpasswd`,
      '../secret.txt',
      'secret.txt',
      `http://127.0.0.1:${host.port}/../secret.txt`,
      `http://127.0.0.1:${host.port}/..%2fsecret.txt`
    ]
    for (const path of attacks) {
      const r = await get(host.port, path, own())
      expect([400, 403, 404], path).toContain(r.status)
      expect(r.body, path).not.toContain(SECRET)
      expect(r.body, path).not.toContain('root:')
    }
    expect((await get(host.port, '/index.html', own())).status).toBe(200)
  })

  it(`survives ${HTTP_FUZZ_REQUESTS} seeded malformed HTTP requests and still answers`, async () => {
    const r = seededRandom(20_251_202)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]
    const randomBytes = (n: number): string =>
      Array.from({ length: n }, () => String.fromCharCode(Math.floor(r() * 256))).join('')
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'get', 'G\u00c9T', '', 'GET GET', 'PRI']
    const paths = [
      '/', '/index.html', '/ws', '/%', '/%E0%A4%A', '/%ff%fe', '/%00', '/%zz', 'http://[', 'http://[::1', 'http://a:b@c/',
      '*', '//', '/?token=', `/?token=${host.token}`, '/..%2f..%2f', '/\u00e9', '/a?b=%E0%A4%A', '/' + 'a'.repeat(9000),
      'ws://127.0.0.1/ws', '/%2e%2e', '\\', '/ws?token=%', ''
    ]
    const headerSets: Array<() => string[]> = [
      () => [`Host: 127.0.0.1:${host.port}`, `Cookie: ${cookie}`],
      () => [`Host: 127.0.0.1:${host.port}`],
      () => [],
      () => ['Host: [', `Cookie: ${cookie}`],
      () => [`Host: 127.0.0.1:${host.port}`, `Host: evil:${host.port}`, `Cookie: ${cookie}`],
      () => [`Host: 127.0.0.1:${host.port}`, `Cookie: ${'='.repeat(50)};;;cnnwb_token_${host.port}`],
      () => [`Host: 127.0.0.1:${host.port}`, 'Content-Length: 5', 'Transfer-Encoding: chunked'],
      () => [`Host: 127.0.0.1:${host.port}`, 'Content-Length: -1'],
      () => [`Host: 127.0.0.1:${host.port}`, 'Transfer-Encoding: chunked'],
      () => [`Host: 127.0.0.1:${host.port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: x'],
      () => [`Host: 127.0.0.1:${host.port}`, `Origin: ${randomBytes(8)}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='],
      () => [`${randomBytes(6)}: ${randomBytes(12)}`],
      () => [`X-Long: ${'v'.repeat(20_000)}`],
      () => ['Bad Header Without Colon']
    ]
    const request = (): { data: string; end: boolean } => {
      const roll = r()
      if (roll < 0.1) return { data: randomBytes(1 + Math.floor(r() * 200)), end: true }
      const line = `${pick(methods)} ${pick(paths)} ${pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''])}`
      const headers = pick(headerSets)()
      const body = r() < 0.3 ? randomBytes(Math.floor(r() * 300)) : ''
      let data = `${line}\r\n${headers.join('\r\n')}${headers.length ? '\r\n' : ''}\r\n${body}`
      // Partial requests: cut anywhere, then the client hangs up.
      if (roll < 0.3) data = data.slice(0, Math.floor(r() * data.length))
      return { data, end: true }
    }
    const statuses = new Map<string, number>()
    for (let sent = 0; sent < HTTP_FUZZ_REQUESTS; sent += HTTP_FUZZ_PARALLEL) {
      const batch = Array.from({ length: Math.min(HTTP_FUZZ_PARALLEL, HTTP_FUZZ_REQUESTS - sent) }, request)
      const replies = await Promise.all(batch.map((q) => raw(host.port, Buffer.from(q.data, 'latin1'), { end: q.end })))
      for (const reply of replies) {
        const key = String(reply.status ?? 'closed')
        statuses.set(key, (statuses.get(key) ?? 0) + 1)
        expect(reply.body).not.toContain(SECRET)
        // Every answer is a plain status: nothing the host did not mean to say (no stack traces).
        expect(reply.body).not.toMatch(/\n\s+at /)
      }
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(HTTP_FUZZ_REQUESTS)
    expect(statuses.get('500') ?? 0).toBe(0)
    // Still alive and answering, over HTTP and WebSocket.
    expect((await get(host.port, '/index.html', own())).status).toBe(200)
    const ws = await wsConnect(`ws://127.0.0.1:${host.port}/ws`, { headers: { cookie } })
    const reply = await new Promise<string>((resolve) => {
      ws.once('message', (d) => resolve(String(d)))
      ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'app:info', payload: {} }))
    })
    expect(JSON.parse(reply)).toMatchObject({ type: 'result', id: 1, ok: true })
    ws.close()
  })
})

describe('web host back-pressure', () => {
  const REPLY_BYTES = 1024 * 1024
  const REQUESTS = 64
  const LIMIT_BYTES = 4 * 1024 * 1024

  it('drops a WebSocket client that never reads instead of buffering its replies without bound', async () => {
    const tmp = tempDir()
    const big = 'x'.repeat(REPLY_BYTES)
    let dispatched = 0
    let allDispatched = (): void => undefined
    const done = new Promise<void>((resolve) => (allDispatched = resolve))
    const host = await startWebHost({
      staticDir: tmp.dir,
      maxClientBufferBytes: LIMIT_BYTES,
      dispatch: async () => {
        if (++dispatched === REQUESTS) setImmediate(allDispatched)
        return { ok: true, value: big }
      }
    })
    const socket: Socket = netConnect(host.port, '127.0.0.1')
    let received = 0
    let closed = false
    socket.on('error', () => undefined)
    socket.on('close', () => (closed = true))
    await new Promise<void>((resolve) => {
      socket.once('connect', () => {
        socket.write(
          `GET /ws?token=${host.token} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\n` +
            'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
        )
        socket.once('data', (head) => {
          expect(String(head)).toMatch(/^HTTP\/1\.1 101/)
          // From here on this client reads nothing.
          socket.pause()
          resolve()
        })
      })
    })
    for (let id = 1; id <= REQUESTS; id++) {
      socket.write(wsFrame(JSON.stringify({ type: 'invoke', id, channel: 'app:info', payload: {} })))
    }
    await done
    // Now drain what reached this client: a host that buffered everything sends all 64 MB and
    // keeps the connection open; a host that dropped the client sends what was on the wire.
    const total = REQUESTS * REPLY_BYTES
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (closed || received >= total) resolve()
      }
      socket.on('data', (c: Buffer) => {
        received += c.length
        check()
      })
      socket.on('close', check)
      socket.resume()
      check()
    })
    expect(closed).toBe(true)
    expect(received).toBeLessThan(total / 2)
    // The host still serves others.
    const ws = await wsConnect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`)
    ws.close()
    socket.destroy()
    await host.close()
    tmp.cleanup()
  })
})
