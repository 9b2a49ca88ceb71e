#!/usr/bin/env node
'use strict'
// The CLI runs from the build in out/main; `npm install` builds it (the prepare script).
const { existsSync } = require('node:fs')
const { join } = require('node:path')

const cli = join(__dirname, '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  process.stderr.write('cnn-workbench is not built yet. Run `npm run build` in the project folder first.\n')
  process.exit(1)
}
require(cli)
