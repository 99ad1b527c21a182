// Faults Knack really produces: 429s, 5xx bursts, dropped connections, truncated and slow
// answers. Reads recover; writes are never duplicated; every failure has the right code.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let opts
let alice

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const EDIT_MINE = { scene: 'scene_1', view: 'view_3' }

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  // Short backoff so retries are quick; a 2 s per-attempt timeout.
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, timeoutMs: 2000, retries: 3, rateLimit: false }
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
})

async function inserts() {
  return (await fake.log()).filter((e) => e.method === 'POST' && e.path.includes('/records') && e.applied).length
}

const HTML_503 = { kind: 'status', status: 503, body: '<html><body>Service Unavailable</body></html>', content_type: 'text/html' }
const JSON_500 = { kind: 'status', status: 500, body: '{"errors":[{"message":"Internal error"}]}', content_type: 'application/json' }
const HTML_502 = { kind: 'status', status: 502, body: '<html>Bad Gateway</html>', content_type: 'text/html' }

test('GET recovers from 500, 502 and 503 answers (HTML and JSON bodies)', async () => {
  for (const f of [HTML_503, JSON_500, HTML_502]) {
    await fake.faults([{ ...f, method: 'GET', path_contains: '/records', times: 2 }])
    const page = await alice.getRecords(MY_TICKETS)
    assert.equal(page.records.length, 3, `after ${f.status}`)
  }
  assert.ok(alice.stats().retries >= 6)
})

test('5xx that never ends is KNACK_SERVER_ERROR after the retry budget, with attempts', async () => {
  await fake.faults([{ ...HTML_503, method: 'GET', times: 10 }])
  const err = await alice.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_SERVER_ERROR')
  assert.equal(err.status, 503)
  assert.equal(err.attempts, 4)
  assert.ok(!err.message.includes('<html>'), 'HTML page pasted into the message')
})

test('a 429 is waited out and retried, for reads and for writes', async () => {
  const tooMany = { kind: 'status', status: 429, body: 'Rate limit exceeded', content_type: 'text/plain' }
  await fake.faults([{ ...tooMany, method: 'GET', times: 1 }, { ...tooMany, method: 'POST', path_contains: '/records', times: 1 }])
  const page = await alice.getRecords(MY_TICKETS)
  assert.equal(page.records.length, 3)
  const rec = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'After a 429' } })
  assert.match(rec.id, /^[0-9a-f]{24}$/)
  assert.equal(await inserts(), 1)
  assert.ok(alice.stats().rateLimited >= 2)
})

test('429 beyond the retry budget is KNACK_RATE_LIMITED with retryAfterMs', async () => {
  await fake.faults([{ kind: 'status', status: 429, body: 'Rate limit exceeded', content_type: 'text/plain', times: 10 }])
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, retries: 1 })
  const err = await s.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_RATE_LIMITED')
  assert.equal(err.status, 429)
  assert.equal(err.attempts, 2)
  assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 1100, String(err.retryAfterMs))
})

