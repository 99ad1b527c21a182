// What the middleware tells the browser when things go wrong (a code and a generic message:
// no OS error text, no Knack paths, no app id, no token; the details go to onError), and how
// it checks its own options (types, and misspelt keys with a "did you mean" hint).
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import crypto from 'node:crypto'
import { once } from 'node:events'
import express from 'express'
import { knackSession, errorAnswer } from 'knack-session/express'
import { createKnackAuth } from 'knack-session/next'
import { KnackError, MemoryStore } from 'knack-session'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const SECRET = 'middleware-faults-secret-0123456789abcdef'
let fake
const servers = []

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
})
after(async () => {
  for (const s of servers) {
    s.closeAllConnections?.()
    s.close()
  }
  await fake.stop()
})
beforeEach(() => fake.reset())

async function listen(server) {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  return server.address().port
}

/** An Express app in front of `baseUrl`; resolves { base, reports }. */
async function makeApp(extra = {}) {
  const reports = []
  const knack = knackSession({
    appId: APP_ID,
    baseUrl: fake.baseUrl,
    rateLimit: false,
    retries: 0,
    store: new MemoryStore(),
    secret: SECRET,
    onError: (err, context) => reports.push({ err, where: context.where, hasRequest: !!context.request }),
    ...extra,
  })
  const app = express()
  app.use(express.json(), knack)
  app.post('/login', knack.login)
  app.get('/health', (req, res) => res.json({ ok: true, why: req.knackError?.code }))
  app.get('/me', knack.required, (req, res) => res.json({ userId: req.knack.userId }))
  app.get('/tickets', knack.required, async (req, res, next) => {
    try {
      res.json(await req.knack.getRecords({ scene: 'scene_1', view: 'view_1' }))
    } catch (e) {
      next(e)
    }
  })
  app.post('/tickets', knack.required, async (req, res, next) => {
    try {
      res.json(await req.knack.createRecord({ scene: 'scene_1', view: 'view_2', data: req.body }))
    } catch (e) {
      next(e)
    }
  })
  app.use(knack.errors)
  const port = await listen(http.createServer(app))
  return { base: `http://127.0.0.1:${port}`, reports }
}

async function call(base, method, p, { cookie, authorization, body } = {}) {
  const headers = { 'content-type': 'application/json' }
  if (cookie) headers.cookie = cookie
  if (authorization) headers.authorization = authorization
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null }
}

async function loginCookie(base) {
  const r = await call(base, 'POST', '/login', { body: { email: USERS.alice.email, password: USERS.alice.password } })
  assert.equal(r.status, 200, r.text)
  return r.headers.get('set-cookie').split(';')[0]
}

/** Nothing in a browser-facing body that belongs in a server log. */
function assertClean(text, what, extra = []) {
  for (const bad of ['os error', '/pages/', '/v1/', APP_ID, 'scene_1', 'view_1', '127.0.0.1', 'Connection refused', ...extra]) {
    assert.ok(!text.toLowerCase().includes(bad.toLowerCase()), `${what}: the answer holds "${bad}": ${text}`)
  }
}

test('Knack faults reach the browser as a code and a generic message; the details go to onError', async () => {
  const { base, reports } = await makeApp()
  const cookie = await loginCookie(base)
  const cases = [
    { fault: { kind: 'reset_before', method: 'GET', times: 5 }, code: 'KNACK_NETWORK', status: 502, message: 'Knack could not be reached' },
    { fault: { kind: 'status', status: 503, body: '<html>upstream /srv/knack/app.js exploded</html>', content_type: 'text/html', method: 'GET', times: 5 }, code: 'KNACK_SERVER_ERROR', status: 502, message: 'Knack had an error' },
    { fault: { kind: 'invalid_json', method: 'GET', times: 5 }, code: 'KNACK_BAD_RESPONSE', status: 502, message: "Knack's answer was not understood" },
  ]
  for (const c of cases) {
    reports.length = 0
    await fake.faults([c.fault])
    const r = await call(base, 'GET', '/tickets', { cookie })
    await fake.clearFaults()
    assert.equal(r.status, c.status, r.text)
    assert.deepEqual(r.json, { error: { code: c.code, message: c.message } })
    assertClean(r.text, c.code, ['exploded', '/srv/'])
    assert.equal(reports.length, 1, `${c.code}: not reported`)
    assert.equal(reports[0].err.code, c.code)
    assert.equal(reports[0].hasRequest, true)
  }
})

