// Reading whole views: every record exactly once, in order, with Knack's miscounts handled.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let carol
let alice
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  const opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  await fake.seed('object_3', 20000)
  carol = await KnackSession.login({ ...opts, ...USERS.carol })
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
})
after(() => fake.stop())

function pageRequests(log) {
  return log.filter((e) => e.path.includes('/views/view_4/records'))
}

test('20,000 records through records() in 1,000-row pages: every id exactly once, in order', async () => {
  const before = pageRequests(await fake.log()).length
  const it = carol.records(ALL_TICKETS)
  const ids = []
  for await (const r of it) ids.push(r.id)
  assert.equal(ids.length, 20005)
  assert.equal(new Set(ids).size, ids.length)
  const page = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 1000, page: 7 })
  assert.deepEqual(ids.slice(6000, 7000), page.records.map((r) => r.id), 'pages arrive in order')
  const s = it.summary
  assert.equal(s.received, 20005)
  assert.equal(s.totalRecords, 20005)
  assert.equal(s.pages, 21)
  assert.equal(s.duplicates, 0)
  assert.equal(s.shortfall, 0)
  assert.equal(s.complete, true)
  const reqs = pageRequests(await fake.log()).slice(before)
  assert.ok(reqs.every((e) => /rows_per_page=1000/.test(e.query)))
})

test('an over-stated total_records still ends at the first empty page, and the shortfall is reported', async () => {
  await fake.config({ overstate_total_records: 5000 })
  try {
    const all = await carol.getAllRecords(ALL_TICKETS)
    assert.equal(all.length, 20005)
    assert.equal(all.summary.totalRecords, 25005)
    assert.equal(all.summary.endedEarly, true)
    assert.equal(all.summary.shortfall, 5000)
    await assert.rejects(carol.getAllRecords({ ...ALL_TICKETS, strict: true }), { code: 'KNACK_BAD_RESPONSE' })
  } finally {
    await fake.config({ overstate_total_records: 0 })
  }
})

test('maxRecords stops early and does not fetch the rest', async () => {
  const before = pageRequests(await fake.log()).length
  const some = await carol.getAllRecords({ ...ALL_TICKETS, maxRecords: 1500, prefetchPages: 1 })
  assert.equal(some.length, 1500)
  assert.equal(some.summary.truncated, true)
  const made = pageRequests(await fake.log()).length - before
  assert.ok(made <= 4, `${made} page requests for 1,500 records`)
})

test('a slow consumer holds back fetching: at most prefetchPages pages ahead', async () => {
  const before = pageRequests(await fake.log()).length
  const it = carol.records({ ...ALL_TICKETS, rowsPerPage: 100, prefetchPages: 2 })
  let n = 0
  for await (const _ of it) {
    n++
    if (n === 1) await new Promise((r) => setTimeout(r, 500))
    if (n === 150) break
  }
  const made = pageRequests(await fake.log()).length - before
  // page 1 + 2 prefetched + 1 waiting in the hand-over + 1 being consumed
  assert.ok(made <= 6, `${made} pages fetched for a consumer that read 150 records`)
  assert.equal(it.summary.complete, false)
})

test('breaking out of the loop stops the background fetches', async () => {
  const it = carol.records({ ...ALL_TICKETS, rowsPerPage: 50, prefetchPages: 4 })
  for await (const _ of it) break
  // Requests already on the wire when the loop broke may still land; wait until they have.
  let before = -1
  for (let i = 0; i < 20; i++) {
    const n = pageRequests(await fake.log()).length
    if (n === before) break
    before = n
    await new Promise((r) => setTimeout(r, 150))
  }
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(pageRequests(await fake.log()).length, before)
})

test('records inserted mid-read shift pages; the duplicate is dropped and reported', async () => {
  await fake.reset()
  // Page 1 answers at once; pages 2 and 3 wait 400 ms, during which a new top ticket shifts them.
  await fake.faults([
    { kind: 'delay', ms: 0, method: 'GET', path_contains: '/views/view_4/records' },
    { kind: 'delay', ms: 400, method: 'GET', path_contains: '/views/view_4/records', times: 2 },
  ])
  const it = carol.records({ ...ALL_TICKETS, rowsPerPage: 2, sortField: 'field_13', sortOrder: 'desc' })
  const ids = []
  for await (const r of it) {
    ids.push(r.id)
    if (ids.length === 1) await alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'Jumps the queue', field_13: 99 } })
  }
  assert.equal(new Set(ids).size, ids.length, 'a record was delivered twice')
  assert.equal(it.summary.duplicates, 1)
  await fake.clearFaults()
})

test('an error on a later page surfaces at that point of the iteration', async () => {
  await fake.reset()
  await fake.seed('object_3', 3000)
  await fake.faults([
    { kind: 'delay', ms: 0, method: 'GET', path_contains: '/views/view_4/records' },
    { kind: 'status', status: 403, body: '{"errors":[{"message":"no"}]}', content_type: 'application/json', method: 'GET', path_contains: '/views/view_4/records' },
  ])
  let n = 0
  await assert.rejects(
    (async () => {
      for await (const _ of carol.records({ ...ALL_TICKETS, prefetchPages: 1 })) n++
    })(),
    { code: 'KNACK_FORBIDDEN' },
  )
  assert.equal(n, 1000)
})
