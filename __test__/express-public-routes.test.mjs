// Mounted globally (app.use(knack)), the Express middleware never answers a request by itself:
// whatever the Authorization header or the store holds, every route runs, with req.knack the
// session or null and req.knackError saying why it is null. Only knack.required (401, 503 for
// a store outage, 429 for the token budget) and knack.errors answer. A valid cookie wins over
// a bad token header; a session Knack no longer accepts is ended (cookie cleared, record
// deleted), so the next request is anonymous without asking Knack again. Real HTTP against
// fake-knack and a real redis-server.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import express from 'express'
import { knackSession } from 'knack-session/express'
import { KnackSession, RedisStore } from 'knack-session'
import { startFake, USERS, APP_ID, FIELD_TYPES } from './helpers/fake.mjs'
import { haveRedis, startRedis } from './helpers/redis.mjs'

const SECRET = 'public-routes-test-secret-0123456789abcdef'
const CLEARED = /^knack_sid=; Path=\/; Max-Age=0; HttpOnly/
let fake
let other // a second fake-knack serving another app: its tokens are foreign here
const servers = []

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  other = await startFake(['--rate-limit', 'off'], { fixture: FIELD_TYPES.fixture, appId: FIELD_TYPES.appId })
})
after(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
  await fake.stop()
  await other.stop()
})
beforeEach(() => fake.reset())

/** A store over a Map, so tests can see the records (it ignores TTLs). */
function mapStore() {
  const records = new Map()
  return {
    records,
    async get(id) {
      return records.get(id) ?? null
    },
    async set(id, value) {
      records.set(id, value)
    },
    async delete(id) {
      records.delete(id)
    },
  }
}

/**
 * An app with the middleware mounted globally, as the README shows, and routes of every kind:
 * public, knack.required, knack.sessionOf alone, one that throws a plain Error, knack.errors
 * and then the app's own error handler. Resolves { base, knack, reports, appErrors }.
 */
async function makeApp(extra = {}) {
  const reports = []
  const appErrors = []
  const knack = knackSession({
    appId: APP_ID,
    baseUrl: fake.baseUrl,
    rateLimit: false,
    retries: 0,
    secret: SECRET,
    onError: (err, context) => reports.push({ code: err.code, where: context.where, message: err.message }),
    ...extra,
  })
  const app = express()
  app.use(express.json(), knack)
  app.get('/health', (req, res) => res.json({ ok: true, anonymous: req.knack === null, why: req.knackError?.code }))
  app.post('/api/login', knack.login)
  app.post('/api/logout', knack.logout)
  app.get('/api/me', knack.required, (req, res) => res.json({ userId: knack.sessionOf(req).userId, via: req.knackVia }))
  app.get('/api/tickets', knack.required, async (req, res, next) => {
    try {
      res.json(await knack.sessionOf(req).getRecords({ scene: 'scene_1', view: 'view_1' }))
    } catch (e) {
      next(e)
    }
  })
  // No knack.required: sessionOf() throws the same refusal, and knack.errors answers it.
  app.get('/api/mine', (req, res, next) => {
    try {
      res.json({ userId: knack.sessionOf(req).userId })
    } catch (e) {
      next(e)
    }
  })
  app.get('/boom', () => {
    throw new Error('boom at /srv/app/routes.js:12')
  })
  app.use(knack.errors)
  app.use((err, req, res, next) => {
    appErrors.push(err)
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } })
  })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  return { base: `http://127.0.0.1:${server.address().port}`, knack, reports, appErrors }
}

async function call(base, p, { cookie, authorization, method = 'GET', body } = {}) {
  const headers = {}
  if (cookie) headers.cookie = cookie
  if (authorization) headers.authorization = authorization
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // an HTML page: json stays null, the assertion shows the text
  }
  return { status: res.status, headers: res.headers, setCookie: res.headers.get('set-cookie'), text, json }
}

