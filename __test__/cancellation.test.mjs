// AbortSignal: a call rejects promptly with KNACK_ABORTED wherever it is (queued in the
// governor, sleeping in backoff, waiting for Knack), and nothing keeps Node alive after.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'

let fake
let token

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  token = await fake.token(USERS.alice.email)
})

/** Abort after `ms`; resolve with how long the rejection took after the abort. */
async function abortAfter(ms, run) {
  const ac = new AbortController()
  const p = run(ac.signal)
  await new Promise((r) => setTimeout(r, ms))
  const t = performance.now()
  ac.abort()
  const err = await p.then(
    () => assert.fail('the call should have been aborted'),
    (e) => e,
  )
  return { err, ms: performance.now() - t }
}

// The machine running the tests is shared and noisy: a single measurement can be delayed by
// anything else on the two cores. So each case runs three times; the best run must meet the
// 50 ms promise (the mechanism is prompt), and every run must be far below the call's own
// duration (nothing waits for the request to finish).
async function promptly(round) {
  const times = []
  for (let i = 0; i < 3; i++) times.push(await round())
  const best = Math.min(...times)
  assert.ok(best < 50, `best of three took ${best.toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(', ')})`)
  assert.ok(Math.max(...times) < 500, `an abort took ${Math.max(...times).toFixed(1)} ms`)
}

test('abort while waiting for Knack: KNACK_ABORTED within 50 ms', async () => {
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl })
  await promptly(async () => {
    await fake.faults([{ kind: 'delay', ms: 5000, method: 'GET' }])
    const { err, ms } = await abortAfter(100, (signal) => s.getRecords({ ...MY_TICKETS, signal }))
    assert.ok(err instanceof KnackError)
    assert.equal(err.code, 'KNACK_ABORTED')
    return ms
  })
})

test('abort while queued in the rate governor: KNACK_ABORTED within 50 ms, queue drained', async () => {
  // A governor of 1 request/second: the third call waits in the queue for ~2 s. ("localhost"
  // makes it a transport of its own, so the other tests keep the default governor.)
  const baseUrl = fake.baseUrl.replace('127.0.0.1', 'localhost')
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl, rateLimit: { perSecond: 1 } })
  await promptly(async () => {
    const first = s.getRecords(MY_TICKETS)
    const second = s.getRecords(MY_TICKETS)
    // Let the first two reach the governor (at least one waiting) before the third joins.
    for (let i = 0; i < 200 && s.stats().queued < 1; i++) await new Promise((r) => setTimeout(r, 5))
    assert.ok(s.stats().queued >= 1)
    const { err, ms } = await abortAfter(100, (signal) => s.getRecords({ ...MY_TICKETS, signal }))
    assert.equal(err.code, 'KNACK_ABORTED')
    await Promise.all([first, second])
    assert.equal(s.stats().queued, 0)
    return ms
  })
})

test('abort while sleeping in backoff: KNACK_ABORTED within 50 ms', async () => {
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl, retries: 10 })
  await promptly(async () => {
    await fake.clearFaults()
    await fake.faults([{ kind: 'status', status: 503, body: 'down', content_type: 'text/plain', times: 100 }])
    const { err, ms } = await abortAfter(300, (signal) => s.getRecords({ ...MY_TICKETS, signal }))
    assert.equal(err.code, 'KNACK_ABORTED')
    assert.ok(err.attempts >= 1)
    return ms
  })
  await fake.clearFaults()
})

test('an already aborted signal rejects without sending; its reason is the cause', async () => {
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl })
  const reason = new Error('user went away')
  const signal = AbortSignal.abort(reason)
  const err = await s.getRecords({ ...MY_TICKETS, signal }).catch((e) => e)
  assert.equal(err.code, 'KNACK_ABORTED')
  assert.equal(err.cause, reason)
  await assert.rejects(KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, ...USERS.alice, signal }), {
    code: 'KNACK_ABORTED',
  })
  assert.equal((await fake.log()).length, 0)
})

test('AbortSignal.timeout works and an abort after success changes nothing', async () => {
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl })
  await fake.faults([{ kind: 'delay', ms: 3000, method: 'GET' }])
  await assert.rejects(s.getRecords({ ...MY_TICKETS, signal: AbortSignal.timeout(100) }), { code: 'KNACK_ABORTED' })
  const ac = new AbortController()
  const page = await s.getRecords({ ...MY_TICKETS, signal: ac.signal })
  ac.abort()
  assert.equal(page.records.length, 3)
  await assert.rejects(s.getRecords({ ...MY_TICKETS, signal: 'nope' }), { code: 'KNACK_INVALID_ARGUMENT' })
})

