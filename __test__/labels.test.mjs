// Knack-shaped data (README "Records by label"): the app's schema, records by field label with
// real JS values (converted in Rust from field_N_raw; dates at the real instant in the app's
// timezone), projection with `fields`, and writes by label, against fake-knack's helpdesk
// (Central time) and field-types apps.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession, KnackError } from '../index.js'
import { startFake, FIELD_TYPES, USERS, APP_ID } from './helpers/fake.mjs'

const ALL_TYPES = { scene: 'scene_1', view: 'view_1' }
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const FILLED = '5d7964422d7159001659b27a'
const EMPTY = '5f1e1d7e000000000000e001'

let fields // fake-knack with the field-types app
let desk // fake-knack with the helpdesk app
let reader // a session on the field-types app
let carol // an agent of the helpdesk (inline edit on "All tickets")
let alice // a customer of the helpdesk ("New ticket" form)

before(async () => {
  fields = await startFake(['--rate-limit', 'off'], { fixture: FIELD_TYPES.fixture, appId: FIELD_TYPES.appId })
  desk = await startFake(['--rate-limit', 'off', '--seed-tickets', '30'])
  reader = KnackSession.fromToken(await fields.token(FIELD_TYPES.user.email), { appId: FIELD_TYPES.appId, baseUrl: fields.baseUrl, rateLimit: false })
  const opts = { appId: APP_ID, baseUrl: desk.baseUrl, rateLimit: false }
  carol = await KnackSession.login({ ...opts, ...USERS.carol })
  alice = await KnackSession.login({ ...opts, ...USERS.alice })
})
after(async () => {
  await fields.stop()
  await desk.stop()
})

const metadataCalls = async (fake) => (await fake.log()).filter((e) => e.method === 'GET' && /^\/v1\/applications\/[0-9a-f]+$/.test(e.path)).length
const sent = async (fake, method) => (await fake.log()).filter((e) => e.method === method && e.path.includes('/records')).length

test('schema() describes objects, fields, views with their label keys and the timezone, without a login', async () => {
  const s = await KnackSession.schema({ appId: APP_ID, baseUrl: desk.baseUrl })
  assert.equal(s.appId, APP_ID)
  assert.deepEqual(s.timezone, { knack: 'Central Time (US & Canada)', iana: 'America/Chicago' })
  const tickets = s.objects.find((o) => o.key === 'object_3')
  const customer = tickets.fields.find((f) => f.key === 'field_14')
  assert.deepEqual(customer, { key: 'field_14', label: 'Customer', type: 'connection', required: false, format: null, relationship: { object: 'object_1' }, object: 'object_3' })
  assert.equal(tickets.fields.find((f) => f.key === 'field_10').required, true)
  const scene = s.scenes.find((x) => x.key === 'scene_2')
  assert.equal(scene.slug, 'agent-desk')
  const view = scene.views.find((v) => v.key === 'view_4')
  assert.equal(view.type, 'table')
  assert.equal(view.object, 'object_3')
  assert.deepEqual(view.fields, ['field_10', 'field_11', 'field_12', 'field_13', 'field_14', 'field_15', 'field_16', 'field_17'])
  assert.equal(view.labels.field_15, 'Created')
  // The session's schema() is the same document, from the same per-app cache.
  assert.deepEqual(await carol.schema(), s)
})

test('schema() is fetched once for many concurrent callers and again on refresh', async () => {
  const opts = { appId: APP_ID, baseUrl: desk.baseUrl }
  await KnackSession.schema({ ...opts, refresh: true })
  const before = await metadataCalls(desk)
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? carol.schema() : KnackSession.schema(opts))))
  assert.equal(all.length, 20)
  assert.equal(await metadataCalls(desk), before, 'a fresh cached schema needs no request')
  await Promise.all(Array.from({ length: 20 }, () => carol.schema({ refresh: true })))
  assert.equal(await metadataCalls(desk), before + 1, '20 concurrent refreshes share one request')
})