async function login(base, user = USERS.alice) {
  const r = await call(base, '/api/login', { method: 'POST', body: { email: user.email, password: user.password } })
  assert.equal(r.status, 200, r.text)
  const cookie = r.setCookie.split(';')[0]
  return { cookie, id: decodeURIComponent(cookie.split('=')[1]).split('.')[0] }
}

const lastSeq = async () => {
  const log = await fake.log()
  return log.length ? log[log.length - 1].seq : 0
}
const knackCallsSince = async (seq) => (await fake.log()).filter((e) => e.seq > seq)
const tokenChecksSince = async (seq) => (await knackCallsSince(seq)).filter((e) => e.path === '/v1/session/token')

/** The fake's clock now (unix seconds), for tokens issued in its past. */
async function fakeNow() {
  return (await (await fetch(fake.url + '/_fake/clock')).json()).now
}

/** Tokens the middleware must not accept: made-up, another app's, expired, rejected by Knack. */
async function badTokens() {
  const good = (await fake.token(USERS.alice.email)).split('.')
  return {
    junk: { token: 'aaaaaaaaaa.bbbbbbbbbb.cccccccccc', why: 'KNACK_INVALID_ARGUMENT', code: 'KNACK_UNAUTHORIZED', asksKnack: false },
    foreign: { token: await other.token(FIELD_TYPES.user.email), why: 'KNACK_INVALID_ARGUMENT', code: 'KNACK_UNAUTHORIZED', asksKnack: false },
    expired: { token: await fake.token(USERS.alice.email, { iat: (await fakeNow()) - 49 * 3600 }), why: 'KNACK_TOKEN_EXPIRED', code: 'KNACK_TOKEN_EXPIRED', asksKnack: true },
    rejected: { token: `${good[0]}.${good[1]}.${'A'.repeat(43)}`, why: 'KNACK_UNAUTHORIZED', code: 'KNACK_UNAUTHORIZED', asksKnack: true },
  }
}

/** Collect process warnings while `fn` runs (and one tick after). */
async function warningsDuring(fn) {
  const seen = []
  const on = (w) => seen.push(w)
  process.on('warning', on)
  try {
    await fn()
    await new Promise((r) => setImmediate(r))
  } finally {
    process.off('warning', on)
  }
  return seen
}

test('junk, foreign, expired and Knack-rejected tokens on a public route: the route runs with req.knack null and req.knackError saying why; knack.required answers 401', async () => {
  const { base, reports } = await makeApp()
  const tokens = await badTokens()
  const since = await lastSeq()
  for (const [kind, t] of Object.entries(tokens)) {
    for (const authorization of [t.token, `Bearer ${t.token}`, t.token]) {
      const pub = await call(base, '/health', { authorization })
      assert.equal(pub.status, 200, `${kind}: ${pub.text}`)
      assert.deepEqual(pub.json, { ok: true, anonymous: true, why: t.why }, kind)
      assert.equal(pub.setCookie, null, kind)
    }
    const me = await call(base, '/api/me', { authorization: t.token })
    assert.equal(me.status, 401, `${kind}: ${me.text}`)
    assert.equal(me.json.error.code, t.code, kind)
    assert.ok(!me.text.includes(t.token.split('.')[2]), `${kind}: the answer holds the token`)
    const mine = await call(base, '/api/mine', { authorization: t.token })
    assert.deepEqual([mine.status, mine.json], [401, me.json], `${kind}: sessionOf() without knack.required`)
  }
  // Knack was asked once per token that needs asking, whatever the repeats (refused tokens are
  // remembered), and each refusal was reported once.
  assert.equal((await tokenChecksSince(since)).length, Object.values(tokens).filter((t) => t.asksKnack).length)
  assert.deepEqual(reports.map((r) => `${r.where} ${r.code}`).sort(), Object.values(tokens).map((t) => `token ${t.why}`).sort())
  // A non-token Authorization header (another scheme) is none of the middleware's business.
  const basic = await call(base, '/health', { authorization: 'Basic dXNlcjpwYXNz' })
  assert.deepEqual(basic.json, { ok: true, anonymous: true })
  const none = await call(base, '/api/me')
  assert.deepEqual([none.status, none.json], [401, { error: { code: 'KNACK_UNAUTHORIZED', message: 'log in first' } }])
})

