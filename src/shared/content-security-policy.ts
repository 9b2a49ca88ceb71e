/**
 * The renderer's Content-Security-Policy, defined once for every host. The build writes the base
 * policy into index.html (Electron loads the page from file://, where only a meta tag applies);
 * the web host sends the same policy with its own WebSocket origin added, as header and meta alike.
 */
export function contentSecurityPolicy(
  opts: { webSocketOrigin?: string; delivery?: 'header' | 'meta' } = {}
): string {
  const connect = opts.webSocketOrigin ? `'self' ${opts.webSocketOrigin}` : "'self'"
  const directives = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'"
  ]
  // Browsers ignore frame-ancestors in a meta tag (and warn about it), so only headers carry it.
  if (opts.delivery !== 'meta') directives.push("frame-ancestors 'none'")
  return directives.join('; ')
}
