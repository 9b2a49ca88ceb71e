import { readFile } from 'node:fs/promises'
import { WorkbenchError } from '../../shared/contract/errors'
import { getPreset } from '../../shared/model/presets'
import { parseModelFile } from '../../shared/model/model-file'
import type { ModelSpec } from '../../shared/model/spec'

/** Reads `--preset NAME` or `--model FILE` (exactly one) into a validated spec. */
export async function loadModelFlag(preset: string | undefined, model: string | undefined): Promise<ModelSpec> {
  if (preset && model) throw new WorkbenchError('BAD_REQUEST', 'Give either --preset or --model, not both.')
  if (preset) return getPreset(preset).spec
  if (model) {
    let text: string
    try {
      text = await readFile(model, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new WorkbenchError('INVALID_MODEL', `Cannot read the model file ${model} (${code ?? 'error'}). Check the path.`)
    }
    try {
      return parseModelFile(text)
    } catch (err) {
      if (err instanceof WorkbenchError) throw new WorkbenchError(err.code, `${model}: ${err.message}`, err.details)
      throw err
    }
  }
  throw new WorkbenchError('BAD_REQUEST', 'Name a model: --preset lenet, or --model path/to/model.json.')
}
