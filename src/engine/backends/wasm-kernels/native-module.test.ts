import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  convGradWasmBytes,
  createConvGradModule,
  type SharedHeap,
  type WasmMemory
} from './native-module'
import { maxAbsDiff, randomArray } from './test-helpers'

const PAGE_BYTES = 65_536

/** A stand-in for tfjs's heap whose every allocation grows memory, detaching earlier views. */
function growingHeap(initialPages: number): SharedHeap & { top: number } {
  const api = (
    globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }
  ).WebAssembly
  const memory = new api.Memory({ initial: initialPages })
  const heap = {
    memory,
    top: initialPages * PAGE_BYTES,
    malloc(bytes: number): number {
      const pointer = heap.top
      heap.top += Math.ceil(bytes / 16) * 16
      memory.grow(Math.ceil((heap.top - memory.buffer.byteLength) / PAGE_BYTES) + 1)
      return pointer
    },
    free(): void {}
  }
  return heap
}

describe('conv-grad native module', () => {
  it('works in place in a shared heap, copying inputs that end at the end of memory', () => {
    const g = {
      batch: 2,
      inH: 5,
      inW: 5,
      inC: 3,
      outH: 5,
      outW: 5,
      outC: 6,
      filterH: 3,
      filterW: 3,
      strideH: 1,
      strideW: 1,
      padTop: 1,
      padLeft: 1
    }
    const x = randomArray(2 * 5 * 5 * 3, 1, 21)
    const dy = randomArray(2 * 5 * 5 * 6, 1, 22)
    const want = new Float32Array(3 * 3 * 3 * 6)
    createConvGradModule().backpropFilter(x, dy, g, want)

    const heap = growingHeap(2)
    const native = createConvGradModule({ heap })
    expect(native.zeroCopy).toBe(true)
    const end = 2 * PAGE_BYTES
    // dy ends exactly at the end of memory, so the kernel's vector over-read needs a copy.
    const dyView = new Float32Array(heap.memory.buffer, end - dy.byteLength, dy.length)
    const xView = new Float32Array(heap.memory.buffer, 1024, x.length)
    const outView = new Float32Array(heap.memory.buffer, 4096, want.length)
    dyView.set(dy)
    xView.set(x)
    native.backpropFilter(xView, dyView, g, outView)
    const got = new Float32Array(heap.memory.buffer, 4096, want.length)
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5)
  })

  it('embeds exactly the committed conv-grad.wasm and conv-grad-relaxed.wasm', () => {
    const plain = readFileSync(join(__dirname, 'native', 'conv-grad.wasm'))
    const relaxed = readFileSync(join(__dirname, 'native', 'conv-grad-relaxed.wasm'))
    expect(Buffer.from(convGradWasmBytes(undefined, 'plain')).equals(plain)).toBe(true)
    expect(Buffer.from(convGradWasmBytes(undefined, 'relaxed')).equals(relaxed)).toBe(true)
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