test('an unreachable Knack (closed port): 502 KNACK_NETWORK without the OS error, login included; a token it cannot validate leaves public routes running and is reported once', async () => {
  const probe = net.createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = probe.address().port
  probe.close()
  await once(probe, 'close')
  // A network failure is not a refusal: each retry asks again, so give the budget room.
  const { base, reports } = await makeApp({ baseUrl: `http://127.0.0.1:${port}/v1`, timeoutMs: 2000, tokenValidation: { perSecond: 100, burst: 100 } })
  const login = await call(base, 'POST', '/login', { body: { email: USERS.alice.email, password: USERS.alice.password } })
  assert.equal(login.status, 502, login.text)
  assert.deepEqual(login.json, { error: { code: 'KNACK_NETWORK', message: 'Knack could not be reached' } })
  assertClean(login.text, 'login', [String(port)])
  // A token Knack cannot validate: the global middleware lets the request go on (public
  // routes answer), knack.required answers 502; the outage is reported once, not per request.
  const bobToken = await fake.token(USERS.bob.email)
  const reportsBefore = reports.length
  for (let i = 0; i < 3; i++) {
    const pub = await call(base, 'GET', '/health', { authorization: bobToken })
    assert.deepEqual([pub.status, pub.json], [200, { ok: true, why: 'KNACK_NETWORK' }], pub.text)
    const token = await call(base, 'GET', '/me', { authorization: bobToken })
    assert.equal(token.status, 502, token.text)
    assert.deepEqual(token.json, { error: { code: 'KNACK_NETWORK', message: 'Knack could not be reached' } })
    assertClean(token.text, 'token', [String(port)])
  }
  assert.deepEqual(reports.slice(reportsBefore).map((r) => `${r.where} ${r.err.code}`), ['token KNACK_NETWORK'])
  assert.ok(reports.length >= 2)
  assert.ok(reports.some((r) => /refused|connect/i.test(r.err.message)), 'the details are not in the report')
})

test('a server that echoes the token in its error bodies: the token never reaches the browser', async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const good = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ user_id: USERS.alice.id, application_id: APP_ID, iat: Math.floor(Date.now() / 1000) })}.${crypto.randomBytes(16).toString('base64url')}`
  const bad = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ user_id: USERS.bob.id, application_id: APP_ID, iat: Math.floor(Date.now() / 1000) })}.${crypto.randomBytes(16).toString('base64url')}`
  const echo = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? ''
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.url === '/v1/session/token' && auth === good) {
      return answer(200, { session: { user: { id: USERS.alice.id, email: USERS.alice.email, status: 'current', account_status: 'active', approval_status: 'approved', profile_keys: ['profile_1'], values: {} } } })
    }
    if (req.url === '/v1/session/token') return answer(401, { errors: [{ message: `Invalid token ${auth} for app ${APP_ID}` }] })
    if (req.method === 'GET') return answer(403, { errors: [{ message: `token ${auth} may not read this` }] })
    return answer(400, { errors: [{ field: 'field_10', type: 'required', message: `Subject is required (${auth}, ${APP_ID})` }] })
  })
  const port = await listen(echo)
  const { base } = await makeApp({ baseUrl: `http://127.0.0.1:${port}/v1` })
  const refused = await call(base, 'GET', '/me', { authorization: bad })
  assert.equal(refused.status, 401, refused.text)
  assert.equal(refused.json.error.code, 'KNACK_UNAUTHORIZED')
  const forbidden = await call(base, 'GET', '/tickets', { authorization: good })
  assert.equal(forbidden.status, 403, forbidden.text)
  assert.equal(forbidden.json.error.code, 'KNACK_FORBIDDEN')
  const invalid = await call(base, 'POST', '/tickets', { authorization: good, body: { field_11: 'x' } })
  assert.equal(invalid.status, 422, invalid.text)
  assert.equal(invalid.json.error.code, 'KNACK_VALIDATION')
  assert.equal(invalid.json.error.errors[0].field, 'field_10')
  assert.match(invalid.json.error.errors[0].message, /Subject is required/)
  for (const [what, r] of [['refused', refused], ['forbidden', forbidden], ['validation', invalid]]) {
    for (const t of [good, bad, good.split('.')[2], bad.split('.')[2]]) assert.ok(!r.text.includes(t), `${what}: the token is in the answer: ${r.text}`)
    assertClean(r.text, what, [String(port)])
  }
})

