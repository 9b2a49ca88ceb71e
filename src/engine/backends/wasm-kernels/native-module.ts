import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { CONV_GRAD_WASM_BASE64 } from './native/conv-grad-wasm'
import { CONV_GRAD_RELAXED_WASM_BASE64 } from './native/conv-grad-relaxed-wasm'

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
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: object }
  Memory: new (descriptor: { initial: number }) => WasmMemory
}

/** The functions conv-grad.wasm must export (native/*.c); a test checks the module has them. */
export const KERNEL_EXPORTS = [
  'conv2d_backprop_filter',
  'conv2d_backprop_input',
  'col2im',
  'fold_backprop_input',
  'winograd_conv2d',
  'winograd_conv2d_backprop_filter',
  'direct_conv2d',
  'direct_conv2d_backprop_filter',
  'max_pool_grad',
  'max_pool_tiled',
  'avg_pool_grad',
  'bias_add',
  'channel_sum',
  'tanh_f32',
  'activation_grad',
  'activation_grad_sum',
  'bias_activation',
  'matmul',
  'transpose_batched'
] as const

/** Whether a convolution's geometry is one the Winograd kernels compute. */
export function winogradFits(g: ConvGeometry): boolean {
  return (
    g.filterH === 3 &&
    g.filterW === 3 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.inC % 4 === 0 &&
    g.outC % 4 === 0 &&
    g.padTop >= 0 &&
    g.padLeft >= 0
  )
}

/** Floats of scratch the Winograd kernels take (native/winograd.c: TB = 32 tiles a block). */
function winogradScratch(g: ConvGeometry): number {
  const blockStride = (channels: number): number => 32 * channels + 16
  return 36 * (g.inC * g.outC + blockStride(g.inC) + blockStride(g.outC))
}

/** Activations the direct convolution applies as it writes its output (native/direct.c). */
export type KernelActivation = 'linear' | 'relu' | 'tanh'
const ACTIVATION_CODES: Record<KernelActivation, number> = { linear: 0, relu: 1, tanh: 2 }

const round4 = (v: number): number => Math.ceil(v / 4) * 4

/** Floats of the zero-padded input copy the direct kernels make (native/direct.c, direct_geom). */
function directPadded(g: ConvGeometry): number {
  const hp = g.outH + g.filterH - 1
  const wp = round4(g.outW) + g.filterW - 1
  return round4(g.batch * hp * wp * g.inC + 4)
}

/** Floats of scratch direct_conv2d takes: padded input, packed filter, padded bias, one tile. */
function directScratch(g: ConvGeometry): number {
  const co4 = round4(g.outC)
  return directPadded(g) + g.filterH * g.filterW * g.inC * co4 + co4 + 32
}

/** Whether a convolution's geometry is one the direct kernel computes (stride 1, dilation 1). */
export function directFits(g: ConvGeometry): boolean {
  return g.strideH === 1 && g.strideW === 1 && g.padTop >= 0 && g.padLeft >= 0 && g.outH > 0 && g.outW > 0
}

/** Whether foldBackpropInput computes a convolution's input gradient: stride 1, padding >= 0. */
export function foldFits(g: ConvGeometry): boolean {
  return (
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.padTop >= 0 &&
    g.padLeft >= 0 &&
    g.outW + g.filterW - 1 >= g.inW + g.padLeft &&
    g.outH > 0 &&
    g.outW > 0
  )
}

/** Floats of scratch fold_backprop_input takes: the repacked filter and one padded image. */
function foldScratch(g: ConvGeometry): number {
  const wp = g.outW + g.filterW - 1
  return g.filterH * g.outC * round4(g.filterW * g.inC) + g.inH * wp * g.inC + 4
}

