// Login and logout CSRF. A cross-site page can POST to /api/login with a `text/plain` form
// whose body happens to be JSON (login CSRF: the victim ends up logged in as the attacker), or
// POST to /api/logout (the victim is logged out). login and logout take only
// `Content-Type: application/json` (which a cross-site page cannot send without a CORS
// preflight) and refuse `Sec-Fetch-Site: cross-site` and a foreign `Origin`.
// First plain HTTP tests for Express and Next, then the attack in headless Chromium.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import express from 'express'
import { knackSession } from 'knack-session/express'
import { createKnackAuth } from 'knack-session/next'
import { MemoryStore } from 'knack-session'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'
import { createApp } from '../examples/express/app.mjs'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
if (!CHROMIUM && process.env.CI === 'true') throw new Error('chromium is not installed, and CI=true: install it (apt-get install -y chromium)')

const SECRET = 'csrf-test-secret-0123456789abcdef0123'
let fake
const servers = []

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
})
after(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
  await fake.stop()
})
beforeEach(() => fake.reset())

async function listen(app) {
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  return server.address().port
}

/** An Express app with the middleware (extra options merged in); resolves its port. */
async function expressApp(extra = {}, { parser = express.json() } = {}) {
  const knack = knackSession({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, store: new MemoryStore(), secret: SECRET, ...extra })
  const app = express()
  app.use(parser, knack)
  app.post('/api/login', knack.login)
  app.post('/api/logout', knack.logout)
  app.get('/api/me', knack.required, (req, res) => res.json({ email: req.knack.email }))
  return listen(app)
}

/** One HTTP request with exactly these headers (Host included), as a browser might send it. */
function raw(port, p, { method = 'POST', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, path: p, method, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode, headers: res.headers, text, json: text ? JSON.parse(text) : null })
      })
    })
    r.on('error', reject)
    r.end(body)
  })
}

const ALICE = JSON.stringify({ email: USERS.alice.email, password: USERS.alice.password })
const json = { 'content-type': 'application/json' }

async function loginCookie(port) {
  const r = await raw(port, '/api/login', { headers: json, body: ALICE })
  assert.equal(r.status, 200, r.text)
  return r.headers['set-cookie'][0].split(';')[0]
}

test('Express login takes only application/json: a text/plain body that is JSON is 415, and no cookie', async () => {
  const port = await expressApp()
  for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
    const r = await raw(port, '/api/login', { headers: type ? { 'content-type': type } : {}, body: ALICE })
    assert.equal(r.status, 415, `${type}: ${r.status} ${r.text}`)
    assert.equal(r.json.error.code, 'KNACK_INVALID_ARGUMENT')
    assert.equal(r.headers['set-cookie'], undefined, `${type}: a cookie was set`)
  }
  const ok = await raw(port, '/api/login', { headers: { 'content-type': 'application/json; charset=utf-8' }, body: ALICE })
  assert.equal(ok.status, 200, ok.text)
  const logins = (await fake.log()).filter((e) => e.path.endsWith('/session'))
  assert.equal(logins.length, 1, 'a refused login reached Knack')
})

test('Express login checks the Content-Type even when a body parser already parsed the body', async () => {
  const port = await expressApp({}, { parser: express.json({ type: () => true }) })
  const r = await raw(port, '/api/login', { headers: { 'content-type': 'text/plain' }, body: ALICE })
  assert.equal(r.status, 415, r.text)
  assert.equal(r.headers['set-cookie'], undefined)
})

