// The platform smoke suite: what a user does first, on a binary built for another platform or
// run by another Node major (scripts/platforms.mjs runs it under qemu-user for arm64, and
// under Node 22 and 24). fake-knack runs natively beside it on loopback.
//
//   node --test __test__/smoke/smoke.mjs
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { KnackSession, KnackError, MemoryStore } from '../../index.js'
import { startFake, USERS, APP_ID, ROOT } from '../helpers/fake.mjs'

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }
let fake
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  await fake.seed('object_3', 250)
})
after(() => fake.stop())

test(`the addon loaded is the one for ${process.platform}-${process.arch} (Node ${process.version})`, () => {
  const binding = createRequire(import.meta.url)('../../binding.js')
  assert.equal(binding.__napiBindingTarget, 'native')
})

test('login, then fromToken with the same token, reads the same records', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  assert.equal(s.userId, USERS.alice.id)
  const adopted = KnackSession.fromToken(s.getToken(), opts)
  const [a, b] = await Promise.all([s.getRecords(MY_TICKETS), adopted.getRecords(MY_TICKETS)])
  assert.ok(a.records.length > 0)
  assert.deepEqual(b.records.map((r) => r.id), a.records.map((r) => r.id))
})

test('getRecords with filters sends them and gets only matching records', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  const all = await s.getRecords(MY_TICKETS)
  const subject = all.records[0].field_10
  const page = await s.getRecords({ ...MY_TICKETS, filters: [{ field: 'field_10', operator: 'is', value: subject }] })
  assert.ok(page.records.length >= 1)
  for (const r of page.records) assert.equal(r.field_10, subject)
})

test('records() streams a view over several pages, every record once', async () => {
  const carol = await KnackSession.login({ ...opts, ...USERS.carol })
  const ids = new Set()
  let n = 0
  for await (const r of carol.records({ ...ALL_TICKETS, rowsPerPage: 40 })) {
    ids.add(r.id)
    n++
  }
  assert.ok(n > 250, `only ${n} records`)
  assert.equal(ids.size, n, 'a record came twice')
})

test('createRecord writes once and answers the new record', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  const rec = await s.createRecord({ ...NEW_TICKET, data: { field_10: 'Smoke test: Zürich 東京 🙂' } })
  assert.match(rec.id, /^[0-9a-f]{24}$/)
  assert.equal(rec.field_10, 'Smoke test: Zürich 東京 🙂')
})

test('an AbortSignal cancels a request that Knack is slow to answer: KNACK_ABORTED', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  await fake.faults([{ kind: 'delay', ms: 5000, method: 'GET' }])
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 200)
  const t = Date.now()
  const err = await s.getRecords({ ...MY_TICKETS, signal: ac.signal }).then(() => assert.fail('not aborted'), (e) => e)
  assert.ok(err instanceof KnackError)
  assert.equal(err.code, 'KNACK_ABORTED')
  assert.ok(Date.now() - t < 3000, 'the abort waited for the answer')
  await fake.faults([])
})

test('a MemoryStore session is restored by id, and logout forgets it', async () => {
  const store = new MemoryStore()
  const s = await KnackSession.login({ ...opts, ...USERS.bob, store })
  const back = await KnackSession.restore(s.id, { ...opts, store })
  assert.ok(back)
  assert.equal(back.userId, s.userId)
  await back.logout()
  assert.equal(await KnackSession.restore(s.id, { ...opts, store }), null)
})

test('a process that used sessions exits by itself (no handle keeps it alive)', () => {
  const script = `
    const { KnackSession } = require(${JSON.stringify(ROOT)})
    KnackSession.login({ appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, rateLimit: false,
      email: ${JSON.stringify(USERS.alice.email)}, password: ${JSON.stringify(USERS.alice.password)} })
      .then((s) => s.getRecords({ scene: 'scene_1', view: 'view_1' }))
      .then((p) => console.log('records', p.records.length))`
  // Under qemu-user, the runner says how to start this same Node (KNACK_SMOKE_NODE, a JSON
  // array): the emulated binary cannot be exec'd directly without binfmt_misc.
  const [cmd, ...pre] = process.env.KNACK_SMOKE_NODE ? JSON.parse(process.env.KNACK_SMOKE_NODE) : [process.execPath]
  const r = spawnSync(cmd, [...pre, '-e', script], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^records \d+/)
})
