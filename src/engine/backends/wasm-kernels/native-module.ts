import { readFileSync } from 'node:fs'
import { CONV_GRAD_WASM_BASE64 } from './native/conv-grad-wasm'

/** Readable slack the kernels need after each input: they load whole 4-float vectors. */
const READ_SLACK_BYTES = 64
const BYTES_PER_FLOAT = 4
const WASM_PAGE_BYTES = 65_536
const ALIGN_BYTES = 16

// tsconfig.node.json has no DOM lib, so the few WebAssembly APIs used are typed here.
/** A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: object }
  Memory: new (descriptor: { initial: number }) => WasmMemory
}

interface KernelExports {
  conv2d_backprop_filter: (...args: number[]) => void
  conv2d_backprop_input: (...args: number[]) => void
  max_pool_grad: (...args: number[]) => void
  avg_pool_grad: (...args: number[]) => void
  bias_add: (...args: number[]) => void
  channel_sum: (...args: number[]) => void
}

/** The tfjs wasm backend's heap, when the kernels may run inside it without copying. */
export interface SharedHeap {
  memory: WasmMemory
  malloc(bytes: number): number
  free(pointer: number): void
}

/** Geometry of one NHWC convolution (or pooling) with an HWIO filter, as the kernels take it. */
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

/** The project's SIMD gradient kernels. Arrays may be views into the shared heap (no copy). */
export interface ConvGradModule {
  /** True when tensors are used in place in tfjs's heap rather than copied. */
  readonly zeroCopy: boolean
  /** Filter gradient (HWIO) of a convolution from its input `x` and output gradient `dy`. */
  backpropFilter(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** Input gradient (NHWC) of a convolution from `dy` and the HWIO `filter`. */
  backpropInput(dy: Float32Array, filter: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** Max-pool input gradient; `g` describes the window (inC = outC = channels). */
  maxPoolGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** Average-pool input gradient (divisor: the whole window, padding included, as tfjs's cpu). */
  avgPoolGrad(dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** out = x + bias, with x viewed as [rows, bias.length]. */
  biasAdd(x: Float32Array, bias: Float32Array, out: Float32Array): void
  /** out[c] = sum over rows of x viewed as [rows, out.length]. */
  channelSum(x: Float32Array, out: Float32Array): void
}

/** The kernel binary: a file path when given (for kernel authors), else the embedded copy. */
export function convGradWasmBytes(wasmPath?: string): Uint8Array {
  if (wasmPath) return readFileSync(wasmPath)
  return Uint8Array.from(Buffer.from(CONV_GRAD_WASM_BASE64, 'base64'))
}

/** Pointers for one kernel call: tensors in place where possible, copies otherwise. */
interface Workspace {
  input(values: Float32Array): number
  output(target: Float32Array): number
  scratch(floats: number): number
  /** Called once every buffer is laid out, right before the kernel runs. */
  ready(): void
  finish(): void
}

/**
 * Instantiates the kernels synchronously (the module is a few kilobytes). With `heap` they
 * run inside tfjs's memory and read and write tensors in place; without, in a private memory.
 */
export function createConvGradModule(
  options: { wasmPath?: string; heap?: SharedHeap } = {}
): ConvGradModule {
  const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
  const heap = options.heap
  const memory = heap?.memory ?? new wasmApi.Memory({ initial: 1 })
  const module = new wasmApi.Module(convGradWasmBytes(options.wasmPath))
  const kernels = new wasmApi.Instance(module, { env: { memory } }).exports as KernelExports

  const sharedWorkspace = (shared: SharedHeap): Workspace => {
    const allocated: number[] = []
    const copiedOut: Array<[number, Float32Array]> = []
    const scratch = (floats: number): number => {
      const pointer = shared.malloc(floats * BYTES_PER_FLOAT + READ_SLACK_BYTES)
      if (!pointer) throw new Error('The wasm backend ran out of memory for kernel scratch space.')
      allocated.push(pointer)
      return pointer
    }
    const inPlace = (a: Float32Array): boolean =>
      a.buffer === shared.memory.buffer &&
      a.byteOffset + a.byteLength + READ_SLACK_BYTES <= shared.memory.buffer.byteLength
    return {
      input(values) {
        if (inPlace(values)) return values.byteOffset
        const pointer = scratch(values.length)
        new Float32Array(shared.memory.buffer, pointer, values.length).set(values)
        return pointer
      },
      output(target) {
        if (inPlace(target)) return target.byteOffset
        const pointer = scratch(target.length)
        copiedOut.push([pointer, target])
        return pointer
      },
      scratch,
      ready() {},
      finish() {
        for (const [pointer, target] of copiedOut) {
          target.set(new Float32Array(shared.memory.buffer, pointer, target.length))
        }
        for (const pointer of allocated) shared.free(pointer)
      }
    }
  }

  const privateWorkspace = (): Workspace => {
    let cursor = ALIGN_BYTES
    const copiedIn: Array<[number, Float32Array]> = []
    const copiedOut: Array<[number, Float32Array]> = []
    const reserve = (floats: number): number => {
      const pointer = cursor
      cursor = align(cursor + floats * BYTES_PER_FLOAT + READ_SLACK_BYTES)
      return pointer
    }
    return {
      input(values) {
        const pointer = reserve(values.length)
        copiedIn.push([pointer, values])
        return pointer
      },
      output(target) {
        const pointer = reserve(target.length)
        copiedOut.push([pointer, target])
        return pointer
      },
      scratch: reserve,
      // Copies in only once the layout is known and memory has grown to fit it.
      ready() {
        const missing = cursor - memory.buffer.byteLength
        if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE_BYTES))
        for (const [pointer, values] of copiedIn) {
          new Float32Array(memory.buffer, pointer, values.length).set(values)
        }
      },
      finish() {
        for (const [pointer, target] of copiedOut) {
          target.set(new Float32Array(memory.buffer, pointer, target.length))
        }
      }
    }
  }

  // Inputs and outputs are placed before any scratch, since a scratch allocation may grow the
  // shared memory and detach the views passed in.
  const run = (body: (ws: Workspace) => void): void => {
    const ws = heap ? sharedWorkspace(heap) : privateWorkspace()
    try {
      body(ws)
    } finally {
      ws.finish()
    }
  }

  const geometryArgs = (g: ConvGeometry): number[] => [
    g.batch,
    g.inH,
    g.inW,
    g.inC,
    g.outH,
    g.outW,
    g.outC,
    g.filterH,
    g.filterW,
    g.strideH,
    g.strideW,
    g.padTop,
    g.padLeft
  ]

  return {
    zeroCopy: heap !== undefined,
    backpropFilter(x, dy, g, out) {
      run((ws) => {
        const xp = ws.input(x)
        const dyp = ws.input(dy)
        const dwp = ws.output(out)
        const accp = ws.scratch(g.filterH * g.filterW * g.inC * Math.ceil(g.outC / 4) * 4)
        ws.ready()
        kernels.conv2d_backprop_filter(xp, dyp, dwp, accp, ...geometryArgs(g))
      })
    },
    backpropInput(dy, filter, g, out) {
      run((ws) => {
        const dyp = ws.input(dy)
        const wp = ws.input(filter)
        const dxp = ws.output(out)
        const cPad = Math.ceil(g.inC / 4) * 4
        const scratch = ws.scratch(
          g.filterH * g.filterW * g.outC * cPad + g.batch * g.inH * g.inW * cPad
        )
        ws.ready()
        kernels.conv2d_backprop_input(dyp, wp, dxp, scratch, ...geometryArgs(g))
      })
    },
    maxPoolGrad(x, dy, g, out) {
      run((ws) => {
        const xp = ws.input(x)
        const dyp = ws.input(dy)
        const dxp = ws.output(out)
        ws.ready()
        kernels.max_pool_grad(
          xp,
          dyp,
          dxp,
          g.batch,
          g.inH,
          g.inW,
          g.inC,
          g.outH,
          g.outW,
          g.filterH,
          g.filterW,
          g.strideH,
          g.strideW,
          g.padTop,
          g.padLeft
        )
      })
    },
    avgPoolGrad(dy, g, out) {
      run((ws) => {
        const dyp = ws.input(dy)
        const dxp = ws.output(out)
        ws.ready()
        kernels.avg_pool_grad(
          dyp,
          dxp,
          g.batch,
          g.inH,
          g.inW,
          g.inC,
          g.outH,
          g.outW,
          g.filterH,
          g.filterW,
          g.strideH,
          g.strideW,
          g.padTop,
          g.padLeft
        )
      })
    },
    biasAdd(x, bias, out) {
      run((ws) => {
        const xp = ws.input(x)
        const bp = ws.input(bias)
        const op = ws.output(out)
        ws.ready()
        kernels.bias_add(xp, bp, op, x.length / bias.length, bias.length)
      })
    },
    channelSum(x, out) {
      run((ws) => {
        const xp = ws.input(x)
        const op = ws.output(out)
        const partial = ws.scratch(out.length)
        ws.ready()
        kernels.channel_sum(xp, op, partial, x.length / out.length, out.length)
      })
    }
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES
}
