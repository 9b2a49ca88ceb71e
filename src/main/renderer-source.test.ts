import { describe, expect, it } from 'vitest'
import { pathToFileURL } from 'node:url'
import { isTrustedSenderUrl, rendererSource } from './renderer-source'

const INDEX = '/opt/cnn-workbench/resources/app/out/renderer/index.html'
const INDEX_URL = pathToFileURL(INDEX).href
const DEV = 'http://localhost:5173/'

describe('rendererSource', () => {
  it('ignores ELECTRON_RENDERER_URL in a packaged app', () => {
    const source = rendererSource({ packaged: true, env: { ELECTRON_RENDERER_URL: 'https://evil.example/' }, indexFile: INDEX })
    expect(source).toEqual({ kind: 'file', path: INDEX, url: INDEX_URL })
  })

  it('uses the dev server only when not packaged', () => {
    expect(rendererSource({ packaged: false, env: { ELECTRON_RENDERER_URL: DEV }, indexFile: INDEX })).toEqual({
      kind: 'dev',
      url: DEV
    })
    expect(rendererSource({ packaged: false, env: {}, indexFile: INDEX }).kind).toBe('file')
  })

  it('falls back to the built page for a dev URL that is not http(s)', () => {
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'not a url', '']) {
      expect(rendererSource({ packaged: false, env: { ELECTRON_RENDERER_URL: bad }, indexFile: INDEX }).kind).toBe('file')
    }
  })
})

describe('isTrustedSenderUrl', () => {
  const file = rendererSource({ packaged: true, env: {}, indexFile: INDEX })
  const dev = rendererSource({ packaged: false, env: { ELECTRON_RENDERER_URL: DEV }, indexFile: INDEX })

  it('trusts the loaded file, whatever route its fragment or query names', () => {
    expect(isTrustedSenderUrl(INDEX_URL, file)).toBe(true)
    expect(isTrustedSenderUrl(`${INDEX_URL}#/train`, file)).toBe(true)
    expect(isTrustedSenderUrl(`${INDEX_URL}?x=1`, file)).toBe(true)
  })

  it('refuses any other file, even one beside it', () => {
    const refused = [
      'file:///tmp/evil.html',
      pathToFileURL('/opt/cnn-workbench/resources/app/out/renderer/other.html').href,
      pathToFileURL('/opt/cnn-workbench/resources/app/out/renderer/index.html.evil.html').href,
      `${INDEX_URL}/../../../../../tmp/evil.html`,
      'file://',
      ''
    ]
    for (const url of refused) expect(isTrustedSenderUrl(url, file), url).toBe(false)
  })

  it('refuses the dev server in a packaged app and any page that only starts like it', () => {
    expect(isTrustedSenderUrl(DEV, file)).toBe(false)
    for (const url of ['http://localhost:5173.evil.example/', 'http://localhost:51730/', 'https://localhost:5173/', 'http://localhost:5173/evil.html', INDEX_URL]) {
      expect(isTrustedSenderUrl(url, dev), url).toBe(false)
    }
    expect(isTrustedSenderUrl('http://localhost:5173/#/inside', dev)).toBe(true)
  })
})
