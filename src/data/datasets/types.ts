/** Images of one split as bytes, NHWC order (N × height × width × channels), labels as class indices. */
export interface SplitData {
  images: Uint8Array
  labels: Uint8Array
  count: number
}

/** A dataset loaded in memory: the engine builds tensors from it, the main process reads samples. */
export interface LoadedDataset {
  name: string
  /** [channels, height, width]. */
  shape: [number, number, number]
  classes: string[]
  train: SplitData
  test: SplitData
}

/**
 * Where a dataset's files are, in a form that crosses to the engine process as plain JSON.
 * The engine loads the files itself, so 50 MB of pixels never travel over IPC.
 */
export type DatasetSource =
  | {
      kind: 'idx'
      name: string
      classes: string[]
      trainImages: string
      trainLabels: string
      testImages: string
      testLabels: string
    }
  | {
      kind: 'cifar10'
      name: string
      classes: string[]
      trainFiles: string[]
      testFiles: string[]
    }