test('schema() options are checked and an unknown app is KNACK_NOT_FOUND', async () => {
  await assert.rejects(KnackSession.schema({ appId: APP_ID, baseUrl: desk.baseUrl, refesh: true }), (e) => e instanceof KnackError && e.code === 'KNACK_INVALID_ARGUMENT' && /did you mean "refresh"/.test(e.message))
  await assert.rejects(carol.schema({ refresh: 'yes' }), { code: 'KNACK_INVALID_ARGUMENT' })
  await assert.rejects(KnackSession.schema({ appId: 'ffffffffffffffffffffffff', baseUrl: desk.baseUrl }), { code: 'KNACK_NOT_FOUND' })
})

test("shape: 'labels' converts every Knack field type from its raw value", async () => {
  const r = await reader.getRecord({ ...ALL_TYPES, id: FILLED, shape: 'labels' })
  assert.equal(r.id, FILLED)
  assert.equal(r['Short Text'], 'hello')
  assert.equal(r.Number, 100)
  assert.equal(r.Currency, 100.43, 'currency raw arrives as the string "100.43"')
  assert.equal(r.Rating, 0)
  assert.equal(r['Auto Increment'], 1)
  assert.equal(r.Sum, 31.98)
  assert.equal(r.Average, 15.99)
  assert.equal(r.Count, 2)
  assert.equal(r.Equation, 1.33333333)
  assert.equal(r['Yes/No'], true)
  assert.equal(r.Email, 'pizzathehut@spaceballs.com')
  assert.match(r.Link, /^https:\/\/data\.austintexas\.gov\//)
  assert.deepEqual(r.customer, [{ id: '5ea46ad2b6ce4b0015000ae8', identifier: 'Johnny C' }])
  assert.equal(r.File.id, '5d7967132be2bb0010892ce7')
  assert.equal(r.File.filename, '0.omfbylawsapproved1.pdf')
  assert.equal(r.Image.type, 'image')
  assert.equal(r['Image from Web'], 'google.com')
  assert.equal(r['Multiple Choice'], 'Extra Cheese')
  assert.deepEqual(r['Multiple Choice (multi)'], ['Option 1', 'Option 2'])
  assert.deepEqual(r.Name, { first: 'Pizza', middle: 'Danger', last: 'the Hut' })
  assert.equal(r['Address USA'].city, 'Austin')
  assert.equal(r.Phone.full, '5129743546')
  assert.deepEqual(r['User Roles'], [{ id: 'profile_8', identifier: 'Accounting' }])
  assert.equal(r.Timer.total_time, 3600000, 'a timer stays as Knack sent it')
  // A field labelled "id" cannot take the record's id.
  assert.equal(r['id (field_125)'], '1')
  // Dates: Knack's unix_timestamp is Central wall time written as UTC; these are the instants.
  assert.ok(r['Date/Time - No Time no default'] instanceof Date)
  assert.equal(r['Date/Time - No Time no default'].toISOString(), '2019-09-11T05:00:00.000Z', 'a date-only field is midnight in the app timezone')
  assert.equal(r['Date/Time - No Date'], '16:14', 'a time-only field is "HH:MM"')
  const range = r['Date/Time - Range']
  assert.ok(range.from instanceof Date && range.to instanceof Date)
  assert.equal(range.from.toISOString(), '2019-09-11T21:14:00.000Z')
  assert.equal(range.to.toISOString(), '2019-09-11T22:14:00.000Z')
  // No formatted twin and no _raw key is left.
  assert.ok(Object.keys(r).every((k) => !/^field_\d+(_raw)?$/.test(k)), Object.keys(r).join())
})

test('an empty record has every field of the view, null (connections and roles [])', async () => {
  const r = await reader.getRecord({ ...ALL_TYPES, id: EMPTY, shape: 'labels' })
  assert.equal(r.Number, null)
  assert.equal(r['Short Text'], null)
  assert.equal(r['Date/Time - Range'], null)
  assert.equal(r.File, null)
  assert.deepEqual(r.customer, [])
  assert.deepEqual(r['User Roles'], [])
  const schema = await reader.schema()
  const view = schema.scenes[0].views.find((v) => v.key === 'view_1')
  assert.deepEqual(Object.keys(r), ['id', ...view.fields.map((k) => view.labels[k])])
})

test('getRecords, getAllRecords and records() give the same labels records', async () => {
  const page = await reader.getRecords({ ...ALL_TYPES, shape: 'labels', rowsPerPage: 1000 })
  assert.equal(page.totalRecords, 6)
  assert.equal(page.records.length, 6)
  assert.deepEqual(Object.keys(page).sort(), ['currentPage', 'records', 'totalPages', 'totalRecords'])
  const all = await reader.getAllRecords({ ...ALL_TYPES, shape: 'labels', rowsPerPage: 2 })
  assert.deepEqual(all, page.records)
  const seen = []
  for await (const r of reader.records({ ...ALL_TYPES, shape: 'labels', rowsPerPage: 4 })) seen.push(r)
  assert.deepEqual(seen, page.records)
  assert.ok(seen[0]['Date/Time - w/ Time default current'] instanceof Date)
})

test('fields projects records in Rust: only id and the named fields, by key or by label', async () => {
  const page = await reader.getRecords({ ...ALL_TYPES, fields: ['field_7', 'Number'] })
  assert.deepEqual(Object.keys(page.records[0]), ['id', 'field_7', 'field_7_raw', 'field_10', 'field_10_raw'])
  const allowed = new Set(['id', 'field_7', 'field_7_raw', 'field_10', 'field_10_raw'])
  for (const r of page.records) assert.ok(Object.keys(r).every((k) => allowed.has(k)), Object.keys(r).join())
  const raw = await reader.getRecords({ ...ALL_TYPES, fields: ['Short Text'], format: 'raw' })
  assert.deepEqual(Object.keys(raw.records[0]), ['id', 'field_7_raw'])
  const labels = await reader.getAllRecords({ ...ALL_TYPES, fields: ['Currency', 'field_12'], shape: 'labels' })
  assert.deepEqual(labels[0], { id: FILLED, 'Date/Time - No Time no default': new Date('2019-09-11T05:00:00.000Z'), Currency: 100.43 })
  const one = await reader.getRecord({ ...ALL_TYPES, id: FILLED, fields: ['Yes/No'] })
  assert.deepEqual(one, { id: FILLED, field_29: 'Yes', field_29_raw: true })
})

test('an unknown field in fields or a shape clash is KNACK_INVALID_ARGUMENT before the records are asked for', async () => {
  const before = await sent(fields, 'GET')
  await assert.rejects(reader.getRecords({ ...ALL_TYPES, fields: ['Numbr'] }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && e.message.includes('did you mean "Number"') && e.outcome === 'not-sent')
  await assert.rejects(reader.getRecords({ ...ALL_TYPES, fields: ['field_99999'] }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && /field_99999 is not a field/.test(e.message))
  await assert.rejects(reader.getRecords({ ...ALL_TYPES, shape: 'labels', format: 'both' }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && /format cannot be combined/.test(e.message))
  await assert.rejects(reader.getRecords({ ...ALL_TYPES, shape: 'label' }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && /did you mean "labels"/.test(e.message))
  await assert.rejects(reader.getRecords({ ...ALL_TYPES, fields: 'field_7' }), { code: 'KNACK_INVALID_ARGUMENT' })
  await assert.rejects(reader.getAllRecords({ ...ALL_TYPES, fields: [''] }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.equal(await sent(fields, 'GET'), before)
})

test('writes by label: a Date is written as Central wall time, across the DST change, and reads back as the same instant', async () => {
  const { records } = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 3 })
  const cases = [
    ['2024-03-10T07:59:00.000Z', { date: '03/10/2024', hours: '01', minutes: '59', am_pm: 'AM' }], // 01:59 CST
    ['2024-03-10T08:00:00.000Z', { date: '03/10/2024', hours: '03', minutes: '00', am_pm: 'AM' }], // 03:00 CDT
    ['2024-07-04T17:30:00.000Z', { date: '07/04/2024', hours: '12', minutes: '30', am_pm: 'PM' }], // 12:30 CDT
  ]
  for (const [i, [iso, wall]] of cases.entries()) {
    const id = records[i].id
    const written = await carol.updateRecord({ ...ALL_TICKETS, id, shape: 'labels', data: { Created: new Date(iso), Priority: 3, Status: 'Open' } })
    assert.ok(written.Created instanceof Date)
    assert.equal(written.Created.toISOString(), iso)
    assert.equal(written.Priority, 3)
    assert.equal(written.Status, 'Open')
    const stored = (await desk.stored('object_3')).records.find((r) => r.id === id)
    for (const [k, v] of Object.entries(wall)) assert.equal(String(stored.field_15[k]), v, `${iso} ${k}`)
    const back = await carol.getRecord({ ...ALL_TICKETS, id, shape: 'labels' })
    assert.equal(back.Created.toISOString(), iso)
  }
})

test('writes by label: numbers, text, emails and connections by id or { id }; null clears', async () => {
  const customerId = (await desk.stored('object_1')).records[0].id
  const created = await alice.createRecord({ ...NEW_TICKET, shape: 'labels', data: { Subject: 'Printer on fire', Description: null, Priority: 5, 'Contact email': 'alice@example.com' } })
  assert.equal(created.Subject, 'Printer on fire')
  assert.equal(created.Priority, 5)
  assert.equal(created['Contact email'], 'alice@example.com')
  assert.ok(created.Created instanceof Date, 'the form rule set Created; it reads back as a Date')
  const updated = await carol.updateRecord({ ...ALL_TICKETS, id: created.id, shape: 'labels', data: { Customer: { id: customerId }, Priority: null } })
  assert.deepEqual(updated.Customer.map((c) => c.id), [customerId])
  assert.equal(updated.Priority, null)
  const again = await carol.updateRecord({ ...ALL_TICKETS, id: created.id, shape: 'labels', data: { Customer: [customerId] } })
  assert.deepEqual(again.Customer.map((c) => c.id), [customerId])
})

test('a write by label with an unknown label or a wrong value type is refused naming the field, before any request', async () => {
  const { records } = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 1 })
  const id = records[0].id
  const before = await sent(desk, 'PUT')
  const cases = [
    [{ Subjet: 'x' }, /"Subjet" is not a field label of scene_2\/view_4 \(did you mean "Subject"\?\)/],
    [{ Priority: '5' }, /data\["Priority"\] \(field_13, number\) must be a number, got a string/],
    [{ Created: '2024-01-01' }, /\(field_15, date_time\) must be a Date, got a string/],
    [{ Created: new Date('nope') }, /Invalid Date/],
    [{ Customer: 'not-an-id' }, /"not-an-id" is not a record id/],
    [{ 'Contact email': 42 }, /must be a string, got a number/],
  ]
  for (const [data, message] of cases) {
    await assert.rejects(carol.updateRecord({ ...ALL_TICKETS, id, shape: 'labels', data }), (e) => {
      assert.equal(e.code, 'KNACK_INVALID_ARGUMENT', e.message)
      assert.match(e.message, message)
      assert.equal(e.outcome, 'not-sent')
      return true
    })
  }
  assert.equal(await sent(desk, 'PUT'), before, 'nothing was sent')
})

test('bulk writes take shape: labels too, Dates included', async () => {
  const results = await alice.createRecords({ ...NEW_TICKET, shape: 'labels', records: [{ Subject: 'one', Priority: 1 }, { Subject: 'two', Priority: 'high' }] })
  assert.equal(results[0].ok, true)
  assert.equal(results[0].record.Subject, 'one')
  assert.equal(results[1].ok, false)
  assert.equal(results[1].error.code, 'KNACK_INVALID_ARGUMENT')
  assert.equal(results[1].outcome, 'not-sent')
  const { records } = await carol.getRecords({ ...ALL_TICKETS, rowsPerPage: 2 })
  const when = new Date('2025-11-02T06:30:00.000Z') // 01:30 CDT, the first of the two 01:30s
  const upd = await carol.updateRecords({ ...ALL_TICKETS, shape: 'labels', records: records.map((r) => ({ id: r.id, data: { Created: when } })) })
  for (const u of upd) {
    assert.equal(u.ok, true)
    assert.equal(u.record.Created.toISOString(), when.toISOString())
  }
})
