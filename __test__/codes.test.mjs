// Error codes are declared once, in Rust (the binding's errorCodes()); lib/codes.js adds
// KNACK_INTERNAL. The KnackErrorCode union of index.d.ts (for TypeScript users) and the README
// are checked against that list here, and no other JS file spells a code.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')

const native = require('../lib/native.js')
const codes = require('../lib/codes.js')
const { KnackError } = require('../lib/errors.js')

const NATIVE = native.errorCodes()
const ALL = [...NATIVE, 'KNACK_INTERNAL']

/** KNACK_ words of the README that are not error codes: environment variables and process-warning codes. */
const NOT_ERROR_CODES = new Set(['KNACK_API_URL', 'KNACK_APP_ID', 'KNACK_SESSION_LOG', 'KNACK_SESSION_SKIP_BUILD', 'KNACK_CALLBACK', 'KNACK_ON_ERROR'])

test('the core lists each code once, all KNACK_ and upper case, without KNACK_INTERNAL (the facade adds it)', () => {
  assert.ok(NATIVE.length > 0)
  assert.equal(new Set(NATIVE).size, NATIVE.length)
  for (const c of NATIVE) assert.match(c, /^KNACK_[A-Z]+(_[A-Z]+)*$/)
  assert.ok(!NATIVE.includes('KNACK_INTERNAL'))
})

test('lib/codes.js: one frozen constant per code, named without the prefix, plus INTERNAL', () => {
  assert.ok(Object.isFrozen(codes))
  assert.deepEqual(Object.values(codes), ALL)
  for (const c of ALL) assert.equal(codes[c.slice('KNACK_'.length)], c)
  assert.equal(codes.DAILY_LIMIT, 'KNACK_DAILY_LIMIT')
  assert.equal(codes.INTERNAL, 'KNACK_INTERNAL')
})

test('KnackError.codes is the core list then KNACK_INTERNAL', () => {
  assert.deepEqual([...KnackError.codes], ALL)
  assert.ok(Object.isFrozen(KnackError.codes))
})

test('the KnackErrorCode union of index.d.ts is exactly errorCodes() + KNACK_INTERNAL', () => {
  const dts = read('index.d.ts')
  const m = /export type KnackErrorCode =((?:\s*\|\s*'[A-Z_]+')+)/.exec(dts)
  assert.ok(m, 'index.d.ts declares `export type KnackErrorCode = | ...`')
  const union = [...m[1].matchAll(/'([A-Z_]+)'/g)].map((x) => x[1])
  assert.equal(new Set(union).size, union.length, 'no member twice')
  assert.deepEqual([...union].sort(), [...ALL].sort())
})

test('every code the README documents exists, and its Errors table lists every code', () => {
  const readme = read('README.md')
  const mentioned = new Set([...readme.matchAll(/\bKNACK_[A-Z_]*[A-Z]\b/g)].map((x) => x[0]))
  for (const c of mentioned) {
    assert.ok(ALL.includes(c) || NOT_ERROR_CODES.has(c), `README.md names ${c}, which is not an error code (nor a known variable or warning)`)
  }
  // The Errors table: "| code | when | HTTP (middleware) |", then one row per code.
  const lines = readme.split('\n')
  const start = lines.findIndex((l) => /^\|\s*code\s*\|\s*when\s*\|/.test(l))
  assert.ok(start >= 0, 'README.md has the Errors table (| code | when | ...)')
  const rows = []
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    rows.push(...[.../^\|\s*`(KNACK_[A-Z_]+)`/.exec(lines[i]) ?? []].slice(1))
  }
  assert.deepEqual([...rows].sort(), [...ALL].sort())
})

test('no JS file of the package spells an error code: lib/codes.js (KNACK_INTERNAL) is the one', () => {
  const files = ['index.js', 'index.mjs', 'express.mjs', 'next.mjs', ...fs.readdirSync(path.join(ROOT, 'lib')).map((f) => `lib/${f}`)]
  for (const f of files.filter((x) => x.endsWith('.js') || x.endsWith('.mjs'))) {
    const code = read(f)
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    const spelled = [...code.matchAll(/['"`](KNACK_[A-Z_]*[A-Z])['"`]/g)].map((x) => x[1]).filter((c) => ALL.includes(c))
    if (f === 'lib/codes.js') assert.deepEqual(spelled, ['KNACK_INTERNAL'], f)
    else assert.deepEqual(spelled, [], `${f} spells ${spelled.join(', ')}: use lib/codes.js`)
  }
})