test('refused tokens write no default warning (a client problem, and made-up tokens must not flood the log)', async () => {
  const { base } = await makeApp({ onError: undefined })
  const tokens = await badTokens()
  const warnings = await warningsDuring(async () => {
    for (let i = 0; i < 3; i++) {
      for (const t of Object.values(tokens)) assert.equal((await call(base, '/health', { authorization: t.token })).status, 200)
    }
  })
  assert.deepEqual(warnings.map((w) => w.message), [])
})

test('a valid cookie plus a bad token header: the cookie session, and the token is not sent to Knack', async () => {
  const { base, reports } = await makeApp()
  const { cookie } = await login(base)
  const tokens = await badTokens()
  tokens.otherUser = { token: await fake.token(USERS.bob.email) }
  const since = await lastSeq()
  for (const [kind, t] of Object.entries(tokens)) {
    const me = await call(base, '/api/me', { cookie, authorization: t.token })
    assert.equal(me.status, 200, `${kind}: ${me.text}`)
    assert.deepEqual(me.json, { userId: USERS.alice.id, via: 'cookie' }, kind)
    const pub = await call(base, '/health', { cookie, authorization: `Bearer ${t.token}` })
    assert.deepEqual(pub.json, { ok: true, anonymous: false }, kind)
    const list = await call(base, '/api/tickets', { cookie, authorization: t.token })
    assert.equal(list.status, 200, `${kind}: ${list.text}`)
  }
  assert.equal((await tokenChecksSince(since)).length, 0, 'a token beside a valid cookie was validated')
  assert.deepEqual(reports, [])
})

test('a cookie that leads nowhere plus a valid token: the token session, and the dead cookie is cleared', async () => {
  const { base } = await makeApp()
  const { cookie } = await login(base)
  assert.equal((await call(base, '/api/logout', { method: 'POST', cookie, body: {} })).status, 204)
  const me = await call(base, '/api/me', { cookie, authorization: await fake.token(USERS.bob.email) })
  assert.equal(me.status, 200, me.text)
  assert.deepEqual(me.json, { userId: USERS.bob.id, via: 'token' })
  assert.match(me.setCookie ?? '', CLEARED)
})

test('Redis down: public routes answer 200, knack.required 503 KNACK_STORE, the cookie is kept, and one warning is logged for the burst', async (t) => {
  if (!haveRedis()) return t.skip('redis-server is not installed')
  const redis = await startRedis()
  try {
    const { base } = await makeApp({ store: new RedisStore({ url: redis.url, secret: SECRET }), onError: undefined })
    const { cookie, id } = await login(base)
    assert.equal((await call(base, '/api/me', { cookie })).status, 200)
    await redis.stop()
    let answers
    const warnings = await warningsDuring(async () => {
      answers = await Promise.all([
        ...Array.from({ length: 10 }, () => call(base, '/health', { cookie }).then((r) => ({ route: 'health', cookie: true, ...r }))),
        ...Array.from({ length: 5 }, () => call(base, '/health').then((r) => ({ route: 'health', cookie: false, ...r }))),
        ...Array.from({ length: 10 }, () => call(base, '/api/me', { cookie }).then((r) => ({ route: 'me', ...r }))),
        ...Array.from({ length: 5 }, () => call(base, '/api/mine', { cookie }).then((r) => ({ route: 'mine', ...r }))),
      ])
    })
    for (const a of answers) {
      if (a.route === 'health') {
        assert.equal(a.status, 200, a.text)
        assert.deepEqual(a.json, a.cookie ? { ok: true, anonymous: true, why: 'KNACK_STORE' } : { ok: true, anonymous: true })
      } else {
        assert.equal(a.status, 503, `${a.route}: ${a.text}`)
        assert.deepEqual(a.json, { error: { code: 'KNACK_STORE', message: 'the session store is unavailable: try again later' } })
      }
      assert.equal(a.setCookie, null, 'a cookie cleared because the store is down')
    }
    const store = warnings.filter((w) => w.code === 'KNACK_STORE')
    assert.equal(store.length, 1, warnings.map((w) => `${w.code} ${w.message}`).join('\n'))
    assert.match(store[0].message, /^knack-session \(restore\): \S/)
    assert.doesNotMatch(store[0].message, /\n/)
    for (const secret of [id, cookie.split('=')[1], SECRET]) assert.ok(!store[0].message.includes(secret), `the warning holds a secret: ${store[0].message}`)
    assert.equal(warnings.length, 1, warnings.map((w) => `${w.code} ${w.message}`).join('\n'))
  } finally {
    await redis.stop()
  }
})

