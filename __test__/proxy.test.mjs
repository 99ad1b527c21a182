// Proxies: the `proxy` option and the HTTP(S)_PROXY / NO_PROXY environment variables.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'

let fake
let proxy
let proxyUrl
const seen = []

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  // A minimal forward proxy for plain-http targets (absolute-form request lines).
  proxy = http.createServer((req, res) => {
    seen.push(req.url)
    const target = new URL(req.url)
    const up = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode, r.headers)
        r.pipe(res)
      },
    )
    up.on('error', () => res.writeHead(502).end())
    req.pipe(up)
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`
})
after(async () => {
  proxy.closeAllConnections()
  proxy.close()
  await fake.stop()
})

test('the proxy option sends requests through the proxy', async () => {
  seen.length = 0
  // "localhost" keeps this transport apart from the environment-variable test below.
  const baseUrl = fake.baseUrl.replace('127.0.0.1', 'localhost')
  const s = await KnackSession.login({ appId: APP_ID, baseUrl, proxy: proxyUrl, rateLimit: false, ...USERS.alice })
  await s.getRecords({ scene: 'scene_1', view: 'view_1' })
  assert.ok(seen.some((u) => u.endsWith(`/v1/applications/${APP_ID}/session`)), seen.join('\n'))
  assert.ok(seen.some((u) => u.includes('/pages/scene_1/views/view_1/records')))
})

async function runWithEnv(env) {
  const script = `
    const { KnackSession } = require(${JSON.stringify(ROOT)})
    KnackSession.login({ appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, email: 'bob@example.com', password: 'bob-pass-1' })
      .then((s) => s.getRecords({ scene: 'scene_1', view: 'view_1' }))
      .then((p) => console.log(p.records.length), (e) => { console.error(e); process.exit(1) })
  `
  const child = spawn(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
  return out.trim()
}

test('HTTP_PROXY is honoured, and NO_PROXY bypasses it', async () => {
  seen.length = 0
  assert.equal(await runWithEnv({ HTTP_PROXY: proxyUrl }), '2')
  assert.ok(seen.length >= 2, `proxy saw ${seen.length} requests`)
  seen.length = 0
  assert.equal(await runWithEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }), '2')
  assert.equal(seen.length, 0)
})
