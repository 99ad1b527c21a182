// Options are checked in one place: a misspelt key or a value of the wrong type or range is a
// KNACK_INVALID_ARGUMENT (with a "did you mean" hint for typos) before anything is sent, at
// every entry point. Everything the README documents is still accepted.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from 'knack-session'
import { KnackSession, KnackError, MemoryStore, FileStore, RedisStore, setLogLevel } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const require = createRequire(import.meta.url)
const SECRET = 'options-test-secret-0123456789abcdef'
const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }
const SOME_ID = '0000000000000000000a1c01'

let fake
let opts
let token
let alice

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  token = await fake.token(USERS.alice.email)
  alice = KnackSession.fromToken(token, opts)
})
after(() => fake.stop())
beforeEach(() => fake.reset())

/**
 * Run each case as a subtest: it must fail with KNACK_INVALID_ARGUMENT whose message matches
 * `hint` (when given); afterwards fake-knack must have seen no request at all.
 */
async function refused(t, cases) {
  for (const [name, run, hint] of cases) {
    await t.test(name, async () => {
      await assert.rejects(
        Promise.resolve().then(run),
        (e) => {
          assert.ok(e instanceof KnackError, `not a KnackError: ${e && e.stack}`)
          assert.equal(e.code, 'KNACK_INVALID_ARGUMENT', e.message)
          if (hint) assert.match(e.message, hint)
          return true
        },
      )
    })
  }
  assert.deepEqual(await fake.log(), [], 'a refused call reached fake-knack')
}

const login = (extra) => () => KnackSession.login({ ...opts, ...USERS.alice, ...extra })
const fromToken = (extra) => () => KnackSession.fromToken(token, { ...opts, ...extra })
const restore = (extra) => () => KnackSession.restore('A'.repeat(43), { ...opts, ...extra })

test('a misspelt session option is refused with a hint (timeoutMS -> timeoutMs)', async (t) => {
  await refused(t, [
    ['fromToken timeoutMS', fromToken({ timeoutMS: 5000 }), /unknown option "timeoutMS".*did you mean "timeoutMs"/],
    ['fromToken retry', fromToken({ retry: 2 }), /did you mean "retries"/],
    ['fromToken baseURL', fromToken({ baseURL: fake.baseUrl }), /did you mean "baseUrl"/],
    ['fromToken rememberMe', fromToken({ rememberMe: true }), /unknown option "rememberMe"/],
    ['login pasword', login({ pasword: 'x' }), /did you mean "password"/],
    ['login singal', login({ singal: new AbortController().signal }), /did you mean "signal"/],
    ['login sotre', login({ sotre: new MemoryStore() }), /did you mean "store"/],
    ['restore onStoreErorr', restore({ onStoreErorr: () => {} }), /did you mean "onStoreError"/],
    ['restore maxBodyByte', restore({ maxBodyByte: 1 << 20 }), /did you mean "maxBodyBytes"/],
    ['rateLimit.perSecnd', fromToken({ rateLimit: { perSecnd: 5 } }), /did you mean "perSecond"/],
    ['maxPayloadByte', fromToken({ maxPayloadByte: 1024 }), /did you mean "maxPayloadBytes"/],
  ])
})

