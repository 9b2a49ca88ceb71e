#!/usr/bin/env python3
# Trains a CNN Workbench run's recipe (run.json next to this file) with PyTorch: alone on a CPU
# or a GPU, or under torchrun with DistributedDataParallel. Writes a run folder the workbench
# imports (`cnn-workbench runs import OUT`). Works with PyTorch 1.13 and 2.x; needs numpy.
#
#   python3 train.py                                     one process (CUDA when present)
#   torchrun --standalone --nproc_per_node 4 train.py    four processes on this machine
#   python3 train.py --evaluate-only                     test accuracy of weights.safetensors
#
# Every random choice that decides the data (validation split, subset, epoch order with one
# process) is the workbench's own mulberry32 generator ported below, so the same run.json gives
# the same samples here as in the workbench.
import argparse
import gzip
import hashlib
import json
import math
import os
import struct
import sys
import tarfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

# A notebook cell has no __file__: the working folder stands in.
HERE = os.path.dirname(os.path.abspath(globals().get("__file__", "train.py")))
RUN_FORMAT = "cnn-workbench.pytorch-run/1"
RECIPE_FORMAT = "cnn-workbench.pytorch-recipe/1"
MIN_STD = 1e-6
LOSS_EXPLOSION_FACTOR = 10
EVAL_BATCH = 1000
IDX_NAMES = {
    "trainImages": ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
    "trainLabels": ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
    "testImages": ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte", "test-images-idx3-ubyte"],
    "testLabels": ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte", "test-labels-idx1-ubyte"],
}
CIFAR_TRAIN = ["data_batch_%d.bin" % n for n in range(1, 6)]
CIFAR_TEST = "test_batch.bin"


