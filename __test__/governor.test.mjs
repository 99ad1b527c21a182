// The shared rate governor and the daily plan, end to end through JS. The governor's matrix
// (200 sessions, per-app limits, Retry-After, Knack's own 429s, base URL spellings) is in
// crates/knack-client/tests/governor_matrix.rs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake

before(async () => {
  // Knack's limit: 10 requests per one-second window.
  fake = await startFake(['--rate-limit', '10'])
})
after(() => fake.stop())

test('30 concurrent sessions of one app at 10 rps: all succeed, no second sees more than 10, zero 429s', async () => {
  await fake.reset()
  const tokens = await Promise.all([USERS.alice, USERS.bob, USERS.carol].map((u) => fake.token(u.email)))
  const sessions = Array.from({ length: 30 }, (_, i) =>
    KnackSession.fromToken(tokens[i % 3], { appId: APP_ID, baseUrl: fake.baseUrl }),
  )
  const views = [
    { scene: 'scene_1', view: 'view_1' },
    { scene: 'scene_1', view: 'view_1' },
    { scene: 'scene_2', view: 'view_4' },
  ]
  const t = Date.now()
  const pages = await Promise.all(sessions.map((s, i) => s.getRecords(views[i % 3])))
  const secs = (Date.now() - t) / 1000
  assert.equal(pages.length, 30)
  const stats = await fake.stats()
  assert.equal(stats.rate_limited, 0, 'fake-knack sent 429s')
  assert.ok(stats.max_in_any_second <= 10, `max ${stats.max_in_any_second} requests in one second`)
  assert.equal(sessions[0].stats().rateLimited, 0)
  // 30 requests at <= 10 per window: the third ten cannot start before ~2 s.
  assert.ok(secs >= 1.9, `${secs}s is faster than the limit allows`)
})

test('the daily plan limit reaches JS: KNACK_DAILY_LIMIT with status and retryAfterMs, and stats().plan shows it spent', async () => {
  await fake.reset()
  await fake.config({ daily_limit: 5, rate_limit: null })
  const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl.replace('127.0.0.1', 'localhost'), ...USERS.alice })
  let err
  for (let i = 0; i < 10 && !err; i++) {
    err = await s.getRecords({ scene: 'scene_1', view: 'view_1' }).then(() => null, (e) => e)
  }
  assert.equal(err?.code, 'KNACK_DAILY_LIMIT')
  assert.equal(err.status, 429)
  assert.equal(err.outcome, 'rejected')
  assert.ok(err.retryAfterMs > 0)
  const { plan } = s.stats()
  assert.equal(plan.limit, 5)
  assert.equal(plan.remaining, 0)
})
