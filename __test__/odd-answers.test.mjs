// Servers that answer what Knack should not: pages that ignore ?page, absurd plan-limit
// headers, records nested 100,000 deep, a login answer with a malformed token. Each ends in a
// bounded, clean result: no endless paging, no day-long lock-out, no crash.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const b64 = (s) => Buffer.from(s).toString('base64url')
const TOKEN = `${b64('{"typ":"JWT","alg":"HS256"}')}.${b64(
  `{"user_id":"${USERS.alice.id}","application_id":"${APP_ID}","iat":${Math.floor(Date.now() / 1000)}}`,
)}.c2lnbmF0dXJl`

/** A server whose every answer comes from `handler(req, url)` -> { status?, headers?, body }. */
async function scripted(handler) {
  const seen = []
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x')
    seen.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams) })
    for await (const _ of req);
    const a = await handler(req, url)
    res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...(a.headers ?? {}) })
    res.end(a.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    seen,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

const rec = (i) => ({ id: i.toString(16).padStart(24, '0'), field_1: `r${i}` })
const VIEW = { scene: 'scene_1', view: 'view_1' }

test('a server that ignores ?page ends the iteration after one repeated page, not 100,000 requests', async () => {
  const srv = await scripted(() => ({
    body: JSON.stringify({ total_pages: 1_000_000, current_page: 1, total_records: 10_000_000, records: [rec(1), rec(2)] }),
  }))
  try {
    const s = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: false })
    const it = s.records({ ...VIEW, rowsPerPage: 2 })
    const got = []
    for await (const r of it) got.push(r.id)
    assert.deepEqual(got, [rec(1).id, rec(2).id])
    assert.ok(srv.seen.length <= 1 + 8, `${srv.seen.length} requests`)
    assert.equal(it.summary.endedEarly, true)
    assert.ok(it.summary.shortfall > 0)
    await assert.rejects(s.getAllRecords({ ...VIEW, rowsPerPage: 2, strict: true }), (e) => {
      assert.equal(e.code, 'KNACK_BAD_RESPONSE')
      assert.match(e.message, /page 1 when page 2 was asked for/)
      return true
    })
  } finally {
    srv.close()
  }
})

test('pages that bring only records seen already end the iteration (current_page echoed, as a string)', async () => {
  const srv = await scripted((req, url) => ({
    body: JSON.stringify({ total_pages: 50_000, current_page: url.searchParams.get('page') ?? '1', total_records: 100_000, records: [rec(1), rec(2)] }),
  }))
  try {
    const s = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: false })
    const all = await s.getAllRecords({ ...VIEW, rowsPerPage: 2 })
    assert.equal(all.length, 2)
    assert.ok(srv.seen.length <= 1 + 8, `${srv.seen.length} requests`)
    assert.equal(all.summary.endedEarly, true)
    await assert.rejects(s.getAllRecords({ ...VIEW, rowsPerPage: 2, strict: true }), /only records of earlier pages/)
  } finally {
    srv.close()
  }
})

test('taking the first record and stopping costs at most one more page request', async () => {
  const fake = await startFake(['--rate-limit', 'off', '--seed-tickets', '500'])
  try {
    const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, ...USERS.carol })
    for (const prefetchPages of [8, 2]) {
      await fake.reset()
      for await (const _ of s.records({ scene: 'scene_2', view: 'view_4', rowsPerPage: 10, prefetchPages })) break
      // Let anything still on its way land before counting.
      await new Promise((r) => setTimeout(r, 200))
      const pages = (await fake.log()).filter((e) => e.method === 'GET' && e.path.endsWith('/records'))
      assert.ok(pages.length <= 2, `prefetchPages ${prefetchPages}: ${pages.length} page requests`)
    }
    // Reading on still gets every record.
    const all = await s.getAllRecords({ scene: 'scene_2', view: 'view_4', rowsPerPage: 50 })
    assert.equal(all.summary.complete, true)
    assert.equal(all.summary.shortfall, 0)
    assert.equal(all.length, all.summary.totalRecords)
  } finally {
    await fake.stop()
  }
})

test('an absurd X-PlanLimit-Reset latches at most a day, and resetDailyLimit() clears it', async () => {
  let calls = 0
  const srv = await scripted(() => {
    calls++
    if (calls === 1) {
      return {
        status: 429,
        headers: { 'x-planlimit-limit': '1000', 'x-planlimit-remaining': '0', 'x-planlimit-reset': '999999999999999' },
        body: '{"errors":[{"message":"Daily API limit exceeded"}]}',
      }
    }
    return { body: JSON.stringify({ total_pages: 1, current_page: 1, total_records: 1, records: [rec(1)] }) }
  })
  try {
    const s = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: false })
    await assert.rejects(s.getRecords(VIEW), { code: 'KNACK_DAILY_LIMIT' })
    const plan = s.stats().plan
    assert.ok(plan.resetInMs <= 24 * 3600 * 1000, `resetInMs ${plan.resetInMs}`)
    const again = await s.getRecords(VIEW).catch((e) => e)
    assert.equal(again.code, 'KNACK_DAILY_LIMIT')
    assert.equal(again.attempts, 0)
    assert.equal(calls, 1, 'the latch holds without calling Knack')
    s.resetDailyLimit()
    const page = await s.getRecords(VIEW)
    assert.equal(page.records.length, 1)
  } finally {
    srv.close()
  }
})