test('session options out of range or of the wrong type are refused before any request', async (t) => {
  await refused(t, [
    ['timeoutMs 0', fromToken({ timeoutMs: 0 }), /timeoutMs/],
    ['timeoutMs -5', fromToken({ timeoutMs: -5 }), /timeoutMs/],
    ['timeoutMs NaN', fromToken({ timeoutMs: NaN }), /timeoutMs/],
    ['timeoutMs Infinity', fromToken({ timeoutMs: Infinity }), /timeoutMs/],
    ['timeoutMs 1.5', fromToken({ timeoutMs: 1.5 }), /timeoutMs/],
    ['timeoutMs "5"', fromToken({ timeoutMs: '5' }), /timeoutMs/],
    ['deadlineMs 0', fromToken({ deadlineMs: 0 }), /deadlineMs/],
    ['retries 21', fromToken({ retries: 21 }), /retries/],
    ['retries -1', fromToken({ retries: -1 }), /retries/],
    ['retries 2.5', fromToken({ retries: 2.5 }), /retries/],
    ['maxBodyBytes 0', fromToken({ maxBodyBytes: 0 }), /maxBodyBytes/],
    ['maxBodyBytes 1.5', fromToken({ maxBodyBytes: 1.5 }), /maxBodyBytes/],
    ['maxPayloadBytes 0', fromToken({ maxPayloadBytes: 0 }), /maxPayloadBytes/],
    ['maxPayloadBytes 1.5', fromToken({ maxPayloadBytes: 1.5 }), /maxPayloadBytes/],
    ['maxPayloadBytes "1"', fromToken({ maxPayloadBytes: '1' }), /maxPayloadBytes/],
    ['rateLimit "fast"', fromToken({ rateLimit: 'fast' }), /rateLimit/],
    ['rateLimit.perSecond 2.5', fromToken({ rateLimit: { perSecond: 2.5 } }), /perSecond/],
    ['rateLimit.perSecond 0', fromToken({ rateLimit: { perSecond: 0 } }), /perSecond/],
    ['rateLimit.redis 5', fromToken({ rateLimit: { redis: 5 } }), /redis/],
    ['rateLimit.prefix 5', fromToken({ rateLimit: { redis: 'redis://127.0.0.1:1', prefix: 5 } }), /prefix/],
    ['remember "yes"', fromToken({ remember: 'yes' }), /remember/],
    ['proxy 5', fromToken({ proxy: 5 }), /proxy/],
    ['baseUrl 5', fromToken({ baseUrl: 5 }), /baseUrl/],
    ['store {}', fromToken({ store: {} }), /store/],
    ['secret 42', fromToken({ secret: 42 }), /secret/],
    ['onStoreError "x"', restore({ onStoreError: 'x' }), /onStoreError/],
    ['appId missing', () => KnackSession.fromToken(token, { baseUrl: fake.baseUrl }), /appId/],
    ['options not an object', () => KnackSession.fromToken(token, 'nope'), /options/],
    ['login retries 99', login({ retries: 99 }), /retries/],
    ['login email 5', login({ email: 5 }), /email/],
    ['login signal "x"', login({ signal: 'x' }), /signal/],
    ['restore timeoutMs -1', restore({ timeoutMs: -1 }), /timeoutMs/],
  ])
})

test('a misspelt query option is refused with a hint (rowsPerpage -> rowsPerPage)', async (t) => {
  await refused(t, [
    ['getRecords rowsPerpage', () => alice.getRecords({ ...MY_TICKETS, rowsPerpage: 10 }), /unknown option "rowsPerpage".*did you mean "rowsPerPage"/],
    ['getRecords filter', () => alice.getRecords({ ...MY_TICKETS, filter: [] }), /did you mean "filters"/],
    ['getRecords sortfield', () => alice.getRecords({ ...MY_TICKETS, sortfield: 'field_10' }), /did you mean "sortField"/],
    ['getRecords parentRecordID', () => alice.getRecords({ ...MY_TICKETS, parentRecordID: SOME_ID }), /did you mean "parentRecordId"/],
    ['createRecord parentRecordID', () => alice.createRecord({ ...NEW_TICKET, data: { field_10: 'x' }, parentRecordID: SOME_ID }), /did you mean "parentRecordId"/],
    ['getRecords maxRecords (a records() option)', () => alice.getRecords({ ...MY_TICKETS, maxRecords: 5 }), /unknown option "maxRecords"/],
    ['records prefetch', () => alice.records({ ...MY_TICKETS, prefetch: 2 }), /did you mean "prefetchPages"/],
    ['getAllRecords maxrecords', () => alice.getAllRecords({ ...MY_TICKETS, maxrecords: 5 }), /did you mean "maxRecords"/],
    ['getAllRecords strictly', () => alice.getAllRecords({ ...MY_TICKETS, strictly: true }), /did you mean "strict"/],
  ])
})