type KernelExports = Record<(typeof KERNEL_EXPORTS)[number], (...args: number[]) => number>

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
  /** Which build of the kernels runs (relaxed: fused multiply-adds). */
  readonly build: KernelBuild
  /** Filter gradient (HWIO) of a convolution from its input `x` and output gradient `dy`. */
  backpropFilter(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /**
   * The same for a convolution the direct kernel computes (directFits), over its zero-padded
   * input copy: 8 taps x 4 output channels, 4 x 8 or 2 x 16 a register tile (native/direct.c).
   */
  directBackpropFilter(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** Input gradient (NHWC) of a convolution from `dy` and the HWIO `filter`. */
  backpropInput(dy: Float32Array, filter: Float32Array, g: ConvGeometry, out: Float32Array): void
  /**
   * Input gradient of a stride-1 convolution (foldFits) in one pass: dy times the filter
   * transposed, each dy pixel's filter-row run added straight onto the input (native/conv-grad.c).
   */
  foldBackpropInput(dy: Float32Array, filter: Float32Array, g: ConvGeometry, out: Float32Array): void
  /**
   * Folds `cols` [batch, outH, outW, filterH, filterW, inC] (dy times the filter transposed)
   * back onto the input: the input gradient's scatter-add. `out` is NHWC [batch, inH, inW, inC].
   */
  col2im(cols: Float32Array, g: ConvGeometry, out: Float32Array): void
  /**
   * Forward 3x3 stride-1 convolution by Winograd F(4x4, 3x3); channel counts multiples of 4
   * (see winogradFits). `out` is NHWC [batch, outH, outW, outC]. With `epilogue`, adds a bias of
   * outC values and/or applies an activation as the output is written (a fused conv layer).
   */
  winogradConv2d(
    x: Float32Array,
    filter: Float32Array,
    g: ConvGeometry,
    out: Float32Array,
    epilogue?: { bias?: Float32Array; activation?: KernelActivation }
  ): void
  /**
   * Forward stride-1 convolution as an implicit matrix product over a zero-padded copy of the
   * input (native/direct.c), with an optional bias of outC values and activation applied as the
   * output is written (a fused conv layer).
   */
  directConv2d(
    x: Float32Array,
    filter: Float32Array,
    g: ConvGeometry,
    out: Float32Array,
    epilogue?: { bias?: Float32Array; activation?: KernelActivation }
  ): void
  /** Filter gradient (HWIO) of a 3x3 stride-1 convolution by Winograd F(4x4, 3x3). */
  winogradBackpropFilter(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** Max-pool input gradient; `g` describes the window (inC = outC = channels). */
  maxPoolGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /**
   * Max pooling where the windows tile the input exactly (stride = window, no padding, nothing
   * left over) over at least 4 channels; false, computing nothing, for any other geometry.
   */
  maxPoolTiled(x: Float32Array, g: ConvGeometry, out: Float32Array): boolean
  /** Average-pool input gradient (divisor: the whole window, padding included, as tfjs's cpu). */
  avgPoolGrad(dy: Float32Array, g: ConvGeometry, out: Float32Array): void
  /** out = x + bias, with x viewed as [rows, bias.length]. */
  biasAdd(x: Float32Array, bias: Float32Array, out: Float32Array): void
  /** out[c] = sum over rows of x viewed as [rows, out.length]. */
  channelSum(x: Float32Array, out: Float32Array): void
  /** out = tanh(x), within a few float32 ulps (native/activation.c). */
  tanh(x: Float32Array, out: Float32Array): void
  /**
   * out = activation(x + bias), x viewed as [rows, channels] (bias: channels values, or none);
   * out may be x itself.
   */
  biasActivation(x: Float32Array, channels: number, out: Float32Array, epilogue: { bias?: Float32Array; activation: KernelActivation }): void
  /**
   * out [m, n] = op(a) op(b) for one pair of matrices (native/gemm.c): a is [m, k], or [k, m]
   * when transposeA; b is [k, n], or [n, k] when transposeB.
   */
  matmul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    dims: { m: number; n: number; k: number; transposeA: boolean; transposeB: boolean }
  ): void
  /** out [b][c][r] = x [b][r][c] for `batch` row-major [rows, cols] matrices (native/copy.c). */
  transposeBatched(x: Float32Array, out: Float32Array, dims: { batch: number; rows: number; cols: number }): void
  /**
   * out = dy * activation'(x), from the activation's output y (native/activation.c). With
   * `channelSum` (one value per channel, the last dimension), also its sum over every other
   * dimension, in the same pass: a layer's bias gradient.
   */
  activationGrad(dy: Float32Array, y: Float32Array, out: Float32Array, activation: KernelActivation, channelSum?: Float32Array): void
}

/**
 * The two builds of the kernels (native/build.sh): `relaxed` computes every multiply-add of the
 * convolutions and matrix products with relaxed SIMD's f32x4.relaxed_madd, one fused instruction
 * on CPUs with FMA (about 15 % faster Winograd convolutions on x86-64); `plain` uses a multiply
 * and an add, and runs wherever WebAssembly SIMD does. Results differ in the last bits.
 */
export type KernelBuild = 'relaxed' | 'plain'

// A module whose one function returns f32x4.relaxed_madd of three constants: it validates where
// the runtime has relaxed SIMD.
const RELAXED_SIMD_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // v128.const x3
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0x0b // end
])

