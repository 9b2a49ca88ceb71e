import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { clientFrameSchema, WS_PATH, type ServerFrame } from '../../shared/contract/wire'
import type { EventSink } from '../../shared/contract/api'
import { MAX_REQUEST_BYTES, type Envelope } from '../../core/router'
import { describeIssues } from '../../shared/contract/errors'
import { contentSecurityPolicy } from '../../shared/content-security-policy'

/** The policy the build writes into index.html; served pages carry this host's instead. */
const BASE_META_POLICY = contentSecurityPolicy({ delivery: 'meta' })

/** The token cookie is named per port: cookies ignore ports, so two hosts must not share one. */
const TOKEN_COOKIE_PREFIX = 'cnnwb_token_'
/** Largest reply backlog one WebSocket client may hold before it is dropped (it is not reading). */
export const MAX_CLIENT_BUFFER_BYTES = 64 * 1024 * 1024
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon'
}
const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store'
}
const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' }

export interface WebHostOptions {
  /** The built renderer (out/renderer). */
  staticDir: string
  dispatch: (channel: unknown, payload: unknown) => Promise<Envelope>
  port?: number
  /** Fixed token for tests; a random one per launch otherwise. */
  token?: string
  /** Reply backlog above which a client that does not read is dropped; MAX_CLIENT_BUFFER_BYTES. */
  maxClientBufferBytes?: number
}

export interface WebHost {
  url: string
  port: number
  token: string
  sink: EventSink
  close(): Promise<void>
}

function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookieToken(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie ?? ''
  for (const part of header.split(';')) {
    const [k, v] = part.trim().split('=')
    if (k === name) return v ?? null
  }
  return null
}

/** The request's URL, or null when it cannot be parsed (`GET http://[`, `//`). */
function parseUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1')
  } catch {
    return null
  }
}

/** A decoded path, or null for a malformed escape such as `%E0%A4%A`. */
function decodePath(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname)
  } catch {
    return null
  }
}