test('a RedisStore pointed at a closed port: public routes 200, a cookie request to knack.required 503, one report', async () => {
  const probe = net.createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = probe.address().port
  probe.close()
  await once(probe, 'close')
  const { base, knack, reports } = await makeApp({ store: new RedisStore({ url: `redis://127.0.0.1:${port}`, secret: SECRET }) })
  const cookie = `knack_sid=${knack.auth.sign('A'.repeat(43))}`
  for (let i = 0; i < 3; i++) {
    assert.deepEqual((await call(base, '/health')).json, { ok: true, anonymous: true })
    assert.deepEqual((await call(base, '/health', { cookie })).json, { ok: true, anonymous: true, why: 'KNACK_STORE' })
    const me = await call(base, '/api/me', { cookie })
    assert.equal(me.status, 503, me.text)
    assert.ok(!me.text.includes(String(port)), me.text)
  }
  assert.deepEqual(reports.map((r) => `${r.where} ${r.code}`), ['restore KNACK_STORE'])
})

test('a stored session that has expired: the cookie is cleared, the record deleted, and the next request is anonymous without calling Knack', async () => {
  const store = mapStore()
  const { base, knack, reports } = await makeApp({ store })
  // A session adopted from a token issued 15 days ago (past even a "remember me" lifetime),
  // saved as login() would save it.
  const token = await fake.token(USERS.alice.email, { iat: (await fakeNow()) - 15 * 86400 })
  const session = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl, store, secret: SECRET })
  assert.equal(session.expired, true)
  await session.save()
  assert.equal(store.records.has(session.id), true)
  const cookie = `knack_sid=${knack.auth.sign(session.id)}`
  const since = await lastSeq()
  const pub = await call(base, '/health', { cookie })
  assert.deepEqual(pub.json, { ok: true, anonymous: true, why: 'KNACK_UNAUTHORIZED' })
  assert.match(pub.setCookie ?? '', CLEARED)
  assert.equal(store.records.has(session.id), false, 'the expired record is still in the store')
  const me = await call(base, '/api/tickets', { cookie })
  assert.equal(me.status, 401, me.text)
  assert.equal(me.json.error.code, 'KNACK_UNAUTHORIZED')
  assert.deepEqual(await knackCallsSince(since), [], 'an expired session called Knack')
  assert.deepEqual(reports, [])
})

test('a cookie session whose token Knack rejects during a request: 401, the cookie is cleared, the record deleted, and the next request does not call Knack', async () => {
  const store = mapStore()
  const { base, reports } = await makeApp({ store })
  const { cookie, id } = await login(base)
  assert.equal((await call(base, '/api/tickets', { cookie })).status, 200)
  await fake.advanceClock(49 * 3600) // Knack now answers the token with 403 "Invalid token provided"
  const failed = await call(base, '/api/tickets', { cookie })
  assert.equal(failed.status, 401, failed.text)
  assert.match(failed.json.error.code, /^KNACK_(UNAUTHORIZED|TOKEN_EXPIRED)$/)
  assert.match(failed.setCookie ?? '', CLEARED)
  assert.equal(store.records.has(id), false, 'the rejected session is still in the store')
  const since = await lastSeq()
  const pub = await call(base, '/health', { cookie })
  assert.deepEqual(pub.json, { ok: true, anonymous: true, why: 'KNACK_UNAUTHORIZED' })
  const again = await call(base, '/api/tickets', { cookie })
  assert.equal(again.status, 401, again.text)
  assert.deepEqual(await knackCallsSince(since), [], 'the ended session called Knack again')
  assert.deepEqual(reports.map((r) => r.where), ['handler'])
})