test('a record nested 100,000 deep is KNACK_BAD_RESPONSE, never a broken res.json()', async () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000)
  const srv = await scripted((req, url) =>
    url.pathname.endsWith('/records')
      ? { body: `{"total_pages":1,"current_page":1,"total_records":1,"records":[{"id":"${rec(1).id}","field_1_raw":${deep}}]}` }
      : { body: `{"id":"${rec(1).id}","field_1_raw":${deep}}` },
  )
  try {
    const s = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: false })
    for (const call of [() => s.getRecords(VIEW), () => s.getRecord({ ...VIEW, id: rec(1).id }), () => s.getAllRecords(VIEW)]) {
      const err = await call().catch((e) => e)
      assert.equal(err.code, 'KNACK_BAD_RESPONSE')
      assert.match(err.message, /nested too deeply/)
    }
  } finally {
    srv.close()
  }
})

test("a malformed token in Knack's login answer is KNACK_BAD_RESPONSE, not the caller's fault", async () => {
  for (const token of ['not-a-jwt', `${b64('{}')}.${b64('{"user_id":1}')}.x`, 'a\r\nb.c.d']) {
    const srv = await scripted(() => ({
      body: JSON.stringify({ session: { user: { id: USERS.alice.id, token, approval_status: 'approved', profile_keys: [] } } }),
    }))
    try {
      const err = await KnackSession.login({ appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: false, ...USERS.alice }).catch((e) => e)
      assert.equal(err.code, 'KNACK_BAD_RESPONSE', JSON.stringify(token))
      assert.equal(err.attempts, 1)
    } finally {
      srv.close()
    }
  }
})

test('base URLs spelt with and without a trailing slash share one governor', async () => {
  const fake = await startFake([])
  try {
    const a = KnackSession.fromToken(await fake.token(USERS.alice.email), { appId: APP_ID, baseUrl: fake.baseUrl })
    const b = KnackSession.fromToken(await fake.token(USERS.alice.email), { appId: APP_ID, baseUrl: fake.baseUrl + '/' })
    await fake.reset()
    const calls = []
    for (let i = 0; i < 15; i++) {
      calls.push(a.getRecords({ scene: 'scene_1', view: 'view_1' }), b.getRecords({ scene: 'scene_1', view: 'view_1' }))
    }
    await Promise.all(calls)
    const stats = await fake.stats()
    assert.ok(stats.max_in_any_second <= 10, `max_in_any_second ${stats.max_in_any_second}`)
    assert.equal(stats.rate_limited, 0)
  } finally {
    await fake.stop()
  }
})

test("a later session's different proxy is refused loudly, not ignored", () => {
  const baseUrl = 'http://127.0.0.1:9/v1'
  const s = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl, proxy: 'http://127.0.0.1:3128' })
  assert.ok(s)
  assert.ok(KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl, proxy: 'http://127.0.0.1:3128' }))
  assert.throws(() => KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: baseUrl + '/', proxy: 'http://127.0.0.1:3129' }), (e) => {
    assert.equal(e.code, 'KNACK_INVALID_ARGUMENT')
    assert.match(e.message, /proxy/)
    return true
  })
})

test("Knack's Retry-After beyond a second is waited out, and retryAfterMs is the wait applied", async () => {
  let calls = 0
  const srv = await scripted(() => {
    calls++
    if (calls % 2 === 1) return { status: 429, headers: { 'retry-after': '2', 'content-type': 'text/plain' }, body: 'Rate limit exceeded' }
    return { body: JSON.stringify({ total_pages: 1, current_page: 1, total_records: 1, records: [rec(1)] }) }
  })
  try {
    const s = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: { perSecond: 10 } })
    const t0 = Date.now()
    const page = await s.getRecords(VIEW)
    const waited = Date.now() - t0
    assert.equal(page.records.length, 1)
    assert.ok(waited >= 1900, `retried after ${waited} ms`)
    const noRetry = KnackSession.fromToken(TOKEN, { appId: APP_ID, baseUrl: srv.baseUrl, rateLimit: { perSecond: 10 }, retries: 0 })
    const err = await noRetry.getRecords(VIEW).catch((e) => e)
    assert.equal(err.code, 'KNACK_RATE_LIMITED')
    assert.equal(err.retryAfterMs, 2000)
  } finally {
    srv.close()
  }
})
