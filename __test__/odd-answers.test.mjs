// Servers that answer what Knack should not, end to end through JS: an absurd plan-limit
// header (cleared by resetDailyLimit()), records nested 100,000 deep, a login answer with a
// malformed token; and a later session naming another proxy. Each ends in a clean result: no
// day-long lock-out, no crash. Servers that ignore ?page and the governor's cases are in
// crates/knack-client/tests/paging_matrix.rs and governor_matrix.rs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { KnackSession } from '../index.js'
import { USERS, APP_ID } from './helpers/fake.mjs'

const b64 = (s) => Buffer.from(s).toString('base64url')
const TOKEN = `${b64('{"typ":"JWT","alg":"HS256"}')}.${b64(
  `{"user_id":"${USERS.alice.id}","application_id":"${APP_ID}","iat":${Math.floor(Date.now() / 1000)}}`,
)}.c2lnbmF0dXJl`

/** A server whose every answer comes from `handler(req, url)` -> { status?, headers?, body }. */
async function scripted(handler) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x')
    for await (const _ of req);
    const a = await handler(req, url)
    res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...(a.headers ?? {}) })
    res.end(a.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

const rec = (i) => ({ id: i.toString(16).padStart(24, '0'), field_1: `r${i}` })
const VIEW = { scene: 'scene_1', view: 'view_1' }

test('resetDailyLimit() clears the latch of an absurd X-PlanLimit-Reset (at most a day in stats().plan)', async () => {
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
