// The Express middleware over real HTTP: cookie sessions, Knack tokens in Authorization,
// expiry, logout, and Knack errors as HTTP statuses.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import express from 'express'
import { knackSession } from 'knack-session/express'
import { FileStore } from 'knack-session'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const SECRET = 'express-test-secret-0123456789abcdef'
let fake
let server
let base
let dir
const reported = []

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  dir = mkdtempSync(path.join(os.tmpdir(), 'knack-express-'))
  const knack = knackSession({
    appId: APP_ID,
    baseUrl: fake.baseUrl,
    rateLimit: false,
    store: new FileStore({ dir, secret: SECRET }),
    secret: SECRET,
    tokenCacheMs: 60_000,
    onError: (err, context) => reported.push({ code: err.code, where: context.where }),
  })
  const app = express()
  app.use(express.json())
  app.use(knack)
  app.get('/public', (req, res) => res.json({ anonymous: req.knack === null }))
  app.post('/login', knack.login)
  app.post('/logout', knack.logout)
  app.get('/me', knack.required, (req, res) => res.json({ userId: req.knack.userId, via: req.knackVia }))
  app.get('/tickets', knack.required, async (req, res, next) => {
    try {
      res.json(await req.knack.getRecords({ scene: req.query.scene ?? 'scene_1', view: req.query.view ?? 'view_1' }))
    } catch (e) {
      next(e)
    }
  })
  app.post('/tickets', knack.required, async (req, res, next) => {
    try {
      res.status(201).json(await req.knack.createRecord({ scene: 'scene_1', view: 'view_2', data: req.body }))
    } catch (e) {
      next(e)
    }
  })
  app.use(knack.errors)
  server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${server.address().port}`
})
after(async () => {
  server.closeAllConnections()
  server.close()
  await fake.stop()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => fake.reset())

async function req(method, p, { body, cookie, authorization } = {}) {
  // login and logout take JSON only (a CSRF defence): a logout sends an empty object.
  if (method === 'POST' && p === '/logout' && body === undefined) body = {}
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (cookie) headers.cookie = cookie
  if (authorization) headers.authorization = authorization
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null, text }
}

async function login(user = USERS.alice, extra = {}) {
  const r = await req('POST', '/login', { body: { email: user.email, password: user.password, ...extra } })
  assert.equal(r.status, 200, r.text)
  const setCookie = r.headers.get('set-cookie')
  return { r, setCookie, cookie: setCookie.split(';')[0] }
}

test('login sets a signed, httpOnly, Secure, SameSite cookie holding only the session id', async () => {
  const { r, setCookie, cookie } = await login()
  assert.equal(r.json.user.id, USERS.alice.id)
  assert.deepEqual(r.json.user.profileKeys, ['profile_1'])
  assert.ok(!r.text.includes('token'), 'the login answer mentions a token')
  assert.match(setCookie, /^knack_sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+; Path=\/; Max-Age=17\d{4}; HttpOnly; SameSite=Lax; Secure$/)
  const me = await req('GET', '/me', { cookie })
  assert.equal(me.status, 200)
  assert.deepEqual(me.json, { userId: USERS.alice.id, via: 'cookie' })
  const tickets = await req('GET', '/tickets', { cookie })
  assert.equal(tickets.json.records.length, 3)
})

test('a forged or altered cookie is not a session', async () => {
  const { cookie } = await login()
  const [name, value] = cookie.split('=')
  const [id, sig] = value.split('.')
  for (const bad of [`${name}=${id}`, `${name}=${id}.${sig.slice(0, -2)}xx`, `${name}=${'A'.repeat(43)}.${sig}`]) {
    const r = await req('GET', '/me', { cookie: bad })
    assert.equal(r.status, 401)
    assert.equal(r.json.error.code, 'KNACK_UNAUTHORIZED')
  }
})

test('unauthenticated requests get 401 JSON with a code', async () => {
  const r = await req('GET', '/tickets')
  assert.equal(r.status, 401)
  assert.deepEqual(r.json, { error: { code: 'KNACK_UNAUTHORIZED', message: 'log in first' } })
})

test('wrong password: 401 KNACK_LOGIN_FAILED, no cookie', async () => {
  const r = await req('POST', '/login', { body: { email: USERS.alice.email, password: 'nope-nope' } })
  assert.equal(r.status, 401)
  assert.equal(r.json.error.code, 'KNACK_LOGIN_FAILED')
  assert.equal(r.headers.get('set-cookie'), null)
})

test('a Knack token in Authorization is validated once, then cached by its hash', async () => {
  const token = await fake.token(USERS.bob.email)
  for (let i = 0; i < 3; i++) {
    const r = await req('GET', '/tickets', { authorization: token })
    assert.equal(r.status, 200)
    assert.equal(r.json.records.length, 2)
  }
  const me = await req('GET', '/me', { authorization: `Bearer ${token}` })
  assert.equal(me.json.via, 'token')
  const checks = (await fake.log()).filter((e) => e.path === '/v1/session/token')
  assert.equal(checks.length, 1)
  const parts = token.split('.')
  const forged = await req('GET', '/tickets', { authorization: `${parts[0]}.${parts[1]}.AAAA` })
  assert.equal(forged.status, 401)
  assert.equal(forged.json.error.code, 'KNACK_UNAUTHORIZED')
})

test('a session whose token Knack no longer accepts (403 "Invalid token provided") answers 401 KNACK_UNAUTHORIZED, not 403', async () => {
  const { cookie } = await login(USERS.carol)
  await fake.advanceClock(49 * 3600)
  const r = await req('GET', '/tickets?scene=scene_2&view=view_4', { cookie })
  assert.equal(r.status, 401)
  assert.equal(r.json.error.code, 'KNACK_UNAUTHORIZED')
})

test('logout deletes the session and clears the cookie', async () => {
  const { cookie } = await login()
  const out = await req('POST', '/logout', { cookie })
  assert.equal(out.status, 204)
  assert.match(out.headers.get('set-cookie'), /^knack_sid=; Path=\/; Max-Age=0; HttpOnly/)
  const again = await req('GET', '/me', { cookie })
  assert.equal(again.status, 401)
})

test('Knack errors map to HTTP statuses: 403, 422 with field errors, 404', async () => {
  const { cookie } = await login()
  const forbidden = await req('GET', '/tickets?scene=scene_2&view=view_4', { cookie })
  assert.equal(forbidden.status, 403)
  assert.equal(forbidden.json.error.code, 'KNACK_FORBIDDEN')
  const invalid = await req('POST', '/tickets', { cookie, body: { field_11: 'no subject' } })
  assert.equal(invalid.status, 422)
  assert.equal(invalid.json.error.code, 'KNACK_VALIDATION')
  assert.equal(invalid.json.error.errors[0].field, 'field_10')
  const missing = await req('GET', '/tickets?scene=scene_1&view=view_99', { cookie })
  assert.equal(missing.status, 404)
  const created = await req('POST', '/tickets', { cookie, body: { field_10: 'From Express' } })
  assert.equal(created.status, 201)
})

// A session record that cannot be read (a damaged file, a directory where the file should be,
// a store that throws) must not lock the user out: the request goes on as anonymous, the dead
// cookie is cleared, and login and logout still work.
test('a damaged or unreadable session record does not lock the user out: public routes, login and logout still work', async () => {
  const damage = {
    garbage: (f) => writeFileSync(f, 'not a sealed record \u0000\u00ff at all'),
    empty: (f) => writeFileSync(f, ''),
    directory: (f) => {
      rmSync(f, { force: true })
      mkdirSync(f)
    },
  }
  for (const [how, spoil] of Object.entries(damage)) {
    reported.length = 0
    const { cookie } = await login()
    const id = decodeURIComponent(cookie.split('=')[1]).split('.')[0]
    const file = path.join(dir, `${id}.session`)
    assert.ok(existsSync(file), `no session file at ${file}`)
    spoil(file)

    const pub = await req('GET', '/public', { cookie })
    assert.equal(pub.status, 200, `${how}: ${pub.text}`)
    assert.deepEqual(pub.json, { anonymous: true })
    assert.match(pub.headers.get('set-cookie') ?? '', /^knack_sid=; Path=\/; Max-Age=0; HttpOnly/, `${how}: the dead cookie is not cleared`)

    const me = await req('GET', '/me', { cookie })
    assert.equal(me.status, 401, `${how}: ${me.text}`)
    assert.equal(me.json.error.code, 'KNACK_UNAUTHORIZED')

    const again = await req('POST', '/login', { cookie, body: { email: USERS.alice.email, password: USERS.alice.password } })
    assert.equal(again.status, 200, `${how}: ${again.text}`)
    const fresh = again.headers.get('set-cookie').split(';')[0]
    assert.notEqual(fresh, cookie)
    assert.equal((await req('GET', '/me', { cookie: fresh })).status, 200)

    const out = await req('POST', '/logout', { cookie })
    assert.equal(out.status, 204, `${how}: ${out.text}`)
    assert.match(out.headers.get('set-cookie'), /^knack_sid=; Path=\/; Max-Age=0; HttpOnly/)
    rmSync(file, { recursive: true, force: true })
    // FileStore may report a damaged record as a store error or as no record at all; a report
    // goes to onError, never to the browser.
    assert.ok(reported.every((r) => r.code === 'KNACK_STORE' && r.where === 'restore'), `${how}: ${JSON.stringify(reported)}`)
  }
})

test('a store that throws on read: public routes run anonymous, knack.required answers 503, the cookie is kept, one report for the burst, login and logout work', async () => {
  const records = new Map()
  let broken = false
  const store = {
    async get(id) {
      if (broken) throw new Error('EIO: i/o error, read /var/lib/sessions/' + id)
      return records.get(id) ?? null
    },
    async set(id, value) {
      records.set(id, value)
    },
    async delete(id) {
      if (broken) throw new Error('EIO: i/o error, unlink')
      records.delete(id)
    },
  }
  const seen = []
  const hooks = {
    collecting: (err, context) => seen.push({ code: err.code, where: context.where }),
    throwing: () => {
      throw new Error('the onError hook itself fails')
    },
    default: undefined,
  }
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    for (const [name, onError] of Object.entries(hooks)) {
      seen.length = 0
      warnings.length = 0
      broken = false
      const knack = knackSession({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, store, secret: SECRET, ...(onError ? { onError } : {}) })
      const app = express()
      app.use(express.json(), knack)
      app.get('/public', (req, res) => res.json({ anonymous: req.knack === null, why: req.knackError?.code }))
      app.get('/me', knack.required, (req, res) => res.json({ userId: req.knack.userId }))
      app.post('/login', knack.login)
      app.post('/logout', knack.logout)
      const srv = app.listen(0, '127.0.0.1')
      await once(srv, 'listening')
      const at = `http://127.0.0.1:${srv.address().port}`
      const call = async (method, p, cookie, body) => {
        const headers = { 'content-type': 'application/json' }
        if (cookie) headers.cookie = cookie
        const res = await fetch(at + p, { method, headers, body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined })
        return { status: res.status, setCookie: res.headers.get('set-cookie'), text: await res.text() }
      }
      try {
        const first = await call('POST', '/login', null, { email: USERS.bob.email, password: USERS.bob.password })
        assert.equal(first.status, 200, first.text)
        const cookie = first.setCookie.split(';')[0]
        const id = decodeURIComponent(cookie.split('=')[1]).split('.')[0]
        broken = true
        const pub = await call('GET', '/public', cookie)
        assert.equal(pub.status, 200, `${name}: ${pub.text}`)
        assert.deepEqual(JSON.parse(pub.text), { anonymous: true, why: 'KNACK_STORE' })
        // The store is down, not the session: the cookie stays for when the store is back.
        assert.equal(pub.setCookie, null, `${name}: the cookie is cleared during a store outage`)
        const me = await call('GET', '/me', cookie)
        assert.equal(me.status, 503, `${name}: ${me.text}`)
        assert.equal(JSON.parse(me.text).error.code, 'KNACK_STORE')
        for (const r of [pub, me]) assert.ok(!r.text.includes('EIO') && !r.text.includes('/var/'), r.text)
        const again = await call('POST', '/login', cookie, { email: USERS.bob.email, password: USERS.bob.password })
        assert.equal(again.status, 200, `${name}: ${again.text}`)
        assert.match(again.setCookie, /^knack_sid=[^;]+\./)
        const out = await call('POST', '/logout', cookie)
        assert.equal(out.status, 204, `${name}: ${out.text}`)
        assert.match(out.setCookie, /Max-Age=0/)
        broken = false
        assert.equal((await call('GET', '/me', again.setCookie.split(';')[0])).status, 200, `${name}: the store is back, the new cookie works`)
        await new Promise((r) => setImmediate(r))
        // Four requests met the outage (public, me, login, logout): one report.
        if (name === 'collecting') assert.deepEqual(seen, [{ code: 'KNACK_STORE', where: 'restore' }])
        const storeWarnings = warnings.filter((w) => w.code === 'KNACK_STORE')
        if (name === 'default') {
          assert.equal(storeWarnings.length, 1, warnings.map((w) => w.message).join('\n'))
          assert.match(storeWarnings[0].message, /^knack-session \(restore\): .*EIO/)
          assert.ok(!storeWarnings[0].message.includes(id), `the warning shows the session id: ${storeWarnings[0].message}`)
        } else assert.equal(storeWarnings.length, 0, 'a warning despite onError')
      } finally {
        srv.closeAllConnections()
        srv.close()
      }
    }
  } finally {
    process.off('warning', onWarning)
  }
})
