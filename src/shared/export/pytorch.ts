import { DEFAULT_HYPER } from '../hyper'
import type { Hyper } from '../hyper'
import { formatShape, sizePair } from '../model/shape-inference'
import type { Activation, Layer, ModelSpec } from '../model/spec'
import type { Shape } from '../model/summary-types'
import { commentText, pySize, pyString, samePadding, summaryForExport } from './python-text'
import type { ExportDataset } from './python-text'

/** Options for a PyTorch export: the dataset it is meant for and the training settings. */
export interface PytorchExportOptions {
  dataset?: ExportDataset
  hyper?: Partial<Hyper>
}

const TORCH_ACTIVATIONS: Record<Activation, string | null> = {
  relu: 'nn.ReLU()',
  tanh: 'nn.Tanh()',
  sigmoid: 'nn.Sigmoid()',
  leakyRelu: 'nn.LeakyReLU(0.01)',
  elu: 'nn.ELU(alpha=1.0)',
  linear: null
}

const TORCH_OPTIMIZERS: Record<Hyper['optimizer'], string> = {
  sgd: 'torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)',
  momentum: 'torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)',
  adam: 'torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)',
  rmsprop: 'torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE)'
}

function convModules(layer: Extract<Layer, { type: 'conv2d' }>, input: Shape): string[] {
  const [kh, kw] = sizePair(layer.kernelSize)
  const [sh, sw] = sizePair(layer.stride)
  const stride = sh === sw ? String(sh) : `(${sh}, ${sw})`
  const bias = layer.useBias ? '' : ', bias=False'
  const modules: string[] = []
  let padding = '0'
  if (layer.padding === 'same') {
    // TensorFlow "same" padding, written out because PyTorch's padding='same' needs stride 1.
    const [top, bottom] = samePadding(input[1] ?? 1, kh, sh)
    const [left, right] = samePadding(input[2] ?? 1, kw, sw)
    if (top === bottom && left === right) padding = top === left ? String(top) : `(${top}, ${left})`
    else modules.push(`nn.ZeroPad2d((${left}, ${right}, ${top}, ${bottom}))`)
  } else if (layer.padding !== 'valid') {
    padding = String(layer.padding)
  }
  const pad = padding === '0' ? '' : `, padding=${padding}`
  modules.push(
    `nn.Conv2d(${input[0]}, ${layer.filters}, kernel_size=${pySize(layer.kernelSize)}, ` +
      `stride=${stride}${pad}${bias})`
  )
  const act = TORCH_ACTIVATIONS[layer.activation]
  if (act) modules.push(act)
  return modules
}

function layerModules(layer: Layer, input: Shape): string[] {
  switch (layer.type) {
    case 'conv2d':
      return convModules(layer, input)
    case 'maxPool2d':
    case 'avgPool2d': {
      const cls = layer.type === 'maxPool2d' ? 'nn.MaxPool2d' : 'nn.AvgPool2d'
      return [`${cls}(${pySize(layer.poolSize)}, stride=${pySize(layer.stride ?? layer.poolSize)})`]
    }
    case 'flatten':
      return ['nn.Flatten()']
    case 'dense': {
      const bias = layer.useBias ? '' : ', bias=False'
      const act = TORCH_ACTIVATIONS[layer.activation]
      return [`nn.Linear(${input[0]}, ${layer.units}${bias})`, ...(act ? [act] : [])]
    }
    case 'dropout':
      return [`nn.Dropout(${layer.rate})`]
    case 'batchNorm':
      return [input.length === 3 ? `nn.BatchNorm2d(${input[0]})` : `nn.BatchNorm1d(${input[0]})`]
    case 'activation': {
      return [TORCH_ACTIVATIONS[layer.fn] ?? 'nn.Identity()']
    }
  }
}

/**
 * A runnable Python file defining `class Net(nn.Module)` for the spec, with a short training
 * loop on IDX files (or random data) and a `--dry-run` mode that prints the parameter count.
 */
