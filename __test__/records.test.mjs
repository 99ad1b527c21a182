// View-based records as the logged-in user: reading, writing, queries, and each error code
// Knack's answers can produce.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let opts
let alice
let bob
let carol

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
  bob = await KnackSession.login({ ...opts, ...USERS.bob })
  carol = await KnackSession.login({ ...opts, ...USERS.carol })
})

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const EDIT_MINE = { scene: 'scene_1', view: 'view_3' }
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }

test('each user sees only their own tickets in a "connected to the logged-in user" view', async () => {
  const a = await alice.getRecords(MY_TICKETS)
  const b = await bob.getRecords(MY_TICKETS)
  assert.equal(a.records.length, 3)
  assert.equal(b.records.length, 2)
  assert.equal(a.totalRecords, 3)
  assert.equal(a.currentPage, 1)
  assert.equal(a.totalPages, 1)
  for (const r of a.records) assert.equal(r.field_14_raw[0].id, USERS.alice.id)
  const ids = new Set(a.records.map((r) => r.id))
  for (const r of b.records) assert.ok(!ids.has(r.id))
})

test('requests carry the raw token and the app id, never an API key', async () => {
  await alice.getRecords(MY_TICKETS)
  const [entry] = (await fake.log()).filter((e) => e.path.endsWith('/records'))
  assert.equal(entry.status, 200)
  assert.equal(entry.authorization_present, true)
  assert.equal(entry.user_id, USERS.alice.id, 'the fake accepted the raw token (it refuses "Bearer ...")')
  assert.equal(entry.headers['x-knack-application-id'], APP_ID)
  assert.equal(entry.api_key, null)
  assert.equal(entry.query, '', 'nothing was sent that the caller did not ask for')
})

test('a record with & # + % " and non-ASCII in it is found by an exact filter', async () => {
  const subject = 'Bills & fees #42 + 10% "urgent" — Zürich 東京 🙂'
  const created = await alice.createRecord({ ...NEW_TICKET, data: { field_10: subject } })
  assert.equal(created.field_10_raw ?? created.field_10, subject)
  for (const filters of [
    { match: 'and', rules: [{ field: 'field_10', operator: 'is', value: subject }] },
    [{ field: 'field_10', operator: 'is', value: subject }],
  ]) {
    const page = await alice.getRecords({ ...MY_TICKETS, filters })
    assert.equal(page.records.length, 1, JSON.stringify(filters))
    assert.equal(page.records[0].id, created.id)
  }
})

test('numbers in filter values reach Knack with exactly their JavaScript value', async () => {
  const values = [184467440774382060000, 0.30000000000000004, 5e-324, 1.7976931348623157e308, 123456789.12345679]
  await alice.getRecords({ ...MY_TICKETS, filters: values.map((value) => ({ field: 'field_13', operator: 'is', value })) })
  const [entry] = (await fake.log()).filter((e) => e.path.endsWith('/records'))
  const sent = JSON.parse(new URLSearchParams(entry.query).get('filters'))
  assert.deepEqual(sent.map((r) => r.value), values)
})

test('paging, sorting and format are passed through', async () => {
  const p1 = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 2, page: 1, sortField: 'field_13', sortOrder: 'desc' })
  const p2 = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 2, page: 2, sortField: 'field_13', sortOrder: 'desc' })
  assert.equal(p1.records.length, 2)
  assert.equal(p1.totalRecords, 5)
  assert.equal(p1.totalPages, 3)
  assert.equal(p2.currentPage, 2)
  const prios = [...p1.records, ...p2.records].map((r) => r.field_13_raw ?? 0)
  assert.deepEqual(prios, [...prios].sort((a, b) => b - a))
  const raw = await carol.getRecords({ ...ALL_TICKETS, format: 'raw', rowsPerPage: 1 })
  assert.ok('field_10_raw' in raw.records[0])
  assert.ok(!('field_10' in raw.records[0]))
})