test('Express allowFormLogin: true accepts a same-origin urlencoded form (still not text/plain)', async () => {
  const port = await expressApp({ allowFormLogin: true }, { parser: express.urlencoded({ extended: false }) })
  const form = new URLSearchParams({ email: USERS.alice.email, password: USERS.alice.password }).toString()
  const ok = await raw(port, '/api/login', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://127.0.0.1:${port}` }, body: form })
  assert.equal(ok.status, 200, ok.text)
  const unparsed = await expressApp({ allowFormLogin: true }, { parser: (req, res, next) => next() })
  const ok2 = await raw(unparsed, '/api/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })
  assert.equal(ok2.status, 200, ok2.text)
  const plain = await raw(port, '/api/login', { headers: { 'content-type': 'text/plain' }, body: ALICE })
  assert.equal(plain.status, 415, plain.text)
  const cross = await raw(port, '/api/login', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: form })
  assert.equal(cross.status, 403, cross.text)
})

test('Express login refuses Sec-Fetch-Site: cross-site and a foreign or "null" Origin with 403 KNACK_FORBIDDEN', async () => {
  const port = await expressApp()
  const own = `http://127.0.0.1:${port}`
  const refused = [
    { 'sec-fetch-site': 'cross-site' },
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: `https://127.0.0.1:${port}` },
    { origin: `http://127.0.0.1:${port + 1}` },
    { origin: 'not a url' },
    { origin: own, 'sec-fetch-site': 'cross-site' },
  ]
  for (const h of refused) {
    const r = await raw(port, '/api/login', { headers: { ...json, ...h }, body: ALICE })
    assert.equal(r.status, 403, `${JSON.stringify(h)}: ${r.text}`)
    assert.equal(r.json.error.code, 'KNACK_FORBIDDEN')
    assert.match(r.json.error.message, /cross-site login refused/)
    assert.equal(r.headers['set-cookie'], undefined)
  }
  const allowed = [{}, { 'sec-fetch-site': 'same-origin', origin: own }, { 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': 'none' }, { origin: own }, { origin: own.toUpperCase().replace('HTTP', 'http') }]
  for (const h of allowed) {
    const r = await raw(port, '/api/login', { headers: { ...json, ...h }, body: ALICE })
    assert.equal(r.status, 200, `${JSON.stringify(h)}: ${r.text}`)
  }
  assert.equal((await fake.log()).filter((e) => e.path.endsWith('/session')).length, allowed.length)
})

test('Express allowedOrigins and trustProxy decide which Origin is the app\'s own', async () => {
  const plain = await expressApp()
  const proxied = await expressApp({ trustProxy: true })
  const listed = await expressApp({ allowedOrigins: ['https://app.example.com'] })
  const behindProxy = { ...json, host: 'app.example.com', 'x-forwarded-proto': 'https', origin: 'https://app.example.com' }
  // Without trustProxy the request's own origin is http://app.example.com: X-Forwarded-Proto is not believed.
  assert.equal((await raw(plain, '/api/login', { headers: behindProxy, body: ALICE })).status, 403)
  assert.equal((await raw(proxied, '/api/login', { headers: behindProxy, body: ALICE })).status, 200)
  assert.equal((await raw(proxied, '/api/login', { headers: { ...behindProxy, origin: 'http://app.example.com' }, body: ALICE })).status, 403)
  const spa = { ...json, origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' }
  assert.equal((await raw(listed, '/api/login', { headers: spa, body: ALICE })).status, 200)
  assert.equal((await raw(listed, '/api/login', { headers: { ...spa, origin: 'https://other.example.com' }, body: ALICE })).status, 403)
})

test('Express logout refuses a cross-site or non-JSON POST and the session survives', async () => {
  const port = await expressApp()
  const cookie = await loginCookie(port)
  const attempts = [
    { headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' }, status: 403 },
    { headers: { cookie, ...json, origin: 'http://evil.example' }, status: 403 },
    { headers: { cookie, 'content-type': 'text/plain' }, status: 415 },
    { headers: { cookie }, status: 415 },
  ]
  for (const a of attempts) {
    const r = await raw(port, '/api/logout', { headers: a.headers, body: '' })
    assert.equal(r.status, a.status, `${JSON.stringify(a.headers)}: ${r.text}`)
    assert.equal(r.headers['set-cookie'], undefined, 'the cookie was cleared')
    const me = await raw(port, '/api/me', { method: 'GET', headers: { cookie } })
    assert.equal(me.status, 200, 'the session did not survive')
  }
  const out = await raw(port, '/api/logout', { headers: { cookie, ...json }, body: '{}' })
  assert.equal(out.status, 204)
  assert.equal((await raw(port, '/api/me', { method: 'GET', headers: { cookie } })).status, 401)
})

test('Next login and logout: 415 for non-JSON bodies, 403 for cross-site requests', async () => {
  const knack = createKnackAuth({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, store: new MemoryStore(), secret: SECRET })
  const at = (p) => `http://localhost:3000${p}`
  const post = (p, headers, body = ALICE) => new Request(at(p), { method: 'POST', headers, body })
  const plain = await knack.login(post('/api/login', { 'content-type': 'text/plain' }))
  assert.equal(plain.status, 415)
  assert.equal((await plain.json()).error.code, 'KNACK_INVALID_ARGUMENT')
  assert.equal(plain.headers.get('set-cookie'), null)
  const implicit = await knack.login(post('/api/login', {}))
  assert.equal(implicit.status, 415, 'a string body (text/plain;charset=UTF-8) was accepted')
  for (const h of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }, { origin: 'null' }]) {
    const r = await knack.login(post('/api/login', { ...json, ...h }))
    assert.equal(r.status, 403, JSON.stringify(h))
    const body = await r.json()
    assert.equal(body.error.code, 'KNACK_FORBIDDEN')
    assert.match(body.error.message, /cross-site login refused/)
    assert.equal(r.headers.get('set-cookie'), null)
  }
  const ok = await knack.login(post('/api/login', { ...json, origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' }))
  assert.equal(ok.status, 200)
  const cookie = ok.headers.get('set-cookie').split(';')[0]
  const GET = knack.withSession(async (_r, { session }) => Response.json({ email: session.email }))
  const me = () => GET(new Request(at('/api/me'), { headers: { cookie } })).then((r) => r.status)

  const crossOut = await knack.logout(post('/api/logout', { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, ''))
  assert.equal(crossOut.status, 403)
  assert.equal(crossOut.headers.get('set-cookie'), null)
  assert.equal(await me(), 200)
  const plainOut = await knack.logout(new Request(at('/api/logout'), { method: 'POST', headers: { cookie } }))
  assert.equal(plainOut.status, 415)
  assert.equal(await me(), 200)
  const out = await knack.logout(post('/api/logout', { cookie, ...json }, '{}'))
  assert.equal(out.status, 204)
  assert.equal(await me(), 401)
})

// ---- in a real browser ----

let browser

async function launch() {
  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}
after(async () => {
  await browser?.close()
})

/** The attacker's site: pages that auto-submit forms to the victim app. */
async function attackerSite(target) {
  const attacker = USERS.bob
  // text/plain encodes `name=value`: with this name and value the body is the JSON
  // {"email":"bob@...","password":"...","pad":"="}.
  const name = `{"email":"${attacker.email}","password":"${attacker.password}","pad":"`
  const esc = (t) => t.replace(/&/g, '&amp;').replace(/'/g, '&#39;')
  const pages = {
    '/login-csrf': `<!doctype html><body><form id=f method=POST enctype="text/plain" action="${target}/api/login">
      <input type=hidden name='${esc(name)}' value='"}'></form>
      <script>document.getElementById('f').submit()</script></body>`,
    '/logout-csrf': `<!doctype html><body><form id=f method=POST action="${target}/api/logout"><input type=hidden name=x value=1></form>
      <script>document.getElementById('f').submit()</script></body>`,
    '/logout-fetch': `<!doctype html><body><script>
      fetch('${target}/api/logout', { method: 'POST', mode: 'no-cors', credentials: 'include' }).finally(() => { document.title = 'sent' })
      </script></body>`,
  }
  const server = http.createServer((req, res) => {
    const page = pages[req.url]
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' })
    res.end(page ?? 'not found')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  return `http://127.0.0.1:${server.address().port}`
}

test('in a browser, a cross-site page can neither log the victim in as the attacker nor log her out', { skip: !CHROMIUM && 'chromium not installed' }, async () => {
  await launch()
  const app = createApp({ appId: APP_ID, baseUrl: fake.baseUrl, secret: SECRET })
  const port = await listen(app)
  const victimSite = `http://localhost:${port}`
  const evil = await attackerSite(victimSite)
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  // Each attack runs in its own tab of the same browser (same cookies): the attacker's page
  // auto-submits its form to the victim app; resolves the status the victim app answered.
  const attack = async (path, endpoint) => {
    const tab = await context.newPage()
    try {
      const answered = tab.waitForResponse((r) => r.url() === `${victimSite}${endpoint}`)
      await tab.goto(evil + path, { waitUntil: 'commit' })
      const status = (await answered).status()
      await tab.waitForTimeout(200) // let the browser store any Set-Cookie of that answer
      return status
    } finally {
      await tab.close()
    }
  }
  const whoAmI = async () => {
    await page.goto(victimSite + '/')
    return page.evaluate(() => fetch('/api/me').then(async (r) => (r.ok ? (await r.json()).email : r.status)))
  }

  // 1. An anonymous visitor lands on the attacker's page: it must not log her in as bob.
  assert.equal(await whoAmI(), 401)
  let status = await attack('/login-csrf', '/api/login')
  console.log(`# login CSRF answered ${status}`)
  assert.notEqual(status, 200, 'the cross-site text/plain login was accepted')
  assert.equal(await whoAmI(), 401, 'the victim is logged in as the attacker')

  // 2. The victim logs in herself (the example page sends JSON with fetch).
  await page.goto(victimSite + '/')
  await page.fill('input[name=email]', USERS.alice.email)
  await page.fill('input[name=password]', USERS.alice.password)
  await page.click('#login button[type=submit]')
  await page.waitForSelector('#app-section:not([hidden])')
  assert.equal(await whoAmI(), USERS.alice.email)

  // 3. The attacker tries again: login CSRF must not swap her session for bob's ...
  status = await attack('/login-csrf', '/api/login')
  assert.notEqual(status, 200)
  assert.equal(await whoAmI(), USERS.alice.email, 'the victim now browses as the attacker')

  // ... and a cross-site form POST or no-cors fetch to logout must not end her session.
  status = await attack('/logout-csrf', '/api/logout')
  console.log(`# logout CSRF answered ${status}`)
  assert.notEqual(status, 204, 'the cross-site logout was accepted')
  assert.equal(await whoAmI(), USERS.alice.email, 'the cross-site form logged the victim out')
  status = await attack('/logout-fetch', '/api/logout')
  console.log(`# no-cors fetch to logout answered ${status}`)
  assert.equal(await whoAmI(), USERS.alice.email, 'the cross-site fetch logged the victim out')

  // Her own page still logs her out.
  await page.goto(victimSite + '/')
  await page.waitForSelector('#app-section:not([hidden])')
  await page.click('#logout')
  await page.waitForSelector('#login-section:not([hidden])')
  assert.equal(await whoAmI(), 401)
  await context.close()
})
