import { describe, expect, it } from 'vitest'
import { decodeBase64, toRgba } from './pixels'

describe('toRgba', () => {
  it('repeats a grey channel and keeps colour channels of image `index`', () => {
    const grey = Uint8Array.from([1, 2, 3, 4, 10, 20, 30, 40])
    expect([...toRgba(grey, 1, [1, 2, 2]).slice(0, 8)]).toEqual([10, 10, 10, 255, 20, 20, 20, 255])
    const rgb = Uint8Array.from([9, 9, 9, 1, 2, 3])
    expect([...toRgba(rgb, 1, [3, 1, 1])]).toEqual([1, 2, 3, 255])
  })

  it('decodes the base64 the contract carries', () => {
    expect([...decodeBase64(btoa(String.fromCharCode(0, 128, 255)))]).toEqual([0, 128, 255])
  })
})