test('parentRecordId becomes {scene_slug}_id; the slug comes from metadata fetched once per app', async () => {
  const [ticket] = (await alice.getRecords(MY_TICKETS)).records
  const byKey = await alice.getRecords({ scene: 'scene_3', view: 'view_6', parentRecordId: ticket.id })
  const again = await bob.getRecords({ scene: 'scene_3', view: 'view_6', parentRecordId: ticket.id })
  const bySlug = await alice.getRecords({ scene: 'ticket', view: 'view_6', parentRecordId: ticket.id })
  assert.equal(byKey.records.length, 2)
  assert.deepEqual(bySlug.records.map((r) => r.id), byKey.records.map((r) => r.id))
  assert.equal(again.records.length, 2)
  const log = await fake.log()
  const meta = log.filter((e) => e.path === `/v1/applications/${APP_ID}`)
  assert.equal(meta.length, 1, 'metadata fetched more than once')
  const comments = log.filter((e) => e.path.includes('/views/view_6/'))
  for (const e of comments) assert.equal(e.query, `ticket_id=${ticket.id}`)
})

test('create through a form: the record rule sets the customer to the logged-in user', async () => {
  const rec = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'Printer on fire', field_13: 3 } })
  assert.match(rec.id, /^[0-9a-f]{24}$/)
  assert.equal(rec.field_14_raw[0].id, USERS.alice.id)
  const stored = (await fake.stored('object_3')).records ?? (await fake.stored('object_3'))
  assert.ok(JSON.stringify(stored).includes('Printer on fire'))
  const mine = await alice.getRecords(MY_TICKETS)
  assert.equal(mine.records.length, 4)
})

test('create/update accept both answer shapes: {record} and the bare record', async () => {
  for (const shape of ['wrapped', 'bare']) {
    await fake.config({ write_response: shape })
    const rec = await alice.createRecord({ ...NEW_TICKET, data: { field_10: `Shape ${shape}` } })
    assert.match(rec.id, /^[0-9a-f]{24}$/, shape)
    assert.equal(rec.field_10_raw ?? rec.field_10, `Shape ${shape}`)
    const up = await alice.updateRecord({ ...EDIT_MINE, id: rec.id, data: { field_10: `Shape ${shape} 2` } })
    assert.equal(up.id, rec.id)
    assert.equal(up.field_10_raw ?? up.field_10, `Shape ${shape} 2`)
  }
})

test('getRecord, updateRecord and deleteRecord work on one record', async () => {
  const [t] = (await carol.getRecords(ALL_TICKETS)).records
  const one = await carol.getRecord({ ...ALL_TICKETS, id: t.id })
  assert.equal(one.id, t.id)
  const up = await carol.updateRecord({ scene: 'scene_2', view: 'view_5', id: t.id, data: { field_12: 'Closed' } })
  assert.equal(up.field_12_raw ?? up.field_12, 'Closed')
  assert.equal(await carol.deleteRecord({ ...ALL_TICKETS, id: t.id }), undefined)
  await assert.rejects(carol.getRecord({ ...ALL_TICKETS, id: t.id }), { code: 'KNACK_NOT_FOUND', status: 404 })
})

test('400 with errors is KNACK_VALIDATION carrying Knack\'s errors array', async () => {
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_11: 'no subject', field_13: 'lots' } }).catch((e) => e)
  assert.ok(err instanceof KnackError)
  assert.equal(err.code, 'KNACK_VALIDATION')
  assert.equal(err.status, 400)
  const fields = err.errors.map((e) => `${e.field}:${e.type}`).sort()
  assert.ok(fields.includes('field_10:required'), JSON.stringify(err.errors))
  assert.ok(err.errors.every((e) => typeof e.message === 'string' && e.message.length > 0))
  assert.match(err.message, /required/)
  assert.equal((await fake.stats()).inserts, 0)
})

test('403 is KNACK_FORBIDDEN: a customer may not use the agent desk', async () => {
  await assert.rejects(alice.getRecords(ALL_TICKETS), { code: 'KNACK_FORBIDDEN', status: 403 })
})

test('unknown record is KNACK_NOT_FOUND whether Knack answers 404 or 400', async () => {
  const id = 'ffffffffffffffffffffffff'
  await assert.rejects(carol.getRecord({ ...ALL_TICKETS, id }), { code: 'KNACK_NOT_FOUND', status: 404 })
  await fake.config({ not_found_status: 400 })
  await assert.rejects(carol.getRecord({ ...ALL_TICKETS, id }), { code: 'KNACK_NOT_FOUND', status: 400 })
  await assert.rejects(carol.getRecords({ scene: 'scene_2', view: 'view_99' }), { code: 'KNACK_NOT_FOUND' })
})

