import type { Preprocessing } from '../contract/types'
import type { WeightTensor } from '../engine-protocol'
import type { Hyper } from '../hyper'
import type { ModelSpec } from '../model/spec'
import { serializeModel } from '../model/model-file'
import { exportPytorch } from './pytorch'
import { encodeSafetensors } from './safetensors'
import { toTorchTensors } from './torch-layout'
import { TRAIN_PY as trainPy } from './templates/train-py'

/** Format tag of the recipe (run.json) an exported project trains from. */
export const PYTORCH_RECIPE_FORMAT = 'cnn-workbench.pytorch-recipe/1'
/** Format tag of the run folder train.py writes (and `runs import` reads). */
export const PYTORCH_RUN_FORMAT = 'cnn-workbench.pytorch-run/1'
export const PYTORCH_WEIGHTS_FILE = 'weights.safetensors'

/** One dataset file as recorded at export: train.py refuses a file whose contents differ. */
export interface RecordedFile {
  /** trainImages, trainLabels, testImages, testLabels; or trainFiles:N / testFiles:N for CIFAR-10. */
  role: string
  path: string
  /** SHA-256 of the file's contents, after gunzip when it is gzipped (so .gz and raw agree). */
  sha256: string
}

/** Where the data is: the dataset source's paths and their recorded hashes. */
export type RecipeDataset =
  | {
      name: string
      kind: 'idx'
      trainImages: string
      trainLabels: string
      testImages: string
      testLabels: string
      files: RecordedFile[]
    }
  | { name: string; kind: 'cifar10'; trainFiles: string[]; testFiles: string[]; files: RecordedFile[] }

/** Everything an exported project is made from. */
export interface ProjectInput {
  name: string
  spec: ModelSpec
  hyper: Hyper
  classes: string[]
  dataset: RecipeDataset
  /** The run's recorded scaling (with its training-split statistics); train.py computes it otherwise. */
  preprocessing?: Preprocessing
  /** Trained weights (engine order and layout); written as weights.safetensors in PyTorch layout. */
  weights?: readonly WeightTensor[]
  /** The run this was exported from, if any. */
  runId?: string
}

/** The recipe train.py reads: spec, hyperparameters, classes, data files, scaling. */
export function buildRecipe(input: ProjectInput): Record<string, unknown> {
  return {
    format: PYTORCH_RECIPE_FORMAT,
    name: input.name,
    ...(input.runId ? { exportedFrom: input.runId } : {}),
    spec: JSON.parse(serializeModel(input.spec)) as unknown,
    hyper: input.hyper,
    classes: input.classes,
    dataset: input.dataset,
    ...(input.preprocessing ? { preprocessing: input.preprocessing } : {})
  }
}

