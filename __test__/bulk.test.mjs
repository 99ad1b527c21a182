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
