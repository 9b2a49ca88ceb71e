import { describe, expect, it } from 'vitest'
import { isProxy, reactive, ref } from 'vue'
import { toPlain } from './plain'

describe('toPlain', () => {
  it('removes proxies at every depth, even in objects built from reactive parts', () => {
    const state = reactive({ spec: { layers: [{ type: 'flatten' }] } })
    const extra = ref({ n: 1 })
    const mixed = { spec: state.spec, extra: extra.value, missing: undefined }
    const plain = toPlain(mixed)
    expect(isProxy(plain.spec)).toBe(false)
    expect(isProxy(plain.spec.layers)).toBe(false)
    expect(isProxy(plain.spec.layers[0])).toBe(false)
    expect(isProxy(plain.extra)).toBe(false)
    expect(plain).not.toHaveProperty('missing')
    expect(() => structuredClone(plain)).not.toThrow()
    expect(plain).toEqual({ spec: { layers: [{ type: 'flatten' }] }, extra: { n: 1 } })
  })
})
