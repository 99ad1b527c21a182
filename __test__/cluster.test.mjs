// The cluster-wide rate limit: several Node processes share one governor window in Redis, on
// one redis-server and on a 3-node Redis Cluster.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'
import { haveRedis, startRedis, startRedisCluster } from './helpers/redis.mjs'

const REDIS = haveRedis()
let fake
let redis

before(async () => {
  fake = await startFake(['--rate-limit', '10'])
  if (REDIS) redis = await startRedis()
})
after(async () => {
  await fake.stop()
  await redis?.stop()
})

function worker(token, n, shared = redis.url, knack = fake) {
  const script = `
    const { KnackSession } = require(${JSON.stringify(ROOT)})
    const s = KnackSession.fromToken(${JSON.stringify(token)}, {
      appId: ${JSON.stringify(APP_ID)},
      baseUrl: ${JSON.stringify(knack.baseUrl)},
      rateLimit: { perSecond: 10, redis: ${JSON.stringify(shared)} },
    })
    ;(async () => {
      const results = await Promise.allSettled(Array.from({ length: ${n} }, () => s.getRecords({ scene: 'scene_1', view: 'view_1' })))
      const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.code)
      console.log(JSON.stringify({ ok: results.length - failed.length, failed, stats: s.stats() }))
    })()
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  return once(child, 'exit').then(([code]) => {
    assert.equal(code, 0)
    return JSON.parse(out)
  })
}

/**
 * Four worker processes make `n` requests each through the governor shared via `shared`:
 * every request succeeds, no process saw a 429, fake-knack sent none and never more than 10
 * in a second, and the whole took at least as long as 10 per second allows.
 */
async function fourProcesses(n, shared, knack) {
  const token = await knack.token(USERS.alice.email)
  const t = Date.now()
  const results = await Promise.all([0, 1, 2, 3].map(() => worker(token, n, shared, knack)))
  const secs = (Date.now() - t) / 1000
  for (const r of results) {
    assert.equal(r.ok, n, JSON.stringify(r.failed))
    assert.equal(r.stats.shared, true)
    assert.equal(r.stats.rateLimited, 0)
  }
  const stats = await knack.stats()
  assert.equal(stats.rate_limited, 0, 'fake-knack sent 429s')
  assert.ok(stats.max_in_any_second <= 10, `max ${stats.max_in_any_second} in one second`)
  const floor = (4 * n) / 10 - 4
  assert.ok(secs >= floor, `${4 * n} requests in ${secs}s is faster than 10 rps`)
}

test('four processes sharing the Redis governor make 400 requests at 10 rps: zero 429s', { skip: !REDIS && 'redis-server not installed' }, async () => {
  await fourProcesses(100, redis.url, fake)
})

test('four processes sharing the governor through a 3-node Redis Cluster make 200 requests at 10 rps: zero 429s, the window in one slot', { skip: !REDIS && 'redis-server not installed' }, async () => {
  const knack = await startFake(['--rate-limit', '10'])
  const cluster = await startRedisCluster()
  try {
    await fourProcesses(50, { url: cluster.urls, cluster: true }, knack)
    // The window and its members set live on one node (one hash slot), found there.
    const window = `knack-session:{rate:${APP_ID}}`
    const where = await Promise.all([0, 1, 2].map(async (i) => [await cluster.command(i, 'EXISTS', window), await cluster.command(i, 'EXISTS', `${window}:members`)]))
    assert.deepEqual(where.filter(([w, m]) => w === 1 && m === 1).length, 1, JSON.stringify(where))
    assert.equal(await cluster.command(0, 'CLUSTER', 'KEYSLOT', window), await cluster.command(0, 'CLUSTER', 'KEYSLOT', `${window}:members`))
  } finally {
    await cluster.stop()
    await knack.stop()
  }
})
