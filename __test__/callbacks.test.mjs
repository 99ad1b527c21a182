// Callbacks and custom stores are the caller's code: when they throw or reject, the package
// contains it. No unhandled rejection, no raw error out of restore() or logout(), and the
// failure is reported (onStoreError, or a process warning) instead of being lost.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const SECRET = 'callbacks-test-secret-0123456789abcdef'
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }

let fake
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())
beforeEach(() => fake.reset())

const settle = () => new Promise((r) => setTimeout(r, 50))

/** Collect unhandled rejections and process warnings while `run` runs (and shortly after). */
async function watching(run) {
  const rejections = []
  const warnings = []
  const onRejection = (reason) => rejections.push(reason)
  const onWarning = (w) => warnings.push(w)
  process.on('unhandledRejection', onRejection)
  process.on('warning', onWarning)
  try {
    const value = await run()
    await settle()
    return { value, rejections, warnings }
  } finally {
    process.off('unhandledRejection', onRejection)
    process.off('warning', onWarning)
  }
}

/** A custom store backed by a Map; `failDelete` makes delete() throw ('sync') or reject ('async'). */
function mapStore(failDelete) {
  const map = new Map()
  return {
    map,
    get: async (id) => map.get(id) ?? null,
    set: async (id, v) => void map.set(id, v),
    delete(id) {
      if (failDelete === 'sync') throw new Error('delete exploded (sync)')
      if (failDelete === 'async') return Promise.reject(new Error('delete exploded (async)'))
      map.delete(id)
      return Promise.resolve()
    },
  }
}

async function expiredSessionIn(store) {
  const iat = Math.floor(Date.now() / 1000) - 49 * 3600
  const token = await fake.token(USERS.alice.email, { iat })
  const s = KnackSession.fromToken(token, { ...opts, remember: false, store, secret: SECRET })
  await s.save()
  return s
}

test('an async onProgress that rejects does not crash the process with an unhandled rejection', async () => {
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  const { value: results, rejections, warnings } = await watching(() =>
    alice.createRecords({
      ...NEW_TICKET,
      records: Array.from({ length: 5 }, (_, i) => ({ field_10: `p${i}` })),
      onProgress: async () => {
        throw new Error('progress exploded')
      },
    }),
  )
  assert.ok(results.every((r) => r.ok), 'a failing onProgress broke the batch')
  assert.deepEqual(rejections, [], 'onProgress rejection escaped as an unhandled rejection')
  const reported = warnings.filter((w) => w.code === 'KNACK_CALLBACK')
  assert.equal(reported.length, 1, 'one KNACK_CALLBACK warning per batch')
  assert.match(reported[0].message, /onProgress.*progress exploded/)
})

test('a synchronously throwing onProgress does not break the batch either', async () => {
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  const { value: results, rejections, warnings } = await watching(() =>
    alice.createRecords({
      ...NEW_TICKET,
      records: [{ field_10: 'a' }, { field_10: 'b' }],
      onProgress: () => {
        throw new Error('sync progress exploded')
      },
    }),
  )
  assert.ok(results.every((r) => r.ok))
  assert.deepEqual(rejections, [])
  assert.equal(warnings.filter((w) => w.code === 'KNACK_CALLBACK').length, 1)
})

test('a throwing onStoreError does not escape restore(): null, and a KNACK_CALLBACK warning', async () => {
  const store = mapStore()
  const s = await KnackSession.login({ ...opts, ...USERS.alice, store, secret: SECRET })
  store.map.set(s.id, 'v1.tampered-record')
  for (const onStoreError of [
    () => {
      throw new Error('handler exploded')
    },
    async () => {
      throw new Error('async handler exploded')
    },
  ]) {
    const { value, rejections, warnings } = await watching(() => KnackSession.restore(s.id, { ...opts, store, secret: SECRET, onStoreError }))
    assert.equal(value, null)
    assert.deepEqual(rejections, [])
    const reported = warnings.filter((w) => w.code === 'KNACK_CALLBACK')
    assert.equal(reported.length, 1, warnings.map((w) => `${w.code}: ${w.message}`).join('; '))
    assert.match(reported[0].message, /onStoreError.*exploded/)
  }
})

test('restore of an expired session whose store delete() fails: null, failure reported to onStoreError', async (t) => {
  for (const mode of ['sync', 'async']) {
    await t.test(mode, async () => {
      const store = mapStore(mode)
      const s = await expiredSessionIn(store)
      const reported = []
      const { value, rejections } = await watching(() =>
        KnackSession.restore(s.id, { ...opts, store, secret: SECRET, onStoreError: (e) => reported.push(e) }),
      )
      assert.equal(value, null)
      assert.deepEqual(rejections, [])
      assert.equal(reported.length, 1)
      assert.ok(reported[0] instanceof KnackError)
      assert.equal(reported[0].code, 'KNACK_STORE')
      assert.match(reported[0].message, /delete exploded/)
    })
  }
})

test('restore of an expired session whose store delete() fails, without onStoreError: a KNACK_STORE warning', async () => {
  const store = mapStore('sync')
  const s = await expiredSessionIn(store)
  const { value, warnings } = await watching(() => KnackSession.restore(s.id, { ...opts, store, secret: SECRET }))
  assert.equal(value, null)
  assert.equal(warnings.filter((w) => w.code === 'KNACK_STORE').length, 1)
})

test('logout with a store whose delete() fails: KNACK_STORE, and the session is logged out anyway', async (t) => {
  for (const mode of ['sync', 'async']) {
    await t.test(mode, async () => {
      const store = mapStore(mode)
      const s = await KnackSession.login({ ...opts, ...USERS.alice, store, secret: SECRET })
      const err = await s.logout().then(
        () => assert.fail('logout should report the store failure'),
        (e) => e,
      )
      assert.ok(err instanceof KnackError, String(err))
      assert.equal(err.code, 'KNACK_STORE')
      assert.match(err.message, /delete exploded/)
      await assert.rejects(s.getRecords(MY_TICKETS), { code: 'KNACK_UNAUTHORIZED' })
      assert.throws(() => s.getToken(), { code: 'KNACK_UNAUTHORIZED' })
    })
  }
})
