// Every Knack field type (fixtures/field-types.json, a recorded object whose records fake-knack
// serves byte for byte) survives the client unchanged: what getRecords/getRecord/getAllRecords
// give is what JSON.parse makes of the same answer fetched by hand, in every format, numbers
// beyond 2^53 and lone surrogates included.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, FIELD_TYPES } from './helpers/fake.mjs'

const PUBLIC = { scene: 'scene_1', view: 'view_1' }
const DETAILS = { scene: 'scene_1', view: 'view_2' }
const FEW = { scene: 'scene_1', view: 'view_3' }
const LOGGED_IN = { scene: 'scene_2', view: 'view_4' }
const FORMATS = ['raw', 'html', 'both']
// In the fixture's order: every field filled; knackpy rows 1, 2 and 24; empty as recorded; raw nulls.
const IDS = [
  '5d7964422d7159001659b27a',
  '5d7968c8092e7f00106c6399',
  '5d7b026e58b1e6001064b4f0',
  '6010d3e629ea96001bf95e4f',
  '5f1e1d7e000000000000e001',
  '5f1e1d7e000000000000e002',
]
const [FILLED, , , , EMPTY, NULLS] = IDS

let fake
let opts
let anonymous // fromToken: a token the fake issued, on the public scene
let member // login(): the fixture's user, on the login scene

before(async () => {
  fake = await startFake(['--rate-limit', 'off'], { fixture: FIELD_TYPES.fixture, appId: FIELD_TYPES.appId })
  opts = { appId: FIELD_TYPES.appId, baseUrl: fake.baseUrl, rateLimit: false }
  anonymous = KnackSession.fromToken(await fake.token(FIELD_TYPES.user.email), opts)
  member = await KnackSession.login({ ...opts, ...FIELD_TYPES.user })
})
after(() => fake.stop())

/** JSON.parse of the fake's answer to a plain fetch of a view's records (or of one record). */
async function fetched({ scene, view }, { id, token, ...query } = {}) {
  const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))
  const url = `${fake.baseUrl}/pages/${scene}/views/${view}/records${id ? '/' + id : ''}?${q}`
  const headers = { 'X-Knack-Application-Id': FIELD_TYPES.appId }
  if (token) headers.Authorization = token
  const res = await fetch(url, { headers })
  assert.equal(res.status, 200, url)
  return JSON.parse(await res.text())
}

/** Deep-equal, and the same keys in the same order (the client does not rebuild records). */
function assertUnchanged(actual, expected, what) {
  assert.deepStrictEqual(actual, expected, what)
  assert.deepStrictEqual(Object.keys(actual), Object.keys(expected), `${what}: key order`)
}

test('getRecords returns every recorded record as JSON.parse of the same answer, in each format', async () => {
  for (const format of FORMATS) {
    const page = await anonymous.getRecords({ ...PUBLIC, format })
    const body = await fetched(PUBLIC, { format })
    assert.equal(page.totalRecords, 6)
    assert.equal(page.totalPages, 1)
    assert.equal(page.currentPage, 1)
    assert.deepEqual(
      page.records.map((r) => r.id),
      IDS,
    )
    page.records.forEach((r, i) => assertUnchanged(r, body.records[i], `${format} ${r.id}`))
    for (const r of page.records) {
      const keys = Object.keys(r).filter((k) => k !== 'id')
      if (format === 'raw') assert.ok(keys.every((k) => k.endsWith('_raw')), `${format} ${r.id}`)
      if (format === 'html') assert.ok(keys.every((k) => !k.endsWith('_raw')), `${format} ${r.id}`)
    }
  }
})

test('a view with a few fields gives only those fields, unchanged, in each format', async () => {
  for (const format of FORMATS) {
    const page = await anonymous.getRecords({ ...FEW, format })
    const body = await fetched(FEW, { format })
    page.records.forEach((r, i) => assertUnchanged(r, body.records[i], `${format} ${r.id}`))
    const filled = page.records[0]
    const expected = { raw: ['id', 'field_7_raw', 'field_128_raw', 'field_210_raw', 'field_213_raw'] }
    expected.html = expected.raw.map((k) => k.replace('_raw', ''))
    expected.both = ['id', ...expected.html.slice(1).flatMap((k) => [k, k + '_raw'])]
    assert.deepEqual(Object.keys(filled), expected[format])
  }
})

test('getRecord (and a list, per format) gives each recorded record as JSON.parse of its own answer, in table and details views', async () => {
  for (const view of [PUBLIC, DETAILS]) {
    for (const id of IDS) {
      // getRecord takes no format: Knack's default (both).
      const record = await anonymous.getRecord({ ...view, id })
      assertUnchanged(record, await fetched(view, { id }), `${view.view} ${id}`)
    }
    for (const format of FORMATS) {
      const page = await anonymous.getRecords({ ...view, format })
      for (const id of IDS) {
        const one = page.records.find((r) => r.id === id)
        assertUnchanged(one, await fetched(view, { id, format }), `${view.view} ${id} ${format}`)
      }
    }
  }
})

test('getAllRecords pages through the recorded records unchanged, in one page or three', async () => {
  for (const format of FORMATS) {
    const body = await fetched(PUBLIC, { format, rows_per_page: 1000 })
    for (const rowsPerPage of [1000, 2]) {
      const all = await anonymous.getAllRecords({ ...PUBLIC, format, rowsPerPage })
      assert.equal(all.length, 6, `${format} ${rowsPerPage}`)
      all.forEach((r, i) => assertUnchanged(r, body.records[i], `${format} ${rowsPerPage} ${r.id}`))
    }
  }
})

