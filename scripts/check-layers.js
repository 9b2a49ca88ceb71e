#!/usr/bin/env node
'use strict'
// Checks that layers import downward only (README, "How it is built"): it reads every import
// (static, dynamic `import(`, `require(`) in src/ and fails when a layer imports one it may not.
// Run by `npm run typecheck`; `node scripts/check-layers.js [root]` checks another tree.
const { readdirSync, readFileSync, statSync } = require('node:fs')
const { builtinModules } = require('node:module')
const { join, relative, resolve, dirname, sep } = require('node:path')

/**
 * The layers, by folder (first match wins), and what each may import besides itself.
 * `test` is the top-level test/ folder of helpers, which only test files may use.
 */
const LAYERS = [
  { name: 'shared', dir: 'src/shared', may: [] },
  { name: 'renderer', dir: 'src/renderer', may: ['shared'] },
  { name: 'preload', dir: 'src/preload', may: ['shared'] },
  { name: 'data', dir: 'src/data', may: ['shared'] },
  { name: 'engine', dir: 'src/engine', may: ['shared', 'data'] },
  { name: 'core', dir: 'src/core', may: ['shared', 'data'] },
  { name: 'electron host', dir: 'src/main', may: ['shared', 'data', 'core', 'package'] },
  { name: 'web host', dir: 'src/hosts/web', may: ['shared', 'data', 'core', 'package'] },
  { name: 'cli host', dir: 'src/hosts/cli', may: ['shared', 'data', 'core', 'package'] },
  { name: 'test', dir: 'test', may: [] },
  // Hosts print the version from package.json.
  { name: 'package', dir: 'package.json', may: [] }
]

/** Packages only one layer may load: TensorFlow.js in the engine, Electron in its host. */
const PACKAGE_OWNERS = [
  { prefix: '@tensorflow/', layers: ['engine'] },
  { prefix: 'electron', exact: true, layers: ['electron host', 'preload'] }
]

const SOURCE_EXT = /\.(ts|vue|js|mjs|cjs)$/
const RESOLVE_EXTS = ['', '.ts', '.vue', '.js', '.d.ts', '.json', '/index.ts', '/index.js']
const IMPORT_RE =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^[ \t]*import\s+|\bexport\s+\*\s+from\s*)(['"])([^'"\n]+)\1/gm

function layerOf(root, file) {
  const rel = relative(root, file).split(sep).join('/')
  return LAYERS.find((l) => rel === l.dir || rel.startsWith(l.dir + '/'))
}

function listFiles(dir) {
  let out = []
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out = out.concat(listFiles(p))
    else if (SOURCE_EXT.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Import specifiers in a source text, with line numbers; comments are blanked first. */
function importsOf(text) {
  const blanked = text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/^[ \t]*\/\/.*$/gm, '')
  const found = []
  for (const m of blanked.matchAll(IMPORT_RE)) {
    const line = blanked.slice(0, m.index).split('\n').length
    found.push({ spec: m[2], line })
  }
  return found
}

function resolveLocal(root, file, spec) {
  const base = spec.startsWith('@renderer/')
    ? join(root, 'src/renderer/src', spec.slice('@renderer/'.length))
    : resolve(dirname(file), spec)
  for (const ext of RESOLVE_EXTS) {
    try {
      if (statSync(base + ext).isFile()) return base + ext
    } catch {
      // try the next extension
    }
  }
  return base
}

const BUILTINS = new Set(builtinModules)

/**
 * Every import in root/src that crosses layers the wrong way, as
 * `{ file, line, spec, from, to, why }`; an empty list means the tree keeps its layers.
 */
function checkLayers(root) {
  root = resolve(root)
  const problems = []
  const files = listFiles(join(root, 'src'))
  const unplaced = new Set()
  for (const file of files) {
    const from = layerOf(root, file)
    const relFile = relative(root, file).split(sep).join('/')
    if (!from) {
      unplaced.add(relFile.split('/').slice(0, 2).join('/'))
      continue
    }
    const isTest = /\.test\.ts$/.test(file)
    for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
      const problem = (to, why) => problems.push({ file: relFile, line, spec, from: from.name, to, why })
      if (spec.startsWith('.') || spec.startsWith('@renderer/')) {
        const target = resolveLocal(root, file, spec)
        const to = layerOf(root, target)
        if (!to) {
          problem(relative(root, target).split(sep).join('/'), 'imports a file outside every layer')
          continue
        }
        if (to === from) continue
        if (to.name === 'test' && isTest) continue
        if (!from.may.includes(to.name)) problem(to.name, `${from.name} may not import ${to.name}`)
        continue
      }
      const bare = spec.startsWith('node:') ? spec : spec.split('/')[0]
      // Shared tests run in Node only; shared code itself also runs in the renderer.
      if (from.name === 'shared' && !isTest && (spec.startsWith('node:') || BUILTINS.has(bare))) {
        problem(spec, 'shared code runs in the renderer too: no Node built-ins')
        continue
      }
      for (const owner of PACKAGE_OWNERS) {
        const hit = owner.exact ? spec === owner.prefix : spec.startsWith(owner.prefix)
        if (hit && !owner.layers.includes(from.name)) {
          problem(spec, `only ${owner.layers.join(' and ')} may load ${owner.prefix}`)
        }
      }
    }
  }
  for (const dir of unplaced) {
    problems.push({ file: dir, line: 0, spec: '', from: '?', to: '?', why: 'folder is in no layer' })
  }
  return problems
}

function format(p) {
  return p.line
    ? `${p.file}:${p.line}: ${p.why} ('${p.spec}')`
    : `${p.file}/: ${p.why} (add it to LAYERS in scripts/check-layers.js)`
}

if (require.main === module) {
  const root = process.argv[2] ?? join(__dirname, '..')
  const problems = checkLayers(root)
  for (const p of problems) process.stderr.write(format(p) + '\n')
  if (problems.length > 0) {
    process.stderr.write(`Layer check: ${problems.length} import(s) break the layers.\n`)
    process.exit(1)
  }
  process.stdout.write('Layer check: every import goes downward.\n')
}

module.exports = { checkLayers, format, LAYERS }