function readme(input: ProjectInput): string {
  const h = input.hyper
  const weights = input.weights
    ? `\n\`weights.safetensors\` holds the weights trained in the workbench (PyTorch layout). Their test accuracy under\nPyTorch:\n\n    python3 train.py --evaluate-only\n`
    : ''
  return `# ${input.name}: a CNN Workbench run as a PyTorch project

Files: \`model.py\` (the network, \`class Net\`), \`train.py\` (the run's recipe: data files and their
SHA-256, train/validation split with the same seeded indices as the workbench, subset, normalization
\`${h.normalization}\`, optimizer \`${h.optimizer}\` lr ${h.learningRate}, weight decay ${h.weightDecay}, schedule \`${h.schedule}\`,
batch ${h.batchSize}, ${h.epochs} epochs, early stopping ${h.earlyStopping || 'off'}, seed ${h.seed}), \`run.json\` (that recipe as data).
Needs Python 3, PyTorch (1.13 or 2.x) and numpy.
${weights}
## One CPU or one GPU

    python3 train.py --out ./workbench-run

CUDA is used when PyTorch sees a GPU (\`--device cpu\` forces the CPU). Add \`--json\` for the same
start/epoch/done lines as \`cnn-workbench train --json\`.

## Several processes on one machine (DistributedDataParallel)

    torchrun --standalone --nproc_per_node 4 train.py --out ./workbench-run

(\`python3 -m torch.distributed.run\` where \`torchrun\` is not on the PATH; with PyTorch 1.13 on Python 3.11 add
\`--redirects 2 --tee 2\`, as its launcher crashes on the default 0.) Each process trains on its
share of the data through a \`DistributedSampler\`; gradients are averaged by DDP (NCCL on GPUs, gloo
on CPUs). The global batch is the per-process batch times the number of processes: by default the
per-process batch is ${h.batchSize} ÷ processes (rounded up), so the global batch stays ${h.batchSize}; \`--batch-size N\`
sets the per-process batch instead (global = N × processes, stated in the start line).

## Several machines

On each of 2 nodes with 4 GPUs (same files on every node, node 0 reachable at HOST:29500):

    torchrun --nnodes 2 --nproc_per_node 4 --node_rank 0 --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py --out ./workbench-run
    torchrun --nnodes 2 --nproc_per_node 4 --node_rank 1 --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py --out ./workbench-run

Only rank 0 writes \`--out\`.

## Data

By default train.py reads the files the run used (paths in run.json) and checks their SHA-256 first.
On another machine, copy the dataset and pass \`--data DIR\` (IDX files, raw or .gz, standard names;
or the CIFAR-10 binary batches). Different files are refused unless \`--allow-other-data\`.

## Output, and back into the workbench

\`--out\` becomes a run folder: \`run.json\` (with \`trainedBy\`: engine, version, device, process count),
\`metrics.jsonl\` (one line per epoch), \`evaluation.json\` (test accuracy, per-class accuracy, confusion
matrix on the test split), \`weights.safetensors\`, and \`checkpoint.safetensors\` after every epoch so
\`--resume\` goes on from the last one. Then:

    cnn-workbench runs import ./workbench-run
    cnn-workbench evaluate RUN_ID

or import the folder's files in the Runs tab.

## Weights file

safetensors: 8 bytes little-endian header length, a JSON header \`{name: {dtype, shape, data_offsets}}\`,
then raw little-endian float32 data; names and shapes are PyTorch's state dict (\`layers.N.weight\`,
conv weights [out, in, kh, kw], linear weights [out, in]). No pickle anywhere.
`
}

/** The project's files: model.py, train.py, README.md, run.json, and weights.safetensors with trained weights. */
export function buildPytorchProject(input: ProjectInput): Array<{ name: string; data: string | Uint8Array }> {
  const files: Array<{ name: string; data: string | Uint8Array }> = [
    { name: 'model.py', data: exportPytorch(input.spec, { hyper: input.hyper, dataset: { name: input.dataset.name, classes: input.classes } }) },
    { name: 'train.py', data: trainPy },
    { name: 'run.json', data: JSON.stringify(buildRecipe(input), null, 2) + '\n' },
    { name: 'README.md', data: readme(input) }
  ]
  if (input.weights) {
    files.push({ name: PYTORCH_WEIGHTS_FILE, data: encodeSafetensors(toTorchTensors(input.spec, input.weights)) })
  }
  return files
}

/** The Net class of model.py alone (without its small demo loop and __main__ block). */
function netClass(spec: ModelSpec): string {
  const code = exportPytorch(spec)
  const start = code.indexOf('class Net(nn.Module):')
  const end = code.indexOf('\n\ndef ', start)
  return code.slice(start, end).trimEnd()
}

/** train.py's functions, without its `__main__` block (a notebook runs its own steps). */
function trainLibrary(): string {
  return trainPy.slice(0, trainPy.lastIndexOf('if __name__ == "__main__":')).trimEnd()
}