test('a token Knack rejects (403 "Invalid token provided", or 401 when Knack says so) is KNACK_UNAUTHORIZED, not KNACK_FORBIDDEN', async () => {
  const parts = alice.getToken().split('.')
  const forged = KnackSession.fromToken(`${parts[0]}.${parts[1]}.AAAA`, opts)
  await assert.rejects(forged.getRecords(MY_TICKETS), { code: 'KNACK_UNAUTHORIZED', status: 403, message: /Invalid token provided/ })
  await fake.config({ token_error_status: 401 })
  try {
    await assert.rejects(forged.getRecords(MY_TICKETS), { code: 'KNACK_UNAUTHORIZED', status: 401 })
  } finally {
    await fake.config({ token_error_status: 403 })
  }
})

test('an answer that is not what the API promises is KNACK_BAD_RESPONSE', async () => {
  await fake.faults([{ kind: 'invalid_json', method: 'GET', path_contains: '/records', times: 10 }])
  await assert.rejects(alice.getRecords(MY_TICKETS), { code: 'KNACK_BAD_RESPONSE' })
  await fake.clearFaults()
  await fake.faults([{ kind: 'status', status: 200, body: '{"records":"nope"}', content_type: 'application/json' }])
  await assert.rejects(alice.getRecords(MY_TICKETS), { code: 'KNACK_BAD_RESPONSE' })
})

test('inputs are checked before any request', async () => {
  const cases = [
    () => alice.getRecords({ scene: '../admin', view: 'view_1' }),
    () => alice.getRecords({ scene: 'scene_1', view: 'view_1/../../x' }),
    () => alice.getRecords({ scene: 'scene_1', view: 'view 1' }),
    () => alice.getRecords({ ...MY_TICKETS, rowsPerPage: 1001 }),
    () => alice.getRecords({ ...MY_TICKETS, page: 0 }),
    () => alice.getRecords({ ...MY_TICKETS, sortField: 'Subject' }),
    () => alice.getRecords({ ...MY_TICKETS, sortOrder: 'sideways', sortField: 'field_10' }),
    () => alice.getRecords({ ...MY_TICKETS, format: 'xml' }),
    () => alice.getRecords({ ...MY_TICKETS, filters: [{ field: 'field_10', operator: '>=' }] }),
    () => alice.getRecords({ ...MY_TICKETS, parentRecordId: 'abc' }),
    () => alice.getRecord({ ...MY_TICKETS, id: '../../etc/passwd' }),
    () => alice.getRecord({ ...MY_TICKETS, id: '000000000000000000000a1' }),
    () => alice.createRecord({ ...NEW_TICKET, data: 'field_10=x' }),
    () => alice.createRecord({ ...NEW_TICKET, data: [1] }),
    () => alice.updateRecord({ ...EDIT_MINE, id: 'x', data: {} }),
    () => alice.deleteRecord({ ...ALL_TICKETS, id: '' }),
    () => alice.getRecords({ scene: 'scene_1' }),
    () => alice.getRecords(null),
  ]
  for (const c of cases) {
    await assert.rejects(Promise.resolve().then(c), (e) => {
      assert.ok(e instanceof KnackError, String(e))
      assert.equal(e.code, 'KNACK_INVALID_ARGUMENT', `${c}: ${e.message}`)
      return true
    })
  }
  const calls = (await fake.log()).filter((e) => e.path.includes('/pages/'))
  assert.equal(calls.length, 0, 'a bad input reached the server')
})

test('the base URL must be https unless it is loopback', () => {
  const token = alice.getToken()
  for (const baseUrl of ['http://api.knack.com/v1', 'ftp://127.0.0.1/v1', 'https://u:p@api.knack.com/v1', 'nonsense']) {
    assert.throws(() => KnackSession.fromToken(token, { appId: APP_ID, baseUrl }), { code: 'KNACK_INVALID_ARGUMENT' })
  }
  assert.ok(KnackSession.fromToken(token, { appId: APP_ID, baseUrl: 'https://api.knack.com/v1' }))
  assert.ok(KnackSession.fromToken(token, { appId: APP_ID, baseUrl: 'http://localhost:9/v1' }))
})

test('sessions of one app share one transport: one set of counters', async () => {
  const before = alice.stats().requests
  await bob.getRecords(MY_TICKETS)
  await carol.getRecords(ALL_TICKETS)
  assert.equal(alice.stats().requests, before + 2)
  assert.deepEqual(alice.stats(), bob.stats())
})
