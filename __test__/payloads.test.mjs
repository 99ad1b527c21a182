// What a caller puts in `data` and `filters` is serialised in JS, checked, and refused with
// KNACK_INVALID_ARGUMENT (naming the argument) before anything is sent when it cannot be
// JSON: circular structures, BigInt, Symbol values, throwing getters and Proxies, nesting
// deeper than 64 levels, and bodies over `maxPayloadBytes` (default 16 MiB).
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const EDIT_MINE = { scene: 'scene_1', view: 'view_3' }
const ALICE_TICKET = '0000000000000000000a1c01'
const MiB = 2 ** 20

let fake
let opts
let alice

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = KnackSession.fromToken(await fake.token(USERS.alice.email), opts)
})

function circular() {
  const o = { field_10: 'loop' }
  o.self = o
  return o
}

/** Values JSON cannot carry faithfully, each as a fresh object holding it. */
const BAD_VALUES = {
  circular,
  BigInt: () => ({ field_13: 10n }),
  Symbol: () => ({ field_10: Symbol('s') }),
  'nested Symbol': () => ({ field_11: { text: [Symbol.iterator] } }),
  'throwing getter': () => ({
    get field_10() {
      throw new Error('getter exploded')
    },
  }),
  'throwing Proxy': () =>
    new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap exploded')
        },
      },
    ),
  'revoked Proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    return { field_11: proxy }
  },
  'throwing toJSON': () => ({
    field_15: {
      toJSON() {
        throw new Error('toJSON exploded')
      },
    },
  }),
}

function isInvalid(what) {
  return (e) => {
    assert.ok(e instanceof KnackError, `not a KnackError: ${e && e.stack}`)
    assert.equal(e.code, 'KNACK_INVALID_ARGUMENT', e.message)
    assert.match(e.message, what)
    return true
  }
}

async function assertNothingSent() {
  const calls = (await fake.log()).filter((e) => e.path.includes('/pages/'))
  assert.deepEqual(calls, [], 'a refused payload reached fake-knack')
}

test('circular, BigInt, Symbol and throwing values in data are KNACK_INVALID_ARGUMENT naming data', async (t) => {
  for (const [name, make] of Object.entries(BAD_VALUES)) {
    await t.test(name, async () => {
      await assert.rejects(alice.createRecord({ ...NEW_TICKET, data: make() }), isInvalid(/data/))
      await assert.rejects(alice.updateRecord({ ...EDIT_MINE, id: ALICE_TICKET, data: make() }), isInvalid(/data/))
    })
  }
  await assertNothingSent()
})

test('the same values in filters are KNACK_INVALID_ARGUMENT naming filters', async (t) => {
  for (const [name, make] of Object.entries(BAD_VALUES)) {
    await t.test(name, async () => {
      const filters = [{ field: 'field_10', operator: 'is', value: make() }]
      await assert.rejects(alice.getRecords({ ...MY_TICKETS, filters }), isInvalid(/filters/))
      await assert.rejects(Promise.resolve().then(() => alice.getAllRecords({ ...MY_TICKETS, filters })), isInvalid(/filters/))
      await assert.rejects(
        (async () => {
          for await (const _ of alice.records({ ...MY_TICKETS, filters }));
        })(),
        isInvalid(/filters/),
      )
    })
  }
  await assertNothingSent()
})

