// Logging in, adopting tokens, expiry, validation: the session lifecycle as a user sees it.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { KnackSession, KnackError } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const HOUR = 3600 * 1000
let fake
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())
beforeEach(() => fake.reset())

function jwt(payload) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ typ: 'JWT', alg: 'HS256' })}.${b64(payload)}.c2lnbmF0dXJl`
}

test('login returns a session with the user id, roles and a 48 h expiry', async () => {
  const before = Date.now()
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  assert.equal(s.userId, USERS.alice.id)
  assert.equal(s.appId, APP_ID)
  assert.deepEqual(s.profileKeys, ['profile_1'])
  assert.equal(s.email, USERS.alice.email)
  assert.equal(s.remember, false)
  assert.equal(s.expired, false)
  assert.ok(Math.abs(s.issuedAt.getTime() - before) < 5000, 'issuedAt is the token iat (now)')
  assert.equal(s.expiresAt.getTime() - s.issuedAt.getTime(), 48 * HOUR)
  assert.match(s.id, /^[A-Za-z0-9_-]{43}$/, 'session id is 256 random bits, URL-safe')
})

test('login with remember: true lives 14 days', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.bob, remember: true })
  assert.equal(s.remember, true)
  assert.equal(s.expiresAt.getTime() - s.issuedAt.getTime(), 14 * 24 * HOUR)
})

test('each login gets its own session id', async () => {
  const a = await KnackSession.login({ ...opts, ...USERS.alice })
  const b = await KnackSession.login({ ...opts, ...USERS.alice })
  assert.notEqual(a.id, b.id)
})

test('wrong password is KNACK_LOGIN_FAILED and the error holds no password or token', async () => {
  const err = await KnackSession.login({ ...opts, email: USERS.alice.email, password: 'wrong-secret-pw' }).then(
    () => assert.fail('login should fail'),
    (e) => e,
  )
  assert.ok(err instanceof KnackError)
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'KNACK_LOGIN_FAILED')
  assert.equal(err.status, 401)
  const everything = [String(err), err.stack, JSON.stringify(err), JSON.stringify(err.errors)].join('\n')
  assert.ok(!everything.includes('wrong-secret-pw'), 'password leaked into the error')
})

test('unknown email and an unapproved user cannot log in', async () => {
  for (const who of [{ email: 'nobody@example.com', password: 'x-pass' }, USERS.dave]) {
    await assert.rejects(KnackSession.login({ ...opts, ...who }), { code: 'KNACK_LOGIN_FAILED' })
  }
})

test('login failure status and body follow what Knack sends (switch)', async () => {
  await fake.config({ login_error: { status: 400, body: { errors: [{ message: 'Invalid email or password' }] } } })
  const err = await KnackSession.login({ ...opts, email: USERS.alice.email, password: 'nope-nope' }).catch((e) => e)
  assert.equal(err.code, 'KNACK_LOGIN_FAILED')
  assert.equal(err.status, 400)
  assert.match(err.message, /Invalid email or password/)
})

test('login checks its arguments before sending anything', async () => {
  for (const bad of [
    { ...opts, email: '', password: 'x' },
    { ...opts, email: 'not-an-email', password: 'x' },
    { ...opts, email: 'a@b.c' },
    { appId: 'nope', baseUrl: fake.baseUrl, email: 'a@b.c', password: 'x' },
    { ...opts, baseUrl: 'http://example.com/v1', email: 'a@b.c', password: 'x' },
  ]) {
    await assert.rejects(KnackSession.login(bad), { code: 'KNACK_INVALID_ARGUMENT' })
  }
  assert.equal((await fake.log()).length, 0)
})

test('fromToken decodes the claims without a request; expiry is the 14-day upper bound', async () => {
  const token = await fake.token(USERS.carol.email)
  const s = KnackSession.fromToken(token, opts)
  assert.equal(s.userId, USERS.carol.id)
  assert.equal(s.remember, null)
  assert.equal(s.expiresAt.getTime() - s.issuedAt.getTime(), 14 * 24 * HOUR)
  const short = KnackSession.fromToken(token, { ...opts, remember: false })
  assert.equal(short.expiresAt.getTime() - short.issuedAt.getTime(), 48 * HOUR)
  assert.equal(s.getToken(), token)
  assert.equal((await fake.log()).length, 0, 'fromToken sent a request')
})

test('fromToken refuses malformed tokens and tokens of another app', () => {
  const now = Math.floor(Date.now() / 1000)
  for (const bad of [
    'abc',
    'a.b.c',
    jwt({ user_id: USERS.alice.id, iat: now }),
    jwt({ user_id: 'x', application_id: APP_ID, iat: now }),
    jwt({ user_id: USERS.alice.id, application_id: 'aaaaaaaaaaaaaaaaaaaaaaaa', iat: now }),
    jwt({ user_id: USERS.alice.id, application_id: APP_ID, iat: now }) + '\r\nX-Evil: 1',
  ]) {
    assert.throws(() => KnackSession.fromToken(bad, opts), (e) => {
      assert.ok(e instanceof KnackError)
      assert.equal(e.code, 'KNACK_INVALID_ARGUMENT')
      assert.ok(!e.message.includes(bad.slice(0, 20)) || bad.length < 8, 'token echoed in the message')
      return true
    })
  }
  assert.throws(() => KnackSession.fromToken('', opts), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.throws(() => KnackSession.fromToken(jwt({}), {}), { code: 'KNACK_INVALID_ARGUMENT' })
})

test('a certainly expired token fails fast with KNACK_TOKEN_EXPIRED and sends nothing', async () => {
  const iat = Math.floor(Date.now() / 1000) - 15 * 24 * 3600
  const token = await fake.token(USERS.alice.email, { iat })
  const s = KnackSession.fromToken(token, opts)
  assert.equal(s.expired, true)
  await assert.rejects(s.getRecords({ scene: 'scene_1', view: 'view_1' }), (e) => {
    assert.equal(e.code, 'KNACK_TOKEN_EXPIRED')
    assert.equal(e.attempts ?? 0, 0)
    return true
  })
  await assert.rejects(s.validate(), { code: 'KNACK_TOKEN_EXPIRED' })
  assert.equal((await fake.log()).length, 0)
})

test('a 49-hour-old token without remember is expired locally; with unknown remember Knack decides', async () => {
  const iat = Math.floor(Date.now() / 1000) - 49 * 3600
  const token = await fake.token(USERS.alice.email, { iat })
  const short = KnackSession.fromToken(token, { ...opts, remember: false })
  assert.equal(short.expired, true)
  await assert.rejects(short.validate(), { code: 'KNACK_TOKEN_EXPIRED' })
  assert.equal((await fake.log()).length, 0)
  // Unknown remember: not certainly expired, so Knack is asked; it says expired (48 h token).
  const unknown = KnackSession.fromToken(token, opts)
  assert.equal(unknown.expired, false)
  await assert.rejects(unknown.validate(), { code: 'KNACK_TOKEN_EXPIRED', status: 403 })
  assert.equal((await fake.log()).length, 1)
})

test('Knack\'s 403 "Invalid token provided" is KNACK_UNAUTHORIZED while the token is under 48 h old here (expired on the server clock only, or forged)', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  await fake.advanceClock(49 * 3600)
  await assert.rejects(s.getRecords({ scene: 'scene_1', view: 'view_1' }), { code: 'KNACK_UNAUTHORIZED', status: 403 })
  const parts = s.getToken().split('.')
  const forged = KnackSession.fromToken(`${parts[0]}.${parts[1]}.${Buffer.from('forged').toString('base64url')}`, opts)
  await fake.reset()
  await assert.rejects(forged.validate(), { code: 'KNACK_UNAUTHORIZED', status: 403 })
})

test('validate() asks Knack who the token belongs to', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.carol })
  const user = await s.validate()
  assert.equal(user.id, USERS.carol.id)
  assert.equal(user.status, 'current')
  assert.equal(user.accountStatus, 'active')
  assert.equal(user.approvalStatus, 'approved')
  assert.deepEqual(user.profileKeys, ['profile_2'])
  assert.ok(!JSON.stringify(user).includes(s.getToken()))
  const [entry] = (await fake.log()).filter((e) => e.path === '/v1/session/token')
  assert.equal(entry.status, 200)
  assert.equal(entry.headers['x-knack-application-id'], APP_ID)
})

test('the constructor is closed: sessions come from login, fromToken or restore', () => {
  assert.throws(() => new KnackSession(), { code: 'KNACK_INVALID_ARGUMENT' })
})

test('getToken() after logout() throws KNACK_UNAUTHORIZED', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  assert.equal(typeof s.getToken(), 'string')
  await s.logout()
  assert.throws(() => s.getToken(), (e) => {
    assert.ok(e instanceof KnackError)
    assert.equal(e.code, 'KNACK_UNAUTHORIZED')
    return true
  })
  await assert.rejects(s.validate(), { code: 'KNACK_UNAUTHORIZED' })
})

test('JSON.stringify(KnackError) carries name, code, message and details, not the cause or stack', async () => {
  const err = await KnackSession.login({ ...opts, email: USERS.alice.email, password: 'wrong-secret-pw' }).catch((e) => e)
  const json = JSON.parse(JSON.stringify(err))
  assert.equal(json.name, 'KnackError')
  assert.equal(json.code, 'KNACK_LOGIN_FAILED')
  assert.equal(json.message, err.message)
  assert.ok(json.message.length > 0)
  assert.equal(json.status, 401)
  assert.equal(json.request, err.request)
  assert.equal(json.attempts, err.attempts)
  assert.ok(!('stack' in json) && !('cause' in json))
  const made = new KnackError('KNACK_SERVER_ERROR', 'may have been applied', {
    status: 500,
    errors: [{ message: 'boom' }],
    retryAfterMs: 10,
    attempts: 1,
    outcome: 'unknown',
    request: 'POST /x',
    cause: new Error('inner secret'),
  })
  assert.equal(made.outcome, 'unknown')
  assert.deepEqual(JSON.parse(JSON.stringify(made)), {
    name: 'KnackError',
    code: 'KNACK_SERVER_ERROR',
    message: 'may have been applied',
    status: 500,
    errors: [{ message: 'boom' }],
    retryAfterMs: 10,
    attempts: 1,
    outcome: 'unknown',
    request: 'POST /x',
  })
  assert.deepEqual(JSON.parse(JSON.stringify(new KnackError('KNACK_TIMEOUT', 'late'))), { name: 'KnackError', code: 'KNACK_TIMEOUT', message: 'late' })
})
