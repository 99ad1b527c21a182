// Report views (charts, pivot tables): every report of a view, one report by its index, with
// filters and on a child page, scoped to what the user may see, and the refusals a user meets.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let alice
let carol

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  const opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
  carol = await KnackSession.login({ ...opts, ...USERS.carol })
})
after(() => fake.stop())

/** { group label: [calc_0, calc_1, ...] } of a report's records. */
const groups = (report) =>
  Object.fromEntries(
    report.records.map((r) => [
      r.group_0,
      Object.keys(r)
        .filter((k) => k.startsWith('calc_'))
        .sort()
        .map((k) => r[k]),
    ]),
  )

const reportPaths = async () => (await fake.log()).filter((e) => e.path.includes('/report')).map((e) => e.path + (e.query ? `?${e.query}` : ''))

test('getReport without report gives every report of the view as an array, computed from the records', async () => {
  const reports = await carol.getReport({ scene: 'agent-desk', view: 'view_12' })
  assert.ok(Array.isArray(reports))
  assert.equal(reports.length, 2)
  assert.equal(reports[0].title, 'Tickets by status')
  assert.deepEqual(groups(reports[0]), { New: [2], Open: [1], Closed: [1], Pending: [1] })
  assert.equal(reports[1].title, 'Tickets per customer')
  assert.deepEqual(groups(reports[1]), { 'Alice Customer': [3, 3], 'Bob Customer': [2, 3] })
})

test('getReport with report: n gives that one report as an object, from .../report/n', async () => {
  const one = await carol.getReport({ scene: 'scene_2', view: 'view_12', report: 1 })
  assert.ok(!Array.isArray(one))
  assert.equal(one.title, 'Tickets per customer')
  assert.deepEqual(groups(one), { 'Alice Customer': [3, 3], 'Bob Customer': [2, 3] })
  assert.ok((await reportPaths()).some((p) => p.startsWith('/v1/pages/scene_2/views/view_12/report/1')))
  await assert.rejects(carol.getReport({ scene: 'scene_2', view: 'view_12', report: 7 }), { code: 'KNACK_NOT_FOUND' })
})

test('filters narrow the records a report counts, encoded as for records', async () => {
  const filters = { match: 'and', rules: [{ field: 'field_13', operator: 'higher than', value: 2 }] }
  const [byStatus] = await carol.getReport({ scene: 'scene_2', view: 'view_12', filters })
  assert.deepEqual(groups(byStatus), { New: [2], Closed: [1] })
  const one = await carol.getReport({ scene: 'scene_2', view: 'view_12', report: 0, filters: [{ field: 'field_12', operator: 'is', value: 'New' }] })
  assert.deepEqual(groups(one), { New: [2] })
})

test('a report counts only what the user may see: a customer sees their own tickets', async () => {
  const [mine] = await alice.getReport({ scene: 'scene_1', view: 'view_13' })
  assert.deepEqual(groups(mine), { Open: [1], New: [1], Closed: [1] })
  await assert.rejects(alice.getReport({ scene: 'scene_2', view: 'view_12' }), { code: 'KNACK_FORBIDDEN' })
})

test('a report on a child page needs parentRecordId and counts that parent record\'s records', async () => {
  const [bob] = await carol.getReport({ scene: 'customer', view: 'view_14', parentRecordId: USERS.bob.id })
  assert.deepEqual(groups(bob), { Pending: [1, 2], New: [1, 4] })
  const [alices] = await carol.getReport({ scene: 'scene_6', view: 'view_14', parentRecordId: USERS.alice.id, report: undefined })
  assert.deepEqual(groups(alices), { Open: [1, 1], New: [1, 3], Closed: [1, 5] })
  assert.ok((await reportPaths()).some((p) => p.includes(`customer_id=${USERS.bob.id}`)), 'the parent goes as ?{slug}_id=')
  await assert.rejects(carol.getReport({ scene: 'scene_6', view: 'view_14' }), { code: 'KNACK_PARENT_REQUIRED' })
})

test('a view that is not a report is KNACK_UNSUPPORTED_ACTION; bad arguments are refused before any request', async () => {
  await assert.rejects(carol.getReport({ scene: 'scene_2', view: 'view_4' }), { code: 'KNACK_UNSUPPORTED_ACTION' })
  await fake.reset()
  for (const bad of [{ scene: 'scene_2' }, { scene: 'scene_2', view: 'view_12', report: -1 }, { scene: 'scene_2', view: 'view_12', report: 1.5 }, { scene: 'scene_2', view: 'view_12', reprot: 1 }]) {
    await assert.rejects(carol.getReport(bad), { code: 'KNACK_INVALID_ARGUMENT' }, JSON.stringify(bad))
  }
  assert.deepEqual(await reportPaths(), [])
})
