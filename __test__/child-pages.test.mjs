// Views on a child page (a ticket's comments): every call sends the parent record as
// `?{scene_slug}_id=`, the slug read once from the app's metadata; and the refusals real
// Knack gives get codes that say what happened.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const TICKET = '0000000000000000000a1c01' // alice's first ticket: comments c001, c002
const OTHER_TICKET = '0000000000000000000a1c02' // no comments
const COMMENTS = { scene: 'scene_3', view: 'view_6' } // table, delete link
const ADD_COMMENT = { scene: 'scene_3', view: 'view_7' } // insert form, rule: field_21 = parent
const EDIT_COMMENT = { scene: 'scene_3', view: 'view_11' } // update form
const C1 = '00000000000000000000c001'
const C2 = '00000000000000000000c002'

let fake
let alice
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
})

/** The /v1 requests after the login, as `METHOD path?query`. */
async function sent() {
  return (await fake.log())
    .filter((e) => !e.path.endsWith('/session'))
    .map((e) => `${e.method} ${e.path}${e.query ? '?' + e.query : ''}`)
}

const metadataFetches = (lines) => lines.filter((l) => l === `GET /v1/applications/${APP_ID}`).length

test('getRecords, getRecord, records() and getAllRecords send ?ticket_id= on a child page, by scene key or slug', async () => {
  // An app of its own (another spelling of the host), so its metadata cache starts empty.
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, baseUrl: fake.baseUrl.replace('127.0.0.1', 'localhost') })
  const page = await s.getRecords({ ...COMMENTS, parentRecordId: TICKET })
  assert.deepEqual(page.records.map((r) => r.id), [C1, C2])
  const one = await s.getRecord({ ...COMMENTS, id: C2, parentRecordId: TICKET })
  assert.equal(one.id, C2)
  const all = await s.getAllRecords({ ...COMMENTS, parentRecordId: TICKET })
  assert.deepEqual(all.map((r) => r.id), [C1, C2])
  const seen = []
  for await (const r of s.records({ scene: 'ticket', view: 'view_6', parentRecordId: OTHER_TICKET })) seen.push(r.id)
  assert.deepEqual(seen, [])
  const lines = await sent()
  assert.ok(lines.includes(`GET /v1/pages/scene_3/views/view_6/records/${C2}?ticket_id=${TICKET}`), lines.join('\n'))
  assert.ok(lines.some((l) => l.startsWith('GET /v1/pages/ticket/views/view_6/records?') && l.includes(`ticket_id=${OTHER_TICKET}`)), lines.join('\n'))
  assert.equal(metadataFetches(lines), 1, 'the slug comes from metadata fetched once per app')
})

test('createRecord on a child page connects the new record to the parent (the demo\'s "Add comment")', async () => {
  const c = await alice.createRecord({ ...ADD_COMMENT, parentRecordId: OTHER_TICKET, data: { field_20: 'Any news?', field_22: 'Alice' } })
  assert.equal(c.field_20_raw, 'Any news?')
  assert.deepEqual(c.field_21_raw.map((x) => x.id), [OTHER_TICKET])
  const stored = (await fake.stored('object_4')).records.find((r) => r.id === c.id)
  assert.deepEqual(stored.field_21.map((x) => x.id), [OTHER_TICKET])
  assert.ok((await sent()).includes(`POST /v1/pages/scene_3/views/view_7/records?ticket_id=${OTHER_TICKET}`))
})

test('updateRecord and deleteRecord on a child page send the parent too', async () => {
  const u = await alice.updateRecord({ ...EDIT_COMMENT, id: C1, parentRecordId: TICKET, data: { field_20: 'Edited' } })
  assert.equal(u.field_20_raw, 'Edited')
  await alice.deleteRecord({ ...COMMENTS, id: C2, parentRecordId: TICKET })
  const left = (await fake.stored('object_4')).records.map((r) => r.id)
  assert.ok(!left.includes(C2) && left.includes(C1))
  // The parent scopes the call: a comment of another ticket is not found there.
  await assert.rejects(alice.deleteRecord({ ...COMMENTS, id: C1, parentRecordId: OTHER_TICKET }), { code: 'KNACK_NOT_FOUND' })
  const lines = await sent()
  assert.ok(lines.includes(`PUT /v1/pages/scene_3/views/view_11/records/${C1}?ticket_id=${TICKET}`), lines.join('\n'))
  assert.ok(lines.includes(`DELETE /v1/pages/scene_3/views/view_6/records/${C2}?ticket_id=${TICKET}`), lines.join('\n'))
})