class RecipeError(Exception):
    """A problem the learner can fix; printed as one line (a JSON error line with --json)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- seeded randomness (mulberry32)

def _imul(a, b):
    return (a * b) & 0xFFFFFFFF


class Mulberry32:
    """The workbench's seededRandom (src/shared/random.ts), bit for bit."""

    def __init__(self, seed):
        self.a = seed & 0xFFFFFFFF

    def __call__(self):
        self.a = (self.a + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.a
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0


def shuffle_in_place(a, random):
    """Fisher-Yates from the end, as shuffleInPlace in src/engine/data.ts."""
    for i in range(len(a) - 1, 0, -1):
        j = int(math.floor(random() * (i + 1)))
        a[i], a[j] = a[j], a[i]
    return a


def js_round(x):
    """JavaScript's Math.round: halves go up."""
    return int(math.floor(x + 0.5))


def plan_split(train_count, validation_split, seed, limit=None):
    """planSplit: a seeded validation fraction, then the first `limit` of the rest (file order)."""
    val_count = js_round(train_count * validation_split)
    shuffled = shuffle_in_place(list(range(train_count)), Mulberry32(seed ^ 0x5EED))
    is_val = bytearray(train_count)
    for i in range(val_count):
        is_val[shuffled[i]] = 1
    validation = [i for i in range(train_count) if is_val[i]]
    rest = [i for i in range(train_count) if not is_val[i]]
    train = rest[:limit] if limit is not None and limit < len(rest) else rest
    return train, validation


def plan_stratified_split(labels, class_count, validation_split, seed, limit=None):
    """planStratifiedSplit: the same fraction of each class to validation, a limit in proportion."""
    by_class = [[] for _ in range(class_count)]
    for i, label in enumerate(labels):
        by_class[int(label)].append(i)
    random = Mulberry32(seed ^ 0x57A7)
    validation, rest = [], []
    for members in by_class:
        shuffled = shuffle_in_place(list(members), random)
        val_count = js_round(len(members) * validation_split)
        validation.extend(shuffled[:val_count])
        rest.append(shuffled[val_count:])
    available = sum(len(r) for r in rest)
    wanted = available if limit is None else min(limit, available)
    exact = [(len(r) * wanted) / available if available > 0 else 0 for r in rest]
    quota = [int(math.floor(x)) for x in exact]
    missing = wanted - sum(quota)
    order = sorted(range(len(exact)), key=lambda c: (-(exact[c] - math.floor(exact[c])), c))
    for c in order:
        if missing <= 0:
            break
        if quota[c] < len(rest[c]):
            quota[c] += 1
            missing -= 1
    train = sorted(i for c, r in enumerate(rest) for i in r[: quota[c]])
    return train, sorted(validation)


def plan_for_hyper(labels, class_count, hyper):
    limit = hyper.get("limit")
    if hyper.get("subset") == "stratified":
        return plan_stratified_split(labels, class_count, hyper["validationSplit"], hyper["seed"], limit)
    return plan_split(len(labels), hyper["validationSplit"], hyper["seed"], limit)


# ---------------------------------------------------------------- dataset files

def read_bytes(path):
    """A file's bytes, gunzipped when it starts with the gzip magic number."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise RecipeError("DATASET_ERROR", "Cannot read %s (%s). Pass --data DIR with the dataset's files." % (path, err.strerror))
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw


def content_sha256(path):
    return hashlib.sha256(read_bytes(path)).hexdigest()


def parse_idx(raw, label):
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise RecipeError("DATASET_ERROR", "%s is not an unsigned-byte IDX file." % label)
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    size = int(np.prod(dims)) if dims else 0
    body = raw[4 + 4 * ndim :]
    if len(body) != size:
        raise RecipeError("DATASET_ERROR", "%s declares %d bytes of data but has %d." % (label, size, len(body)))
    return np.frombuffer(bytearray(body), dtype=np.uint8).reshape(dims)


def idx_images(path):
    """NCHW uint8 images from an IDX file of [n, h, w] or [n, h, w, c]."""
    arr = parse_idx(read_bytes(path), path)
    if arr.ndim == 3:
        arr = arr[:, None, :, :]
    elif arr.ndim == 4:
        arr = arr.transpose(0, 3, 1, 2)
    else:
        raise RecipeError("DATASET_ERROR", "%s has %d dimensions; image files have 3 or 4." % (path, arr.ndim))
    return np.ascontiguousarray(arr)


def cifar_split(paths, names):
    """CIFAR-10 binary batches (or a cifar-10-binary tar archive) as NCHW uint8 + labels."""
    chunks = []
    for path in paths:
        if tarfile.is_tarfile(path):
            with tarfile.open(path) as tar:
                members = {os.path.basename(m.name): m for m in tar.getmembers() if m.isfile()}
                for name in names:
                    if name not in members:
                        raise RecipeError("DATASET_ERROR", "%s lacks %s." % (path, name))
                    chunks.append(tar.extractfile(members[name]).read())
        else:
            chunks.append(read_bytes(path))
    data = np.frombuffer(bytearray(b"".join(chunks)), dtype=np.uint8)
    if data.size % 3073 != 0:
        raise RecipeError("DATASET_ERROR", "%s is not a whole number of CIFAR-10 records." % ", ".join(paths))
    records = data.reshape(-1, 3073)
    return np.ascontiguousarray(records[:, 1:].reshape(-1, 3, 32, 32)), records[:, 0].astype(np.int64)


def find_idx_files(folder):
    found = {}
    entries = os.listdir(folder)
    for role, names in IDX_NAMES.items():
        for name in names:
            for candidate in (name, name + ".gz"):
                if candidate in entries:
                    found[role] = os.path.join(folder, candidate)
                    break
            if role in found:
                break
    return found


def files_from_data_dir(folder, kind):
    """The dataset files in a --data folder, by their standard names."""
    if not os.path.isdir(folder):
        raise RecipeError("DATASET_ERROR", "--data %s is not a folder." % folder)
    if kind == "cifar10":
        for sub in (folder, os.path.join(folder, "cifar-10-batches-bin")):
            names = os.listdir(sub)
            if all(n in names for n in CIFAR_TRAIN + [CIFAR_TEST]):
                return {"trainFiles": [os.path.join(sub, n) for n in CIFAR_TRAIN], "testFiles": [os.path.join(sub, CIFAR_TEST)]}
        raise RecipeError("DATASET_ERROR", "%s lacks the CIFAR-10 binary files (%s, %s)." % (folder, ", ".join(CIFAR_TRAIN), CIFAR_TEST))
    found = find_idx_files(folder)
    missing = [IDX_NAMES[r][0] for r in IDX_NAMES if r not in found]
    if missing:
        raise RecipeError("DATASET_ERROR", "%s lacks %s (raw or .gz)." % (folder, ", ".join(missing)))
    return found


def check_files(recorded, paths, allow_other):
    """Refuses files whose contents differ from the ones the run was exported with."""
    for entry in recorded:
        path = paths[entry["role"]] if entry["role"] in paths else entry["path"]
        if isinstance(path, list):
            path = path[entry.get("index", 0)]
        digest = content_sha256(path)
        if digest != entry["sha256"] and not allow_other:
            raise RecipeError(
                "DATASET_ERROR",
                "%s is not the file this run was exported with (SHA-256 %s..., expected %s...). "
                "Pass the dataset's original files with --data DIR, or --allow-other-data to train on these anyway."
                % (path, digest[:12], entry["sha256"][:12]),
            )


def load_dataset(recipe, data_dir, allow_other):
    ds = recipe["dataset"]
    kind = ds["kind"]
    if data_dir:
        paths = files_from_data_dir(data_dir, kind)
    elif kind == "cifar10":
        paths = {"trainFiles": ds["trainFiles"], "testFiles": ds["testFiles"]}
    else:
        paths = {r: ds[r] for r in IDX_NAMES}
    recorded = ds.get("files", [])
    if kind == "cifar10":
        remapped = []
        for entry in recorded:
            role, index = entry["role"].split(":") if ":" in entry["role"] else (entry["role"], 0)
            remapped.append(dict(entry, role=role, index=int(index)))
        recorded = remapped
    check_files(recorded, paths, allow_other)
    if kind == "cifar10":
        train_x, train_y = cifar_split(paths["trainFiles"], CIFAR_TRAIN)
        test_x, test_y = cifar_split(paths["testFiles"], [CIFAR_TEST])
    else:
        train_x = idx_images(paths["trainImages"])
        train_y = parse_idx(read_bytes(paths["trainLabels"]), paths["trainLabels"]).astype(np.int64)
        test_x = idx_images(paths["testImages"])
        test_y = parse_idx(read_bytes(paths["testLabels"]), paths["testLabels"]).astype(np.int64)
    shape = tuple(recipe["spec"]["input"][k] for k in ("channels", "height", "width"))
    for split, x, y in (("training", train_x, train_y), ("test", test_x, test_y)):
        if tuple(x.shape[1:]) != shape:
            raise RecipeError("DATASET_ERROR", "the %s images are %s but the model takes %s." % (split, tuple(x.shape[1:]), shape))
        if len(x) != len(y):
            raise RecipeError("DATASET_ERROR", "the %s split has %d images but %d labels." % (split, len(x), len(y)))
        if len(y) and int(y.max()) >= len(recipe["classes"]):
            raise RecipeError("DATASET_ERROR", "the %s labels go up to %d but the run has %d classes." % (split, int(y.max()), len(recipe["classes"])))
    return torch.from_numpy(train_x), torch.from_numpy(train_y), torch.from_numpy(test_x), torch.from_numpy(test_y)


# ---------------------------------------------------------------- normalization (src/engine/preprocess.ts)

def pixel_stats(images_u8):
    """Per-channel mean and std on the 0-1 scale of the training indices' images (NCHW uint8)."""
    channels = images_u8.shape[1]
    mean, std = [], []
    for c in range(channels):
        plane = images_u8[:, c].to(torch.float64) / 255.0
        m = plane.mean().item()
        sq = (plane * plane).mean().item()
        mean.append(m)
        std.append(math.sqrt(max(0.0, sq - m * m)))
    return {"mean": mean, "std": std}


class Normalizer:
    def __init__(self, preprocessing):
        self.mode = preprocessing.get("normalization", "unit")
        self.mean = preprocessing.get("mean")
        self.std = preprocessing.get("std")

    def __call__(self, batch_u8):
        x = batch_u8.to(torch.float64) / 255.0
        if self.mode == "none":
            x = x * 255.0
        elif self.mode == "centered":
            x = (x - 0.5) / 0.5
        elif self.mode == "dataset":
            mean = torch.tensor(self.mean, dtype=torch.float64).view(1, -1, 1, 1)
            scale = 1.0 / torch.tensor(self.std, dtype=torch.float64).clamp(min=MIN_STD).view(1, -1, 1, 1)
            x = (x - mean) * scale
        elif self.mode == "sample":
            flat = x.reshape(len(x), -1)
            size = flat.shape[1]
            m = flat.mean(1, keepdim=True)
            var = ((flat * flat).mean(1, keepdim=True) - m * m).clamp(min=0)
            s = var.sqrt().clamp(min=1.0 / math.sqrt(size))
            x = ((flat - m) / s).reshape(x.shape)
        return x.to(torch.float32)


# ---------------------------------------------------------------- safetensors (no pickle)

DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I64": (torch.int64, 8)}


def write_safetensors(path, tensors, metadata=None):
    """Writes named tensors as safetensors: 8-byte header length, JSON header, raw data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        dtype = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}[t.dtype]
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path):
    """Named tensors and metadata from a safetensors file, every offset and size checked."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] == b"PK\x03\x04" or (raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") and raw[8:9] != b"{"):
        raise RecipeError("INVALID_MODEL", "%s is a pickle/zip file (torch.save); only safetensors weights are read." % path)
    if len(raw) < 8:
        raise RecipeError("INVALID_MODEL", "%s is too short to be a safetensors file." % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise RecipeError("INVALID_MODEL", "%s: the header length %d runs past the end of the file." % (path, n))
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    body = raw[8 + n :]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in DTYPES:
            raise RecipeError("INVALID_MODEL", "%s: tensor %s has dtype %s; expected F32." % (path, name, entry["dtype"]))
        dtype, size = DTYPES[entry["dtype"]]
        start, end = entry["data_offsets"]
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        if not (0 <= start <= end <= len(body)) or end - start != count * size:
            raise RecipeError("INVALID_MODEL", "%s: tensor %s has data offsets that do not fit its shape or the file." % (path, name))
        np_dtype = {torch.float32: "<f4", torch.float64: "<f8", torch.int64: "<i8"}[dtype]
        arr = np.frombuffer(body[start:end], dtype=np_dtype).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, metadata


def model_tensors(model):
    """The state dict without num_batches_tracked (the workbench has no such counter)."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def load_model_weights(model, tensors, source):
    expected = model_tensors(model)
    for name, t in expected.items():
        if name not in tensors:
            raise RecipeError("INVALID_MODEL", "%s lacks tensor %s." % (source, name))
        if tuple(tensors[name].shape) != tuple(t.shape):
            raise RecipeError("INVALID_MODEL", "%s: tensor %s is %s but the model needs %s." % (source, name, list(tensors[name].shape), list(t.shape)))
    state = model.state_dict()
    for name in expected:
        state[name] = tensors[name].to(state[name].dtype)
    model.load_state_dict(state)


def optimizer_tensors(optimizer):
    """Optimizer state as flat named tensors; step counts go in the metadata."""
    tensors, steps = {}, {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if key == "step":
                steps[str(index)] = float(value)
            elif torch.is_tensor(value):
                tensors["optimizer.%s.%s" % (index, key)] = value.to(torch.float32)
    return tensors, steps


def restore_optimizer(optimizer, tensors, steps):
    saved = optimizer.state_dict()
    state = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, step in steps.items():
        state.setdefault(int(index), {})["step"] = torch.tensor(float(step))
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


# ---------------------------------------------------------------- training

def learning_rate_at(hyper, epoch, progress=0.0):
    """learningRateAt: StepLR per epoch, or CosineAnnealingLR per batch (progress: the fraction
    of the epoch done), epoch counted from 1."""
    done = epoch - 1
    if hyper["schedule"] == "step":
        return hyper["learningRate"] * hyper["gamma"] ** (done // hyper["stepSize"])
    if hyper["schedule"] == "cosine":
        return hyper["learningRate"] * (1 + math.cos(math.pi * (done + progress) / hyper["epochs"])) / 2
    return hyper["learningRate"]


def make_optimizer(params, hyper):
    lr, wd = hyper["learningRate"], hyper.get("weightDecay", 0)
    name = hyper["optimizer"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=hyper["momentum"], weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(hyper["beta1"], hyper["beta2"]), eps=1e-8, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=hyper["rho"], eps=1e-8, weight_decay=wd)
    raise RecipeError("BAD_REQUEST", "unknown optimizer %s" % name)


def evaluate(model, images, labels, normalize, device, num_classes):
    """Mean loss, accuracy and the confusion matrix (rows: true class) over a whole split."""
    model.eval()
    loss_sum, matrix = 0.0, torch.zeros(num_classes, num_classes, dtype=torch.int64)
    with torch.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            x = normalize(images[start : start + EVAL_BATCH]).to(device)
            y = labels[start : start + EVAL_BATCH].to(device)
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            pred = logits.argmax(1)
            matrix += torch.bincount((y * num_classes + pred).cpu(), minlength=num_classes * num_classes).view(num_classes, num_classes)
    count = max(len(images), 1)
    correct = int(matrix.diag().sum())
    return loss_sum / count, correct / count, matrix


def test_report(model, test_x, test_y, normalize, device, num_classes):
    loss, accuracy, matrix = evaluate(model, test_x, test_y, normalize, device, num_classes)
    per_count = matrix.sum(1).tolist()
    per_class = [(matrix[c, c].item() / per_count[c]) if per_count[c] else None for c in range(num_classes)]
    return {
        "testAccuracy": accuracy,
        "testLoss": loss,
        "testCount": len(test_x),
        "perClassAccuracy": per_class,
        "perClassCount": per_count,
        "confusionMatrix": matrix.tolist(),
    }


def emit(args, rank, event, text):
    if rank != 0:
        return
    if args.json:
        print(json.dumps(event), flush=True)
    elif text:
        print(text, flush=True)


def fail(args, err):
    if args.json:
        print(json.dumps({"event": "error", "code": err.code, "message": str(err)}), flush=True)
    else:
        print("Error (%s): %s" % (err.code, err), file=sys.stderr, flush=True)
    return 1


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train a CNN Workbench run recipe with PyTorch (alone or under torchrun).")
    p.add_argument("--recipe", default=os.path.join(HERE, "run.json"), help="the run recipe (default: run.json next to train.py)")
    p.add_argument("--data", help="folder with the dataset files (IDX raw or .gz, or CIFAR-10 binary); default: the files recorded at export")
    p.add_argument("--allow-other-data", action="store_true", help="train even if the files differ from the recorded SHA-256")
    p.add_argument("--out", default="./workbench-run", help="output run folder, written by rank 0 (default ./workbench-run)")
    p.add_argument("--epochs", type=int, help="epochs (default: the recipe's); 0 only evaluates --weights")
    p.add_argument("--limit", type=int, help="train on the first N training samples (default: the recipe's)")
    p.add_argument("--batch-size", type=int, help="batch size per process (default: the recipe's batch divided by the process count)")
    p.add_argument("--weights", help="start from (or with --evaluate-only, evaluate) these safetensors weights")
    p.add_argument("--evaluate-only", action="store_true", help="evaluate --weights (default weights.safetensors here) on the test split")
    p.add_argument("--resume", action="store_true", help="go on from the last checkpoint in --out")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    p.add_argument("--json", action="store_true", help="print JSON lines like `cnn-workbench train --json`")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except RecipeError as err:
        return fail(args, err)


def run(args):
    with open(args.recipe) as f:
        recipe = json.load(f)
    if recipe.get("format") != RECIPE_FORMAT:
        raise RecipeError("BAD_REQUEST", "%s is not a CNN Workbench PyTorch recipe." % args.recipe)
    hyper = dict(recipe["hyper"])
    if args.limit is not None:
        hyper["limit"] = args.limit
    if args.epochs is not None:
        hyper["epochs"] = args.epochs
    evaluate_only = args.evaluate_only or hyper["epochs"] == 0

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if args.device:
        device = torch.device(args.device)
    elif torch.cuda.is_available():
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
    else:
        device = torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    distributed = world > 1 and not evaluate_only
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"

    sys.path.insert(0, os.path.dirname(os.path.abspath(args.recipe)))
    from model import Net  # noqa: E402  (model.py sits next to run.json)

    torch.manual_seed(hyper["seed"])
    model = Net().to(device)
    num_classes = len(recipe["classes"])
    train_x, train_y, test_x, test_y = load_dataset(recipe, args.data, args.allow_other_data)
    train_idx, val_idx = plan_for_hyper(train_y.tolist(), num_classes, hyper)
    preprocessing = dict(recipe.get("preprocessing") or {"normalization": hyper.get("normalization", "unit")})
    if preprocessing["normalization"] == "dataset" and not preprocessing.get("mean"):
        preprocessing.update(pixel_stats(train_x[torch.tensor(train_idx, dtype=torch.long)]))
    normalize = Normalizer(preprocessing)

    if evaluate_only:
        path = args.weights or os.path.join(os.path.dirname(os.path.abspath(args.recipe)), "weights.safetensors")
        if not os.path.exists(path):
            raise RecipeError("NOT_FOUND", "%s is missing: export the run with its weights, or pass --weights FILE." % path)
        tensors, _ = read_safetensors(path)
        load_model_weights(model, tensors, path)
        report = test_report(model, test_x, test_y, normalize, device, num_classes)
        emit(args, rank, dict({"event": "done", "status": "evaluated", "weights": path, "device": device_name}, **report),
             "Test accuracy %.2f %%, test loss %.4f on %d test images (%s)" % (report["testAccuracy"] * 100, report["testLoss"], report["testCount"], path))
        return 0
    if args.weights:
        tensors, _ = read_safetensors(args.weights)
        load_model_weights(model, tensors, args.weights)

    per_process = args.batch_size or max(1, -(-hyper["batchSize"] // world))
    ddp_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if distributed else model
    optimizer = make_optimizer(ddp_model.parameters(), hyper)
    out = os.path.abspath(args.out)
    ckpt_path = os.path.join(out, "checkpoint.safetensors")
    train_x_sel = train_x[torch.tensor(train_idx, dtype=torch.long)]
    train_y_sel = train_y[torch.tensor(train_idx, dtype=torch.long)]
    val_x = train_x[torch.tensor(val_idx, dtype=torch.long)] if val_idx else None
    val_y = train_y[torch.tensor(val_idx, dtype=torch.long)] if val_idx else None
    n = len(train_idx)

    first_epoch, val_losses, first_loss, metrics = 1, [], None, []
    if args.resume:
        if not os.path.exists(ckpt_path):
            raise RecipeError("NOT_FOUND", "%s has no checkpoint to resume from." % out)
        tensors, meta = read_safetensors(ckpt_path)
        load_model_weights(model, {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}, ckpt_path)
        restore_optimizer(optimizer, tensors, json.loads(meta.get("steps", "{}")))
        first_epoch = int(meta["epoch"]) + 1
        val_losses = json.loads(meta.get("valLosses", "[]"))
        first_loss = json.loads(meta.get("firstLoss", "null"))
        metrics = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl")) if l.strip()][: first_epoch - 1]

    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if rank == 0:
        os.makedirs(out, exist_ok=True)
    emit(args, rank, {"event": "start", "backend": "pytorch", "engine": "pytorch", "version": torch.__version__, "device": device_name,
                      "worldSize": world, "batchPerProcess": per_process, "globalBatch": per_process * world, "params": params,
                      "trainCount": n, "validationCount": len(val_idx), "runDir": out},
         "Training %s (%s parameters) with PyTorch %s on %s, %d process%s, batch %d per process = %d global, %d training images"
         % (recipe["spec"]["name"], format(params, ","), torch.__version__, device_name, world, "" if world == 1 else "es", per_process, per_process * world, n))

    random = Mulberry32(hyper["seed"])
    for _ in range(1, first_epoch):
        if world == 1:
            shuffle_in_place(list(range(n)), random)
    sampler = torch.utils.data.distributed.DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=hyper["seed"]) if distributed else None
    status, note, epochs_done = "completed", None, first_epoch - 1
    started = time.time()
    for epoch in range(first_epoch, hyper["epochs"] + 1):
        lr = learning_rate_at(hyper, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if sampler is not None:
            sampler.set_epoch(epoch)
            order = list(sampler)
        else:
            order = shuffle_in_place(list(range(n)), random)
        # Dropout draws from torch's generator: seeded per epoch and rank, so --resume repeats it.
        torch.manual_seed(hyper["seed"] * 1000 + epoch * 16 + rank)
        ddp_model.train()
        order_t = torch.tensor(order, dtype=torch.long)
        sums = torch.zeros(3, dtype=torch.float64)
        epoch_start = time.time()
        steps = -(-len(order_t) // per_process)
        for start in range(0, len(order_t), per_process):
            if start > 0 and hyper["schedule"] == "cosine":
                # Cosine anneals every batch, as the workbench's trainer does.
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate_at(hyper, epoch, (start // per_process) / steps)
            idx = order_t[start : start + per_process]
            x = normalize(train_x_sel[idx]).to(device)
            y = train_y_sel[idx].to(device)
            optimizer.zero_grad()
            logits = ddp_model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            value = loss.item()
            if not math.isfinite(value):
                raise RecipeError("LOSS_DIVERGED", "The training loss became %s in epoch %d: the learning rate (%g) is probably too high." % (value, epoch, hyper["learningRate"]))
            sums += torch.tensor([value * len(idx), (logits.argmax(1) == y).sum().item(), len(idx)], dtype=torch.float64)
        if distributed:
            dist.all_reduce(sums)
        seconds = time.time() - epoch_start
        loss_sum, correct, seen = sums.tolist()
        epoch_loss = loss_sum / seen
        first_loss = epoch_loss if first_loss is None else first_loss
        if epoch_loss > LOSS_EXPLOSION_FACTOR * first_loss:
            raise RecipeError("LOSS_DIVERGED", "The training loss exploded from %.3f to %.3f in epoch %d." % (first_loss, epoch_loss, epoch))
        # Every rank evaluates the (small) validation split, so all take the same early-stopping decision.
        val_loss, val_acc = (evaluate(model, val_x, val_y, normalize, device, num_classes)[:2] if val_x is not None else (None, None))
        m = {"epoch": epoch, "loss": epoch_loss, "accuracy": correct / seen, "valLoss": val_loss, "valAccuracy": val_acc,
             "seconds": seconds, "samplesPerSecond": seen / max(seconds, 1e-9), "learningRate": lr}
        metrics.append(m)
        val_losses.append(val_loss)
        epochs_done = epoch
        if rank == 0:
            with open(os.path.join(out, "metrics.jsonl"), "w") as f:
                f.write("".join(json.dumps(x) + "\n" for x in metrics))
            opt_t, steps = optimizer_tensors(optimizer)
            tensors = {"model." + k: v for k, v in model_tensors(model).items()}
            tensors.update(opt_t)
            write_safetensors(ckpt_path, tensors, {"epoch": epoch, "steps": json.dumps(steps), "valLosses": json.dumps(val_losses), "firstLoss": json.dumps(first_loss)})
        val_text = "" if val_acc is None else ", validation loss %.4f accuracy %.2f %%" % (val_loss, val_acc * 100)
        emit(args, rank, dict({"event": "epoch"}, **m), "epoch %d: train loss %.4f accuracy %.2f %%%s (%.1f s, %d samples/s)"
             % (epoch, epoch_loss, correct / seen * 100, val_text, seconds, m["samplesPerSecond"]))
        if hyper.get("earlyStopping", 0) > 0 and val_loss is not None and epoch < hyper["epochs"]:
            best = min(((l, i + 1) for i, l in enumerate(val_losses) if l is not None), default=None)
            if best is not None and epoch - best[1] >= hyper["earlyStopping"]:
                note = ("Early stopping: validation loss has not improved for %d epochs (best %.4f after epoch %d), so training ended after epoch %d."
                        % (hyper["earlyStopping"], best[0], best[1], epoch))
                break

    if rank == 0:
        report = test_report(model, test_x, test_y, normalize, device, num_classes)
        write_safetensors(os.path.join(out, "weights.safetensors"), model_tensors(model))
        write_json(os.path.join(out, "evaluation.json"), report)
        record = {
            "format": RUN_FORMAT,
            "name": recipe.get("name") or recipe["spec"]["name"],
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "status": status,
            "spec": recipe["spec"],
            "dataset": recipe["dataset"]["name"],
            "classes": recipe["classes"],
            "hyper": dict(recipe["hyper"], epochs=hyper["epochs"], **({"limit": hyper["limit"]} if hyper.get("limit") else {})),
            "preprocessing": preprocessing,
            "epochsDone": epochs_done,
            "params": params,
            "test": {k: report[k] for k in ("testAccuracy", "testLoss", "testCount")},
            "trainedBy": {"engine": "pytorch", "version": torch.__version__, "device": device_name, "worldSize": world,
                          "batchPerProcess": per_process, "globalBatch": per_process * world},
        }
        if note:
            record["note"] = note
        write_json(os.path.join(out, "run.json"), record)
        if note:
            emit(args, rank, {"event": "note", "note": note}, note)
        emit(args, rank, dict({"event": "done", "status": status, **({"note": note} if note else {}), "runDir": out},
                              **{k: report[k] for k in ("testAccuracy", "testLoss", "testCount", "perClassAccuracy", "confusionMatrix")}),
             "Done: test accuracy %.2f %%, test loss %.4f on %d test images. Run saved in %s (import it with `cnn-workbench runs import %s`)."
             % (report["testAccuracy"] * 100, report["testLoss"], report["testCount"], out, out))
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
