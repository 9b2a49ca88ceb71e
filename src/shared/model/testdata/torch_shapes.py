"""Builds each model from stdin as a PyTorch nn.Sequential and prints per-layer shapes and params.

Input (stdin): {"cases": [{"input": {"channels", "height", "width"}, "layers": [...]}, ...]}
Output (stdout): [{"shapes": [[...], ...], "params": [...], "nonTrainable": [...]}
                  or {"error": "..."}, ...]
Layers are model-file layers with every default filled in. One model-file layer becomes one
nn.Sequential block (a conv2d with its activation is one block), so shapes line up row by row.
"""
import json
import sys

import torch
from torch import nn


def pair(size):
    return tuple(size) if isinstance(size, list) else (size, size)


def activation(name):
    return {
        "relu": nn.ReLU(),
        "tanh": nn.Tanh(),
        "sigmoid": nn.Sigmoid(),
        "leakyRelu": nn.LeakyReLU(0.01),
        "elu": nn.ELU(alpha=1.0),
        "linear": None,
    }[name]


def block(layer, shape):
    kind = layer["type"]
    mods = []
    if kind == "conv2d":
        padding = layer["padding"]
        if padding == "valid":
            padding = 0
        mods.append(
            nn.Conv2d(
                shape[0],
                layer["filters"],
                pair(layer["kernelSize"]),
                stride=pair(layer["stride"]),
                padding=padding,
                bias=layer["useBias"],
            )
        )
        act = activation(layer["activation"])
    elif kind in ("maxPool2d", "avgPool2d"):
        cls = nn.MaxPool2d if kind == "maxPool2d" else nn.AvgPool2d
        stride = layer.get("stride") or layer["poolSize"]
        mods.append(cls(pair(layer["poolSize"]), stride=pair(stride)))
        act = None
    elif kind == "flatten":
        mods.append(nn.Flatten())
        act = None
    elif kind == "dense":
        mods.append(nn.Linear(shape[0], layer["units"], bias=layer["useBias"]))
        act = activation(layer["activation"])
    elif kind == "dropout":
        mods.append(nn.Dropout(layer["rate"]))
        act = None
    elif kind == "batchNorm":
        mods.append(nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0]))
        act = None
    elif kind == "activation":
        act = activation(layer["fn"])
    else:
        raise ValueError("unknown layer type " + kind)
    if act is not None:
        mods.append(act)
    return nn.Sequential(*mods)


def run_case(case):
    inp = case["input"]
    shape = [inp["channels"], inp["height"], inp["width"]]
    x = torch.zeros(1, *shape)
    shapes, params, non_trainable = [], [], []
    with torch.no_grad():
        for layer in case["layers"]:
            mod = block(layer, shape).eval()
            x = mod(x)
            shape = list(x.shape[1:])
            shapes.append(shape)
            params.append(sum(p.numel() for p in mod.parameters() if p.requires_grad))
            non_trainable.append(
                sum(b.numel() for n, b in mod.named_buffers() if not n.endswith("num_batches_tracked"))
            )
    return {"shapes": shapes, "params": params, "nonTrainable": non_trainable}


def main():
    torch.set_num_threads(1)
    cases = json.load(sys.stdin)["cases"]
    results = []
    for case in cases:
        try:
            results.append(run_case(case))
        except Exception as err:  # a shape error is an expected answer, not a crash
            results.append({"error": str(err).splitlines()[0]})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
