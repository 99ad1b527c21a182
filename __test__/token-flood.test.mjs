// Strangers cannot spend the app's Knack budget. Every JWT-shaped Authorization header used to
// cost one GET /session/token, in the same rate budget (10/s) as the logged-in users' calls,
// so a flood of made-up tokens starved everyone. Now validations of unknown tokens have their
// own small budget (tokenValidation, default 2/s with a burst of 4), concurrent requests with
// the same token share one validation, and tokens Knack refused are remembered for a minute.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import http from 'node:http'
import { once } from 'node:events'
import express from 'express'
import { knackSession } from 'knack-session/express'
import { MemoryStore } from 'knack-session'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const SECRET = 'token-flood-test-secret-0123456789abcdef'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let fake
const servers = []
// Requests in flight at the app right now, and the most seen: proof that the concurrency the
// tests claim really reached the server.
const inFlight = { now: 0, max: 0 }
// A keep-alive agent with room for every concurrent client (fetch may queue requests to one
// origin on fewer connections than asked for).
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 })

/** GET `url` with `headers` over `agent`; resolves { status, headers, json }. */
function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const r = http.get(url, { agent, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : null })
      })
      res.on('error', reject)
    })
    r.on('error', reject)
  })
}

before(async () => {
  fake = await startFake([]) // Knack's own limit: 10 requests a second
})
after(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
  agent.destroy()
  await fake.stop()
})

/** An app with the middleware; resolves its base URL. */
async function makeApp(extra = {}) {
  const knack = knackSession({
    appId: APP_ID,
    baseUrl: fake.baseUrl,
    rateLimit: { perSecond: 10 },
    store: new MemoryStore(),
    secret: SECRET,
    onError: () => {},
    ...extra,
  })
  const app = express()
  app.use((req, res, next) => {
    inFlight.max = Math.max(inFlight.max, ++inFlight.now)
    res.on('close', () => inFlight.now--)
    next()
  })
  app.use(express.json(), knack)
  app.post('/login', knack.login)
  app.get('/me', knack.required, (req, res) => res.json({ userId: req.knackVia && req.knack.userId, via: req.knackVia }))
  app.get('/tickets', knack.required, async (req, res, next) => {
    try {
      res.json(await req.knack.getRecords({ scene: 'scene_1', view: 'view_1' }))
    } catch (e) {
      next(e)
    }
  })
  app.use(knack.errors)
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  return `http://127.0.0.1:${server.address().port}`
}

/** A token of the right shape and app, for a user that may not exist, with a bogus signature. */
function forgedToken() {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const claims = { user_id: crypto.randomBytes(12).toString('hex'), application_id: APP_ID, iat: Math.floor(Date.now() / 1000) - 60 }
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.${crypto.randomBytes(32).toString('base64url')}`
}

async function tokenChecks(sinceSeq = 0) {
  return (await fake.log()).filter((e) => e.path === '/v1/session/token' && e.seq > sinceSeq)
}
async function lastSeq() {
  const log = await fake.log()
  return log.length ? log[log.length - 1].seq : 0
}

async function loginCookie(base, user = USERS.alice) {
  const res = await fetch(base + '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  })
  assert.equal(res.status, 200)
  return res.headers.get('set-cookie').split(';')[0]
}

const p99 = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.ceil(0.99 * s.length) - 1]
}

/** 40 sequential GETs that each call Knack once, paced at 5 a second (half the budget). */
async function measure(base, cookie, n = 40) {
  const times = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    const res = await get(base + '/tickets', { cookie })
    times.push(performance.now() - t)
    assert.equal(res.status, 200)
    await sleep(200)
  }
  return times
}

/**
 * 20 clients sending made-up tokens until stopped (each pauses 100 ms between requests, so the
 * flood asks for ~150-200 validations a second, 15-20 times Knack's whole budget, without the
 * test measuring only how busy the flood keeps this process's event loop); resolves what they saw.
 */
function flood(base, clients = 20) {
  const seen = { sent: 0, statuses: {}, retryAfter: 0, startedAt: performance.now(), endedAt: 0 }
  let stop = false
  const worker = async () => {
    while (!stop || seen.sent < 200) {
      const res = await get(base + '/tickets', { authorization: forgedToken() })
      seen.sent++
      seen.statuses[res.status] = (seen.statuses[res.status] ?? 0) + 1
      if (res.status === 429 && Number(res.headers['retry-after']) >= 1) seen.retryAfter++
      await sleep(100)
    }
  }
  const done = Promise.all(Array.from({ length: clients }, worker)).then(() => {
    seen.endedAt = performance.now()
    return seen
  })
  return {
    stop: () => {
      stop = true
      return done
    },
  }
}

test('a flood of made-up tokens does not starve logged-in users, and spends at most the validation budget', async (t) => {
  const base = await makeApp()
  const cookie = await loginCookie(base)
  // Best of three rounds, each measuring unloaded then loaded, so both see the same machine.
  let best = null
  for (let round = 1; round <= 3; round++) {
    await sleep(1200) // let the governor's window and the bucket refill
    const unloaded = await measure(base, cookie)
    const since = await lastSeq()
    inFlight.max = 0
    const f = flood(base)
    await sleep(1200) // the bucket's initial burst (4) is spent in the flood's first second
    const loaded = await measure(base, cookie)
    const seen = await f.stop()
    const checks = await tokenChecks(since)
    const seconds = (seen.endedAt - seen.startedAt) / 1000
    const allowance = 4 + Math.ceil(2 * seconds) + 1
    const top = (xs) => [...xs].sort((a, b) => b - a).slice(0, 3).map((x) => Math.round(x))
    const result = { round, quietP99: p99(unloaded), loadedP99: p99(loaded), quietTop: top(unloaded), loadedTop: top(loaded), sent: seen.sent, maxInFlight: inFlight.max, statuses: seen.statuses, tokenChecks: checks.length, allowance, seconds }
    result.bound = 3 * result.quietP99 + 30
    t.diagnostic(JSON.stringify(result))
    console.log(`# flood round ${round}: unloaded p99 ${result.quietP99.toFixed(1)} ms, loaded p99 ${result.loadedP99.toFixed(1)} ms (bound ${result.bound.toFixed(1)}), ` +
      `${seen.sent} forged requests in ${seconds.toFixed(1)} s (${JSON.stringify(seen.statuses)}, up to ${inFlight.max} in flight), ` +
      `${checks.length} /session/token requests (allowance ${allowance}); slowest unloaded ${result.quietTop} ms, loaded ${result.loadedTop} ms`)
    assert.ok(checks.length <= allowance, `${checks.length} token validations reached Knack, allowance ${allowance}`)
    assert.ok(seen.sent >= 200)
    assert.equal((seen.statuses[200] ?? 0) + (seen.statuses[500] ?? 0) + (seen.statuses[502] ?? 0), 0, JSON.stringify(seen.statuses))
    assert.ok(seen.statuses[429] > 0 && seen.retryAfter === seen.statuses[429], 'the refused floods carry Retry-After')
    if (best === null || result.loadedP99 - result.bound < best.loadedP99 - best.bound) best = result
    if (result.loadedP99 <= result.bound) break
  }
  assert.ok(best.loadedP99 <= best.bound, `loaded p99 ${best.loadedP99.toFixed(1)} ms > 3 x unloaded ${best.quietP99.toFixed(1)} ms + 30 ms`)
  const stats = await fake.stats()
  assert.equal(stats.rate_limited, 0, 'Knack answered 429')
})

