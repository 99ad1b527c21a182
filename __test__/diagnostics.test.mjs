// Observability: the diagnostics_channel events of every request (start, end, error, retry,
// rate-limit waits, logins), published in order on the JS thread in the caller's async
// context, with no secret in any message; and the `logger` option (structured fields, levels,
// one line per request at info, no stderr lines from Rust for its calls).
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import dc from 'node:diagnostics_channel'
import { AsyncLocalStorage } from 'node:async_hooks'
import { spawnSync } from 'node:child_process'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
const NAMES = ['request:start', 'request:end', 'request:error', 'request:retry', 'ratelimit:wait', 'login']

let fake
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, retries: 3, rateLimit: false }
})
after(() => fake.stop())
beforeEach(() => fake.reset())

/** Record every knack-session event while `fn` runs; resolves [[name, message], ...]. */
async function recording(fn) {
  const seen = []
  const subs = NAMES.map((n) => [`knack-session:${n}`, (m) => seen.push([n, m])])
  for (const [ch, f] of subs) dc.subscribe(ch, f)
  try {
    await fn()
    // Events Rust queued as the call settled arrive in the same turn or the next.
    await new Promise((r) => setTimeout(r, 50))
  } finally {
    for (const [ch, f] of subs) dc.unsubscribe(ch, f)
  }
  return seen
}