test('errorAnswer: generic messages per code; field errors only for KNACK_VALIDATION', () => {
  const cases = [
    ['KNACK_NETWORK', 502, 'Knack could not be reached'],
    ['KNACK_SERVER_ERROR', 502, 'Knack had an error'],
    ['KNACK_BAD_RESPONSE', 502, "Knack's answer was not understood"],
    ['KNACK_TIMEOUT', 504, 'Knack did not answer in time'],
    ['KNACK_STORE', 500, 'internal error'],
    ['KNACK_INTERNAL', 500, 'internal error'],
  ]
  for (const [code, status, message] of cases) {
    const a = errorAnswer(new KnackError(code, `GET /pages/scene_1/views/view_1/records: connect error: Connection refused (os error 111) ${APP_ID}`, { errors: [{ message: 'x' }] }))
    assert.equal(a.status, status)
    assert.deepEqual(JSON.parse(a.body), { error: { code, message } })
  }
  for (const code of ['KNACK_LOGIN_FAILED', 'KNACK_NOT_FOUND', 'KNACK_FORBIDDEN', 'KNACK_UNAUTHORIZED', 'KNACK_TOKEN_EXPIRED', 'KNACK_RATE_LIMITED', 'KNACK_DAILY_LIMIT', 'KNACK_INVALID_ARGUMENT']) {
    const a = errorAnswer(new KnackError(code, `GET /pages/scene_1/views/view_1/records: /etc/passwd (os error 2) ${APP_ID} eyJ.token.sig`))
    assertClean(a.body, code, ['/etc/', 'eyJ'])
    assert.equal(JSON.parse(a.body).error.code, code)
  }
  const v = errorAnswer(new KnackError('KNACK_VALIDATION', 'POST /pages/scene_1/views/view_2/records: Subject is required.', { errors: [{ field: 'field_10', type: 'required', message: 'Subject is required.' }] }))
  assert.equal(v.status, 422)
  assert.deepEqual(JSON.parse(v.body), { error: { code: 'KNACK_VALIDATION', message: 'Subject is required.', errors: [{ field: 'field_10', type: 'required', message: 'Subject is required.' }] } })
  assert.equal(errorAnswer(new Error('boom at /srv/app.js')).status, 500)
  assert.ok(!errorAnswer(new Error('boom at /srv/app.js')).body.includes('srv'))
})

// ---- option checks ----

const base = () => ({ appId: APP_ID, baseUrl: fake.baseUrl, secret: SECRET })