let relaxedSimd: boolean | null = null

/**
 * Whether this runtime runs relaxed SIMD. Node 20's V8 (11.3) has it behind a flag, which is
 * turned on here (it only adds instructions the validator accepts; Chromium, Electron and
 * Node 22 ship it on): the flag is read each time a module is compiled, and worker threads
 * share it. Asked once a process.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedSimd !== null) return relaxedSimd
  const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
  relaxedSimd = api.validate(RELAXED_SIMD_PROBE)
  if (!relaxedSimd) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd')
      relaxedSimd = api.validate(RELAXED_SIMD_PROBE)
    } catch {
      relaxedSimd = false
    }
  }
  return relaxedSimd
}

/**
 * The build to load: `CNN_WORKBENCH_KERNELS=plain` (or `relaxed`) chooses one, for comparing
 * them; otherwise relaxed where the runtime has it.
 */
export function defaultKernelBuild(): KernelBuild {
  const chosen = process.env.CNN_WORKBENCH_KERNELS
  if (chosen === 'plain') return 'plain'
  if (chosen !== undefined && chosen !== '' && chosen !== 'relaxed') {
    throw new Error(`CNN_WORKBENCH_KERNELS is "${chosen}"; use "relaxed", "plain" or leave it unset.`)
  }
  if (relaxedSimdAvailable()) return 'relaxed'
  if (chosen === 'relaxed') {
    throw new Error('CNN_WORKBENCH_KERNELS=relaxed, but this runtime has no relaxed SIMD; unset it to use the plain kernels.')
  }
  return 'plain'
}

/** The kernel binary: a file path when given (for kernel authors), else the embedded build. */
export function convGradWasmBytes(wasmPath?: string, build: KernelBuild = defaultKernelBuild()): Uint8Array {
  if (wasmPath) return readFileSync(wasmPath)
  const base64 = build === 'relaxed' ? CONV_GRAD_RELAXED_WASM_BASE64 : CONV_GRAD_WASM_BASE64
  return Uint8Array.from(Buffer.from(base64, 'base64'))
}

/**
 * An array as it was when a kernel call began. A view into tfjs's heap is detached (and its
 * byteOffset reads 0) once any allocation grows that memory, so offsets are taken up front.
 */
interface ArrayRef {
  array: Float32Array
  offset: number
  length: number
}

function refsOf(...arrays: Float32Array[]): ArrayRef[] {
  return arrays.map((array) => ({ array, offset: array.byteOffset, length: array.length }))
}