test('a POST answered 503 is not retried (Knack may have processed it)', async () => {
  await fake.faults([{ ...HTML_503, method: 'POST', times: 5 }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'x' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_SERVER_ERROR')
  assert.equal(err.attempts, 1)
})

test('a 5xx after an applied POST: exactly one insert', async () => {
  await fake.faults([{ kind: 'status_after_apply', status: 500, body: '{"errors":[{"message":"oops"}]}', content_type: 'application/json', method: 'POST' }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'Only once' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_SERVER_ERROR')
  assert.equal(err.attempts, 1)
  assert.equal(await inserts(), 1)
  const mine = await alice.getRecords({ ...MY_TICKETS, filters: [{ field: 'field_10', operator: 'is', value: 'Only once' }] })
  assert.equal(mine.records.length, 1)
})

test('connection reset before the write was applied: POST fails, nothing inserted; GET retries', async () => {
  await fake.faults([{ kind: 'reset_before', method: 'POST' }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'reset before' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.equal(err.attempts, 1)
  assert.equal(await inserts(), 0)
  await fake.faults([{ kind: 'reset_before', method: 'GET', times: 2 }])
  assert.equal((await alice.getRecords(MY_TICKETS)).records.length, 3)
})

test('connection reset after the write was applied: exactly one insert; PUT is retried', async () => {
  await fake.faults([{ kind: 'reset_after', method: 'POST' }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'reset after' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.match(err.message, /may have been applied/)
  assert.equal(await inserts(), 1)
  const [t] = (await alice.getRecords(MY_TICKETS)).records
  await fake.faults([{ kind: 'reset_after', method: 'PUT' }])
  const up = await alice.updateRecord({ ...EDIT_MINE, id: t.id, data: { field_10: 'Edited' } })
  assert.equal(up.field_10_raw ?? up.field_10, 'Edited')
})

test('a truncated answer: GET retries; POST reports KNACK_NETWORK without a duplicate', async () => {
  await fake.faults([{ kind: 'truncate', method: 'GET', path_contains: '/records' }])
  assert.equal((await alice.getRecords(MY_TICKETS)).records.length, 3)
  await fake.faults([{ kind: 'truncate', method: 'POST' }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'truncated' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.equal(await inserts(), 1)
})

test('a slow answer hits the per-attempt timeout: GET retries, POST is KNACK_TIMEOUT once', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, timeoutMs: 300 })
  await fake.faults([{ kind: 'delay', ms: 1500, method: 'GET', path_contains: '/records' }])
  assert.equal((await s.getRecords(MY_TICKETS)).records.length, 3)
  await fake.faults([{ kind: 'delay', ms: 1500, method: 'POST' }])
  const err = await s.createRecord({ ...NEW_TICKET, data: { field_10: 'slow' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_TIMEOUT')
  assert.equal(err.attempts, 1)
  await new Promise((r) => setTimeout(r, 1500))
  assert.ok((await inserts()) <= 1)
})

test('a body that drips slowly hits the timeout', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, timeoutMs: 300, retries: 0 })
  await fake.faults([{ kind: 'drip', bytes_per_sec: 50, method: 'GET' }])
  await assert.rejects(s.getRecords(MY_TICKETS), { code: 'KNACK_TIMEOUT' })
})

test('the overall deadline bounds retries and backoff', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, deadlineMs: 400, retries: 10 })
  await fake.faults([{ ...HTML_503, method: 'GET', times: 100 }])
  const t = Date.now()
  const err = await s.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_TIMEOUT')
  assert.match(err.message, /deadline/)
  assert.ok(Date.now() - t < 2000)
  assert.ok(err.attempts >= 1)
})

test('a refused connection is retried even for POST (nothing was sent), then KNACK_NETWORK', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, baseUrl: 'http://127.0.0.1:9/v1', retries: 2 })
  const err = await s.createRecord({ ...NEW_TICKET, data: { field_10: 'x' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.equal(err.attempts, 3)
})

test('redirects are refused, so the token never travels to another host', async () => {
  await fake.faults([{ kind: 'redirect', status: 302, location: 'http://127.0.0.1:9/steal' }])
  const err = await alice.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_BAD_RESPONSE')
  assert.equal(err.status, 302)
})

test('answers over maxBodyBytes are KNACK_BAD_RESPONSE', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, maxBodyBytes: 64 * 1024 })
  await fake.faults([{ kind: 'oversize', bytes: 10 * 1024 * 1024, method: 'GET' }])
  const err = await s.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_BAD_RESPONSE')
  assert.match(err.message, /65536-byte limit/)
})

test('deeply nested JSON and invalid UTF-8 are clean KNACK_BAD_RESPONSE errors', async () => {
  await fake.faults([{ kind: 'deep_json', depth: 100000, method: 'GET' }])
  await assert.rejects(alice.getRecords(MY_TICKETS), { code: 'KNACK_BAD_RESPONSE' })
  await fake.faults([{ kind: 'invalid_utf8', method: 'GET' }])
  await assert.rejects(alice.getRecords(MY_TICKETS), { code: 'KNACK_BAD_RESPONSE' })
})
