import { pathToFileURL } from 'node:url'

/** What the Electron window loads: the built page from disk, or the dev server's page. */
export type RendererSource = { kind: 'file'; path: string; url: string } | { kind: 'dev'; url: string }

/**
 * Picks the renderer page. ELECTRON_RENDERER_URL (set by `electron-vite dev`) is honoured only
 * when the app is not packaged: in a packaged app, anyone who can set an environment variable
 * could otherwise point the window, and its IPC, at a page of their own.
 */
export function rendererSource(opts: {
  packaged: boolean
  env: Record<string, string | undefined>
  indexFile: string
}): RendererSource {
  const dev = opts.packaged ? undefined : opts.env.ELECTRON_RENDERER_URL
  if (dev) {
    try {
      const url = new URL(dev)
      if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'dev', url: url.href }
    } catch {
      // Not a URL: fall back to the built page.
    }
  }
  return { kind: 'file', path: opts.indexFile, url: pathToFileURL(opts.indexFile).href }
}

/** A URL without its fragment and query, which the page changes as it routes. */
function pageOf(raw: string): URL | null {
  try {
    const url = new URL(raw)
    url.hash = ''
    url.search = ''
    return url
  } catch {
    return null
  }
}

/**
 * Whether an IPC message comes from the page that was loaded: the exact file, or the dev
 * server's page on its exact origin. Any other file:// page or origin is refused.
 */
export function isTrustedSenderUrl(senderUrl: string, source: RendererSource): boolean {
  const sender = pageOf(senderUrl)
  const loaded = pageOf(source.url)
  if (!sender || !loaded) return false
  if (source.kind === 'file') return sender.protocol === 'file:' && sender.href === loaded.href
  return sender.origin === loaded.origin && sender.pathname === loaded.pathname
}