/**
 * Serves the renderer and carries the contract over one WebSocket, on 127.0.0.1 only. Every
 * request and upgrade must carry the per-launch token (query on first load, then a cookie).
 */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('hex')
  const root = normalize(opts.staticDir)
  const maxBuffered = opts.maxClientBufferBytes ?? MAX_CLIENT_BUFFER_BYTES
  const clients = new Set<WebSocket>()
  // Known once listening; every handler below runs after that.
  let port = 0
  const cookieName = (): string => `${TOKEN_COOKIE_PREFIX}${port}`

  /**
   * The Host header, when it names this host: 127.0.0.1 or localhost with this port. Anything
   * else is a page that reached 127.0.0.1 under another name (DNS rebinding) and is refused.
   */
  const ownHost = (req: IncomingMessage): string | null => {
    const host = (req.headers.host ?? '').toLowerCase()
    return host === `127.0.0.1:${port}` || host === `localhost:${port}` ? host : null
  }

  const hasToken = (req: IncomingMessage, url: URL): boolean =>
    tokenMatches(url.searchParams.get('token'), token) || tokenMatches(cookieToken(req, cookieName()), token)

  const refuse = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { ...TEXT, ...BASE_HEADERS, Connection: 'close' })
    res.end(`${message}\n`)
  }

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, url: URL, host: string): Promise<void> => {
    const queryToken = url.searchParams.get('token')
    if (!hasToken(req, url)) {
      refuse(res, 403, 'Forbidden: open the URL that `npm start` printed (it carries the access token).')
      return
    }
    const rel = url.pathname === '/' ? '/index.html' : decodePath(url.pathname)
    if (rel === null) {
      refuse(res, 400, 'Bad request: the path is not valid percent-encoding.')
      return
    }
    const file = normalize(join(root, rel))
    if (!file.startsWith(root + sep)) {
      refuse(res, 404, 'Not found')
      return
    }
    const webSocketOrigin = `ws://${host}`
    const policy = contentSecurityPolicy({ webSocketOrigin })
    let body: Buffer
    try {
      body = await readFile(file)
    } catch {
      refuse(res, 404, 'Not found')
      return
    }
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': policy,
      ...BASE_HEADERS
    }
    if (extname(file) === '.html') {
      // The page's meta policy (the build's base policy) becomes this host's: one policy, not two.
      const metaPolicy = contentSecurityPolicy({ webSocketOrigin, delivery: 'meta' })
      body = Buffer.from(body.toString('utf8').split(BASE_META_POLICY).join(metaPolicy))
    }
    if (tokenMatches(queryToken, token)) {
      headers['Set-Cookie'] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`
    }
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const server = createServer((req, res) => {
    // Every part of a request is parsed inside this guard: a malformed one gets 400, and the
    // host goes on (an exception here would end the process).
    try {
      const url = parseUrl(req)
      if (!url) {
        refuse(res, 400, 'Bad request: the URL cannot be parsed.')
        return
      }
      const host = ownHost(req)
      if (!host) {
        refuse(res, 403, `Forbidden: open the workbench as http://127.0.0.1:${port}/ (this request named another host).`)
        return
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        refuse(res, 405, 'Method not allowed')
        return
      }
      serveStatic(req, res, url, host).catch(() => {
        if (!res.headersSent) refuse(res, 500, 'Internal error')
        else res.destroy()
      })
    } catch {
      if (!res.headersSent) refuse(res, 400, 'Bad request')
      else res.destroy()
    }
  })
  // A request the parser itself refuses: answer 400 when the socket can still take it.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES })
  server.on('upgrade', (req, socket, head) => {
    const reject = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`)
      socket.destroy()
    }
    try {
      const url = parseUrl(req)
      if (!url) return reject('400 Bad Request')
      const host = ownHost(req)
      // Browsers always send Origin on a WebSocket handshake; it must be this host's own page.
      // A client without one is not a browser page and still needs the token.
      const origin = req.headers.origin
      const originOk = origin === undefined || origin.toLowerCase() === `http://${host}`
      const allowed = host !== null && originOk && url.pathname === WS_PATH && hasToken(req, url)
      if (!allowed) return reject('403 Forbidden')
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws))
    } catch {
      reject('400 Bad Request')
    }
  })

  /**
   * Sends unless the client's backlog passed the limit: a client that does not read is dropped
   * instead of growing the host's memory without bound.
   */
  const send = (ws: WebSocket, text: string): void => {
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount + text.length > maxBuffered) {
      clients.delete(ws)
      ws.terminate()
      return
    }
    ws.send(text)
  }
  const sendFrame = (ws: WebSocket, frame: ServerFrame): void => send(ws, JSON.stringify(frame))

  wss.on('connection', (ws) => {
    clients.add(ws)
    ws.on('close', () => clients.delete(ws))
    ws.on('error', () => clients.delete(ws))
    ws.on('message', (data) => {
      let raw: unknown
      try {
        raw = JSON.parse(String(data))
      } catch {
        sendFrame(ws, { type: 'result', id: -1, ok: false, error: { code: 'BAD_REQUEST', message: 'A frame was not valid JSON.' } })
        return
      }
      const frame = clientFrameSchema.safeParse(raw)
      if (!frame.success) {
        const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1
        sendFrame(ws, {
          type: 'result',
          id,
          ok: false,
          error: { code: 'BAD_REQUEST', message: `Malformed frame: ${describeIssues(frame.error)}` }
        })
        return
      }
      const { id, channel, payload } = frame.data
      void opts.dispatch(channel, payload).then((env) =>
        sendFrame(ws, env.ok ? { type: 'result', id, ok: true, value: env.value } : { type: 'result', id, ok: false, error: env.error })
      )
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    sink: (channel, payload) => {
      const frame = JSON.stringify({ type: 'event', channel, payload } satisfies ServerFrame)
      for (const ws of clients) send(ws, frame)
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of clients) ws.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