test('aborted and timed-out calls do not keep the Node process alive', async () => {
  await fake.faults([{ kind: 'delay', ms: 30000, times: 10 }])
  const script = `
    const { KnackSession } = require(${JSON.stringify(ROOT)})
    const s = KnackSession.fromToken(${JSON.stringify(token)}, { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, timeoutMs: 200, retries: 0 })
    const ac = new AbortController()
    s.getRecords({ scene: 'scene_1', view: 'view_1', signal: ac.signal }).catch((e) => console.log(e.code))
    s.getRecords({ scene: 'scene_1', view: 'view_1' }).catch((e) => console.log(e.code))
    setTimeout(() => ac.abort(), 100)
  `
  const t = Date.now()
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
  assert.deepEqual(out.trim().split('\n').sort(), ['KNACK_ABORTED', 'KNACK_TIMEOUT'])
  assert.ok(Date.now() - t < 5000, `process lingered ${Date.now() - t} ms`)
})

test('thirty calls sharing one AbortSignal: no MaxListenersExceededWarning, and one abort cancels them all', async () => {
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl })
  await fake.faults([{ kind: 'delay', ms: 5000, method: 'GET', times: 30 }])
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const ac = new AbortController()
    const calls = Array.from({ length: 30 }, () => s.getRecords({ ...MY_TICKETS, signal: ac.signal }).then(() => null, (e) => e))
    await new Promise((r) => setTimeout(r, 100))
    ac.abort()
    const errors = await Promise.all(calls)
    await fake.clearFaults()
    for (const e of errors) {
      assert.ok(e instanceof KnackError, String(e))
      assert.equal(e.code, 'KNACK_ABORTED')
    }
    // A long-lived signal keeps no listener once its calls have settled.
    const keep = new AbortController()
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 5 }, () => s.getRecords({ scene: 'scene_4', view: 'view_8', signal: keep.signal }).catch(() => {})))
    }
    await new Promise((r) => setTimeout(r, 20))
  } finally {
    process.off('warning', onWarning)
    await fake.clearFaults()
  }
  const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning')
  assert.deepEqual(leaks.map((w) => w.message), [])
})

test('an already aborted signal: KNACK_ABORTED with attempts 0 and outcome not-sent', async () => {
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl })
  const signal = AbortSignal.abort()
  for (const run of [
    () => s.getRecords({ ...MY_TICKETS, signal }),
    () => s.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'x' }, signal }),
    () => s.validate({ signal }),
  ]) {
    const err = await run().catch((e) => e)
    assert.equal(err.code, 'KNACK_ABORTED')
    assert.equal(err.attempts, 0)
    assert.equal(err.outcome, 'not-sent')
  }
  assert.equal((await fake.log()).length, 0)
})

test('an abort error keeps what the native error knew: attempts, request and outcome', async () => {
  const { abortedError } = await import('../lib/signal.js')
  const reason = new Error('gone')
  const native = new KnackError('KNACK_ABORTED', 'cancelled', { attempts: 2, request: 'POST /pages/scene_1/views/view_2/records', outcome: 'unknown' })
  const err = abortedError(AbortSignal.abort(reason), native)
  assert.equal(err.code, 'KNACK_ABORTED')
  assert.equal(err.cause, reason)
  assert.equal(err.attempts, 2)
  assert.equal(err.request, 'POST /pages/scene_1/views/view_2/records')
  assert.equal(err.outcome, 'unknown')
  // Through the API: an abort while Knack holds a write reports that it was sent.
  const s = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: fake.baseUrl })
  await fake.faults([{ kind: 'delay', ms: 3000, method: 'POST' }])
  // Let the governor's window (earlier tests' calls) pass, so the write is sent at once.
  await new Promise((r) => setTimeout(r, 1100))
  const ac = new AbortController()
  setTimeout(() => ac.abort(reason), 300)
  const live = await s.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'slow' }, signal: ac.signal }).catch((e) => e)
  assert.equal(live.code, 'KNACK_ABORTED')
  assert.equal(live.cause, reason)
  assert.ok(live.attempts >= 1)
  assert.notEqual(live.outcome, 'not-sent')
  await fake.clearFaults()
})
