import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import type { DatasetInfo } from '../../shared/contract/types'
import type { DatasetSource } from './types'

/** Name of the descriptor file inside each imported dataset folder. */
export const DESCRIPTOR_FILE = 'dataset.json'
const DESCRIPTOR_VERSION = 1

/** A dataset name that is safe as a folder name: lowercase letters, digits, ".", "_", "-". */
export const datasetNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'use 1 to 64 lowercase letters, digits, ".", "_" or "-"')

const fileRoleSchema = z.enum([
  'trainImages',
  'trainLabels',
  'testImages',
  'testLabels',
  'train',
  'test',
  'archive'
])
/** What a file of an imported dataset is for. */
export type FileRole = z.infer<typeof fileRoleSchema>

export const descriptorSchema = z.object({
  version: z.literal(DESCRIPTOR_VERSION),
  name: datasetNameSchema,
  title: z.string(),
  kind: z.enum(['idx', 'cifar10']),
  origin: z.enum(['imported', 'downloaded']),
  classes: z.array(z.string()).min(1).max(256),
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  trainCount: z.number().int(),
  testCount: z.number().int(),
  files: z.array(
    z.object({
      role: fileRoleSchema,
      // A bare file name: a descriptor must never point outside its own folder.
      file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
      bytes: z.number().int(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/)
    })
  ),
  createdAt: z.string()
})
/** The `dataset.json` of an imported or downloaded dataset. */
export type DatasetDescriptor = z.infer<typeof descriptorSchema>

/** Builds a descriptor object with the current version. */
export function makeDescriptor(
  fields: Omit<DatasetDescriptor, 'version' | 'createdAt'>
): DatasetDescriptor {
  return { version: DESCRIPTOR_VERSION, ...fields, createdAt: new Date().toISOString() }
}

/** Reads a dataset folder's descriptor; null when it is missing or not valid. */
export async function readDescriptor(folder: string): Promise<DatasetDescriptor | null> {
  try {
    const parsed = descriptorSchema.safeParse(
      JSON.parse(await readFile(join(folder, DESCRIPTOR_FILE), 'utf8'))
    )
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/** The source that loads a described dataset from its folder. */
export function descriptorToSource(folder: string, d: DatasetDescriptor): DatasetSource {
  const paths = (...roles: FileRole[]) =>
    d.files.filter((f) => roles.includes(f.role)).map((f) => join(folder, f.file))
  if (d.kind === 'cifar10') {
    return {
      kind: 'cifar10',
      name: d.name,
      classes: d.classes,
      trainFiles: paths('train', 'archive'),
      testFiles: paths('test', 'archive')
    }
  }
  const one = (role: FileRole) => paths(role)[0] ?? join(folder, `missing-${role}`)
  return {
    kind: 'idx',
    name: d.name,
    classes: d.classes,
    trainImages: one('trainImages'),
    trainLabels: one('trainLabels'),
    testImages: one('testImages'),
    testLabels: one('testLabels')
  }
}

/** The list entry for a described dataset. */
export function descriptorToInfo(d: DatasetDescriptor): DatasetInfo {
  return {
    name: d.name,
    title: d.title,
    shape: d.shape,
    classes: d.classes,
    available: true,
    source: d.origin,
    trainCount: d.trainCount,
    testCount: d.testCount
  }
}
