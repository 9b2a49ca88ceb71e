import { readRunRecord } from '../data/runs/run-folder'
import { preprocessingSchema, type Preprocessing } from '../shared/contract/types'
import { normalizerOf, type Normalizer } from './preprocess'

/** The input scaling recorded in a run's run.json; undefined for runs that predate it ([0, 1]). */
export async function readRunPreprocessing(runDir: string): Promise<Preprocessing | undefined> {
  try {
    const record = await readRunRecord(runDir)
    const parsed = preprocessingSchema.safeParse(record?.preprocessing)
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** Scales inputs for a trained run exactly as its training did (evaluation, maps, drawings). */
export async function runInputNormalizer(
  runDir: string,
  shape: readonly [number, number, number]
): Promise<Normalizer> {
  return normalizerOf(await readRunPreprocessing(runDir), shape)
}
