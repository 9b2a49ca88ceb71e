import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The first `limit` MNIST training images (uint8, 28x28) and labels from raw IDX files. */
export function readMnistTrain(
  dir: string,
  limit: number
): { images: Uint8Array; labels: Uint8Array; count: number } {
  const images = readFileSync(join(dir, 'train-images-idx3-ubyte'))
  const labels = readFileSync(join(dir, 'train-labels-idx1-ubyte'))
  const count = Math.min(limit, images.readUInt32BE(4))
  const imageBytes = 28 * 28
  return {
    images: images.subarray(16, 16 + count * imageBytes),
    labels: labels.subarray(8, 8 + count),
    count
  }
}
