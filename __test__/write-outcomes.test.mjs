// What a write did at Knack, as every error and bulk result tells it: never "not sent" for a
// write Knack applied. The duplicate-write scenario of the hostile review: bulk creates with
// faults after Knack applied them, then re-sending exactly the items marked attempted: false
// leaves every record on the server exactly once. The outcome of every fault for every kind
// of call is in crates/knack-client/tests/retry_matrix.rs.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let opts
let alice

const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, timeoutMs: 3000, retries: 3, rateLimit: false }
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
})

async function ticketSubjects() {
  const body = await fake.stored('object_3')
  const records = Array.isArray(body) ? body : body.records
  return records.map((r) => r.field_10)
}

const applied200 = (body) => ({ kind: 'status_after_apply', status: 200, body, content_type: 'application/json' })

test('a create Knack applied but answered unusably reaches JS as outcome applied, never "not sent"', async () => {
  await fake.faults([{ kind: 'invalid_json', method: 'POST', path_contains: '/records', times: 1 }])
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'unusable' } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_BAD_RESPONSE')
  assert.equal(err.attempts, 1)
  assert.equal(err.outcome, 'applied')
  assert.match(err.message, /applied the write/)
  assert.equal(err.request, 'POST /pages/scene_1/views/view_2/records')
  assert.equal((await ticketSubjects()).filter((s) => s === 'unusable').length, 1)
})

test('an aborted or deadline-cut write says it may have been applied, and names the request', async () => {
  await fake.faults([{ kind: 'delay', ms: 1500, method: 'POST', path_contains: '/records', times: 1 }])
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 300)
  const aborted = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'aborted' }, signal: ac.signal }).catch((e) => e)
  assert.equal(aborted.code, 'KNACK_ABORTED')
  assert.equal(aborted.outcome, 'unknown')
  assert.equal(aborted.request, 'POST /pages/scene_1/views/view_2/records')
  assert.match(aborted.message, /may have been applied/)

  await fake.faults([{ kind: 'delay', ms: 1500, method: 'POST', path_contains: '/records', times: 1 }])
  const s = await KnackSession.login({ ...opts, ...USERS.alice, deadlineMs: 300 })
  const cut = await s.createRecord({ ...NEW_TICKET, data: { field_10: 'cut' } }).catch((e) => e)
  assert.equal(cut.code, 'KNACK_TIMEOUT')
  assert.equal(cut.outcome, 'unknown')
  assert.match(cut.message, /may have been applied/)
})

test('60 bulk creates with faults after apply: re-sending exactly the attempted: false items stores each record once', async () => {
  const records = Array.from({ length: 60 }, (_, i) => ({ field_10: `bulk ${i}` }))
  // Faults after Knack applied the write, spread over the batch, then the daily plan runs
  // out mid-way: the rest is not sent.
  await fake.faults([
    { kind: 'invalid_json', method: 'POST', path_contains: '/records', times: 3 },
    applied200('{}'),
    { kind: 'reset_after', method: 'POST', path_contains: '/records', times: 3 },
    { kind: 'status_after_apply', status: 502, body: '<html>Bad Gateway</html>', content_type: 'text/html', method: 'POST', path_contains: '/records', times: 3 },
    { kind: 'truncate', method: 'POST', path_contains: '/records', times: 2 },
  ].map((f) => ({ method: 'POST', path_contains: '/records', ...f })))
  const stats = await fake.stats()
  const used = stats.requests
  await fake.config({ daily_limit: used + 40 })
  const first = await alice.createRecords({ ...NEW_TICKET, records, concurrency: 4 })
  assert.equal(first.length, 60)
  const failedApplied = first.filter((r) => !r.ok && r.error.outcome === 'applied')
  const failedUnknown = first.filter((r) => !r.ok && r.error.outcome === 'unknown')
  assert.ok(failedApplied.length >= 4, `applied: ${failedApplied.length}`)
  assert.ok(failedUnknown.length >= 5, `unknown: ${failedUnknown.length}`)
  for (const r of [...failedApplied, ...failedUnknown]) assert.equal(r.attempted, true)
  const resend = records.filter((_, i) => !first[i].ok && first[i].attempted === false)
  assert.ok(resend.length >= 15, `not attempted: ${resend.length}`)
  assert.ok(first.some((r) => !r.ok && r.error.code === 'KNACK_DAILY_LIMIT'))

  // The plan resets (a new day at Knack), the app says so, and the rest goes.
  await fake.config({ daily_limit: null })
  alice.resetDailyLimit()
  const second = await alice.createRecords({ ...NEW_TICKET, records: resend, concurrency: 4 })
  assert.ok(second.every((r) => r.ok), JSON.stringify(second.filter((r) => !r.ok).map((r) => r.error.message)))

  const subjects = await ticketSubjects()
  for (let i = 0; i < 60; i++) {
    assert.equal(subjects.filter((s) => s === `bulk ${i}`).length, 1, `bulk ${i}`)
  }
})
