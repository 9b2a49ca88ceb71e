import { readFileSync } from 'node:fs'
import { CONV_GRAD_WASM_BASE64 } from './native/conv-grad-wasm'

/** Slack after every buffer: the SIMD kernels read and write whole vectors past row ends. */
const VEC_PAD_FLOATS = 16
const BYTES_PER_FLOAT = 4
const WASM_PAGE_BYTES = 65_536
const ALIGN_BYTES = 16

// tsconfig.node.json has no DOM lib, so the few WebAssembly APIs used are typed here.
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: object }
}

interface ConvGradExports {
  memory: WasmMemory
  heap_base: () => number
  conv2d_backprop_filter: (...args: number[]) => void
  conv2d_backprop_input: (...args: number[]) => void
}

/** Geometry of one NHWC convolution with an HWIO filter, as the native kernels take it. */
export interface ConvGeometry {
  batch: number
  inH: number
  inW: number
  inC: number
  outH: number
  outW: number
  outC: number
  filterH: number
  filterW: number
  strideH: number
  strideW: number
  padTop: number
  padLeft: number
}

/** The project's SIMD convolution-gradient kernels in their own wasm instance and memory. */
export interface ConvGradModule {
  /** Filter gradient (HWIO) of a convolution from its input `x` and output gradient `dy`. */
  backpropFilter(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** Input gradient (NHWC) of a convolution from `dy` and the HWIO `filter`. */
  backpropInput(dy: Float32Array, filter: Float32Array, g: ConvGeometry, out: Float32Array): void
}

/** The kernel binary: a file path when given (for kernel authors), else the embedded copy. */
export function convGradWasmBytes(wasmPath?: string): Uint8Array {
  if (wasmPath) return readFileSync(wasmPath)
  return Uint8Array.from(Buffer.from(CONV_GRAD_WASM_BASE64, 'base64'))
}

/** Instantiates the kernels synchronously (the module is a few kilobytes). */
export function createConvGradModule(wasmPath?: string): ConvGradModule {
  const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
  const module = new wasmApi.Module(convGradWasmBytes(wasmPath))
  const exports = new wasmApi.Instance(module, {}).exports as ConvGradExports
  const memory = exports.memory
  const heapBase = align(exports.heap_base())

  /** Lays out buffers of the given float counts after the heap base, growing memory to fit. */
  function reserve(floatCounts: number[]): number[] {
    const offsets: number[] = []
    let cursor = heapBase
    for (const count of floatCounts) {
      offsets.push(cursor)
      cursor = align(cursor + (count + VEC_PAD_FLOATS) * BYTES_PER_FLOAT)
    }
    const missing = cursor - memory.buffer.byteLength
    if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE_BYTES))
    return offsets
  }

  function view(offset: number, length: number): Float32Array {
    return new Float32Array(memory.buffer, offset, length)
  }

  function geometryArgs(g: ConvGeometry): number[] {
    return [
      g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC,
      g.filterH, g.filterW, g.strideH, g.strideW, g.padTop, g.padLeft
    ]
  }

  return {
    backpropFilter(x, dy, g, out) {
      const accLength = g.filterH * g.filterW * g.inC * Math.ceil(g.outC / 4) * 4
      const [xp, dyp, dwp, accp] = reserve([x.length, dy.length, out.length, accLength])
      view(xp, x.length).set(x)
      view(dyp, dy.length).set(dy)
      exports.conv2d_backprop_filter(xp, dyp, dwp, accp, ...geometryArgs(g))
      out.set(view(dwp, out.length))
    },
    backpropInput(dy, filter, g, out) {
      const [dyp, wp, dxp, wtp] = reserve([dy.length, filter.length, out.length, filter.length])
      view(dyp, dy.length).set(dy)
      view(wp, filter.length).set(filter)
      exports.conv2d_backprop_input(dyp, wp, dxp, wtp, ...geometryArgs(g))
      out.set(view(dxp, out.length))
    }
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES
}
