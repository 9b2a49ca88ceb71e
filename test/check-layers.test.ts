import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, tempDir } from './helpers'

interface Problem {
  file: string
  line: number
  spec: string
  from: string
  to: string
  why: string
}
const { checkLayers } = createRequire(import.meta.url)('../scripts/check-layers.js') as {
  checkLayers: (root: string) => Problem[]
}

// Small trees with one file per layer; each case adds the one import under test.
describe('layer check', () => {
  let tmp: { dir: string; cleanup: () => void } | undefined
  afterEach(() => tmp?.cleanup())

  function tree(files: Record<string, string>): string {
    tmp = tempDir('cnnwb-layers-')
    const base: Record<string, string> = {
      'src/shared/spec.ts': 'export const a = 1\n',
      'src/data/runs/run-folder.ts': "import { a } from '../../shared/spec'\nexport const b = a\n",
      'src/engine/trainer.ts':
        "import * as tf from '@tensorflow/tfjs-core'\nimport { a } from '../shared/spec'\nimport { b } from '../data/runs/run-folder'\n",
      'src/core/router.ts': "import { a } from '../shared/spec'\nimport { b } from '../data/runs/run-folder'\n",
      'src/hosts/web/web-host.ts': "import '../../core/router'\nimport { version } from '../../../package.json'\n",
      'src/main/index.ts': "import { app } from 'electron'\nimport '../core/router'\n",
      'src/renderer/src/App.vue':
        "<script setup lang=\"ts\">\nimport { a } from '../../shared/spec'\nimport X from '@renderer/x'\n</script>\n",
      'src/renderer/src/x.ts': 'export default 1\n',
      'package.json': '{"version":"0"}\n',
      ...files
    }
    for (const [path, text] of Object.entries(base)) {
      mkdirSync(dirname(join(tmp.dir, path)), { recursive: true })
      writeFileSync(join(tmp.dir, path), text)
    }
    return tmp.dir
  }

  it('passes a tree whose imports all go downward', () => {
    expect(checkLayers(tree({}))).toEqual([])
  })

  it.each([
    ['renderer to core', 'src/renderer/src/stores/x.ts', "import { c } from '../../../core/router'", 'core'],
    ['renderer to data through a type import', 'src/renderer/src/y.ts', "import type { B } from '../../data/runs/run-folder'", 'data'],
    ['engine to core', 'src/engine/server.ts', "import { c } from '../core/router'", 'core'],
    ['engine to a host, dynamically', 'src/engine/late.ts', "const m = await import('../hosts/web/web-host')", 'web host'],
    ['engine to a host through require', 'src/engine/req.ts', "const m = require('../main/index')", 'electron host'],
    ['a core test to the engine', 'src/core/x.test.ts', "import { t } from '../engine/trainer'", 'engine'],
    ['core to a host', 'src/core/services/s.ts', "import '../../hosts/web/web-host'", 'web host'],
    ['data to core', 'src/data/d.ts', "export { c } from '../core/router'", 'core'],
    ['shared to data', 'src/shared/s.ts', "import { b } from '../data/runs/run-folder'", 'data'],
    ['one host to another', 'src/hosts/cli/run.ts', "import '../web/web-host'", 'web host']
  ])('fails %s', (_, file, text, to) => {
    const problems = checkLayers(tree({ [file]: `// a comment\n${text}\n` }))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file, line: 2, to })
  })

  it('keeps Node built-ins out of shared code but lets shared tests use them', () => {
    const problems = checkLayers(
      tree({
        'src/shared/io.ts': "import { readFile } from 'node:fs/promises'\nimport path from 'path'\n",
        'src/shared/io.test.ts': "import { readFileSync } from 'node:fs'\n"
      })
    )
    expect(problems.map((p) => `${p.file}:${p.spec}`)).toEqual(['src/shared/io.ts:node:fs/promises', 'src/shared/io.ts:path'])
  })

  it('lets only the engine load TensorFlow.js and only the Electron host load Electron', () => {
    const problems = checkLayers(
      tree({
        'src/core/tf.ts': "import * as tf from '@tensorflow/tfjs'\n",
        'src/hosts/web/win.ts': "import { BrowserWindow } from 'electron'\n"
      })
    )
    expect(problems.map((p) => p.file).sort()).toEqual(['src/core/tf.ts', 'src/hosts/web/win.ts'])
  })

  it('ignores imports inside comments', () => {
    const text = "/* import { c } from '../core/router' */\n// import '../core/router'\nexport {}\n"
    expect(checkLayers(tree({ 'src/engine/c.ts': text }))).toEqual([])
  })

  it('names a source folder that belongs to no layer', () => {
    const problems = checkLayers(tree({ 'src/cli/main.ts': "import '../core/router'\n" }))
    expect(problems).toEqual([expect.objectContaining({ file: 'src/cli', why: 'folder is in no layer' })])
  })

  it('passes on this repository', () => {
    expect(checkLayers(ROOT)).toEqual([])
  })
})
