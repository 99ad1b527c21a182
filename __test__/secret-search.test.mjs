// The secret search: a full scenario (login, list, filter, create, validation error, update,
// delete, token check, save/restore through a FileStore, expiry, logout, failed logins, a
// forged token, a foreign store secret) runs in a child process at the most verbose log level
// (KNACK_SESSION_LOG=debug). Then every log line, everything the child printed, every error's
// String/stack/util.inspect/JSON, util.inspect and JSON of every session and store, and the
// store's files on disk are searched for the tokens, the passwords, the store secret and the
// session ids. None may be found.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startFake, APP_ID, ROOT, USERS } from './helpers/fake.mjs'

let fake
let dir

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  dir = mkdtempSync(path.join(os.tmpdir(), 'knack-secret-search-'))
})
after(async () => {
  await fake.stop()
  rmSync(dir, { recursive: true, force: true })
})

const STORE_SECRET = 'store-secret-' + 'Zq7x'.repeat(10)
const OTHER_SECRET = 'other-secret-' + 'Wm3k'.repeat(10)
const WRONG_PASSWORD = 'wrong-pass-Hx91-never-shown'

// Runs in the child. Everything it shows goes through show(); the secrets it learns (tokens,
// session ids) go to a side file, never to stdout or stderr.
const SCENARIO = `
const { KnackSession, KnackError, FileStore } = require(process.env.KS_ROOT)
const util = require('node:util')
const fs = require('node:fs')
const env = process.env
const base = { appId: env.KS_APP_ID, baseUrl: env.KS_BASE_URL, rateLimit: false }
const shown = []
const learned = { tokens: [], ids: [] }
const codes = []

function views(v) {
  const out = []
  const add = (f) => { try { out.push(String(f())) } catch (e) { out.push('(threw ' + e.name + ')') } }
  add(() => util.inspect(v))
  add(() => util.inspect(v, { depth: Infinity, showHidden: true, getters: true }))
  add(() => JSON.stringify(v))
  add(() => String(v))
  add(() => v && typeof v === 'object' ? JSON.stringify(Object.fromEntries(Object.getOwnPropertyNames(v).map((k) => [k, String(v[k])]))) : '')
  if (v instanceof Error) {
    add(() => v.stack)
    add(() => v.message)
    add(() => util.inspect(v.cause, { depth: Infinity, showHidden: true }))
    add(() => JSON.stringify(v.errors))
    codes.push(v.code)
  }
  return out.join('\\n')
}
function show(label, v) {
  const text = views(v)
  shown.push('--- ' + label + '\\n' + text)
  // And the way people really do it: console.log / console.error.
  if (v instanceof Error) console.error(label, v)
  else console.log(label, v)
}
async function fails(label, p) {
  try {
    const v = await p
    show(label + ' (unexpectedly fine)', v)
  } catch (e) {
    show(label, e)
  }
}

;(async () => {
  const store = new FileStore({ dir: env.KS_DIR, secret: env.KS_STORE_SECRET })
  show('store', store)
  const opts = { ...base, store, secret: env.KS_STORE_SECRET }

  // Log in (saved to the FileStore), and an agent for the delete.
  const alice = await KnackSession.login({ ...opts, email: env.KS_ALICE_EMAIL, password: env.KS_ALICE_PASSWORD, remember: true })
  learned.tokens.push(alice.getToken()); learned.ids.push(alice.id)
  show('alice', alice)
  const carol = await KnackSession.login({ ...opts, email: env.KS_CAROL_EMAIL, password: env.KS_CAROL_PASSWORD })
  learned.tokens.push(carol.getToken()); learned.ids.push(carol.id)
  show('carol', carol)

  // List, filter, create, a validation error, update, token check.
  show('list', await alice.getRecords({ scene: 'scene_1', view: 'view_1' }))
  show('filtered', await alice.getRecords({ scene: 'scene_1', view: 'view_1', filters: [{ field: 'field_10', operator: 'contains', value: 'printer' }] }))
  const created = await alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'Secret search ticket', field_13: 2 } })
  show('created', created)
  await fails('validation error', alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_13: 'not a number' } }))
  show('updated', await alice.updateRecord({ scene: 'scene_1', view: 'view_3', id: created.id, data: { field_10: 'Edited' } }))
  show('validate', await alice.validate())
  await fails('forbidden view', alice.getRecords({ scene: 'scene_2', view: 'view_4' }))
  show('deleted', await carol.deleteRecord({ scene: 'scene_2', view: 'view_4', id: created.id }))
  show('all records', await alice.getAllRecords({ scene: 'scene_1', view: 'view_1' }))
  show('stats', alice.stats())

  // Save and restore through the FileStore; a reader with another secret cannot open it.
  await alice.save()
  const restored = await KnackSession.restore(alice.id, opts)
  show('restored', restored)
  show('restored list', await restored.getRecords({ scene: 'scene_1', view: 'view_1', rowsPerPage: 1 }))
  const storeErrors = []
  const foreign = new FileStore({ dir: env.KS_DIR, secret: env.KS_OTHER_SECRET })
  show('foreign store', foreign)
  show('foreign restore', await KnackSession.restore(alice.id, { ...base, store: foreign, secret: env.KS_OTHER_SECRET, onStoreError: (e) => storeErrors.push(e) }))
  for (const e of storeErrors) show('store error', e)

  // Failed logins, a bad store secret, a forged token, a token with a control character.
  await fails('wrong password', KnackSession.login({ ...opts, email: env.KS_ALICE_EMAIL, password: env.KS_WRONG_PASSWORD }))
  await fails('unknown user', KnackSession.login({ ...opts, email: 'nobody@example.com', password: env.KS_WRONG_PASSWORD }))
  await fails('short store secret', Promise.resolve().then(() => new FileStore({ dir: env.KS_DIR, secret: env.KS_WRONG_PASSWORD })))
  const forged = alice.getToken().slice(0, -6) + 'AAAAAA'
  learned.tokens.push(forged)
  await fails('forged token', KnackSession.fromToken(forged, base).validate())
  await fails('token with a newline', Promise.resolve().then(() => KnackSession.fromToken(alice.getToken() + '\\n' + 'x', base)))
  await fails('token of another app', Promise.resolve().then(() => KnackSession.fromToken(alice.getToken(), { ...base, appId: 'ffffffffffffffffffffffff' })))

  // A token issued 49 h ago: Knack says "Invalid token" and the session knows it is past 48 h.
  const oldIat = Math.floor(Date.now() / 1000) - 49 * 3600
  const old = await fetch(env.KS_FAKE_URL + '/_fake/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: env.KS_ALICE_EMAIL, iat: oldIat }) }).then((r) => r.json())
  learned.tokens.push(old.token)
  await fails('49 hours old', KnackSession.fromToken(old.token, base).getRecords({ scene: 'scene_1', view: 'view_1' }))

  // A service session with a logger at debug and a subscriber on every diagnostics channel:
  // every log line and event is shown.
  const dc = require('node:diagnostics_channel')
  const events = []
  for (const n of ['request:start', 'request:end', 'request:error', 'request:retry', 'ratelimit:wait', 'login']) dc.subscribe('knack-session:' + n, (m) => events.push(n + ' ' + JSON.stringify(m)))
  const lines = []
  const line = (f, m) => lines.push(JSON.stringify(f) + ' ' + m)
  const logger = { debug: line, info: line, warn: line, error: line }
  const job = await KnackSession.service({ ...opts, email: env.KS_CAROL_EMAIL, password: env.KS_CAROL_PASSWORD, logger, logLevel: 'debug' })
  learned.tokens.push(job.getToken()); learned.ids.push(job.id)
  show('job', job)
  show('job list', await job.getRecords({ scene: 'scene_2', view: 'view_4', rowsPerPage: 1, filters: [{ field: 'field_10', operator: 'contains', value: 'printer' }] }))
  await fails('job wrong password', KnackSession.service({ ...opts, email: env.KS_ALICE_EMAIL, password: env.KS_WRONG_PASSWORD, logger }))

  // Expiry (the server's clock moves 15 days on), then logout.
  await fetch(env.KS_FAKE_URL + '/_fake/clock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advance_seconds: 15 * 24 * 3600 }) })
  show('job after expiry', await job.getRecords({ scene: 'scene_2', view: 'view_4', rowsPerPage: 1 }))
  learned.tokens.push(job.getToken())
  show('job renewed', job)
  show('job restored from its store', await KnackSession.service({ ...opts, email: env.KS_CAROL_EMAIL, password: env.KS_CAROL_PASSWORD }))
  await fails('expired', alice.getRecords({ scene: 'scene_1', view: 'view_1' }))
  await fails('expired validate', carol.validate())
  await alice.logout()
  await fails('after logout', alice.getRecords({ scene: 'scene_1', view: 'view_1' }))
  show('restore after logout', await KnackSession.restore(alice.id, opts))
  show('alice at the end', alice)

  await new Promise((r) => setTimeout(r, 50))
  show('logger lines', lines)
  show('diagnostics events', events)
  if (job.renewals !== 1 || lines.length < 6 || events.length < 6) throw new Error('the service session scenario did not run: ' + job.renewals + ' ' + lines.length + ' ' + events.length)
  fs.writeFileSync(env.KS_OUT, JSON.stringify({ shown, learned, codes }))
})().catch((e) => {
  // Even the crash path is searched: print it like an app would.
  console.error('scenario failed', e)
  process.exit(1)
})
`

