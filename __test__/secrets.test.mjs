// Tokens and passwords never show up where developers look: inspect, JSON, errors, stacks,
// and the debug log.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'

let fake
let opts

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
})
after(() => fake.stop())

test('util.inspect and JSON.stringify of a session show no token and no session id', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  const token = s.getToken()
  const shown = [
    util.inspect(s),
    util.inspect(s, { showHidden: true, depth: Infinity }),
    JSON.stringify(s),
    JSON.stringify({ s }),
    String(Object.keys(s)),
    JSON.stringify({ ...s }),
    `${s}`,
  ].join('\n')
  assert.ok(!shown.includes(token), 'token leaked')
  assert.ok(!shown.includes(s.id), 'session id leaked')
  assert.ok(!shown.includes(USERS.alice.password))
  assert.match(util.inspect(s), /userId: '000000000000000000000a11'/)
  assert.equal(Object.keys(s).length, 0, 'no enumerable own properties')
  assert.equal('token' in s, false)
})

test('errors never carry the token or the password', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  const token = s.getToken()
  const errors = []
  errors.push(await KnackSession.login({ ...opts, email: USERS.alice.email, password: 'p@ss-w0rd-secret' }).catch((e) => e))
  errors.push(await s.getRecords({ scene: 'scene_2', view: 'view_4' }).catch((e) => e))
  errors.push(await s.getRecord({ scene: 'scene_1', view: 'view_1', id: 'ffffffffffffffffffffffff' }).catch((e) => e))
  errors.push(await s.createRecord({ scene: 'scene_1', view: 'view_2', data: {} }).catch((e) => e))
  const forgedToken = token.slice(0, -4) + 'AAAA'
  errors.push(await KnackSession.fromToken(forgedToken, opts).validate().catch((e) => e))
  try {
    KnackSession.fromToken(token + '\n', { appId: 'ffffffffffffffffffffffff', baseUrl: fake.baseUrl })
  } catch (e) {
    errors.push(e)
  }
  assert.equal(errors.length, 6)
  for (const e of errors) {
    const text = [String(e), e.stack, util.inspect(e, { depth: Infinity, showHidden: true }), JSON.stringify(e)].join('\n')
    assert.ok(!text.includes(token), `token in ${e.code}`)
    assert.ok(!text.includes(forgedToken.slice(-40)), `forged token in ${e.code}`)
    assert.ok(!text.includes('p@ss-w0rd-secret'), `password in ${e.code}`)
  }
})

test('the debug log shows requests but no token, password or query', async () => {
  const script = `
    const { KnackSession, setLogLevel } = require(${JSON.stringify(ROOT)})
    setLogLevel('debug')
    ;(async () => {
      const opts = { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)} }
      const s = await KnackSession.login({ ...opts, email: 'alice@example.com', password: 'alice-pass-1' })
      await s.getRecords({ scene: 'scene_1', view: 'view_1', filters: [{ field: 'field_10', operator: 'is', value: 'private words' }] })
      await s.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'secret subject' } })
      await s.getRecords({ scene: 'scene_2', view: 'view_4' }).catch(() => {})
      await KnackSession.login({ ...opts, email: 'alice@example.com', password: 'wrong-pass-9' }).catch(() => {})
      process.stdout.write(s.getToken())
    })()
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const [code] = await once(child, 'exit')
  assert.equal(code, 0, err)
  const token = out.trim()
  assert.ok(token.length > 20)
  const lines = err.split('\n').filter(Boolean)
  assert.ok(lines.length >= 5, `expected debug lines, got:\n${err}`)
  assert.ok(lines.some((l) => l.includes('GET /pages/scene_1/views/view_1/records -> 200')), err)
  for (const secret of [token, 'alice-pass-1', 'wrong-pass-9', 'private words', 'private%20words', 'secret subject']) {
    assert.ok(!err.includes(secret), `log contains ${secret.slice(0, 12)}...`)
  }
})
