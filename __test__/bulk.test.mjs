// Bulk writes: bounded concurrency, per-item results in input order, progress, early stop.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let alice
let carol
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  const opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
  carol = await KnackSession.login({ ...opts, ...USERS.carol })
})

test('createRecords: results in input order, a bad item fails alone, progress is reported', async () => {
  const records = Array.from({ length: 30 }, (_, i) => ({ field_10: `Bulk ${i}`, field_13: i }))
  records[7] = { field_11: 'no subject' }
  const seen = []
  const results = await alice.createRecords({ ...NEW_TICKET, records, concurrency: 5, onProgress: (p) => seen.push(p) })
  assert.equal(results.length, 30)
  results.forEach((r, i) => {
    if (i === 7) {
      assert.equal(r.ok, false)
      assert.ok(r.error instanceof KnackError)
      assert.equal(r.error.code, 'KNACK_VALIDATION')
      assert.equal(r.attempted, true)
    } else {
      assert.equal(r.ok, true, `item ${i}: ${r.error?.message}`)
      assert.equal(r.record.field_10_raw ?? r.record.field_10, `Bulk ${i}`)
    }
  })
  assert.equal(seen.length, 30)
  assert.deepEqual(seen.at(-1), { done: 30, total: 30, succeeded: 29, failed: 1, notAttempted: 0 })
  assert.equal((await fake.stats()).inserts, 29)
})

test('concurrency is bounded', async () => {
  await fake.config({ latency_ms: 50 })
  const t = Date.now()
  await alice.createRecords({ ...NEW_TICKET, records: Array.from({ length: 8 }, (_, i) => ({ field_10: `c${i}` })), concurrency: 2 })
  // 8 writes, 2 at a time, 50 ms each: at least 4 rounds.
  assert.ok(Date.now() - t >= 190)
  await fake.config({ latency_ms: 0 })
})

test('updateRecords and deleteRecords work per item', async () => {
  const { records } = await carol.getRecords(ALL_TICKETS)
  const ups = await carol.updateRecords({
    ...ALL_TICKETS,
    records: records.map((r) => ({ id: r.id, data: { field_12: 'Closed' } })),
  })
  assert.ok(ups.every((r) => r.ok))
  const dels = await carol.deleteRecords({ ...ALL_TICKETS, ids: [records[0].id, 'ffffffffffffffffffffffff', records[1].id] })
  assert.deepEqual(dels.map((r) => r.ok), [true, false, true])
  assert.equal(dels[1].error.code, 'KNACK_NOT_FOUND')
  assert.equal((await carol.getRecords(ALL_TICKETS)).totalRecords, records.length - 2)
})

test('the daily limit stops the batch; the rest are marked not attempted', async () => {
  await fake.config({ daily_limit: 8 })
  const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl.replace('127.0.0.1', 'localhost'), ...USERS.alice })
  const results = await s.createRecords({ ...NEW_TICKET, records: Array.from({ length: 20 }, (_, i) => ({ field_10: `d${i}` })), concurrency: 1 })
  const ok = results.filter((r) => r.ok).length
  const daily = results.filter((r) => !r.ok && r.error.code === 'KNACK_DAILY_LIMIT')
  assert.equal(ok + daily.length, 20)
  assert.ok(ok >= 5 && ok <= 7, `${ok} succeeded`)
  assert.ok(daily.filter((r) => r.attempted === false).length >= 12)
  // Not attempted: never sent, or turned away by Knack's 429 before it processed anything.
  for (const r of daily.filter((r) => r.attempted === false)) {
    if (r.outcome === 'rejected') assert.equal(r.error.status, 429)
    else assert.equal(r.outcome, 'not-sent')
    assert.equal(r.error.outcome, r.outcome)
  }
  assert.ok(daily.filter((r) => r.outcome === 'not-sent').length >= 12)
  assert.equal((await fake.stats()).inserts, ok)
})

test('a reserve stops bulk work before the last calls of the plan', async () => {
  await fake.config({ daily_limit: 20 })
  const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, ...USERS.alice })
  const left = s.stats().plan.remaining
  assert.ok(left > 10 && left < 20, `plan remaining after login: ${left}`)
  const results = await s.createRecords({ ...NEW_TICKET, records: Array.from({ length: 30 }, (_, i) => ({ field_10: `r${i}` })), concurrency: 1, reserve: 10 })
  const ok = results.filter((r) => r.ok).length
  assert.equal(ok, left - 10)
  assert.equal(s.stats().plan.remaining, 10)
  assert.ok(results.slice(ok).every((r) => !r.ok && !r.attempted && r.error.code === 'KNACK_DAILY_LIMIT'))
})