test('50 concurrent requests with the same new token cause one /session/token request', async () => {
  const base = await makeApp()
  const token = await fake.token(USERS.carol.email)
  const since = await lastSeq()
  inFlight.max = 0
  // Knack answers after 300 ms, so all 50 requests are waiting for the validation at once.
  await fake.config({ latency_ms: 300 })
  const answers = await Promise.all(Array.from({ length: 50 }, () => get(base + '/me', { authorization: token }))).finally(() =>
    fake.config({ latency_ms: 0 }),
  )
  for (const { status, json } of answers) {
    assert.equal(status, 200, JSON.stringify(json))
    assert.equal(json.via, 'token')
  }
  assert.ok(inFlight.max >= 25, `only ${inFlight.max} of the 50 requests were in flight at once`)
  assert.equal((await tokenChecks(since)).length, 1)
})

test('a token Knack refused is not validated again within the refused-token cache time', async () => {
  const base = await makeApp({ tokenValidation: { refusedCacheMs: 1500 } })
  const since = await lastSeq()
  const token = forgedToken()
  const same = await Promise.all(Array.from({ length: 10 }, () => get(base + '/me', { authorization: token })))
  for (let i = 0; i < 10; i++) same.push(await get(base + '/me', { authorization: `Bearer ${token}` }))
  for (const r of same) {
    assert.equal(r.status, 401)
    assert.equal(r.json.error.code, 'KNACK_UNAUTHORIZED')
  }
  assert.equal((await tokenChecks(since)).length, 1, 'a refused token was validated again')
  await sleep(1700)
  const later = await get(base + '/me', { authorization: token })
  assert.equal(later.status, 401)
  assert.equal((await tokenChecks(since)).length, 2, 'the refusal is remembered for longer than refusedCacheMs')
})

test('when the validation budget is spent: 429 with Retry-After, Knack is not called, cookie users go on', async () => {
  const base = await makeApp({ tokenValidation: { perSecond: 0.5, burst: 1 } })
  const cookie = await loginCookie(base, USERS.bob)
  const since = await lastSeq()
  const first = await get(base + '/me', { authorization: forgedToken() })
  assert.equal(first.status, 401)
  for (let i = 0; i < 5; i++) {
    const r = await get(base + '/me', { authorization: forgedToken() })
    assert.equal(r.status, 429)
    assert.ok(Number(r.headers['retry-after']) >= 1)
    assert.equal(r.json.error.code, 'KNACK_RATE_LIMITED')
  }
  assert.equal((await tokenChecks(since)).length, 1)
  const tickets = await get(base + '/tickets', { cookie })
  assert.equal(tickets.status, 200)
})
