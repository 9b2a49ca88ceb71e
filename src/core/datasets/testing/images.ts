import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encode as encodeJpeg } from 'jpeg-js'
import { PNG } from 'pngjs'

/** An RGBA image whose colour depends on its class, so tests can tell classes apart after resizing. */
export function classImage(width: number, height: number, classIndex: number, seed: number) {
  const data = Buffer.alloc(width * height * 4)
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = (classIndex * 90 + seed) & 0xff
    data[p * 4 + 1] = (p + seed) & 0xff
    data[p * 4 + 2] = classIndex * 40
    data[p * 4 + 3] = 255
  }
  return { width, height, data }
}

/** A PNG file's bytes. */
export function pngBytes(width: number, height: number, classIndex = 0, seed = 0): Buffer {
  const img = classImage(width, height, classIndex, seed)
  const png = new PNG({ width, height })
  img.data.copy(png.data)
  return PNG.sync.write(png)
}

/** A JPEG file's bytes (quality 90). */
export function jpegBytes(width: number, height: number, classIndex = 0, seed = 0): Buffer {
  return encodeJpeg(classImage(width, height, classIndex, seed), 90).data
}

/** Options for a generated folder of class folders. */
export interface ImageFolderOptions {
  /** Images per class; PNG and JPEG alternate, with sizes that vary so resizing is exercised. */
  perClass?: Record<string, number>
  /** Writes train/ and test/ folders with this many test images per class. */
  testPerClass?: number
  /** Extra files that are not images, per class folder. */
  extraFiles?: number
}

/** Writes `<dir>/<class>/<n>.png|jpg` (or train/ and test/ of those); returns dir. */
export async function writeImageFolder(dir: string, options: ImageFolderOptions = {}) {
  const perClass = options.perClass ?? { cat: 10, dog: 10, fox: 10 }
  const classes = Object.keys(perClass)
  const write = async (root: string, name: string, count: number, k: number) => {
    await mkdir(join(root, name), { recursive: true })
    for (let i = 0; i < count; i++) {
      const w = 20 + ((i * 7) % 30)
      const h = 18 + ((i * 5) % 25)
      const bytes = i % 2 === 0 ? pngBytes(w, h, k, i) : jpegBytes(w, h, k, i)
      await writeFile(join(root, name, `${i}.${i % 2 === 0 ? 'png' : 'jpg'}`), bytes)
    }
    for (let i = 0; i < (options.extraFiles ?? 0); i++) {
      await writeFile(join(root, name, `notes-${i}.txt`), 'not an image')
    }
  }
  if (options.testPerClass !== undefined) {
    for (const [k, name] of classes.entries()) {
      await write(join(dir, 'train'), name, perClass[name], k)
      await write(join(dir, 'test'), name, options.testPerClass, k)
    }
  } else {
    for (const [k, name] of classes.entries()) await write(dir, name, perClass[name], k)
  }
  return dir
}