test('createRecords, updateRecords and deleteRecords send the parent on every item', async () => {
  const created = await alice.createRecords({ ...ADD_COMMENT, parentRecordId: OTHER_TICKET, records: [{ field_20: 'one' }, { field_20: 'two' }, { field_20: 'three' }] })
  assert.ok(created.every((r) => r.ok), JSON.stringify(created))
  const ids = created.map((r) => r.record.id)
  const updated = await alice.updateRecords({ ...EDIT_COMMENT, parentRecordId: OTHER_TICKET, records: ids.map((id) => ({ id, data: { field_20: 'bulk edit' } })) })
  assert.ok(updated.every((r) => r.ok && r.record.field_20_raw === 'bulk edit'), JSON.stringify(updated))
  const deleted = await alice.deleteRecords({ ...COMMENTS, parentRecordId: OTHER_TICKET, ids })
  assert.ok(deleted.every((r) => r.ok), JSON.stringify(deleted))
  const writes = (await sent()).filter((l) => !l.startsWith('GET'))
  assert.equal(writes.length, 9)
  assert.ok(writes.every((l) => l.endsWith(`?ticket_id=${OTHER_TICKET}`)), writes.join('\n'))
  assert.equal((await fake.stored('object_4')).records.length, 2)
})

test('a child-page call without parentRecordId is KNACK_PARENT_REQUIRED, and nothing is written', async () => {
  await assert.rejects(alice.getRecords(COMMENTS), { code: 'KNACK_PARENT_REQUIRED', status: 400, message: /parentRecordId.*ticket_id is required/ })
  await assert.rejects(alice.createRecord({ ...ADD_COMMENT, data: { field_20: 'lost?' } }), { code: 'KNACK_PARENT_REQUIRED', outcome: 'rejected' })
  assert.equal((await fake.stored('object_4')).records.length, 2)
})

test('a call the view cannot do is KNACK_UNSUPPORTED_ACTION, not KNACK_VALIDATION', async () => {
  await assert.rejects(alice.createRecord({ ...COMMENTS, parentRecordId: TICKET, data: { field_20: 'x' } }), { code: 'KNACK_UNSUPPORTED_ACTION', status: 400 })
  await assert.rejects(alice.deleteRecord({ scene: 'scene_1', view: 'view_1', id: TICKET }), { code: 'KNACK_UNSUPPORTED_ACTION' })
})

test('a bad parentRecordId is refused before any request', async () => {
  await assert.rejects(alice.createRecord({ ...ADD_COMMENT, parentRecordId: 'not-an-id', data: { field_20: 'x' } }), { code: 'KNACK_INVALID_ARGUMENT', message: /parentRecordId/ })
  await assert.rejects(alice.getRecord({ ...COMMENTS, id: C1, parentRecordId: 42 }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.deepEqual(await sent(), [])
})

test('text/html errors are read: Malformed Record Key is KNACK_NOT_FOUND, a 500 page says what it said', async () => {
  await fake.faults([{ kind: 'status', status: 400, body: 'Malformed Record Key: 0000000000000000000a1c01', content_type: 'text/html; charset=utf-8', method: 'GET' }])
  await assert.rejects(alice.getRecord({ scene: 'scene_1', view: 'view_1', id: TICKET }), { code: 'KNACK_NOT_FOUND', message: /Malformed Record Key: 0000000000000000000a1c01/ })
  await fake.faults([{ kind: 'status', status: 500, body: '<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>', content_type: 'text/html', method: 'POST', times: 1 }])
  await assert.rejects(alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'x' } }), { code: 'KNACK_SERVER_ERROR', message: /Knack answered 500 \(500 Internal Server Error\)/ })
})

test('a baseUrl without /v1 gets a hint that names the fix', async () => {
  const err = await KnackSession.login({ ...opts, baseUrl: fake.url, ...USERS.alice }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NOT_FOUND')
  assert.match(err.message, new RegExp(`baseUrl ${fake.url} does not end in /v1.*did you mean ${fake.url}/v1\\?`))
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, baseUrl: fake.url })
  await assert.rejects(s.getRecords({ scene: 'scene_1', view: 'view_1' }), { code: 'KNACK_NOT_FOUND', message: /does not end in \/v1/ })
})
