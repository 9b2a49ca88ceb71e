import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { clientFrameSchema, WS_PATH, type ServerFrame } from '../../shared/contract/wire'
import type { EventSink } from '../../shared/contract/api'
import { MAX_REQUEST_BYTES, type Envelope } from '../../core/router'
import { describeIssues } from '../../shared/contract/errors'

const TOKEN_COOKIE = 'cnnwb_token'
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
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: ; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store'
}

export interface WebHostOptions {
  /** The built renderer (out/renderer). */
  staticDir: string
  dispatch: (channel: unknown, payload: unknown) => Promise<Envelope>
  port?: number
  /** Fixed token for tests; a random one per launch otherwise. */
  token?: string
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

function cookieToken(req: IncomingMessage): string | null {
  const header = req.headers.cookie ?? ''
  for (const part of header.split(';')) {
    const [k, v] = part.trim().split('=')
    if (k === TOKEN_COOKIE) return v ?? null
  }
  return null
}

/**
 * Serves the renderer and carries the contract over one WebSocket, on 127.0.0.1 only. Every
 * request and upgrade must carry the per-launch token (query on first load, then a cookie).
 */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('hex')
  const root = normalize(opts.staticDir)
  const clients = new Set<WebSocket>()

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const queryToken = url.searchParams.get('token')
    if (!tokenMatches(queryToken, token) && !tokenMatches(cookieToken(req), token)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
      res.end('Forbidden: open the URL that `npm start` printed (it carries the access token).\n')
      return
    }
    const rel = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname)
    const file = normalize(join(root, rel))
    if (!file.startsWith(root + sep)) {
      res.writeHead(404, SECURITY_HEADERS).end()
      return
    }
    try {
      const body = await readFile(file)
      const headers: Record<string, string> = {
        'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        ...SECURITY_HEADERS
      }
      if (tokenMatches(queryToken, token)) {
        headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`
      }
      res.writeHead(200, headers)
      res.end(body)
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
      res.end('Not found\n')
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, SECURITY_HEADERS).end()
      return
    }
    void serveStatic(req, res, url)
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const allowed =
      url.pathname === WS_PATH &&
      (tokenMatches(url.searchParams.get('token'), token) || tokenMatches(cookieToken(req), token))
    if (!allowed) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n')
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws))
  })

  const send = (ws: WebSocket, frame: ServerFrame): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
  }

  wss.on('connection', (ws) => {
    clients.add(ws)
    ws.on('close', () => clients.delete(ws))
    ws.on('error', () => clients.delete(ws))
    ws.on('message', (data) => {
      let raw: unknown
      try {
        raw = JSON.parse(String(data))
      } catch {
        send(ws, { type: 'result', id: -1, ok: false, error: { code: 'BAD_REQUEST', message: 'A frame was not valid JSON.' } })
        return
      }
      const frame = clientFrameSchema.safeParse(raw)
      if (!frame.success) {
        const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1
        send(ws, {
          type: 'result',
          id,
          ok: false,
          error: { code: 'BAD_REQUEST', message: `Malformed frame: ${describeIssues(frame.error)}` }
        })
        return
      }
      const { id, channel, payload } = frame.data
      void opts.dispatch(channel, payload).then((env) =>
        send(ws, env.ok ? { type: 'result', id, ok: true, value: env.value } : { type: 'result', id, ok: false, error: env.error })
      )
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    sink: (channel, payload) => {
      const frame = JSON.stringify({ type: 'event', channel, payload } satisfies ServerFrame)
      for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(frame)
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
