// Reading whole views end to end through JS: records() and getAllRecords(), their summary,
// the paging options, and `break` out of `for await`. The paging matrix (miscounts, shifting
// pages, errors mid-way, servers that ignore ?page) is in
// crates/knack-client/tests/paging_matrix.rs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let carol
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  const opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  // With the fixture's 5 tickets: 2,500, three pages of Knack's largest size.
  await fake.seed('object_3', 2495)
  carol = await KnackSession.login({ ...opts, ...USERS.carol })
})
after(() => fake.stop())

function pageRequests(log) {
  return log.filter((e) => e.path.includes('/views/view_4/records'))
}

test('2,500 records through records() in 1,000-row pages: every id exactly once, in order, with the whole summary', async () => {
  const before = pageRequests(await fake.log()).length
  const it = carol.records(ALL_TICKETS)
  const ids = []
  for await (const r of it) ids.push(r.id)
  assert.equal(ids.length, 2500)
  assert.equal(new Set(ids).size, ids.length)
  const reqs = pageRequests(await fake.log()).slice(before)
  assert.equal(reqs.length, 3, 'each page asked for once')
  assert.ok(reqs.every((e) => /rows_per_page=1000/.test(e.query)))
  const page = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 1000, page: 2 })
  assert.deepEqual(ids.slice(1000, 2000), page.records.map((r) => r.id), 'pages arrive in order')
  assert.deepEqual({ ...it.summary }, {
    totalRecords: 2500,
    totalPages: 3,
    pages: 3,
    received: 2500,
    duplicates: 0,
    shortfall: 0,
    endedEarly: false,
    truncated: false,
    complete: true,
  })
})

test('getAllRecords().summary reports an over-stated total_records as a shortfall; strict: true makes it KNACK_BAD_RESPONSE', async () => {
  await fake.config({ overstate_total_records: 1500 })
  try {
    const all = await carol.getAllRecords(ALL_TICKETS)
    assert.equal(all.length, 2500)
    assert.equal(all.summary.totalRecords, 4000)
    assert.equal(all.summary.endedEarly, true)
    assert.equal(all.summary.shortfall, 1500)
    await assert.rejects(carol.getAllRecords({ ...ALL_TICKETS, strict: true }), { code: 'KNACK_BAD_RESPONSE' })
  } finally {
    await fake.config({ overstate_total_records: 0 })
  }
})

test('prefetchPages holds fetching to a slow consumer, and breaking out of the loop stops the background fetches', async () => {
  const before = pageRequests(await fake.log()).length
  const it = carol.records({ ...ALL_TICKETS, rowsPerPage: 100, prefetchPages: 2 })
  let n = 0
  for await (const _ of it) {
    // A slow consumer: a pause after each page of 100.
    if (++n % 100 === 0) await sleep(100)
    if (n === 800) break
  }
  // Requests already on the wire when the loop broke may still land; wait until they have.
  let made = -1
  for (let i = 0; i < 20; i++) {
    const m = pageRequests(await fake.log()).length - before
    if (m === made) break
    made = m
    await sleep(150)
  }
  // 8 pages taken + 2 ahead (+1 in the hand-over); the default prefetch of 8 makes 13 or more.
  assert.ok(made <= 11, `${made} pages fetched for a consumer that read 8`)
  await sleep(300)
  assert.equal(pageRequests(await fake.log()).length - before, made, 'fetching went on after break')
  assert.equal(it.summary.complete, false)
})