test('a bulk item that cannot be serialised fails alone: not attempted, not sent, KNACK_INVALID_ARGUMENT', async () => {
  const names = Object.keys(BAD_VALUES)
  const records = [{ field_10: 'good first' }, ...names.map((n) => BAD_VALUES[n]()), { field_10: 'good last' }]
  const results = await alice.createRecords({ ...NEW_TICKET, records, concurrency: 3 })
  assert.equal(results.length, records.length)
  assert.equal(results[0].ok, true, results[0].error?.message)
  assert.equal(results.at(-1).ok, true, results.at(-1).error?.message)
  results.slice(1, -1).forEach((r, i) => {
    assert.equal(r.ok, false, names[i])
    assert.equal(r.error.code, 'KNACK_INVALID_ARGUMENT', `${names[i]}: ${r.error.code} ${r.error.message}`)
    assert.equal(r.attempted, false, names[i])
    assert.equal(r.outcome, 'not-sent', names[i])
    assert.match(r.error.message, /records\[\d+\]/, names[i])
  })
  const ups = await alice.updateRecords({
    ...EDIT_MINE,
    records: [{ id: ALICE_TICKET, data: { field_13: 2n } }, { id: ALICE_TICKET, data: circular() }, { id: ALICE_TICKET, data: { field_13: 4 } }],
  })
  assert.deepEqual(ups.map((r) => [r.ok, r.attempted, r.outcome, r.error?.code]), [
    [false, false, 'not-sent', 'KNACK_INVALID_ARGUMENT'],
    [false, false, 'not-sent', 'KNACK_INVALID_ARGUMENT'],
    [true, undefined, undefined, undefined],
  ])
  assert.equal((await fake.stats()).inserts, 2)
  assert.equal((await fake.stats()).updates, 1)
})

test('data nested deeper than 64 levels is refused before sending', async () => {
  let deep = 'bottom'
  for (let i = 0; i < 65; i++) deep = { next: deep }
  await assert.rejects(alice.createRecord({ ...NEW_TICKET, data: deep }), isInvalid(/data.*(deep|nest|levels)/))
  let deeper = 'bottom'
  for (let i = 0; i < 5000; i++) deeper = [deeper]
  await assert.rejects(alice.createRecord({ ...NEW_TICKET, data: { field_11: deeper } }), isInvalid(/data/))
  const [r] = await alice.createRecords({ ...NEW_TICKET, records: [deep] })
  assert.deepEqual([r.ok, r.attempted, r.outcome, r.error.code], [false, false, 'not-sent', 'KNACK_INVALID_ARGUMENT'])
  await assertNothingSent()
})

test('a body over maxPayloadBytes is refused before sending; under it goes through', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, maxPayloadBytes: 1024 })
  await assert.rejects(s.createRecord({ ...NEW_TICKET, data: { field_10: 'x', field_11: 'y'.repeat(2000) } }), isInvalid(/maxPayloadBytes/))
  // Multi-byte characters count as their UTF-8 bytes: 400 characters, 1,600 bytes.
  await assert.rejects(s.createRecord({ ...NEW_TICKET, data: { field_10: '🙂'.repeat(400) } }), isInvalid(/maxPayloadBytes/))
  await assert.rejects(s.getRecords({ ...MY_TICKETS, filters: [{ field: 'field_10', operator: 'is', value: 'z'.repeat(2000) }] }), isInvalid(/filters/))
  await assertNothingSent()
  const ok = await s.createRecord({ ...NEW_TICKET, data: { field_10: 'small enough' } })
  assert.equal(ok.field_10_raw ?? ok.field_10, 'small enough')
})

test('a 400 MiB string in data is refused quickly, without building its JSON', async () => {
  const huge = 'x'.repeat(400 * MiB)
  const rss = process.memoryUsage().rss
  const t = Date.now()
  await assert.rejects(alice.createRecord({ ...NEW_TICKET, data: { field_10: 'big', field_11: huge } }), isInvalid(/maxPayloadBytes/))
  const grew = (process.memoryUsage().rss - rss) / MiB
  assert.ok(grew < 300, `serialising a refused payload grew RSS by ${grew.toFixed(0)} MiB`)
  assert.ok(Date.now() - t < 5000, `took ${Date.now() - t} ms`)
  await assertNothingSent()
})

test('600 MiB of strings give KNACK_INVALID_ARGUMENT, not a RangeError, even with a huge maxPayloadBytes', async () => {
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, maxPayloadBytes: 2 ** 40 })
  const part = 'x'.repeat(300 * MiB)
  await assert.rejects(s.createRecord({ ...NEW_TICKET, data: { field_10: part, field_11: part } }), isInvalid(/data/))
  await assertNothingSent()
})
