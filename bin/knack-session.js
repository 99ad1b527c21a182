#!/usr/bin/env node
'use strict'
// knack-session's command line: `knack-session types --app <id>` writes the TypeScript types
// of a Knack app's views (lib/typegen.js) from its schema (KnackSession.schema(): the app's
// metadata, which needs no login). Exit codes: 0 done, 1 the schema could not be fetched or
// the file not written, 2 bad usage.

const fs = require('node:fs')
const path = require('node:path')

const USAGE = `Usage: knack-session types --app <app id> [--base-url <url>] [--out <file>]

Writes TypeScript types for the views of a Knack app, from its schema (the app's
metadata; no login, no API key). Include the file in your tsconfig: then
session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels' }) returns
typed records, and a misspelt label is a compile error.

Options:
  --app <id>         the Knack application id (24 hex characters)
  --base-url <url>   the Knack API (default: env KNACK_API_URL, else https://api.knack.com/v1)
  --out <file>       where to write (default: knack-app.d.ts; "-" writes to stdout)
  -h, --help         show this help
`

const SHORT = 'Usage: knack-session types --app <app id> [--base-url <url>] [--out <file>]\n(knack-session --help for more)\n'

const OPTIONS = { '--app': 'app', '--base-url': 'baseUrl', '--out': 'out' }

class UsageError extends Error {}

function parseArgs(argv) {
  const args = { command: null, help: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '-h' || a === '--help') {
      args.help = true
      continue
    }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=')
      const name = eq < 0 ? a : a.slice(0, eq)
      const key = OPTIONS[name]
      if (!key) {
        const { closest } = require('../lib/options')
        const hint = name.startsWith('--') ? closest(name.slice(2), Object.keys(OPTIONS).map((o) => o.slice(2))) : null
        throw new UsageError(`unknown option ${name}${hint ? ` (did you mean --${hint}?)` : ''}`)
      }
      let value
      if (eq >= 0) value = a.slice(eq + 1)
      else {
        value = argv[i + 1]
        if (value === undefined || (value.startsWith('-') && value !== '-')) throw new UsageError(`${name} needs a value`)
        i++
      }
      if (value === '') throw new UsageError(`${name} needs a value`)
      if (args[key] !== undefined) throw new UsageError(`${name} is given twice`)
      args[key] = value
      continue
    }
    if (args.command === null) args.command = a
    else throw new UsageError(`unexpected argument ${JSON.stringify(a)}`)
  }
  return args
}

async function types(args) {
  if (args.app === undefined) throw new UsageError('types needs --app <app id>')
  const out = args.out ?? 'knack-app.d.ts'
  const { generateTypes, typedViews } = require('../lib/typegen.js')
  let schema
  try {
    // Loaded only here: --help and usage errors work without the native addon.
    const { KnackSession } = require('../index.js')
    schema = await KnackSession.schema({ appId: args.app, ...(args.baseUrl !== undefined ? { baseUrl: args.baseUrl } : {}) })
  } catch (e) {
    if (e && typeof e.code === 'string' && e.code.startsWith('KNACK_')) {
      process.stderr.write(`knack-session types: could not get the schema of app ${args.app}: ${e.code}: ${e.message}\n`)
      // A bad app id or base URL is the caller's mistake: usage.
      return e.code === 'KNACK_INVALID_ARGUMENT' ? 2 : 1
    }
    throw e
  }
  const text = generateTypes(schema, { appId: args.app })
  if (out === '-') {
    process.stdout.write(text)
    return 0
  }
  const file = path.resolve(out)
  const tmp = `${file}.${process.pid}.tmp`
  try {
    fs.writeFileSync(tmp, text)
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    process.stderr.write(`knack-session types: could not write ${out}: ${e.message}\n`)
    return 1
  }
  const views = typedViews(schema).length
  process.stdout.write(`wrote ${out}: types of ${views} view${views === 1 ? '' : 's'} of ${schema.name ? JSON.stringify(schema.name) : 'the app'} (${args.app}); include it in your tsconfig\n`)
  return 0
}

async function main(argv) {
  let args
  try {
    args = parseArgs(argv)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`knack-session: ${e.message}\n${SHORT}`)
    return 2
  }
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (args.command === null) {
    process.stderr.write(`knack-session: no command given\n${SHORT}`)
    return 2
  }
  if (args.command !== 'types') {
    process.stderr.write(`knack-session: unknown command ${JSON.stringify(args.command)} (the command is "types")\n${SHORT}`)
    return 2
  }
  try {
    return await types(args)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`knack-session: ${e.message}\n${SHORT}`)
    return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e) => {
    process.stderr.write(`knack-session: ${e && e.stack ? e.stack : e}\n`)
    process.exitCode = 1
  },
)
