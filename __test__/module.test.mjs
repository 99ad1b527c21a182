// The package loads both ways, and its exports are the same objects either way.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from 'knack-session'

const require = createRequire(import.meta.url)

test('ESM import and CJS require give the same classes, so instanceof works across them', () => {
  const cjs = require('knack-session')
  assert.equal(esm.KnackSession, cjs.KnackSession)
  assert.equal(esm.KnackError, cjs.KnackError)
  assert.equal(esm.default.KnackSession, cjs.KnackSession)
  const e = new cjs.KnackError('KNACK_TIMEOUT', 'late', { status: 504, attempts: 2 })
  assert.ok(e instanceof esm.KnackError)
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'KnackError')
  assert.equal(e.code, 'KNACK_TIMEOUT')
  assert.equal(e.attempts, 2)
})

test('KnackError.codes lists every code of the README table', () => {
  assert.deepEqual([...esm.KnackError.codes].sort(), [
    'KNACK_ABORTED',
    'KNACK_BAD_RESPONSE',
    'KNACK_DAILY_LIMIT',
    'KNACK_FORBIDDEN',
    'KNACK_INTERNAL',
    'KNACK_INVALID_ARGUMENT',
    'KNACK_LOGIN_FAILED',
    'KNACK_NETWORK',
    'KNACK_NOT_FOUND',
    'KNACK_PARENT_REQUIRED',
    'KNACK_RATE_LIMITED',
    'KNACK_SERVER_ERROR',
    'KNACK_STORE',
    'KNACK_TIMEOUT',
    'KNACK_TOKEN_EXPIRED',
    'KNACK_UNAUTHORIZED',
    'KNACK_UNSUPPORTED_ACTION',
    'KNACK_VALIDATION',
  ])
})

test('a wrong argument type is a KnackError, not a raw N-API error', () => {
  assert.throws(() => esm.KnackSession.fromToken(42, { appId: 'x' }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.throws(() => esm.KnackSession.fromToken('a.b.c', { appId: 5 }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.throws(() => esm.KnackSession.fromToken('a.b.c', { appId: 'x', timeoutMs: '5' }), { code: 'KNACK_INVALID_ARGUMENT' })
})