test('query and paging values out of range are refused before any request', async (t) => {
  await refused(t, [
    ['rowsPerPage 0', () => alice.getRecords({ ...MY_TICKETS, rowsPerPage: 0 }), /rowsPerPage/],
    ['rowsPerPage 1001', () => alice.getRecords({ ...MY_TICKETS, rowsPerPage: 1001 }), /rowsPerPage/],
    ['rowsPerPage 2.5', () => alice.getRecords({ ...MY_TICKETS, rowsPerPage: 2.5 }), /rowsPerPage/],
    ['rowsPerPage "10"', () => alice.getRecords({ ...MY_TICKETS, rowsPerPage: '10' }), /rowsPerPage/],
    ['page 0', () => alice.getRecords({ ...MY_TICKETS, page: 0 }), /page/],
    ['page 1.5', () => alice.getRecords({ ...MY_TICKETS, page: 1.5 }), /page/],
    ['sortOrder "up"', () => alice.getRecords({ ...MY_TICKETS, sortField: 'field_10', sortOrder: 'up' }), /sortOrder/],
    ['format "xml"', () => alice.getRecords({ ...MY_TICKETS, format: 'xml' }), /format/],
    ['filters 5', () => alice.getRecords({ ...MY_TICKETS, filters: 5 }), /filters/],
    ['signal "x"', () => alice.getRecords({ ...MY_TICKETS, signal: 'x' }), /signal/],
    ['records prefetchPages 0', () => alice.records({ ...MY_TICKETS, prefetchPages: 0 }), /prefetchPages/],
    ['records prefetchPages 65', () => alice.records({ ...MY_TICKETS, prefetchPages: 65 }), /prefetchPages/],
    ['records prefetchPages 1.5', () => alice.records({ ...MY_TICKETS, prefetchPages: 1.5 }), /prefetchPages/],
    ['getAllRecords maxRecords 0', () => alice.getAllRecords({ ...MY_TICKETS, maxRecords: 0 }), /maxRecords/],
    ['getAllRecords maxRecords 1.5', () => alice.getAllRecords({ ...MY_TICKETS, maxRecords: 1.5 }), /maxRecords/],
    ['getAllRecords strict "yes"', () => alice.getAllRecords({ ...MY_TICKETS, strict: 'yes' }), /strict/],
    ['getAllRecords rowsPerPage 0', () => alice.getAllRecords({ ...MY_TICKETS, rowsPerPage: 0 }), /rowsPerPage/],
  ])
})

test('record, write and bulk calls refuse unknown arguments with a hint', async (t) => {
  await refused(t, [
    ['getRecord ids', () => alice.getRecord({ ...MY_TICKETS, ids: SOME_ID }), /did you mean "id"/],
    ['getRecord rowsPerPage', () => alice.getRecord({ ...MY_TICKETS, id: SOME_ID, rowsPerPage: 1 }), /unknown option "rowsPerPage"/],
    ['createRecord date', () => alice.createRecord({ ...NEW_TICKET, date: { field_10: 'x' } }), /did you mean "data"/],
    ['createRecord record', () => alice.createRecord({ ...NEW_TICKET, data: {}, record: {} }), /unknown option "record"/],
    ['updateRecord recordId', () => alice.updateRecord({ ...NEW_TICKET, id: SOME_ID, data: {}, recordId: SOME_ID }), /unknown option "recordId"/],
    ['deleteRecord force', () => alice.deleteRecord({ ...ALL_TICKETS, id: SOME_ID, force: true }), /unknown option "force"/],
    ['createRecords concurency', () => alice.createRecords({ ...NEW_TICKET, records: [], concurency: 2 }), /did you mean "concurrency"/],
    ['createRecords onProgres', () => alice.createRecords({ ...NEW_TICKET, records: [], onProgres: () => {} }), /did you mean "onProgress"/],
    ['updateRecords record', () => alice.updateRecords({ ...ALL_TICKETS, record: [] }), /did you mean "records"/],
    ['deleteRecords id', () => alice.deleteRecords({ ...ALL_TICKETS, id: [] }), /did you mean "ids"/],
    ['deleteRecords reserv', () => alice.deleteRecords({ ...ALL_TICKETS, ids: [], reserv: 5 }), /did you mean "reserve"/],
  ])
})