test('no token, password, store secret or session id in logs, errors, inspect or JSON, at debug level', async () => {
  const out = path.join(dir, 'result.json')
  const storeDir = path.join(dir, 'sessions')
  const env = {
    ...process.env,
    KNACK_SESSION_LOG: 'debug',
    KS_ROOT: ROOT,
    KS_APP_ID: APP_ID,
    KS_BASE_URL: fake.baseUrl,
    KS_FAKE_URL: fake.url,
    KS_DIR: storeDir,
    KS_OUT: out,
    KS_STORE_SECRET: STORE_SECRET,
    KS_OTHER_SECRET: OTHER_SECRET,
    KS_WRONG_PASSWORD: WRONG_PASSWORD,
    KS_ALICE_EMAIL: USERS.alice.email,
    KS_ALICE_PASSWORD: USERS.alice.password,
    KS_CAROL_EMAIL: USERS.carol.email,
    KS_CAROL_PASSWORD: USERS.carol.password,
  }
  const child = spawn(process.execPath, ['-e', SCENARIO], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const [code] = await once(child, 'exit')
  assert.equal(code, 0, `scenario failed:\n${stderr}`)

  const { shown, learned, codes } = JSON.parse(readFileSync(out, 'utf8'))
  const files = readdirSync(storeDir).map((f) => readFileSync(path.join(storeDir, f), 'utf8'))

  // The scenario did what it says: debug lines for each request, and each failure.
  const logLines = stderr.split('\n').filter((l) => l.startsWith('knack-session '))
  assert.ok(logLines.length >= 15, `expected debug log lines, got:\n${stderr}`)
  assert.ok(logLines.some((l) => /Debug: GET \/pages\/scene_1\/views\/view_1\/records -> 200/.test(l)), stderr)
  assert.ok(logLines.some((l) => /POST \/applications\/[0-9a-f]{24}\/session -> 401/.test(l)), stderr)
  for (const c of ['KNACK_VALIDATION', 'KNACK_FORBIDDEN', 'KNACK_STORE', 'KNACK_LOGIN_FAILED', 'KNACK_INVALID_ARGUMENT', 'KNACK_UNAUTHORIZED', 'KNACK_TOKEN_EXPIRED']) {
    assert.ok(codes.includes(c), `no ${c} in ${codes}`)
  }
  assert.ok(shown.length >= 25, `only ${shown.length} things shown`)
  const fine = shown.filter((s) => s.includes('(unexpectedly fine)')).map((s) => s.split('\n', 1)[0])
  assert.deepEqual(fine, [], 'steps meant to fail did not')
  assert.ok(files.length >= 1, 'the FileStore wrote nothing')
  assert.equal(learned.tokens.length, 6)

  const haystacks = [
    ['stderr (log lines and console.error)', stderr],
    ['stdout (console.log)', stdout],
    ...shown.map((s) => [s.split('\n', 1)[0], s]),
    ...files.map((f, i) => [`store file ${i}`, f]),
  ]
  const needles = [
    ...learned.tokens.flatMap((t) => [
      ['token', t],
      // Parts of it too: the signature alone is what makes it a credential.
      ['token signature', t.split('.')[2]],
      ['token tail', t.slice(-24)],
    ]),
    ...learned.ids.map((id) => ['session id', id]),
    ['alice password', USERS.alice.password],
    ['carol password', USERS.carol.password],
    ['wrong password', WRONG_PASSWORD],
    ['store secret', STORE_SECRET],
    ['other store secret', OTHER_SECRET],
  ]
  const leaks = []
  for (const [what, needle] of needles) {
    assert.ok(needle.length >= 12, `${what} too short to search for`)
    for (const [where, hay] of haystacks) {
      if (hay.includes(needle)) leaks.push(`${what} in ${where}`)
    }
  }
  assert.deepEqual(leaks, [], `secrets found:\n${leaks.join('\n')}`)
})
