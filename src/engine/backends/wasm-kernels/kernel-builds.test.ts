import { afterEach, describe, expect, it } from 'vitest'
import {
  convGradWasmBytes,
  createConvGradModule,
  defaultKernelBuild,
  relaxedSimdAvailable,
  type ConvGeometry,
  type KernelBuild
} from './native-module'
import { randomArray, relativeError } from './test-helpers'

// Both builds of the kernels (native/build.sh) against double-precision references: the plain
// one (multiply, then add) and the relaxed one (f32x4.relaxed_madd, fused where the CPU has FMA).
// The rest of the suite runs whichever the runtime loads by default.

/**
 * Calls visit(xAt, outAt, wAt) for every input value a convolution multiplies: xAt indexes x
 * (NHWC), outAt the output pixel's first channel, wAt the filter tap's first output channel (HWIO).
 */
function forEachTap(g: ConvGeometry, visit: (xAt: number, outAt: number, wAt: number) => void): void {
  for (let n = 0; n < g.batch; n++)
    for (let oy = 0; oy < g.outH; oy++)
      for (let ox = 0; ox < g.outW; ox++)
        for (let ky = 0; ky < g.filterH; ky++)
          for (let kx = 0; kx < g.filterW; kx++) {
            const iy = oy + ky - g.padTop, ix = ox + kx - g.padLeft
            if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue
            for (let c = 0; c < g.inC; c++)
              visit(((n * g.inH + iy) * g.inW + ix) * g.inC + c, ((n * g.outH + oy) * g.outW + ox) * g.outC, ((ky * g.filterW + kx) * g.inC + c) * g.outC)
          }
}

/** y[n][oy][ox][o] = sum x[n][oy+ky-padTop][ox+kx-padLeft][c] * w[ky][kx][c][o], in doubles. */
function conv2dReference(x: Float32Array, w: Float32Array, g: ConvGeometry): Float64Array {
  const y = new Float64Array(g.batch * g.outH * g.outW * g.outC)
  forEachTap(g, (xAt, outAt, wAt) => {
    for (let o = 0; o < g.outC; o++) y[outAt + o]! += x[xAt]! * w[wAt + o]!
  })
  return y
}

/** dw[ky][kx][c][o] = sum over n, oy, ox of x[..] * dy[n][oy][ox][o], in doubles. */
function filterGradReference(x: Float32Array, dy: Float32Array, g: ConvGeometry): Float64Array {
  const dw = new Float64Array(g.filterH * g.filterW * g.inC * g.outC)
  forEachTap(g, (xAt, outAt, wAt) => {
    for (let o = 0; o < g.outC; o++) dw[wAt + o]! += x[xAt]! * dy[outAt + o]!
  })
  return dw
}

const geometry = (batch: number, size: number, inC: number, outC: number, k: number, pad: number): ConvGeometry => ({
  batch,
  inH: size,
  inW: size,
  inC,
  outH: size + 2 * pad - k + 1,
  outW: size + 2 * pad - k + 1,
  outC,
  filterH: k,
  filterW: k,
  strideH: 1,
  strideW: 1,
  padTop: pad,
  padLeft: pad
})

type Conv = (x: Float32Array, w: Float32Array, g: ConvGeometry, out: Float32Array) => void

/** One convolution route, forward and filter gradient, against the references within `tolerance`. */
function expectRoute(forward: Conv, filterGrad: Conv, g: ConvGeometry, tolerance: number, seed: number): void {
  const x = randomArray(g.batch * g.inH * g.inW * g.inC, 1, seed)
  const w = randomArray(g.filterH * g.filterW * g.inC * g.outC, 0.2, seed + 1)
  const y = new Float32Array(g.batch * g.outH * g.outW * g.outC)
  forward(x, w, g, y)
  expect(relativeError(y, conv2dReference(x, w, g))).toBeLessThan(tolerance)
  const dy = randomArray(y.length, 1, seed + 2)
  const dw = new Float32Array(w.length)
  filterGrad(x, dy, g, dw)
  expect(relativeError(dw, filterGradReference(x, dy, g))).toBeLessThan(tolerance)
}

// The relaxed build only where the runtime validates it: reported skipped, never run as plain.
const BUILDS: Array<{ build: KernelBuild; runs: boolean }> = [
  { build: 'plain', runs: true },
  { build: 'relaxed', runs: relaxedSimdAvailable() }
]

describe.each(BUILDS)('the $build build of the kernels', ({ build, runs }) => {
  it.runIf(runs)('loads as asked', () => {
    expect(createConvGradModule({ build }).build).toBe(build)
  })

  it.runIf(runs)('computes Winograd convolutions and their filter gradients (32 -> 32 channels, 3 x 3, same padding)', () => {
    const module = createConvGradModule({ build })
    expectRoute(module.winogradConv2d, module.winogradBackpropFilter, geometry(2, 14, 32, 32, 3, 1), 2e-5, 1)
  })

  it.runIf(runs)('computes direct convolutions, their filter gradients and matrix products (5 x 5, 1 -> 6 channels)', () => {
    const module = createConvGradModule({ build })
    expectRoute(module.directConv2d, module.directBackpropFilter, geometry(3, 12, 1, 6, 5, 0), 1e-5, 4)

    const [m, n, k] = [13, 21, 37]
    const a = randomArray(m * k, 1, 7)
    const b = randomArray(k * n, 1, 8)
    const out = new Float32Array(m * n)
    module.matmul(a, b, out, { m, n, k, transposeA: false, transposeB: false })
    const want = new Float64Array(m * n)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) want[i * n + j]! += a[i * k + p]! * b[p * n + j]!
    expect(relativeError(out, want)).toBeLessThan(1e-5)
  })
})

describe('choosing the build', () => {
  const saved = process.env.CNN_WORKBENCH_KERNELS
  afterEach(() => {
    if (saved === undefined) delete process.env.CNN_WORKBENCH_KERNELS
    else process.env.CNN_WORKBENCH_KERNELS = saved
  })

  it('loads the relaxed build by default where the runtime has relaxed SIMD, else the plain one', () => {
    delete process.env.CNN_WORKBENCH_KERNELS
    expect(defaultKernelBuild()).toBe(relaxedSimdAvailable() ? 'relaxed' : 'plain')
    expect(createConvGradModule().build).toBe(defaultKernelBuild())
  })

  it('takes CNN_WORKBENCH_KERNELS=plain, and refuses a value it does not know', () => {
    process.env.CNN_WORKBENCH_KERNELS = 'plain'
    expect(defaultKernelBuild()).toBe('plain')
    expect(createConvGradModule().build).toBe('plain')
    process.env.CNN_WORKBENCH_KERNELS = 'fast'
    expect(() => defaultKernelBuild()).toThrow(/"fast"; use "relaxed", "plain"/)
  })

  it('embeds two different modules', () => {
    const plain = convGradWasmBytes(undefined, 'plain')
    const relaxed = convGradWasmBytes(undefined, 'relaxed')
    expect(Buffer.from(plain).equals(Buffer.from(relaxed))).toBe(false)
    // f32x4.relaxed_madd (0xfd 0x85 0x02) appears in the relaxed module only.
    const count = (bytes: Uint8Array): number =>
      bytes.reduce((n, b, i) => n + (b === 0xfd && bytes[i + 1] === 0x85 && bytes[i + 2] === 0x02 ? 1 : 0), 0)
    expect(count(plain)).toBe(0)
    expect(count(relaxed)).toBeGreaterThan(50)
  })
})
