import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { convGradWasmBytes, createConvGradModule } from './native-module'
import { maxAbsDiff, randomArray } from './test-helpers'

describe('conv-grad native module', () => {
  it('embeds exactly the committed conv-grad.wasm', () => {
    const file = readFileSync(join(__dirname, 'native', 'conv-grad.wasm'))
    expect(Buffer.from(convGradWasmBytes()).equals(file)).toBe(true)
  })

  it('computes a filter gradient in its private memory (no tfjs heap)', () => {
    const native = createConvGradModule()
    expect(native.zeroCopy).toBe(false)
    // 1 image 3x3x1, 2x2 filter, valid: dW[i][j] = sum of dy-weighted windows.
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])
    const dy = Float32Array.from([1, 1, 1, 1])
    const out = new Float32Array(4)
    const g = {
      batch: 1,
      inH: 3,
      inW: 3,
      inC: 1,
      outH: 2,
      outW: 2,
      outC: 1,
      filterH: 2,
      filterW: 2,
      strideH: 1,
      strideW: 1,
      padTop: 0,
      padLeft: 0
    }
    native.backpropFilter(x, dy, g, out)
    expect([...out]).toEqual([12, 16, 24, 28])
    const big = randomArray(64 * 64, 1, 1)
    const dx = new Float32Array(64 * 64)
    native.backpropInput(
      big.subarray(0, 62 * 62),
      Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0]),
      { ...g, inH: 64, inW: 64, outH: 62, outW: 62, filterH: 3, filterW: 3 },
      dx
    )
    expect(maxAbsDiff(dx.subarray(0, 62), big.subarray(0, 62))).toBe(0)
  })
})