test('a logged-in session gets the same records from the login scene', async () => {
  const token = member.getToken()
  for (const format of FORMATS) {
    const page = await member.getRecords({ ...LOGGED_IN, format })
    const body = await fetched(LOGGED_IN, { format, token })
    page.records.forEach((r, i) => assertUnchanged(r, body.records[i], `${format} ${r.id}`))
    const publicPage = await anonymous.getRecords({ ...PUBLIC, format })
    assert.deepStrictEqual(page.records, publicPage.records)
    const all = await member.getAllRecords({ ...LOGGED_IN, format, rowsPerPage: 4 })
    all.forEach((r, i) => assertUnchanged(r, body.records[i], `${format} all ${r.id}`))
    assertUnchanged(await member.getRecord({ ...LOGGED_IN, id: FILLED }), await fetched(LOGGED_IN, { id: FILLED, token }), 'one')
  }
})

test('numbers beyond 2^53 and long fractions get exactly the rounding JSON.parse gives them', async () => {
  const r = await anonymous.getRecord({ ...PUBLIC, id: FILLED })
  const parsed = JSON.parse('[12345678901234567890123, 9007199254740993, 2634.66666008, 1.33333333]')
  assert.deepEqual([r.field_210_raw, r.field_211_raw, r.field_212_raw, r.field_129_raw], parsed)
  assert.equal(r.field_210_raw, 1.2345678901234568e22)
  assert.equal(r.field_211_raw, 9007199254740992, '2^53 + 1 rounds to 2^53, as in JSON.parse')
  assert.equal(r.field_210, r.field_210_raw, 'the formatted value is the same JSON number')
  assert.equal(r.field_129, 1, "an equation's formatted value is rounded (recorded)")
  assert.equal(r.field_30_raw, '100.43', 'currency raw is a string (recorded)')
})

test('a lone surrogate in a recorded string reaches JavaScript as that lone code unit', async () => {
  for (const format of ['raw', 'both']) {
    const [r] = (await anonymous.getRecords({ ...PUBLIC, format, rowsPerPage: 1 })).records
    const s = r.field_213_raw
    assert.equal(
      s,
      'lone high \ud800, lone low \udfff, nul \u0000, quote ", backslash \\, slash /, tab \t, emoji pair \ud83d\ude00, literal 🙂 and ñ',
    )
    const high = s.indexOf('\ud800')
    assert.equal(s.charCodeAt(high), 0xd800)
    assert.ok(!(s.charCodeAt(high + 1) >= 0xdc00 && s.charCodeAt(high + 1) <= 0xdfff), 'not part of a pair')
    assert.equal(s.isWellFormed(), false)
    assert.ok(s.includes('\u{1F600}'), 'an escaped pair is one emoji')
    assert.ok(s.includes('\u0000'))
  }
  const html = await anonymous.getRecord({ ...PUBLIC, id: FILLED })
  assert.equal(html.field_213, html.field_213_raw)
})

test('empty values keep their recorded shapes: "" with no _raw key, [] for connections, null and [null] where written', async () => {
  const empty = await anonymous.getRecord({ ...PUBLIC, id: EMPTY })
  assert.equal(empty.field_17, '')
  assert.equal('field_17_raw' in empty, false, 'an empty file has no raw key (recorded)')
  assert.equal('field_6_raw' in empty, false, 'an empty multiple choice has no raw key (recorded)')
  assert.deepEqual(empty.field_128_raw, [])
  assert.equal(empty.field_29_raw, false)
  const raw = (await anonymous.getRecords({ ...PUBLIC, format: 'raw' })).records.find((r) => r.id === EMPTY)
  assert.deepEqual(raw, { id: EMPTY, field_29_raw: false, field_38_raw: false, field_128_raw: [], field_206_raw: [] })
  const nulls = await anonymous.getRecord({ ...PUBLIC, id: NULLS })
  assert.equal(nulls.field_17_raw, null)
  assert.equal(nulls.field_6_raw, null)
  assert.equal(nulls.field_6, '')
  assert.deepEqual(nulls.field_128_raw, [])
  assert.deepEqual(nulls.field_201_raw, [null])
})

test('recorded shapes of the other types come through as written (date, time, range, timer, address, signature, files)', async () => {
  const r = await anonymous.getRecord({ ...PUBLIC, id: FILLED })
  assert.equal(r.field_12, '09/11/2019')
  assert.equal(r.field_12_raw.unix_timestamp, 1568160000000)
  assert.equal(r.field_14_raw.date, '01/01/2012', 'a time-only value carries a placeholder date')
  assert.equal(r.field_15_raw.to.time, 1034)
  assert.equal(r.field_16_raw.total_time, 3600000)
  assert.deepEqual(r.field_44_raw, { latitude: 10, longitude: 10, state: 'Bauchi', country: 'Nigeria' })
  assert.equal(r.field_127_raw.country, 'United Kingdom')
  assert.ok(r.field_23_raw.base30.startsWith('1W0023344484340Z'))
  assert.ok(r.field_23_raw.svg.startsWith('<?xml version="1.0"'))
  assert.equal(r.field_17_raw.field_key, 'field_17')
  assert.equal(r.field_18_raw.type, 'image')
  assert.equal(r.field_50_raw, 'google.com', 'an image from a URL is a string')
  assert.deepEqual(r.field_128_raw, [{ id: '5ea46ad2b6ce4b0015000ae8', identifier: 'Johnny C' }])
  assert.deepEqual(r.field_201_raw, ['Option 1', 'Option 2'])
  assert.deepEqual(r.field_206_raw, [{ id: 'profile_8', identifier: 'Accounting' }])
})
