// Hostile input through the public API: crafted tokens (one of them, found by fuzzing, used to
// abort the whole Node process), a body that drips past the deadline, and a redirect towards
// a host that is listening: nothing may reach it, not even the login with its password.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import express from 'express'
import { knackSession } from 'knack-session/express'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())
beforeEach(() => fake.reset())

const b64 = (s) => Buffer.from(s).toString('base64url')
const jwt = (payload) => `${b64('{"typ":"JWT","alg":"HS256"}')}.${b64(payload)}.c2lnbmF0dXJl`
const claims = (iat) => `{"user_id":"${USERS.alice.id}","application_id":"${APP_ID}","iat":${iat}}`

test('crafted tokens are KNACK_INVALID_ARGUMENT, never a crash', () => {
  const crafted = [
    // Found by fuzz/fuzz_targets/token_claims.rs: SystemTime overflow, process abort.
    jwt(claims('17000005551555915000')),
    jwt(claims('1e300')),
    jwt(claims('18446744073709551615')),
    jwt(claims('253402300800')),
    jwt(claims('-1')),
    jwt(claims('"1700000000"')),
    jwt(`{"user_id":"../../../../etc","application_id":"${APP_ID}","iat":1}`),
    jwt('['.repeat(100000) + ']'.repeat(100000)),
    'a'.repeat(100000),
    `${jwt(claims(1700000000))}\r\nX-Evil: 1`,
    '\u0000.\u0000.\u0000',
    'ééé.ééé.ééé',
  ]
  for (const t of crafted) {
    assert.throws(() => KnackSession.fromToken(t, opts), { code: 'KNACK_INVALID_ARGUMENT' }, t.slice(0, 80))
  }
  // The last second accepted still gives dates.
  const far = KnackSession.fromToken(jwt(claims(253402300799)), opts)
  assert.equal(far.issuedAt.toISOString(), '9999-12-31T23:59:59.000Z')
  assert.equal(far.expired, false)
})

test('a crafted Authorization token: public routes run anonymous with KNACK_INVALID_ARGUMENT on req.knackError, knack.required answers 401, and the app keeps serving', async () => {
  const knack = knackSession({ ...opts, secret: 'hostile-test-secret-0123456789abcdef' })
  const app = express()
  app.use(knack)
  app.get('/public', (req, res) => res.json({ anonymous: req.knack === null, why: req.knackError?.code }))
  app.get('/me', knack.required, (req, res) => res.json({ userId: req.knack.userId }))
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${server.address().port}`
  try {
    for (const iat of ['17000005551555915000', '1e300']) {
      const pub = await fetch(base + '/public', { headers: { authorization: jwt(claims(iat)) } })
      assert.equal(pub.status, 200, iat)
      assert.deepEqual(await pub.json(), { anonymous: true, why: 'KNACK_INVALID_ARGUMENT' })
      const res = await fetch(base + '/me', { headers: { authorization: jwt(claims(iat)) } })
      assert.equal(res.status, 401, iat)
      const body = await res.json()
      assert.equal(body.error.code, 'KNACK_UNAUTHORIZED')
      assert.match(body.error.message, /Authorization header does not hold a Knack user token/)
    }
    const alice = await KnackSession.login({ ...opts, ...USERS.alice })
    const ok = await fetch(base + '/me', { headers: { authorization: alice.getToken() } })
    assert.equal(ok.status, 200)
    assert.equal((await ok.json()).userId, USERS.alice.id)
  } finally {
    server.close()
  }
})

test('a body that drips slowly hits the deadline, not just the per-attempt timeout', async () => {
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  const s = KnackSession.fromToken(alice.getToken(), { ...opts, timeoutMs: 30000, deadlineMs: 500 })
  await fake.faults([{ kind: 'drip', bytes_per_sec: 20, method: 'GET', times: 10 }])
  const t = Date.now()
  const err = await s.getRecords({ scene: 'scene_1', view: 'view_1' }).catch((e) => e)
  assert.equal(err.code, 'KNACK_TIMEOUT')
  assert.match(err.message, /deadline of 500ms/)
  assert.ok(Date.now() - t < 2000, `${Date.now() - t}ms`)
})

test('a redirect to a listening host is refused: nothing reaches it, login included', async () => {
  const seen = []
  const evil = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} auth=${req.headers.authorization ? 'yes' : 'no'}`)
    res.end('{}')
  })
  evil.listen(0, '127.0.0.1')
  await once(evil, 'listening')
  const location = `http://127.0.0.1:${evil.address().port}/v1/steal`
  try {
    const alice = await KnackSession.login({ ...opts, ...USERS.alice })
    for (const status of [301, 302, 303, 307, 308]) {
      await fake.faults([{ kind: 'redirect', status, location, times: 3 }])
      const calls = [
        () => alice.getRecords({ scene: 'scene_1', view: 'view_1' }),
        () => alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'x' } }),
        () => KnackSession.login({ ...opts, ...USERS.alice }),
      ]
      for (const call of calls) {
        const err = await call().catch((e) => e)
        assert.equal(err.code, 'KNACK_BAD_RESPONSE', `${status}: ${err.message}`)
        assert.equal(err.status, status)
        assert.ok(!err.message.includes(location))
      }
    }
  } finally {
    evil.close()
  }
  assert.deepEqual(seen, [], 'a request reached the redirect target')
})