test('aborting a batch marks the rest not attempted', async () => {
  await fake.config({ latency_ms: 30 })
  const ac = new AbortController()
  const p = alice.createRecords({ ...NEW_TICKET, records: Array.from({ length: 50 }, (_, i) => ({ field_10: `a${i}` })), concurrency: 2, signal: ac.signal })
  setTimeout(() => ac.abort(), 150)
  const results = await p
  assert.ok(results.some((r) => r.ok))
  assert.ok(results.some((r) => !r.ok && r.attempted === false && r.error.code === 'KNACK_ABORTED'))
  await fake.config({ latency_ms: 0 })
})

test('a create whose answer is lost or unusable after Knack applied it counts as attempted, never as not sent', async (t) => {
  for (const fault of [
    { kind: 'invalid_json' },
    { kind: 'reset_after' },
    { kind: 'truncate' },
    { kind: 'status_after_apply', status: 500, body: 'oops', content_type: 'text/plain' },
  ]) {
    await t.test(fault.kind, async () => {
      await fake.reset()
      const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, ...USERS.alice })
      await fake.faults([{ ...fault, method: 'POST', path_contains: '/views/view_2/records' }])
      const [r] = await s.createRecords({ ...NEW_TICKET, records: [{ field_10: `faulted ${fault.kind}` }] })
      assert.equal(r.ok, false)
      assert.ok(r.error instanceof KnackError)
      assert.equal(r.attempted, true, `${fault.kind}: ${r.error.code} attempts=${r.error.attempts} outcome=${r.error.outcome}`)
      assert.ok(['unknown', 'applied'].includes(r.outcome), `outcome ${r.outcome}`)
      if (r.error.outcome !== undefined) assert.equal(r.outcome, r.error.outcome)
      assert.equal((await fake.stats()).inserts, 1, 'fake-knack applied the write')
    })
  }
})

test('every failed result says whether it was sent: outcome not-sent for skipped items after an abort', async () => {
  await fake.config({ latency_ms: 30 })
  const ac = new AbortController()
  const reason = new Error('stop now')
  const p = alice.createRecords({ ...NEW_TICKET, records: Array.from({ length: 40 }, (_, i) => ({ field_10: `o${i}` })), concurrency: 2, signal: ac.signal })
  setTimeout(() => ac.abort(reason), 150)
  const results = await p
  await fake.config({ latency_ms: 0 })
  const failed = results.filter((r) => !r.ok)
  assert.ok(failed.length > 0)
  for (const r of failed) {
    assert.ok(['not-sent', 'unknown', 'applied'].includes(r.outcome), `outcome ${r.outcome}`)
    assert.equal(r.attempted, r.outcome !== 'not-sent')
    assert.equal(r.error.code, 'KNACK_ABORTED')
    assert.equal(r.error.cause, reason)
  }
  const skipped = failed.filter((r) => !r.attempted)
  assert.ok(skipped.length > 0)
  for (const r of skipped) {
    assert.equal(r.outcome, 'not-sent')
    assert.equal(r.error.outcome, 'not-sent')
  }
})

test('a bad item is not attempted and not sent; items skipped at the reserve are outcome not-sent', async () => {
  await fake.config({ daily_limit: 20 })
  const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, ...USERS.alice })
  const left = s.stats().plan.remaining
  const records = Array.from({ length: 12 }, (_, i) => ({ field_10: `q${i}` }))
  records[0] = 'not an object'
  const results = await s.createRecords({ ...NEW_TICKET, records, concurrency: 1, reserve: left - 2 })
  assert.deepEqual([results[0].ok, results[0].attempted, results[0].outcome, results[0].error.code], [false, false, 'not-sent', 'KNACK_INVALID_ARGUMENT'])
  assert.deepEqual(results.slice(1, 3).map((r) => r.ok), [true, true])
  const skipped = results.slice(3)
  for (const r of skipped) {
    assert.deepEqual([r.ok, r.attempted, r.outcome, r.error.code], [false, false, 'not-sent', 'KNACK_DAILY_LIMIT'])
    assert.equal(r.error.outcome, 'not-sent')
  }
})