const code = (source: string) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: lines(source) })
const markdown = (source: string) => ({ cell_type: 'markdown', metadata: {}, source: lines(source) })
function lines(text: string): string[] {
  const parts = text.split('\n')
  return parts.map((l, i) => (i < parts.length - 1 ? l + '\n' : l)).filter((l) => l !== '')
}

/**
 * The same recipe as a Jupyter notebook (nbformat 4): data checks, model summary, training with
 * live printing, curves, then (only then) per-class test accuracy and the confusion matrix. The
 * test split is never used for training or for choosing a model.
 */
export function buildNotebook(input: ProjectInput): string {
  // Quotes only occur inside JSON strings, where \u0027 means the same: the r'''…''' literal stays closed.
  const recipe = JSON.stringify(buildRecipe(input), null, 1).replace(/'/g, '\\u0027')
  const cells = [
    markdown(
      `# ${input.name}\n\nExported from CNN Workbench: the run's recipe in PyTorch, step by step. The training split is split into\ntraining and validation with the workbench's seeded indices; the **test split is used once, at the end**: never to train\nand never to choose a model or a setting (that is what the validation split is for).`
    ),
    code(`# The workbench's helpers (the same as train.py): seeded split, data files, normalization, safetensors.\n${trainLibrary()}`),
    code(`from torch import nn\n\n\n${netClass(input.spec)}`),
    code(`# The recipe: change DATA_DIR to a folder of the dataset's files if the recorded paths do not exist here.\nRECIPE = json.loads(r'''${recipe}''')\nDATA_DIR = None\nHYPER = RECIPE["hyper"]\nCLASSES = RECIPE["classes"]\nDEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")`),
    markdown('## Data checks\n\nShapes, class balance of each split, and that validation and training never share an image.'),
    code(
      `train_x, train_y, test_x, test_y = load_dataset(RECIPE, DATA_DIR, False)\ntrain_idx, val_idx = plan_for_hyper(train_y.tolist(), len(CLASSES), HYPER)\nassert not set(train_idx) & set(val_idx), "training and validation overlap"\nprint("images", tuple(train_x.shape[1:]), "training", len(train_idx), "validation", len(val_idx), "test", len(test_x))\nfor name, labels in (("training", train_y[train_idx]), ("validation", train_y[val_idx]), ("test", test_y)):\n    counts = torch.bincount(labels, minlength=len(CLASSES)).tolist() if len(labels) else [0] * len(CLASSES)\n    print("%-10s" % name, counts)\npreprocessing = dict(RECIPE.get("preprocessing") or {"normalization": HYPER["normalization"]})\nif preprocessing["normalization"] == "dataset" and not preprocessing.get("mean"):\n    preprocessing.update(pixel_stats(train_x[torch.tensor(train_idx, dtype=torch.long)]))\nnormalize = Normalizer(preprocessing)\nprint("normalization", preprocessing)`
    ),
    markdown('## The model'),
    code(
      `torch.manual_seed(HYPER["seed"])\nmodel = Net().to(DEVICE)\nprint(model)\nwith torch.no_grad():\n    print("output", tuple(model(torch.zeros(1, *train_x.shape[1:], device=DEVICE)).shape[1:]))\nprint("trainable parameters", sum(p.numel() for p in model.parameters() if p.requires_grad))`
    ),
    markdown('## Training\n\nOne line per epoch; validation loss decides early stopping. The test split is not touched here.'),
    code(
      `optimizer = make_optimizer(model.parameters(), HYPER)\nrandom = Mulberry32(HYPER["seed"])\ntr_x, tr_y = train_x[torch.tensor(train_idx, dtype=torch.long)], train_y[torch.tensor(train_idx, dtype=torch.long)]\nva_x, va_y = train_x[torch.tensor(val_idx, dtype=torch.long)], train_y[torch.tensor(val_idx, dtype=torch.long)]\nhistory = []\nfor epoch in range(1, HYPER["epochs"] + 1):\n    lr = learning_rate_at(HYPER, epoch)\n    for group in optimizer.param_groups:\n        group["lr"] = lr\n    order = torch.tensor(shuffle_in_place(list(range(len(tr_x))), random), dtype=torch.long)\n    model.train()\n    loss_sum, correct, started = 0.0, 0, time.time()\n    for start in range(0, len(order), HYPER["batchSize"]):\n        idx = order[start : start + HYPER["batchSize"]]\n        x, y = normalize(tr_x[idx]).to(DEVICE), tr_y[idx].to(DEVICE)\n        optimizer.zero_grad()\n        logits = model(x)\n        loss = F.cross_entropy(logits, y)\n        loss.backward()\n        optimizer.step()\n        loss_sum += loss.item() * len(idx)\n        correct += (logits.argmax(1) == y).sum().item()\n    val_loss, val_acc = evaluate(model, va_x, va_y, normalize, DEVICE, len(CLASSES))[:2] if len(va_x) else (None, None)\n    history.append({"epoch": epoch, "loss": loss_sum / len(order), "accuracy": correct / len(order), "valLoss": val_loss, "valAccuracy": val_acc, "seconds": time.time() - started, "learningRate": lr})\n    print("epoch %d: train loss %.4f accuracy %.2f %%" % (epoch, history[-1]["loss"], history[-1]["accuracy"] * 100), "" if val_acc is None else "validation loss %.4f accuracy %.2f %%" % (val_loss, val_acc * 100), flush=True)\n    losses = [h["valLoss"] for h in history if h["valLoss"] is not None]\n    if HYPER.get("earlyStopping", 0) > 0 and losses and epoch < HYPER["epochs"]:\n        best = min(range(len(losses)), key=lambda i: losses[i]) + 1\n        if epoch - best >= HYPER["earlyStopping"]:\n            print("early stopping after epoch", epoch)\n            break`
    ),
    markdown('## Curves'),
    code(
      `try:\n    import matplotlib.pyplot as plt\n    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))\n    epochs = [h["epoch"] for h in history]\n    a.plot(epochs, [h["loss"] for h in history], label="training"); a.set_title("loss")\n    b.plot(epochs, [h["accuracy"] for h in history], label="training"); b.set_title("accuracy")\n    if history and history[0]["valLoss"] is not None:\n        a.plot(epochs, [h["valLoss"] for h in history], label="validation")\n        b.plot(epochs, [h["valAccuracy"] for h in history], label="validation")\n    a.legend(); b.legend(); plt.show()\nexcept ImportError:\n    for h in history:\n        print(h)`
    ),
    markdown('## Test accuracy per class and the confusion matrix\n\nThe test split, used once.'),
    code(
      `report = test_report(model, test_x, test_y, normalize, DEVICE, len(CLASSES))\nprint("test accuracy %.2f %%, test loss %.4f on %d images" % (report["testAccuracy"] * 100, report["testLoss"], report["testCount"]))\nfor name, acc in zip(CLASSES, report["perClassAccuracy"]):\n    print("%-14s %s" % (name, "-" if acc is None else "%.2f %%" % (acc * 100)))`
    ),
    code(
      `matrix = report["confusionMatrix"]\nprint("rows: true class, columns: predicted class")\nfor name, row in zip(CLASSES, matrix):\n    print("%-14s" % name[:14], " ".join("%5d" % v for v in row))\ntry:\n    import matplotlib.pyplot as plt\n    plt.imshow(matrix, cmap="Blues"); plt.xlabel("predicted"); plt.ylabel("true"); plt.colorbar(); plt.show()\nexcept ImportError:\n    pass`
    ),
    code(`# The trained weights, readable by train.py --weights and by the workbench.\nwrite_safetensors("weights.safetensors", model_tensors(model))`)
  ]
  return (
    JSON.stringify(
      {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {
          kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
          language_info: { name: 'python' }
        },
        cells: cells.map((c, i) => ({ id: `cell-${i}`, ...c }))
      },
      null,
      1
    ) + '\n'
  )
}
