// Faults Knack really produces, end to end through JS: a retried read that succeeds, a create
// whose answer was lost (never sent twice), a 429 past the retry budget, an oversized answer.
// The full retry matrix (every fault x every kind of call) is in
// crates/knack-client/tests/retry_matrix.rs and hostile_server.rs.
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
  // A 2 s per-attempt timeout.
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

test('a GET answered 503 twice is retried and succeeds, and stats().retries counts the retries', async () => {
  const before = alice.stats().retries
  await fake.faults([{ ...HTML_503, method: 'GET', path_contains: '/records', times: 2 }])
  const page = await alice.getRecords(MY_TICKETS)
  assert.equal(page.records.length, 3)
  assert.equal(alice.stats().retries - before, 2)
})

test('connection reset after the write was applied: the POST is not retried (outcome unknown, exactly one insert); PUT is retried', async () => {
  await fake.faults([{ kind: 'reset_after', method: 'POST' }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'reset after' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.equal(err.attempts, 1)
  assert.equal(err.outcome, 'unknown')
  assert.match(err.message, /may have been applied/)
  assert.equal(await inserts(), 1)
  const [t] = (await alice.getRecords(MY_TICKETS)).records
  await fake.faults([{ kind: 'reset_after', method: 'PUT' }])
  const up = await alice.updateRecord({ ...EDIT_MINE, id: t.id, data: { field_10: 'Edited' } })
  assert.equal(up.field_10_raw ?? up.field_10, 'Edited')
})

test('answers over maxBodyBytes are KNACK_BAD_RESPONSE', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, maxBodyBytes: 64 * 1024 })
  await fake.faults([{ kind: 'oversize', bytes: 10 * 1024 * 1024, method: 'GET' }])
  const err = await s.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_BAD_RESPONSE')
  assert.match(err.message, /65536-byte limit/)
})

// Last: the 429s hold this app's sessions for Knack's one-second window.
test('429 beyond the retry budget is KNACK_RATE_LIMITED with retryAfterMs', async () => {
  await fake.faults([{ kind: 'status', status: 429, body: 'Rate limit exceeded', content_type: 'text/plain', times: 10 }])
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, retries: 1 })
  const err = await s.getRecords(MY_TICKETS).catch((e) => e)
  assert.equal(err.code, 'KNACK_RATE_LIMITED')
  assert.equal(err.status, 429)
  assert.equal(err.attempts, 2)
  assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 1100, String(err.retryAfterMs))
})