function logger() {
  const lines = []
  const at = (level) => (fields, message) => lines.push({ level, fields, message })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

test('a successful call publishes login, then start and end of its request, in order, with method, route, status and duration', async () => {
  let alice
  const seen = await recording(async () => {
    alice = await KnackSession.login({ ...opts, ...USERS.alice })
    await alice.getRecords({ ...MY_TICKETS, rowsPerPage: 5 })
  })
  const names = seen.map(([n]) => n)
  assert.deepEqual(names, ['request:start', 'request:end', 'login', 'request:start', 'request:end'])
  const [start, end] = seen.slice(3).map(([, m]) => m)
  assert.equal(start.method, 'GET')
  assert.equal(start.path, '/pages/scene_1/views/view_1/records', 'the route, without its query string')
  assert.equal(start.attempt, 1)
  assert.match(start.requestId, /^ks-[0-9a-f]+$/)
  assert.equal(end.requestId, start.requestId)
  assert.equal(end.status, 200)
  assert.ok(end.durationMs > 0 && end.durationMs < 60_000)
  assert.equal(seen[2][1].path, `/applications/${APP_ID}/session`)
  assert.equal(seen[2][1].code, undefined, 'a login that worked has no code')
})

test('a retried request publishes request:retry with the status, reason and wait, then its end', async () => {
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  await fake.faults([{ kind: 'status', status: 503, body: '<html>busy</html>', content_type: 'text/html', method: 'GET', path_contains: '/records', times: 1 }])
  const seen = await recording(() => alice.getRecords(MY_TICKETS))
  assert.deepEqual(seen.map(([n]) => n), ['request:start', 'request:retry', 'request:end'])
  const retry = seen[1][1]
  assert.equal(retry.status, 503)
  assert.equal(retry.reason, 'server-error')
  assert.equal(retry.attempt, 1)
  assert.equal(typeof retry.waitMs, 'number')
  assert.equal(seen[2][1].attempt, 2)
  assert.equal(seen[2][1].status, 200)
})

test("a 429 publishes ratelimit:wait for Knack's window (reason knack-429), and the governor's own waits say governor", async () => {
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  await fake.faults([{ kind: 'status', status: 429, body: 'Rate limit exceeded', content_type: 'text/plain', headers: { 'Retry-After': '1' }, method: 'GET', path_contains: '/records', times: 1 }])
  const seen = await recording(() => alice.getRecords(MY_TICKETS))
  const wait = seen.find(([n]) => n === 'ratelimit:wait')
  assert.ok(wait, `no ratelimit:wait in ${JSON.stringify(seen.map(([n]) => n))}`)
  assert.equal(wait[1].reason, 'knack-429')
  assert.equal(wait[1].status, 429)
  assert.ok(wait[1].waitMs >= 500, `waited ${wait[1].waitMs} ms of a 1 s window`)
  assert.equal(seen.at(-1)[0], 'request:end')

  const governed = await KnackSession.login({ ...opts, ...USERS.bob, rateLimit: { perSecond: 1 } })
  const waits = await recording(() => Promise.all([1, 2, 3].map(() => governed.getRecords(MY_TICKETS))))
  const governor = waits.filter(([n, m]) => n === 'ratelimit:wait' && m.reason === 'governor')
  assert.ok(governor.length >= 1, 'three calls at one a second wait for the governor')
})

test('a failed request publishes request:error with its code and status; a refused login publishes login with a code', async () => {
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  const seen = await recording(async () => {
    await assert.rejects(alice.getRecords({ scene: 'scene_1', view: 'view_99' }), { code: 'KNACK_NOT_FOUND' })
    await assert.rejects(KnackSession.login({ ...opts, email: USERS.alice.email, password: 'wrong-password' }), { code: 'KNACK_LOGIN_FAILED' })
  })
  const end = seen.find(([n, m]) => n === 'request:end' && m.status === 404)
  assert.ok(end, 'the 404 answer ends its request')
  const login = seen.find(([n]) => n === 'login')
  assert.equal(login[1].code, 'KNACK_LOGIN_FAILED')
  const cut = await recording(async () => {
    const ac = new AbortController()
    await fake.faults([{ kind: 'delay', ms: 2000, method: 'GET', times: 1 }])
    const p = alice.getRecords({ ...MY_TICKETS, signal: ac.signal })
    setTimeout(() => ac.abort(), 100)
    await assert.rejects(p, { code: 'KNACK_ABORTED' })
  })
  const err = cut.find(([n]) => n === 'request:error')
  assert.ok(err, `no request:error in ${JSON.stringify(cut.map(([n]) => n))}`)
  assert.equal(err[1].code, 'KNACK_ABORTED')
  assert.equal(err[1].method, 'GET')
})

test('no event message carries a token, password, session id, record data or query string', async () => {
  const marker = 'Secret-Filter-Value-7f3a'
  let alice
  const seen = await recording(async () => {
    alice = await KnackSession.login({ ...opts, ...USERS.alice })
    await alice.getRecords({ ...MY_TICKETS, filters: { match: 'and', rules: [{ field: 'field_10', operator: 'is', value: marker }] } })
    await alice.createRecord({ ...NEW_TICKET, data: { field_10: `subject ${marker}` } })
    await assert.rejects(KnackSession.login({ ...opts, email: USERS.bob.email, password: 'not-bobs-password-x' }))
  })
  assert.ok(seen.length >= 8)
  const text = JSON.stringify(seen)
  for (const secret of [alice.getToken(), alice.id, USERS.alice.password, 'not-bobs-password-x', marker, 'filters', 'rows_per_page']) {
    assert.ok(!text.includes(secret), `an event carries ${secret.slice(0, 12)}...`)
  }
})

test("subscribers run in the caller's async context, so a tracer's active span is the parent", async () => {
  const als = new AsyncLocalStorage()
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  const stores = []
  const f = (m) => stores.push([m.requestId, als.getStore()])
  dc.subscribe('knack-session:request:start', f)
  dc.subscribe('knack-session:request:end', f)
  try {
    await Promise.all([als.run('call-A', () => alice.getRecords(MY_TICKETS)), als.run('call-B', () => alice.getRecords(MY_TICKETS))])
    await new Promise((r) => setTimeout(r, 50))
  } finally {
    dc.unsubscribe('knack-session:request:start', f)
    dc.unsubscribe('knack-session:request:end', f)
  }
  assert.equal(stores.length, 4)
  const byRequest = new Map()
  for (const [id, store] of stores) byRequest.set(id, [...(byRequest.get(id) ?? []), store])
  const contexts = [...byRequest.values()].map((s) => [...new Set(s)])
  assert.deepEqual(contexts.map((c) => c.length), [1, 1], 'start and end of a request share a context')
  assert.deepEqual(contexts.map((c) => c[0]).sort(), ['call-A', 'call-B'])
})

test('logger gets structured fields: one info line per request, warn for retries, error for failures, debug only when asked', async () => {
  const log = logger()
  const alice = await KnackSession.login({ ...opts, ...USERS.alice, logger: log })
  const afterLogin = log.lines.length
  assert.deepEqual(log.lines.map((l) => l.level), ['info', 'info'], 'the login request, then the login')
  await alice.getRecords(MY_TICKETS)
  await new Promise((r) => setTimeout(r, 50))
  const line = log.lines[afterLogin]
  assert.equal(log.lines.length, afterLogin + 1, 'info: one line for a call')
  assert.equal(line.level, 'info')
  assert.equal(line.fields.event, 'knack-session:request:end')
  assert.equal(line.fields.method, 'GET')
  assert.equal(line.fields.path, '/pages/scene_1/views/view_1/records')
  assert.equal(line.fields.status, 200)
  assert.equal(line.fields.attempt, 1)
  assert.match(line.fields.requestId, /^ks-/)
  assert.equal(typeof line.fields.durationMs, 'number')
  assert.match(line.message, /GET \/pages\/scene_1\/views\/view_1\/records -> 200 in [\d.]+ms/)

  await fake.faults([{ kind: 'status', status: 503, body: 'x', content_type: 'text/plain', method: 'GET', times: 1 }])
  await alice.getRecords(MY_TICKETS)
  await assert.rejects(alice.getRecord({ ...MY_TICKETS, id: 'ffffffffffffffffffffffff' }))
  await fake.faults([{ kind: 'reset_before', method: 'GET', times: 4 }])
  await assert.rejects(alice.getRecords(MY_TICKETS), { code: 'KNACK_NETWORK' })
  await new Promise((r) => setTimeout(r, 50))
  const levels = log.lines.slice(afterLogin + 1).map((l) => `${l.level}:${l.fields.event.replace('knack-session:', '')}`)
  assert.ok(levels.includes('warn:request:retry'), levels.join(' '))
  assert.ok(levels.includes('warn:request:end'), `a 404 answer is a warning: ${levels.join(' ')}`)
  assert.ok(levels.includes('error:request:error'), levels.join(' '))
  assert.ok(!levels.some((l) => l.startsWith('debug')), 'info hides debug')

  const verbose = logger()
  const bob = await KnackSession.login({ ...opts, ...USERS.bob, logger: verbose, logLevel: 'debug' })
  await bob.getRecords(MY_TICKETS)
  await new Promise((r) => setTimeout(r, 50))
  assert.ok(verbose.lines.some((l) => l.level === 'debug' && l.fields.event === 'knack-session:request:start'))
  const quiet = logger()
  const carol = await KnackSession.login({ ...opts, ...USERS.carol, logger: quiet, logLevel: 'error' })
  await carol.getRecords({ scene: 'scene_2', view: 'view_4' })
  assert.equal(quiet.lines.length, 0)
})

test('logger and logLevel are checked: an unknown level or a logger without the four methods is KNACK_INVALID_ARGUMENT', () => {
  assert.throws(() => KnackSession.fromToken('x.y.z', { appId: APP_ID, logLevel: 'verbose' }), (e) => e instanceof KnackError && e.code === 'KNACK_INVALID_ARGUMENT' && /logLevel/.test(e.message))
  assert.throws(() => KnackSession.fromToken('x.y.z', { appId: APP_ID, logger: { info() {} } }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && /missing: debug, warn, error/.test(e.message))
  assert.throws(() => KnackSession.fromToken('x.y.z', { appId: APP_ID, logger: 'pino' }), { code: 'KNACK_INVALID_ARGUMENT' })
})

test('a throwing logger is reported once as a warning, and calls still succeed', async () => {
  let calls = 0
  const bad = { debug() {}, info() {
    calls++
    throw new Error('logger down')
  }, warn() {}, error() {} }
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const alice = await KnackSession.login({ ...opts, ...USERS.alice, logger: bad })
    await alice.getRecords(MY_TICKETS)
    await alice.getRecords(MY_TICKETS)
    await new Promise((r) => setTimeout(r, 50))
  } finally {
    process.off('warning', onWarning)
  }
  assert.ok(calls >= 3)
  assert.equal(warnings.filter((w) => /logger\.info/.test(w.message)).length, 1)
})

test("with a logger, Rust writes no stderr lines for the session's calls (KNACK_SESSION_LOG=debug still logs the others)", () => {
  const script = `
    const { KnackSession } = require(${JSON.stringify(ROOT)})
    const o = { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, rateLimit: false }
    const lines = []
    const logger = { debug: (f, m) => lines.push(m), info: (f, m) => lines.push(m), warn: (f, m) => lines.push(m), error: (f, m) => lines.push(m) }
    ;(async () => {
      const s = await KnackSession.login({ ...o, ...${JSON.stringify(USERS.alice)}, logger, logLevel: 'debug' })
      await s.getRecords({ scene: 'scene_1', view: 'view_1' })
      const plain = await KnackSession.login({ ...o, ...${JSON.stringify(USERS.bob)} })
      await plain.validate()
      setTimeout(() => console.log(JSON.stringify(lines.length)), 50)
    })()
  `
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, KNACK_SESSION_LOG: 'debug' }, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.ok(Number(r.stdout.trim()) >= 4, 'the logger got the lines')
  assert.ok(!r.stderr.includes('view_1'), `stderr has the logged session's call: ${r.stderr}`)
  assert.ok(r.stderr.includes('/session/token'), `stderr lacks the other session's call: ${r.stderr}`)
})