test('bulk options out of range are refused before any request', async (t) => {
  const records = [{ field_10: 'never sent' }]
  await refused(t, [
    ['concurrency 0', () => alice.createRecords({ ...NEW_TICKET, records, concurrency: 0 }), /concurrency/],
    ['concurrency 65', () => alice.createRecords({ ...NEW_TICKET, records, concurrency: 65 }), /concurrency/],
    ['concurrency 1.5', () => alice.createRecords({ ...NEW_TICKET, records, concurrency: 1.5 }), /concurrency/],
    ['reserve -1', () => alice.createRecords({ ...NEW_TICKET, records, reserve: -1 }), /reserve/],
    ['reserve 1.5', () => alice.createRecords({ ...NEW_TICKET, records, reserve: 1.5 }), /reserve/],
    ['onProgress "x"', () => alice.createRecords({ ...NEW_TICKET, records, onProgress: 'x' }), /onProgress/],
    ['records not an array', () => alice.createRecords({ ...NEW_TICKET, records: {} }), /records/],
    ['ids not an array', () => alice.deleteRecords({ ...ALL_TICKETS, ids: SOME_ID }), /ids/],
    ['signal "x"', () => alice.createRecords({ ...NEW_TICKET, records, signal: 'x' }), /signal/],
  ])
})

test('validate() and the stores refuse unknown options with a hint', async (t) => {
  await refused(t, [
    ['validate singal', () => alice.validate({ singal: new AbortController().signal }), /did you mean "signal"/],
    ['validate signal "x"', () => alice.validate({ signal: 'x' }), /signal/],
    ['MemoryStore maxEntry', () => new MemoryStore({ maxEntry: 5 }), /did you mean "maxEntries"/],
    ['MemoryStore maxEntries "5"', () => new MemoryStore({ maxEntries: '5' }), /maxEntries/],
    ['MemoryStore maxEntries 0', () => new MemoryStore({ maxEntries: 0 }), /maxEntries/],
    ['FileStore secrets', () => new FileStore({ dir: '/tmp/knack-options-test', secrets: [SECRET] }), /did you mean "secret"/],
    ['FileStore mode', () => new FileStore({ dir: '/tmp/knack-options-test', secret: SECRET, mode: 0o600 }), /unknown option "mode"/],
    ['RedisStore prefx', () => new RedisStore({ url: 'redis://127.0.0.1:1', secret: SECRET, prefx: 'a:' }), /did you mean "prefix"/],
    ['RedisStore prefix 5', () => new RedisStore({ url: 'redis://127.0.0.1:1', secret: SECRET, prefix: 5 }), /prefix/],
  ])
})

