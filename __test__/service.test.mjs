// Service sessions end to end (README "Background jobs"): KnackSession.service() logs in (or
// goes on with the token its store kept), then keeps itself logged in: through a token Knack
// refuses (20 concurrent calls, one login), through Knack's clock passing 48 hours in the
// middle of a records() export and of a bulk write (no failed call, no record twice), saving
// each new token in its store; the password never shows.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import os from 'node:os'
import path from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { KnackSession, KnackError, FileStore } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const ALL_TICKETS = { scene: 'scene_2', view: 'view_4' }
const SECRET = 'a-service-store-secret-of-32-characters!!'
let fake
let opts
let dir

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  dir = mkdtempSync(path.join(os.tmpdir(), 'knack-service-'))
})
after(async () => {
  await fake.stop()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => fake.reset())

async function logins() {
  return (await fake.log()).filter((e) => e.method === 'POST' && e.path.endsWith('/session')).length
}

test('20 concurrent calls refused for an expired token cause one login, and every call succeeds', async () => {
  const job = await KnackSession.service({ ...opts, ...USERS.alice })
  assert.equal(await logins(), 1)
  await fake.advanceClock(49 * 3600)
  const pages = await Promise.all(Array.from({ length: 20 }, () => job.getRecords(MY_TICKETS)))
  assert.equal(pages.length, 20)
  assert.ok(pages.every((p) => p.records.length === 3))
  assert.equal(await logins(), 2, 'one login for the twenty')
  assert.equal(job.renewals, 1)
  assert.ok(job.expiresAt.getTime() > Date.now() + 47 * 3600_000, 'the new token is the one the session reports')
})

test("a records() export goes on when Knack's clock passes 48 hours in the middle of it: every record once, no failed call", async () => {
  await fake.seed('object_3', 2495)
  const job = await KnackSession.service({ ...opts, ...USERS.carol })
  const ids = []
  const it = job.records({ ...ALL_TICKETS, rowsPerPage: 500, prefetchPages: 1 })
  for await (const r of it) {
    ids.push(r.id)
    if (ids.length === 600) await fake.advanceClock(49 * 3600)
  }
  assert.equal(ids.length, 2500)
  assert.equal(new Set(ids).size, 2500)
  assert.equal(it.summary.complete, true)
  assert.equal(job.renewals, 1)
  const refused = (await fake.log()).filter((e) => e.status === 403).length
  assert.ok(refused >= 1, 'Knack did refuse the old token')
})

test('a bulk create across a re-login stores every record exactly once', async () => {
  const job = await KnackSession.service({ ...opts, ...USERS.alice })
  const before = (await fake.stats()).inserts
  const records = Array.from({ length: 30 }, (_, i) => ({ field_10: `job ticket ${i}` }))
  const moved = fake.advanceClock(49 * 3600)
  const results = await job.createRecords({ ...NEW_TICKET, records, concurrency: 4 })
  await moved
  const failed = results.filter((r) => !r.ok)
  assert.equal(failed.length, 0, JSON.stringify(failed.slice(0, 2)))
  assert.equal((await fake.stats()).inserts - before, 30)
  assert.equal(job.renewals, 1, 'the clock moved during the batch')
})

test('with a store, each new token is saved, and the next process goes on with it without logging in', async () => {
  const store = new FileStore({ dir: path.join(dir, 'tokens'), secret: SECRET })
  const first = await KnackSession.service({ ...opts, ...USERS.alice, store })
  assert.equal(await logins(), 1)
  const second = await KnackSession.service({ ...opts, ...USERS.alice, store })
  assert.equal(await logins(), 1, 'the stored token was used')
  assert.equal(second.id, first.id, 'the same stored record')
  assert.equal(second.getToken(), first.getToken())
  await fake.advanceClock(49 * 3600)
  await first.getRecords(MY_TICKETS)
  assert.equal(await logins(), 2)
  const third = await KnackSession.service({ ...opts, ...USERS.alice, store })
  assert.equal(await logins(), 2, 'the renewed token was saved for the next process')
  assert.equal(third.getToken(), first.getToken())
  // Another user of the same store has a record of its own.
  const bob = await KnackSession.service({ ...opts, ...USERS.bob, store })
  assert.notEqual(bob.id, first.id)
  assert.equal(await logins(), 3)
})

test('a wrong password fails at creation with KNACK_LOGIN_FAILED; options are checked like login()', async () => {
  await assert.rejects(KnackSession.service({ ...opts, email: USERS.alice.email, password: 'not-the-password' }), (e) => e instanceof KnackError && e.code === 'KNACK_LOGIN_FAILED' && !e.message.includes('not-the-password'))
  await assert.rejects(KnackSession.service({ ...opts, email: USERS.alice.email }), { code: 'KNACK_INVALID_ARGUMENT' })
  await assert.rejects(KnackSession.service({ ...opts, ...USERS.alice, pasword: 'x' }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && /did you mean "password"/.test(e.message))
})

test('the password, token and store id never show in inspect, JSON or errors; logout stops the service', async () => {
  const job = await KnackSession.service({ ...opts, ...USERS.alice })
  const shown = util.inspect(job, { depth: 10, showHidden: true }) + JSON.stringify(job)
  for (const secret of [USERS.alice.password, job.getToken(), job.id]) assert.ok(!shown.includes(secret))
  await job.logout()
  await assert.rejects(job.getRecords(MY_TICKETS), { code: 'KNACK_UNAUTHORIZED' })
  assert.equal(await logins(), 1, 'a logged-out service does not log in again')
})