const BAD = [
  [{ allowToken: 'false' }, /allowToken must be true or false/],
  [{ allowToken: 0 }, /allowToken must be true or false/],
  [{ tokenCacheMs: '60000' }, /tokenCacheMs must be a finite number/],
  [{ tokenCacheMs: -1 }, /tokenCacheMs must be/],
  [{ tokenCacheMs: NaN }, /tokenCacheMs must be/],
  [{ tokenCacheMs: Infinity }, /tokenCacheMs must be/],
  [{ cookie: 'knack_sid' }, /cookie must be an object/],
  [{ cookie: { name: 5 } }, /cookie.name/],
  [{ cookie: { name: 'a b' } }, /cookie.name/],
  [{ cookie: { secure: 'true' } }, /cookie.secure must be true or false/],
  [{ cookie: { sameSite: 'Sideways' } }, /cookie.sameSite/],
  [{ cookie: { sameSite: true } }, /cookie.sameSite/],
  [{ cookie: { sameSite: 'None', secure: false } }, /SameSite=None.*secure/i],
  [{ cookie: { path: 5 } }, /cookie.path/],
  [{ cookie: { path: 'api' } }, /cookie.path/],
  [{ cookie: { domain: 5 } }, /cookie.domain/],
  [{ cookie: { secrue: true } }, /unknown option "secrue" \(did you mean "secure"\?\)/],
  [{ allowedOrigins: 'https://app.example.com' }, /allowedOrigins must be an array/],
  [{ allowedOrigins: [5] }, /allowedOrigins/],
  [{ allowedOrigins: ['*'] }, /allowedOrigins/],
  [{ allowedOrigins: ['https://app.example.com/login'] }, /allowedOrigins/],
  [{ allowedOrigins: ['app.example.com'] }, /allowedOrigins/],
  [{ tokenValidation: 2 }, /tokenValidation must be an object/],
  [{ tokenValidation: { perSecond: '2' } }, /tokenValidation.perSecond/],
  [{ tokenValidation: { perSecond: 0 } }, /tokenValidation.perSecond/],
  [{ tokenValidation: { perSecond: -1 } }, /tokenValidation.perSecond/],
  [{ tokenValidation: { burst: 0 } }, /tokenValidation.burst/],
  [{ tokenValidation: { burst: 1.5 } }, /tokenValidation.burst/],
  [{ tokenValidation: { refusedCacheMs: -5 } }, /tokenValidation.refusedCacheMs/],
  [{ tokenValidation: { perSecnd: 2 } }, /unknown option "perSecnd" \(did you mean "perSecond"\?\)/],
  [{ onError: 'console' }, /onError must be a function/],
  [{ allowFormLogin: 'yes' }, /allowFormLogin must be true or false/],
  [{ trustProxy: 1 }, /trustProxy must be true or false/],
  [{ tokenCacheMS: 1000 }, /unknown option "tokenCacheMS" \(did you mean "tokenCacheMs"\?\)/],
  [{ allowTokens: true }, /unknown option "allowTokens" \(did you mean "allowToken"\?\)/],
  [{ cookies: {} }, /unknown option "cookies" \(did you mean "cookie"\?\)/],
  [{ allowedOrigin: [] }, /did you mean "allowedOrigins"/],
  [{ timeoutMs: '5000' }, /^knackSession\(\) options: timeoutMs must be|^createKnackAuth\(\) options: timeoutMs must be/],
]

test('knackSession() and createKnackAuth() refuse options of the wrong type and misspelt keys (createKnackAuth at first use)', () => {
  // createKnackAuth reads its options at the first request (so `next build` needs no secrets):
  // `.auth` is that first use.
  const nextFirstUse = (opts) => createKnackAuth(opts).auth
  for (const [factory, name] of [[knackSession, 'knackSession'], [nextFirstUse, 'createKnackAuth']]) {
    for (const [extra, message] of BAD) {
      assert.throws(() => factory({ ...base(), ...extra }), (e) => {
        assert.equal(e.code, 'KNACK_INVALID_ARGUMENT', `${name} ${JSON.stringify(extra)}: ${e.message}`)
        assert.match(e.message, message, `${name} ${JSON.stringify(extra)}`)
        return true
      }, `${name} accepted ${JSON.stringify(extra, (k, v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v))}`)
    }
  }
})

test('well-formed middleware options are accepted', () => {
  const good = [
    {},
    { allowToken: false, tokenCacheMs: 0 },
    { cookie: { name: 'sid', secure: true, sameSite: 'None', path: '/app', domain: 'example.com' } },
    { cookie: { secure: false, sameSite: 'Strict' } },
    { allowedOrigins: ['https://app.example.com', 'http://localhost:5173'] },
    { tokenValidation: { perSecond: 0.5, burst: 1, refusedCacheMs: 0 } },
    { tokenValidation: {} },
    { onError: () => {}, allowFormLogin: true, trustProxy: true },
    { store: new MemoryStore(), rateLimit: false, timeoutMs: 5000, retries: 1, onStoreError: () => {} },
  ]
  for (const extra of good) {
    knackSession({ ...base(), ...extra })
    createKnackAuth({ ...base(), ...extra })
  }
})