test('every documented option is still accepted', async () => {
  const store = new MemoryStore({ maxEntries: 100, secret: SECRET })
  const ac = new AbortController()
  const every = {
    ...opts,
    timeoutMs: 10_000,
    deadlineMs: 20_000,
    retries: 2,
    proxy: undefined,
    maxBodyBytes: 1 << 20,
    maxPayloadBytes: 1 << 20,
    store,
    secret: SECRET,
    onStoreError: () => {},
  }
  const s = await KnackSession.login({ ...every, ...USERS.alice, remember: false, signal: ac.signal })
  const back = await KnackSession.restore(s.id, every)
  assert.equal(back.userId, USERS.alice.id)
  const adopted = KnackSession.fromToken(s.getToken(), { ...every, remember: false })
  await adopted.validate({ signal: ac.signal })
  const [ticket] = (await s.getRecords(MY_TICKETS)).records
  const query = {
    ...MY_TICKETS,
    page: 1,
    rowsPerPage: 10,
    filters: [{ field: 'field_10', operator: 'is not blank' }],
    sortField: 'field_10',
    sortOrder: 'asc',
    format: 'both',
    signal: ac.signal,
  }
  assert.equal((await s.getRecords(query)).records.length, 3)
  const paging = { ...query, maxRecords: 2, prefetchPages: 2, strict: false }
  assert.equal((await s.getAllRecords(paging)).length, 2)
  let n = 0
  for await (const _ of s.records(paging)) n++
  assert.equal(n, 2)
  // parentRecordId is accepted on list calls.
  const comments = await s.getRecords({ scene: 'scene_3', view: 'view_6', parentRecordId: ticket.id })
  assert.equal(comments.records.length, 2)
  assert.equal((await s.getRecord({ ...MY_TICKETS, id: ticket.id, signal: ac.signal })).id, ticket.id)
  const created = await s.createRecord({ ...NEW_TICKET, data: { field_10: 'all options' }, signal: ac.signal })
  await s.updateRecord({ scene: 'scene_1', view: 'view_3', id: created.id, data: { field_13: 2 }, signal: ac.signal })
  const bulk = { concurrency: 2, reserve: 0, onProgress: () => {}, signal: ac.signal }
  const made = await s.createRecords({ ...NEW_TICKET, records: [{ field_10: 'b1' }, { field_10: 'b2' }], ...bulk })
  assert.ok(made.every((r) => r.ok), JSON.stringify(made))
  const ups = await s.updateRecords({ scene: 'scene_1', view: 'view_3', records: made.map((r) => ({ id: r.record.id, data: { field_13: 1 } })), ...bulk })
  assert.ok(ups.every((r) => r.ok), JSON.stringify(ups))
  const carol = await KnackSession.login({ ...opts, ...USERS.carol })
  await carol.deleteRecord({ ...ALL_TICKETS, id: created.id, signal: ac.signal })
  const dels = await carol.deleteRecords({ ...ALL_TICKETS, ids: made.map((r) => r.record.id), ...bulk })
  assert.ok(dels.every((r) => r.ok), JSON.stringify(dels))
  // Stores take their documented options.
  new FileStore({ dir: '/tmp/knack-options-test', secret: [SECRET, SECRET] })
  new RedisStore({ url: 'redis://127.0.0.1:1/0', secret: SECRET, prefix: 'app:' })
  KnackSession.fromToken(s.getToken(), { ...opts, rateLimit: { perSecond: 10, redis: 'redis://127.0.0.1:1', prefix: 'x:' }, baseUrl: fake.baseUrl.replace('127.0.0.1', 'localhost') })
  // null means "not given", as before.
  assert.ok(KnackSession.fromToken(s.getToken(), { ...opts, timeoutMs: null, retries: undefined }))
})

test('setLogLevel accepts off, error, warn, info and debug, and refuses anything else', () => {
  for (const level of ['off', 'error', 'warn', 'info', 'debug']) setLogLevel(level)
  setLogLevel('off')
  for (const bad of ['verbose', 'DEBUG', 'Warn', 'warning ', '', 5, undefined, null, {}]) {
    assert.throws(() => setLogLevel(bad), (e) => {
      assert.ok(e instanceof KnackError, String(e))
      assert.equal(e.code, 'KNACK_INVALID_ARGUMENT')
      assert.match(e.message, /off.*error.*warn.*info.*debug/)
      return true
    }, String(bad))
  }
  assert.throws(() => setLogLevel('warning'), /did you mean "warn"/)
  assert.throws(() => setLogLevel('DEBUG'), /did you mean "debug"/)
})

test('the ESM and CommonJS entries export the same names and objects', () => {
  const cjs = require('knack-session')
  const esmNames = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(esmNames, Object.keys(cjs).sort())
  for (const k of esmNames) assert.equal(esm[k], cjs[k], k)
  assert.equal(esm.setLogLevel, setLogLevel)
})