export function exportPytorch(spec: ModelSpec, opts: PytorchExportOptions = {}): string {
  const summary = summaryForExport(spec)
  const hyper: Hyper = { ...DEFAULT_HYPER, ...opts.hyper }
  const { channels, height, width } = spec.input
  const numClasses = summary.outputShape?.[0] ?? 0

  const body: string[] = []
  summary.layers.forEach((row, i) => {
    const modules = layerModules(spec.layers[i], row.inputShape)
    const comment = `# ${i + 1}: ${commentText(row.label)} -> ${formatShape(row.outputShape)}`
    body.push(`            ${comment}`)
    for (const m of modules) body.push(`            ${m},`)
  })

  const dataset = opts.dataset
  const datasetLine = dataset
    ? `# Dataset: ${commentText(dataset.title ?? dataset.name)} (${numClasses} classes)`
    : '# Dataset: none given; without --train-images the script trains on random data.'
  const classNames = dataset?.classes?.length
    ? `[${dataset.classes.map(pyString).join(', ')}]`
    : 'None'

  return `#!/usr/bin/env python3
# ${commentText(spec.name)}: exported from CNN Workbench.
${datasetLine}
# Input ${channels}×${height}×${width}, ${numClasses} classes, ${summary.trainableParams} trainable parameters.
#
#   python3 model.py --dry-run        print the output shape and parameter count as JSON
#   python3 model.py --train-images train-images-idx3-ubyte.gz --train-labels train-labels-idx1-ubyte.gz
#   python3 model.py                  train a few batches on random data
import argparse
import gzip
import json
import struct

import torch
from torch import nn

INPUT_SHAPE = (${channels}, ${height}, ${width})
NUM_CLASSES = ${numClasses}
CLASS_NAMES = ${classNames}
LEARNING_RATE = ${hyper.learningRate}
BATCH_SIZE = ${hyper.batchSize}
EPOCHS = ${hyper.epochs}
SEED = ${hyper.seed}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
${body.join('\n')}
        )

    def forward(self, x):
        return self.layers(x)


def read_idx(path):
    """Reads an IDX file (optionally gzipped) into a uint8 tensor."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(path + " is not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim :]), dtype=torch.uint8)
    return data.reshape(dims)


def load_images(path):
    images = read_idx(path).float() / 255.0
    if images.dim() == 3:
        images = images.unsqueeze(1)
    elif images.shape[-1] == INPUT_SHAPE[0] and images.shape[1] != INPUT_SHAPE[0]:
        images = images.permute(0, 3, 1, 2)
    if tuple(images.shape[1:]) != INPUT_SHAPE:
        raise ValueError("images are %s but the model expects %s" % (tuple(images.shape[1:]), INPUT_SHAPE))
    return images


def random_data(count):
    return torch.randn(count, *INPUT_SHAPE), torch.randint(0, NUM_CLASSES, (count,))


def count_params(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    return trainable, buffers


def evaluate(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), BATCH_SIZE):
            logits = model(images[start : start + BATCH_SIZE])
            correct += (logits.argmax(1) == labels[start : start + BATCH_SIZE]).sum().item()
    return correct / max(len(images), 1)


def train(model, images, labels, epochs):
    optimizer = ${TORCH_OPTIMIZERS[hyper.optimizer]}
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images))
        total_loss = 0.0
        for start in range(0, len(images), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(model(images[idx]), labels[idx])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
        accuracy = evaluate(model, images, labels)
        print("epoch %d: loss %.4f, train accuracy %.3f" % (epoch + 1, total_loss / len(images), accuracy))


def main():
    parser = argparse.ArgumentParser(description="Train the exported CNN Workbench model.")
    parser.add_argument("--dry-run", action="store_true", help="print shapes and parameter counts only")
    parser.add_argument("--train-images")
    parser.add_argument("--train-labels")
    parser.add_argument("--test-images")
    parser.add_argument("--test-labels")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()

    torch.manual_seed(SEED)
    model = Net()
    if args.dry_run:
        model.eval()
        with torch.no_grad():
            output = model(torch.zeros(1, *INPUT_SHAPE))
        trainable, buffers = count_params(model)
        print(json.dumps({"params": trainable, "nonTrainable": buffers, "output": list(output.shape[1:])}))
        return

    if args.train_images and args.train_labels:
        images, labels = load_images(args.train_images), read_idx(args.train_labels).long()
    else:
        print("no --train-images given: training on random data to show the loop runs")
        images, labels = random_data(BATCH_SIZE * 4)
    train(model, images, labels, args.epochs)
    if args.test_images and args.test_labels:
        test_images, test_labels = load_images(args.test_images), read_idx(args.test_labels).long()
        print("test accuracy %.3f" % evaluate(model, test_images, test_labels))


if __name__ == "__main__":
    main()
`
}

/**
 * Where each spec layer's weighted module sits in `Net.layers` (nn.Sequential counts every
 * module, so activations and padding shift the indices): the state-dict prefix `layers.N`.
 */
export function torchModuleIndices(spec: ModelSpec): number[] {
  const summary = summaryForExport(spec)
  let next = 0
  return summary.layers.map((row, i) => {
    const modules = layerModules(spec.layers[i], row.inputShape)
    const weighted = modules.findIndex((m) => /^nn\.(Conv2d|Linear|BatchNorm[12]d)\(/.test(m))
    const index = next + Math.max(weighted, 0)
    next += modules.length
    return index
  })
}