test('a token session Knack rejects during a request: 401, and the token is refused afterwards without asking Knack', async () => {
  const { base } = await makeApp()
  const token = await fake.token(USERS.alice.email)
  assert.equal((await call(base, '/api/tickets', { authorization: token })).status, 200)
  await fake.advanceClock(49 * 3600)
  const failed = await call(base, '/api/tickets', { authorization: token })
  assert.equal(failed.status, 401, failed.text)
  assert.equal(failed.setCookie, null)
  const since = await lastSeq()
  const pub = await call(base, '/health', { authorization: token })
  assert.equal(pub.json.anonymous, true)
  assert.match(pub.json.why, /^KNACK_(UNAUTHORIZED|TOKEN_EXPIRED)$/)
  assert.equal((await call(base, '/api/tickets', { authorization: token })).status, 401)
  assert.deepEqual(await knackCallsSince(since), [], 'the rejected token was sent to Knack again')
})

test("knack.errors answers KnackErrors and passes every other error on to the app's own handler (JSON, not Express's HTML page)", async () => {
  const { base, reports, appErrors } = await makeApp()
  const boom = await call(base, '/boom')
  assert.equal(boom.status, 500)
  assert.match(boom.headers.get('content-type'), /^application\/json/)
  assert.deepEqual(boom.json, { error: { code: 'INTERNAL', message: 'internal error' } })
  assert.ok(!boom.text.includes('/srv/') && !/<html|<pre/i.test(boom.text), boom.text)
  assert.equal(appErrors.length, 1)
  assert.equal(appErrors[0].message, 'boom at /srv/app/routes.js:12')
  assert.deepEqual(reports, [], 'a non-Knack error went to onError instead of the app')
  // A KnackError stops at knack.errors.
  const { cookie } = await login(base, USERS.carol) // an agent: scene_1 is the customers' page
  const forbidden = await call(base, '/api/tickets', { cookie })
  assert.equal(forbidden.status, 403, forbidden.text)
  assert.equal(forbidden.json.error.code, 'KNACK_FORBIDDEN')
  assert.equal(appErrors.length, 1)
})

test('knack.required and knack.sessionOf work on a route when the middleware is not mounted globally', async () => {
  const knack = knackSession({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, secret: SECRET, onError: () => {} })
  const app = express()
  app.post('/api/login', express.json(), knack.login)
  app.get('/health', (req, res) => res.json({ knack: req.knack ?? 'absent' }))
  app.get('/api/me', knack.required, (req, res) => res.json({ userId: knack.sessionOf(req).userId }))
  app.get('/api/mine', (req, res, next) => {
    try {
      res.json({ userId: knack.sessionOf(req).userId })
    } catch (e) {
      next(e)
    }
  })
  app.use(knack.errors)
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  const base = `http://127.0.0.1:${server.address().port}`
  const { cookie } = await login(base)
  assert.deepEqual((await call(base, '/health', { cookie })).json, { knack: 'absent' })
  assert.deepEqual((await call(base, '/api/me', { cookie })).json, { userId: USERS.alice.id })
  assert.equal((await call(base, '/api/me')).status, 401)
  // sessionOf() on a route the middleware never saw is the app's bug: 500, not 401.
  const mine = await call(base, '/api/mine', { cookie })
  assert.deepEqual([mine.status, mine.json], [500, { error: { code: 'KNACK_INTERNAL', message: 'internal error' } }])
})
