// HTTPS end to end, as real Knack is HTTPS only: fake-knack serves TLS with a certificate of
// a test CA made at its start (HTTP/2 by ALPN). The client trusts it through the `ca` option
// or NODE_EXTRA_CA_CERTS (as every Node HTTP client does), and refuses it otherwise with a
// message that says the certificate was not trusted.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { KnackSession, FileStore } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'

let fake
const others = []
/** Another TLS fake: its own port, so the client's app (one pool per base URL) is new too. */
async function another() {
  const f = await startFake(['--rate-limit', 'off'], { tls: true })
  others.push(f)
  return f
}

before(async () => {
  fake = await startFake(['--rate-limit', 'off'], { tls: true })
})
after(async () => {
  await fake.stop()
  await Promise.all(others.map((f) => f.stop()))
})
beforeEach(() => fake.reset())

test('fake-knack serves https, and the client speaks HTTP/2 to it', async () => {
  assert.match(fake.baseUrl, /^https:\/\/127\.0\.0\.1:\d+\/v1$/)
  const s = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, ca: fake.caPem, rateLimit: false, ...USERS.alice })
  await s.getRecords({ scene: 'scene_1', view: 'view_1' })
  const versions = new Set((await fake.log()).map((e) => e.http_version))
  assert.deepEqual([...versions], ['HTTP/2.0'])
})

test('with ca (PEM text): login, list, page through, write, child-page write, bulk write and validate over TLS', async () => {
  const opts = { appId: APP_ID, baseUrl: fake.baseUrl, ca: fake.caPem, rateLimit: false }
  const alice = await KnackSession.login({ ...opts, ...USERS.alice })
  const page = await alice.getRecords({ scene: 'scene_1', view: 'view_1' })
  assert.equal(page.totalRecords, 3)
  const created = await alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'Over TLS' } })
  assert.equal(created.field_10_raw, 'Over TLS')
  const comment = await alice.createRecord({ scene: 'scene_3', view: 'view_7', parentRecordId: created.id, data: { field_20: 'secure' } })
  assert.equal(comment.field_20_raw, 'secure')
  const bulk = await alice.createRecords({ scene: 'scene_1', view: 'view_2', records: [{ field_10: 'a' }, { field_10: 'b' }] })
  assert.ok(bulk.every((r) => r.ok))
  const all = await alice.getAllRecords({ scene: 'scene_1', view: 'view_1', rowsPerPage: 2 })
  assert.equal(all.length, 6)
  assert.equal((await alice.validate()).id, USERS.alice.id)
})

test('ca as a Buffer, or as an array of PEM texts and Buffers, is trusted', async () => {
  for (const ca of [(f) => Buffer.from(f.caPem), (f) => ['', Buffer.from(f.caPem)], (f) => [f.caPem, new Uint8Array(Buffer.from(f.caPem))]]) {
    const f = await another()
    const s = await KnackSession.login({ appId: APP_ID, baseUrl: f.baseUrl, ca: ca(f), rateLimit: false, ...USERS.bob })
    assert.equal((await s.getRecords({ scene: 'scene_1', view: 'view_1' })).totalRecords, 2)
  }
})

test('an untrusted certificate is KNACK_NETWORK saying so, not retried; a different ca for the same app is refused', async () => {
  const f = await another()
  const token = await f.login(USERS.alice.email, USERS.alice.password)
  // No ca (and this machine's NODE_EXTRA_CA_CERTS, if any, does not hold the test CA).
  const untrusted = KnackSession.fromToken(token, { appId: APP_ID, baseUrl: f.baseUrl, rateLimit: false })
  const err = await untrusted.getRecords({ scene: 'scene_1', view: 'view_1' }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.match(err.message, /the server's TLS certificate was not trusted .*give its CA certificate as the `ca` option or in NODE_EXTRA_CA_CERTS/)
  assert.equal(err.outcome, 'not-sent')
  assert.equal(err.attempts, 1, 'a certificate error is not retried')
  // Every session of an app shares one pool, built with the first session's trust: a
  // different ca later is refused, never silently ignored.
  assert.throws(() => KnackSession.fromToken(token, { appId: APP_ID, baseUrl: f.baseUrl, ca: f.caPem }), {
    code: 'KNACK_INVALID_ARGUMENT',
    message: /ca differs/,
  })
})

test('a ca that holds no certificate is KNACK_INVALID_ARGUMENT before any request', async () => {
  const token = await fake.login(USERS.alice.email, USERS.alice.password)
  for (const bad of ['not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 42, [fake.caPem, {}]]) {
    assert.throws(() => KnackSession.fromToken(token, { appId: APP_ID, baseUrl: 'https://bad-ca.invalid/v1', ca: bad }), { code: 'KNACK_INVALID_ARGUMENT', message: /ca/ }, String(bad))
  }
})

/** Run `code` (ESM) in a fresh Node with `env`; resolves its stdout parsed as JSON. */
async function inChild(code, env) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const [status] = await once(child, 'exit')
  assert.equal(status, 0, err)
  return JSON.parse(out)
}

const CHILD = (baseUrl) => `
  import { KnackSession } from './index.mjs'
  const out = {}
  try {
    const s = await KnackSession.login({ appId: '${APP_ID}', baseUrl: '${baseUrl}', email: '${USERS.carol.email}', password: '${USERS.carol.password}', rateLimit: false })
    out.total = (await s.getRecords({ scene: 'scene_2', view: 'view_4' })).totalRecords
  } catch (e) {
    out.code = e.code
    out.message = e.message
  }
  console.log(JSON.stringify(out))
`

test('NODE_EXTRA_CA_CERTS makes the test CA trusted, as it does for Node itself; without it the call fails', async () => {
  const env = { ...process.env }
  delete env.NODE_EXTRA_CA_CERTS
  const trusted = await inChild(CHILD(fake.baseUrl), { ...env, NODE_EXTRA_CA_CERTS: fake.caFile })
  assert.deepEqual(trusted, { total: 5 })
  const without = await inChild(CHILD(fake.baseUrl), env)
  assert.equal(without.code, 'KNACK_NETWORK')
  assert.match(without.message, /TLS certificate was not trusted/)
  // An unreadable NODE_EXTRA_CA_CERTS is ignored (Node warns about it at start-up), and the
  // certificate error says so.
  const missing = await inChild(CHILD(fake.baseUrl), { ...env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' })
  assert.equal(missing.code, 'KNACK_NETWORK')
  assert.match(missing.message, /NODE_EXTRA_CA_CERTS=\/nonexistent\/ca\.pem cannot be read .*so it was ignored/)
})

test('a session saved to a store is restored and used over TLS', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-store-'))
  const store = new FileStore({ dir, secret: 'a-store-secret-of-at-least-32-chars!!' })
  const opts = { appId: APP_ID, baseUrl: fake.baseUrl, ca: fake.caPem, rateLimit: false, store }
  const s = await KnackSession.login({ ...opts, ...USERS.carol })
  const back = await KnackSession.restore(s.id, opts)
  assert.equal((await back.getRecords({ scene: 'scene_2', view: 'view_4', rowsPerPage: 1 })).totalRecords, 5)
})
