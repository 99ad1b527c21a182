// knack-session/next without a Next build (scripts/next-e2e.mjs runs the real one): the
// pages/api helpers on a real Node HTTP server, options read at the first request, the
// argument-less getSession() outside Next, and the Edge/browser export conditions.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import http from 'node:http'
import { once } from 'node:events'
import { createKnackAuth } from 'knack-session/next'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'

const SECRET = 'next-helpers-secret-0123456789abcdef'
let fake
let knack
let server
let base

/** A pages/api-like server: Next parses JSON bodies into req.body before the handler. */
function pagesServer(routes) {
  return http.createServer(async (req, res) => {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const text = Buffer.concat(chunks).toString('utf8')
    if ((req.headers['content-type'] ?? '').startsWith('application/json') && text) req.body = JSON.parse(text)
    const route = routes[new URL(req.url, 'http://x').pathname]
    if (!route) {
      res.statusCode = 404
      return res.end()
    }
    await route(req, res)
  })
}

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  knack = createKnackAuth({ appId: APP_ID, baseUrl: fake.baseUrl, secret: SECRET, cookie: { secure: false } })
  server = pagesServer({
    '/api/login': knack.pages.login,
    '/api/logout': knack.pages.logout,
    '/api/me': knack.pages.withSession(async (req, res, session) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ id: session.userId, same: (await knack.pages.getSession(req))?.id === session.id }))
    }),
    '/api/boom': knack.pages.withSession(async (req, res, session) => {
      await session.getRecords({ scene: 'scene_2', view: 'view_4' }) // a customer on the agent desk
    }),
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${server.address().port}`
})
after(async () => {
  server.close()
  await fake.stop()
})

const post = (p, body, headers = {}) =>
  fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...headers }, body: JSON.stringify(body) })

test('pages.login sets the cookie, pages.withSession and pages.getSession read it, pages.logout clears it', async () => {
  const login = await post('/api/login', { email: USERS.alice.email, password: USERS.alice.password })
  assert.equal(login.status, 200)
  assert.equal((await login.json()).user.id, USERS.alice.id)
  const cookie = login.headers.get('set-cookie').split(';')[0]
  const me = await fetch(base + '/api/me', { headers: { cookie } })
  assert.deepEqual(await me.json(), { id: USERS.alice.id, same: true })
  // A KnackError in the handler becomes its status with a generic body.
  const boom = await fetch(base + '/api/boom', { headers: { cookie } })
  assert.equal(boom.status, 403)
  assert.deepEqual(await boom.json(), { error: { code: 'KNACK_FORBIDDEN', message: 'not allowed' } })
  const out = await post('/api/logout', {}, { cookie })
  assert.equal(out.status, 204)
  assert.match(out.headers.get('set-cookie'), /^knack_sid=; Path=\/; Max-Age=0/)
  assert.equal((await fetch(base + '/api/me', { headers: { cookie } })).status, 401)
})

test('a valid cookie wins over a bad Authorization header, in pages/api and App Router alike, and the header is not sent to Knack', async () => {
  const login = await post('/api/login', { email: USERS.alice.email, password: USERS.alice.password })
  const cookie = login.headers.get('set-cookie').split(';')[0]
  const junk = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoibm9ib2R5In0.c2lnbmF0dXJl'
  await fake.reset()
  const me = await fetch(base + '/api/me', { headers: { cookie, authorization: `Bearer ${junk}` } })
  assert.equal(me.status, 200)
  assert.equal((await me.json()).id, USERS.alice.id)
  const s = await knack.getSession(new Request('http://localhost/x', { headers: { cookie, authorization: junk } }))
  assert.equal(s.userId, USERS.alice.id)
  assert.ok((await fake.log()).every((e) => !JSON.stringify(e).includes(junk)), 'the junk token never reached Knack')
  await post('/api/logout', {}, { cookie })
})

test('pages.login refuses GET (405), a wrong password (401) and a cross-site origin (403)', async () => {
  const get = await fetch(base + '/api/login')
  assert.equal(get.status, 405)
  assert.equal(get.headers.get('allow'), 'POST')
  const wrong = await post('/api/login', { email: USERS.alice.email, password: 'nope-nope' })
  assert.equal(wrong.status, 401)
  assert.equal((await wrong.json()).error.code, 'KNACK_LOGIN_FAILED')
  const cross = await post('/api/login', { email: USERS.alice.email, password: USERS.alice.password }, { origin: 'https://evil.example' })
  assert.equal(cross.status, 403)
})

test('createKnackAuth reads nothing at import: a missing secret fails the first request with a 500 and a warning, not the build', async () => {
  const lazy = createKnackAuth(() => ({ appId: process.env.NOT_SET_APP_ID, secret: process.env.NOT_SET_SECRET }))
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const res = await lazy.login(new Request('http://localhost/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }))
    assert.equal(res.status, 500)
    assert.deepEqual(await res.json(), { error: { code: 'KNACK_INVALID_ARGUMENT', message: 'internal error' } })
    await new Promise((r) => setImmediate(r))
    assert.ok(warnings.some((w) => /createKnackAuth\(\) options/.test(w.message)), warnings.map((w) => w.message).join('\n'))
    await assert.rejects(lazy.getSession(new Request('http://localhost/')), { code: 'KNACK_INVALID_ARGUMENT', message: /createKnackAuth\(\) options: appId/ })
  } finally {
    process.off('warning', onWarning)
  }
})

test('getSession() with no request outside Next says how to call it; a wrong argument is named', async () => {
  await assert.rejects(knack.getSession(), { code: 'KNACK_INVALID_ARGUMENT', message: /next\/headers.*pass the request: getSession\(request\)/ })
  await assert.rejects(knack.signIn({ email: USERS.alice.email, password: USERS.alice.password }), { code: 'KNACK_INVALID_ARGUMENT', message: /signIn\(\)/ })
  await assert.rejects(knack.getSession({ headers: {} }), { code: 'KNACK_INVALID_ARGUMENT', message: /knack\.pages\.getSession\(req\)/ })
  await assert.rejects(knack.pages.getSession(new Request('http://localhost/')), { code: 'KNACK_INVALID_ARGUMENT', message: /App Router/ })
})

test('on the Edge runtime and in browser bundles every entry point throws a Node.js-runtime error, not a .node load error', () => {
  for (const condition of ['edge-light', 'browser']) {
    for (const entry of ['knack-session', 'knack-session/next', 'knack-session/express']) {
      const r = spawnSync(process.execPath, [`--conditions=${condition}`, '--input-type=module', '-e', `import(${JSON.stringify(entry)}).then(() => process.exit(3), (e) => { console.log(e.code + ' ' + e.message); process.exit(0) })`], { cwd: ROOT, encoding: 'utf8' })
      assert.equal(r.status, 0, `${condition} ${entry}: ${r.stderr}`)
      assert.match(r.stdout, /^KNACK_EDGE_RUNTIME knack-session cannot run on the Edge runtime or in the browser.*Node\.js runtime/, `${condition} ${entry}`)
    }
  }
})