/** Pointers for one kernel call: tensors in place where possible, copies otherwise. */
interface Workspace {
  input(values: ArrayRef): number
  output(target: ArrayRef): number
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
  options: { wasmPath?: string; heap?: SharedHeap; build?: KernelBuild } = {}
): ConvGradModule {
  const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
  const heap = options.heap
  const memory = heap?.memory ?? new wasmApi.Memory({ initial: 1 })
  const build = options.build ?? defaultKernelBuild()
  const module = new wasmApi.Module(convGradWasmBytes(options.wasmPath, build))
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
    // Taken before anything is allocated, so every view passed in is still attached.
    const heapBuffer = shared.memory.buffer
    const onHeap = (ref: ArrayRef): boolean => ref.array.buffer === heapBuffer
    return {
      input(ref) {
        const end = ref.offset + ref.length * BYTES_PER_FLOAT
        if (onHeap(ref) && end + READ_SLACK_BYTES <= heapBuffer.byteLength) return ref.offset
        // Too close to the end of memory for the kernels' vector over-reads: copy it.
        const source = onHeap(ref) ? null : ref.array
        const pointer = scratch(ref.length)
        const from = source ?? new Float32Array(shared.memory.buffer, ref.offset, ref.length)
        new Float32Array(shared.memory.buffer, pointer, ref.length).set(from)
        return pointer
      },
      // Kernels write exactly their output's extent, so outputs on the heap need no slack.
      output(ref) {
        if (onHeap(ref)) return ref.offset
        const pointer = scratch(ref.length)
        copiedOut.push([pointer, ref.array])
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
      input(ref) {
        const pointer = reserve(ref.length)
        copiedIn.push([pointer, ref.array])
        return pointer
      },
      output(ref) {
        const pointer = reserve(ref.length)
        copiedOut.push([pointer, ref.array])
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

  // The direct kernels' geometry: no strides (always 1).
  const directArgs = (g: ConvGeometry): number[] => [...geometryArgs(g).slice(0, 9), g.padTop, g.padLeft]

  // A window's geometry without the output channels: pooling (channels = inC) and col2im.
  const windowArgs = (g: ConvGeometry): number[] => [
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
  ]

  const winogradArgs = (g: ConvGeometry): number[] => [
    g.batch,
    g.inH,
    g.inW,
    g.inC,
    g.outH,
    g.outW,
    g.outC,
    g.padTop,
    g.padLeft
  ]

  /** A window kernel from one input to one output: avg_pool_grad (from dy) and col2im (from cols). */
  const windowKernel = (
    name: 'avg_pool_grad' | 'col2im',
    input: Float32Array,
    g: ConvGeometry,
    out: Float32Array
  ): void => {
    const [ir, outr] = refsOf(input, out)
    run((ws) => {
      const ip = ws.input(ir!)
      const op = ws.output(outr!)
      ws.ready()
      kernels[name](ip, op, ...windowArgs(g))
    })
  }

  /**
   * A forward convolution kernel with a bias-and-activation epilogue, called with the pointers
   * (x, filter, bias or 0, y, scratch) and the activation's code.
   */
  const epilogueConv = (
    name: string,
    x: Float32Array,
    filter: Float32Array,
    g: ConvGeometry,
    out: Float32Array,
    epilogue: { bias?: Float32Array; activation?: KernelActivation },
    scratchFloats: number,
    call: (pointers: [number, number, number, number, number], activation: number) => void
  ): void => {
    const { bias, activation = 'linear' } = epilogue
    if (bias && bias.length !== g.outC)
      throw new Error(`${name}: the bias has ${bias.length} values for ${g.outC} channels.`)
    const [xr, wr, outr] = refsOf(x, filter, out)
    const br = bias ? refsOf(bias)[0] : undefined
    run((ws) => {
      const xp = ws.input(xr!)
      const wp = ws.input(wr!)
      const bp = br ? ws.input(br) : 0
      const yp = ws.output(outr!)
      const scratch = ws.scratch(scratchFloats)
      ws.ready()
      call([xp, wp, bp, yp, scratch], ACTIVATION_CODES[activation])
    })
  }

  const requireWinograd = (name: string, g: ConvGeometry): void => {
    if (!winogradFits(g))
      throw new Error(`${name}: not a 3x3 stride-1 convolution over multiples of 4 channels.`)
  }

  return {
    build,
    zeroCopy: heap !== undefined,
    backpropFilter(x, dy, g, out) {
      const [xr, dyr, outr] = refsOf(x, dy, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const dyp = ws.input(dyr!)
        const dwp = ws.output(outr!)
        const accp = ws.scratch(g.filterH * g.filterW * g.inC * Math.ceil(g.outC / 4) * 4)
        ws.ready()
        kernels.conv2d_backprop_filter(xp, dyp, dwp, accp, ...geometryArgs(g))
      })
    },
    directBackpropFilter(x, dy, g, out) {
      if (!directFits(g)) throw new Error('directBackpropFilter: only stride-1 convolutions with padding >= 0.')
      const [xr, dyr, outr] = refsOf(x, dy, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const dyp = ws.input(dyr!)
        const dwp = ws.output(outr!)
        const scratch = ws.scratch(directPadded(g) + g.filterH * g.filterW * g.inC * round4(g.outC))
        ws.ready()
        kernels.direct_conv2d_backprop_filter(xp, dyp, dwp, scratch, ...directArgs(g))
      })
    },
    backpropInput(dy, filter, g, out) {
      const [dyr, wr, outr] = refsOf(dy, filter, out)
      run((ws) => {
        const dyp = ws.input(dyr!)
        const wp = ws.input(wr!)
        const dxp = ws.output(outr!)
        const cPad = Math.ceil(g.inC / 4) * 4
        const scratch = ws.scratch(
          g.filterH * g.filterW * g.outC * cPad + g.batch * g.inH * g.inW * cPad
        )
        ws.ready()
        kernels.conv2d_backprop_input(dyp, wp, dxp, scratch, ...geometryArgs(g))
      })
    },
    foldBackpropInput(dy, filter, g, out) {
      if (!foldFits(g)) throw new Error('foldBackpropInput: only stride-1 convolutions with padding >= 0.')
      const [dyr, wr, outr] = refsOf(dy, filter, out)
      run((ws) => {
        const dyp = ws.input(dyr!)
        const wp = ws.input(wr!)
        const dxp = ws.output(outr!)
        const scratch = ws.scratch(foldScratch(g))
        ws.ready()
        kernels.fold_backprop_input(dyp, wp, dxp, scratch, ...directArgs(g))
      })
    },
    col2im(cols, g, out) {
      windowKernel('col2im', cols, g, out)
    },
    winogradConv2d(x, filter, g, out, epilogue = {}) {
      requireWinograd('winogradConv2d', g)
      epilogueConv('winogradConv2d', x, filter, g, out, epilogue, winogradScratch(g), (ptrs, act) =>
        kernels.winograd_conv2d(...ptrs, ...winogradArgs(g), act)
      )
    },
    directConv2d(x, filter, g, out, epilogue = {}) {
      if (!directFits(g)) throw new Error('directConv2d: only stride-1 convolutions with padding >= 0.')
      epilogueConv('directConv2d', x, filter, g, out, epilogue, directScratch(g), (ptrs, act) =>
        kernels.direct_conv2d(...ptrs, ...directArgs(g), act)
      )
    },
    winogradBackpropFilter(x, dy, g, out) {
      requireWinograd('winogradBackpropFilter', g)
      const [xr, dyr, outr] = refsOf(x, dy, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const dyp = ws.input(dyr!)
        const dwp = ws.output(outr!)
        const scratch = ws.scratch(winogradScratch(g))
        ws.ready()
        kernels.winograd_conv2d_backprop_filter(xp, dyp, dwp, scratch, ...winogradArgs(g))
      })
    },
    maxPoolGrad(x, dy, g, out) {
      const [xr, dyr, outr] = refsOf(x, dy, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const dyp = ws.input(dyr!)
        const dxp = ws.output(outr!)
        ws.ready()
        kernels.max_pool_grad(xp, dyp, dxp, ...windowArgs(g))
      })
    },
    maxPoolTiled(x, g, out) {
      if (x.length !== g.batch * g.inH * g.inW * g.inC || out.length !== g.batch * g.outH * g.outW * g.inC)
        throw new Error(`maxPoolTiled: ${x.length} inputs and ${out.length} outputs do not fit the window geometry.`)
      const [xr, outr] = refsOf(x, out)
      let done = 0
      run((ws) => {
        const xp = ws.input(xr!)
        const op = ws.output(outr!)
        ws.ready()
        done = kernels.max_pool_tiled(xp, op, ...windowArgs(g))
      })
      return done === 1
    },
    avgPoolGrad(dy, g, out) {
      windowKernel('avg_pool_grad', dy, g, out)
    },
    biasAdd(x, bias, out) {
      const [xr, br, outr] = refsOf(x, bias, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const bp = ws.input(br!)
        const op = ws.output(outr!)
        ws.ready()
        kernels.bias_add(xp, bp, op, x.length / bias.length, bias.length)
      })
    },
    channelSum(x, out) {
      const [xr, outr] = refsOf(x, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const op = ws.output(outr!)
        // Two periods of lcm(channels, 4) floats (native/bias.c).
        const period = out.length % 4 === 0 ? out.length : out.length % 2 === 0 ? out.length * 2 : out.length * 4
        const scratch = ws.scratch(2 * period)
        ws.ready()
        kernels.channel_sum(xp, op, scratch, x.length / out.length, out.length)
      })
    },
    tanh(x, out) {
      const [xr, outr] = refsOf(x, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const op = ws.output(outr!)
        ws.ready()
        kernels.tanh_f32(xp, op, Math.min(x.length, out.length))
      })
    },
    biasActivation(x, channels, out, { bias, activation }) {
      if (bias && bias.length !== channels)
        throw new Error(`biasActivation: the bias has ${bias.length} values for ${channels} channels.`)
      if (x.length !== out.length || x.length % channels !== 0)
        throw new Error(`biasActivation: ${x.length} values are not rows of ${channels} channels into ${out.length}.`)
      const [xr, outr] = refsOf(x, out)
      const br = bias ? refsOf(bias)[0] : undefined
      run((ws) => {
        const xp = ws.input(xr!)
        const bp = br ? ws.input(br) : 0
        const op = ws.output(outr!)
        ws.ready()
        kernels.bias_activation(xp, bp, op, x.length / channels, channels, ACTIVATION_CODES[activation])
      })
    },
    matmul(a, b, out, { m, n, k, transposeA, transposeB }) {
      if (a.length !== m * k || b.length !== k * n || out.length !== m * n)
        throw new Error(`matmul: operands of ${a.length} and ${b.length} values into ${out.length} are not ${m} x ${k} by ${k} x ${n}.`)
      const [ar, br, outr] = refsOf(a, b, out)
      run((ws) => {
        const ap = ws.input(ar!)
        const bp = ws.input(br!)
        const op = ws.output(outr!)
        const scratch = ws.scratch(k * Math.ceil(n / 8) * 8)
        ws.ready()
        kernels.matmul(ap, bp, op, scratch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0)
      })
    },
    transposeBatched(x, out, { batch, rows, cols }) {
      const size = batch * rows * cols
      if (x.length !== size || out.length !== size)
        throw new Error(`transposeBatched: ${x.length} values into ${out.length} are not ${batch} x ${rows} x ${cols}.`)
      const [xr, outr] = refsOf(x, out)
      run((ws) => {
        const xp = ws.input(xr!)
        const op = ws.output(outr!)
        ws.ready()
        kernels.transpose_batched(xp, op, batch, rows, cols)
      })
    },
    activationGrad(dy, y, out, activation, channelSum) {
      const n = Math.min(dy.length, y.length, out.length)
      if (channelSum && (channelSum.length === 0 || n % channelSum.length !== 0))
        throw new Error(`activationGrad: ${n} values are not rows of ${channelSum.length} channels.`)
      const [dyr, yr, outr] = refsOf(dy, y, out)
      const sr = channelSum ? refsOf(channelSum)[0] : undefined
      run((ws) => {
        const dyp = ws.input(dyr!)
        const yp = ws.input(yr!)
        const op = ws.output(outr!)
        const sp = sr ? ws.output(sr) : 0
        ws.ready()
        if (sr) kernels.activation_grad_sum(dyp, yp, op, sp, n / sr.length, sr.length, ACTIVATION_CODES[activation])
        else kernels.activation_grad(dyp, yp, op, n, ACTIVATION_CODES[activation])
      })
    }
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES
}
