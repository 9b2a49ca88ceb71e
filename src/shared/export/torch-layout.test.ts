import { describe, expect, it } from 'vitest'
import { MODEL_FORMAT, modelSpecSchema } from '../model/spec'
import { hwioToOihw, nchwToNhwc, nhwcToNchw, oihwToHwio, torchSlots, transpose2d } from './torch-layout'

const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i)

describe('layout conversion', () => {
  it('HWIO → OIHW puts kernel[h][w][i][o] at weight[o][i][h][w], and back', () => {
    const [kh, kw, ci, co] = [2, 3, 4, 5]
    const hwio = iota(kh * kw * ci * co)
    const { data, shape } = hwioToOihw(hwio, [kh, kw, ci, co])
    expect(shape).toEqual([co, ci, kh, kw])
    for (let h = 0; h < kh; h++)
      for (let w = 0; w < kw; w++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) {
            expect(data[((o * ci + i) * kh + h) * kw + w]).toBe(hwio[((h * kw + w) * ci + i) * co + o])
          }
    expect(Array.from(oihwToHwio(data, shape).data)).toEqual(Array.from(hwio))
  })

  it('NHWC → NCHW puts x[n][h][w][c] at x[n][c][h][w], and back', () => {
    const [n, h, w, c] = [2, 3, 4, 3]
    const nhwc = iota(n * h * w * c)
    const { data, shape } = nhwcToNchw(nhwc, [n, h, w, c])
    expect(shape).toEqual([n, c, h, w])
    expect(data[((1 * c + 2) * h + 1) * w + 3]).toBe(nhwc[((1 * h + 1) * w + 3) * c + 2])
    expect(Array.from(nchwToNhwc(data, shape).data)).toEqual(Array.from(nhwc))
  })

  it('a dense kernel [in, out] becomes a linear weight [out, in]', () => {
    const { data, shape } = transpose2d(iota(6), [2, 3])
    expect(shape).toEqual([3, 2])
    expect(Array.from(data)).toEqual([0, 3, 1, 4, 2, 5])
  })

  it('names every weight as model.py\'s state dict does, past activations and padding modules', () => {
    const spec = modelSpecSchema.parse({
      format: MODEL_FORMAT,
      name: 't',
      input: { channels: 3, height: 9, width: 9 },
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 2, padding: 'same', activation: 'relu' },
        { type: 'batchNorm' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 5, activation: 'tanh', useBias: false },
        { type: 'batchNorm' },
        { type: 'dense', units: 3 }
      ]
    })
    // conv with an even kernel and "same" padding gets an nn.ZeroPad2d before it (index 0).
    expect(torchSlots(spec).map((s) => `${s.torchName} ${s.torchShape.join('x')}`)).toEqual([
      'layers.1.weight 4x3x2x2',
      'layers.1.bias 4',
      'layers.3.weight 4',
      'layers.3.bias 4',
      'layers.3.running_mean 4',
      'layers.3.running_var 4',
      'layers.6.weight 5x64',
      'layers.8.weight 5',
      'layers.8.bias 5',
      'layers.8.running_mean 5',
      'layers.8.running_var 5',
      'layers.9.weight 3x5',
      'layers.9.bias 3'
    ])
  })
})
