// The Redis people run in production: TLS (rediss://, with the system's trust store or the
// `ca` option), Redis Cluster and Redis Sentinel, for the session store and the shared
// governor, against real redis-server processes (a TLS port with a test CA made by openssl,
// 3-node clusters made by redis-cli --cluster create, a primary, a replica and a sentinel).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import net from 'node:net'
import { KnackSession, RedisStore } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'
import { haveRedis, haveOpenssl, startRedis, startRedisCluster, startRedisSentinel } from './helpers/redis.mjs'

const READY = haveRedis() && haveOpenssl()
const skip = !READY && 'redis-server or openssl not installed'
const SECRET = 'r'.repeat(20) + 's'.repeat(20)
const PASSWORD = 'pw-not-for-eyes-7731'
let fake
let opts
let tls = null
let cluster = null

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl }
  if (READY) [tls, cluster] = await Promise.all([startRedis({ tls: true }), startRedisCluster()])
})
after(async () => {
  await fake.stop()
  await tls?.stop()
  await cluster?.stop()
})

const newId = () => randomBytes(32).toString('base64url')

/** Run a script in a fresh Node process with `env` added; resolves its stdout. */
async function inNewProcess(body, env = {}) {
  const script = `
    const { KnackSession, RedisStore } = require(${JSON.stringify(ROOT)})
    ;(async () => { ${body} })().catch((e) => { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exit(1) })
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const [code] = await once(child, 'exit')
  assert.equal(code, 0, out)
  return out
}

test('RedisStore over rediss:// with the ca option: a login is saved over TLS and restored from a new connection', { skip }, async () => {
  const store = new RedisStore({ url: tls.tlsUrl, secret: SECRET, ca: tls.ca.caPem, prefix: 'tls:' })
  const s = await KnackSession.login({ ...opts, ...USERS.bob, store })
  // The record is really in that server (read back over its plain port), sealed and expiring.
  assert.match(await tls.command('GET', `tls:session:${s.id}`), /^v1\./)
  assert.ok((await tls.command('PTTL', `tls:session:${s.id}`)) > 47 * 3600 * 1000)
  const again = new RedisStore({ url: tls.tlsUrl, secret: SECRET, ca: Buffer.from(tls.ca.caPem), prefix: 'tls:' })
  const restored = await KnackSession.restore(s.id, { ...opts, store: again })
  assert.equal(restored.userId, USERS.bob.id)
  assert.equal((await restored.getRecords({ scene: 'scene_1', view: 'view_1' })).records.length, 2)
})

test('rediss:// trusts the system store: with SSL_CERT_FILE naming the CA, no ca option is needed', { skip }, async () => {
  const id = newId()
  const out = await inNewProcess(
    `
    const store = new RedisStore({ url: ${JSON.stringify(tls.tlsUrl)}, secret: ${JSON.stringify(SECRET)} })
    await store.set(${JSON.stringify(id)}, 'through-the-system-store', 60000)
    process.stdout.write(String(await store.get(${JSON.stringify(id)})))
  `,
    { SSL_CERT_FILE: tls.ca.caFile, SSL_CERT_DIR: '' },
  )
  assert.equal(out, 'through-the-system-store')
})

test('an untrusted Redis certificate is KNACK_STORE saying so, and no message shows the URL or its password', { skip }, async () => {
  const url = tls.tlsUrl.replace('rediss://', `rediss://:${PASSWORD}@`)
  const store = new RedisStore({ url, secret: SECRET })
  const e = await store.get(newId()).catch((x) => x)
  assert.equal(e.code, 'KNACK_STORE')
  assert.match(e.message, /TLS certificate is not signed by a trusted CA/)
  assert.match(e.message, /`ca`/)
  // A session on that store fails the same way, and the shared governor refuses nothing quietly.
  const login = await KnackSession.login({ ...opts, ...USERS.alice, store }).catch((x) => x)
  assert.equal(login.code, 'KNACK_STORE')
  const shown = [e.message, e.stack, inspect(e, { depth: 5 }), JSON.stringify(e), login.message, inspect(store, { showHidden: true, depth: 5 }), JSON.stringify(store)].join('\n')
  assert.ok(!shown.includes(PASSWORD), shown)
  assert.ok(!shown.includes(String(tls.tlsUrl.split(':').pop())), 'the port is shown')
})

test('rediss:// to a plain port and redis:// to a TLS port fail as KNACK_STORE saying which port to check, never hang', { skip }, async () => {
  const toPlain = new RedisStore({ url: tls.url.replace('redis://', 'rediss://'), secret: SECRET, ca: tls.ca.caPem })
  const a = await toPlain.get(newId()).catch((x) => x)
  assert.equal(a.code, 'KNACK_STORE')
  // A plain Redis waits for a newline, which the ClientHello's random bytes may hold: then it
  // answers an error in plain text instead. Either way the message names the port.
  assert.match(a.message, /timed out \(is the port in the rediss:\/\/ URL the server's TLS port\?\)|did not answer in TLS \(is it a plain redis:\/\/ port\?\)/)
  const toTls = new RedisStore({ url: tls.tlsUrl.replace('rediss://', 'redis://'), secret: SECRET })
  const b = await toTls.get(newId()).catch((x) => x)
  assert.equal(b.code, 'KNACK_STORE')
  assert.match(b.message, /closed the connection \(if it takes TLS only, its URL starts with rediss:\/\/\)/)
  // A rediss:// URL to a server that answers in plain text, or hangs up on the ClientHello.
  for (const [mode, message] of [
    ['answers', /did not answer in TLS \(is it a plain redis:\/\/ port\?\)/],
    ['hangs up', /closed the connection \(is the port in the rediss:\/\/ URL the server's TLS port\?\)/],
  ]) {
    const srv = net.createServer((c) => c.once('data', () => (mode === 'answers' ? c.end('-ERR unknown command\r\n') : c.destroy())))
    await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
    try {
      const store = new RedisStore({ url: `rediss://127.0.0.1:${srv.address().port}`, secret: SECRET, ca: tls.ca.caPem })
      await assert.rejects(store.get(newId()), { code: 'KNACK_STORE', message }, mode)
    } finally {
      srv.close()
    }
  }
})

test('Redis targets that cannot work are KNACK_INVALID_ARGUMENT when the store is made', async () => {
  const bad = [
    [{ url: 'redis://127.0.0.1:6379', ca: 'x' }, /ca is for TLS/],
    [{ url: 'rediss://127.0.0.1:6379', ca: 'not a certificate' }, /^ca/],
    [{ url: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'] }, /cluster: true/],
    [{ url: ['unix:///tmp/r.sock'], cluster: true }, /unix:\/\/ URLs cannot be its nodes/],
    [{ url: ['rediss://127.0.0.1:1', 'redis://127.0.0.1:2'], cluster: true }, /all rediss:\/\//],
    [{ url: [] , cluster: true }, /url must be a Redis URL/],
    [{ url: 'http://127.0.0.1:6379' }, /must start with redis:\/\//],
    [{ url: `rediss://:${PASSWORD}@127.0.0.1:1#insecure` }, /cannot be turned off/],
    [{ url: 'redis://127.0.0.1:1', cluster: 'yes' }, /cluster must be true or false/],
    [{ url: 'redis://127.0.0.1:26379', cluster: true, sentinel: 'mymaster' }, /not both/],
    [{ url: 'redis://127.0.0.1:26379', sentinel: { name: '' } }, /sentinel.name must be a non-empty string/],
    [{ url: 'redis://127.0.0.1:26379', sentinel: { name: 'm', pasword: 'x' } }, /unknown option "pasword" \(did you mean "password"\?\)/],
    [{ url: 'redis://127.0.0.1:26379', sentinel: { name: 'm', db: -1 } }, /sentinel.db/],
    [{ url: 'redis://127.0.0.1:26379', sentinel: 42 }, /sentinel must be the primary's name/],
  ]
  for (const [o, message] of bad) {
    assert.throws(() => new RedisStore({ ...o, secret: SECRET }), (e) => e.code === 'KNACK_INVALID_ARGUMENT' && message.test(e.message) && !e.message.includes(PASSWORD), JSON.stringify(o))
  }
  // A Sentinel primary's password is as hidden as a URL's.
  const guarded = new RedisStore({ url: `redis://:${PASSWORD}@127.0.0.1:1`, sentinel: { name: 'm', password: PASSWORD }, secret: SECRET })
  const down = await guarded.get(newId()).catch((x) => x)
  assert.equal(down.code, 'KNACK_STORE')
  const seen = [inspect(guarded, { showHidden: true, depth: 10 }), JSON.stringify(guarded), down.message, down.stack, inspect(down, { depth: 5 })].join('\n')
  assert.ok(!seen.includes(PASSWORD), seen)
  // The same rules for rateLimit.redis given as options rather than a store.
  const token = 'a'.repeat(40)
  assert.throws(() => KnackSession.fromToken(token, { ...opts, rateLimit: { redis: { url: ['redis://a:1', 'redis://b:2'] } } }), { code: 'KNACK_INVALID_ARGUMENT', message: /cluster: true/ })
  assert.throws(() => KnackSession.fromToken(token, { ...opts, rateLimit: { redis: { url: 'redis://a:1', tls: true } } }), { code: 'KNACK_INVALID_ARGUMENT', message: /unknown option "tls"/ })
  assert.throws(() => KnackSession.fromToken(token, { ...opts, rateLimit: { redis: 42 } }), { code: 'KNACK_INVALID_ARGUMENT', message: /Redis URL, \{ url, cluster\?, sentinel\?, ca\? \} or a RedisStore/ })
})

test('the shared governor over TLS: a TLS RedisStore given as rateLimit.redis keeps the window in that server', { skip }, async () => {
  const store = new RedisStore({ url: tls.tlsUrl, secret: SECRET, ca: tls.ca.caPem, prefix: 'tls-rate:' })
  const s = KnackSession.fromToken(await fake.token(USERS.alice.email), { ...opts, rateLimit: { perSecond: 10, redis: store } })
  for (let i = 0; i < 3; i++) await s.getRecords({ scene: 'scene_1', view: 'view_1' })
  assert.equal(s.stats().shared, true)
  assert.ok((await tls.command('ZCARD', `tls-rate:{rate:${APP_ID}}`)) >= 3)
})

test('RedisStore on a 3-node Redis Cluster: 90 sessions spread over the nodes, each read back, and a login restored by a new process', { skip }, async () => {
  const store = new RedisStore({ url: cluster.urls, cluster: true, secret: SECRET })
  const ids = Array.from({ length: 90 }, newId)
  await Promise.all(ids.map((id) => store.set(id, `value-${id}`, 60000)))
  assert.deepEqual(await Promise.all(ids.map((id) => store.get(id))), ids.map((id) => `value-${id}`))
  const perNode = await Promise.all([0, 1, 2].map((i) => cluster.command(i, 'DBSIZE')))
  assert.equal(perNode.reduce((a, b) => a + b, 0), 90)
  assert.ok(perNode.every((n) => n > 0), `keys per node: ${perNode}`)
  await Promise.all(ids.map((id) => store.delete(id)))
  assert.deepEqual(await Promise.all([0, 1, 2].map((i) => cluster.command(i, 'DBSIZE'))), [0, 0, 0])

  // One seed node is enough to find the others.
  const s = await KnackSession.login({ ...opts, ...USERS.bob, store })
  const out = await inNewProcess(`
    const store = new RedisStore({ url: [${JSON.stringify(cluster.urls[2])}], cluster: true, secret: ${JSON.stringify(SECRET)} })
    const s = await KnackSession.restore(${JSON.stringify(s.id)}, { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, store })
    process.stdout.write(s.userId)
  `)
  assert.equal(out, USERS.bob.id)
})

test('a Redis Cluster over TLS (tls-cluster yes): the store works with ca and refuses an untrusted certificate', { skip }, async () => {
  const secure = await startRedisCluster({ tls: true })
  try {
    const store = new RedisStore({ url: secure.urls, cluster: true, secret: SECRET, ca: secure.ca.caPem })
    const ids = Array.from({ length: 30 }, newId)
    await Promise.all(ids.map((id) => store.set(id, id, 60000)))
    assert.deepEqual(await Promise.all(ids.map((id) => store.get(id))), ids)
    const perNode = await Promise.all([0, 1, 2].map((i) => secure.command(i, 'DBSIZE')))
    assert.equal(perNode.reduce((a, b) => a + b, 0), 30)
    const untrusted = new RedisStore({ url: secure.urls, cluster: true, secret: SECRET })
    const e = await untrusted.get(newId()).catch((x) => x)
    assert.equal(e.code, 'KNACK_STORE')
    assert.match(e.message, /not signed by a trusted CA/)
  } finally {
    await secure.stop()
  }
})

test('RedisStore through Redis Sentinel: sessions live on the primary, and when it is killed the store works again on the promoted replica (meanwhile only KNACK_STORE)', { skip }, async () => {
  const ha = await startRedisSentinel()
  try {
    const store = new RedisStore({ url: ha.sentinelUrl, sentinel: { name: ha.name }, secret: SECRET, prefix: 'ha:' })
    const s = await KnackSession.login({ ...opts, ...USERS.bob, store })
    const first = await ha.primaryPort()
    assert.match(await ha.command(first, 'GET', `ha:session:${s.id}`), /^v1\./)
    assert.ok((await ha.command(first, 'WAIT', 1, 2000)) >= 1, 'the replica did not confirm the write')

    const promoted = await ha.crashPrimary()
    assert.notEqual(promoted, first)
    const errors = []
    const until = Date.now() + 15000
    let restored = null
    while (!restored) {
      try {
        restored = await KnackSession.restore(s.id, { ...opts, store })
        assert.ok(restored, 'the session was lost in the failover')
      } catch (e) {
        if (e.code !== 'KNACK_STORE' || Date.now() > until) throw e
        errors.push(e.message)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    assert.equal(restored.userId, USERS.bob.id)
    const next = await KnackSession.login({ ...opts, ...USERS.alice, store })
    assert.match(await ha.command(promoted, 'GET', `ha:session:${next.id}`), /^v1\./)
    for (const m of errors) assert.ok(!m.includes(String(first)), m)

    // The shared governor through the same sentinels, on the new primary.
    const t = KnackSession.fromToken(next.getToken(), { ...opts, rateLimit: { perSecond: 10, redis: store } })
    await t.getRecords({ scene: 'scene_1', view: 'view_1' })
    assert.equal(t.stats().shared, true)
    assert.ok((await ha.command(promoted, 'ZCARD', `ha:{rate:${APP_ID}}`)) >= 1)

    const unknown = new RedisStore({ url: ha.sentinelUrl, sentinel: 'no-such-primary', secret: SECRET })
    await assert.rejects(unknown.get(newId()), { code: 'KNACK_STORE', message: /no sentinel names a primary that is up by that sentinel.name/ })
  } finally {
    await ha.stop()
  }
})

test('Redis Sentinel over TLS: the sentinels and the primary are reached with ca, and an untrusted certificate is refused', { skip }, async () => {
  const ha = await startRedisSentinel({ tls: true })
  try {
    const store = new RedisStore({ url: ha.sentinelUrl, sentinel: ha.name, ca: ha.ca.caPem, secret: SECRET })
    const id = newId()
    await store.set(id, 'over-tls', 60000)
    assert.equal(await store.get(id), 'over-tls')
    assert.equal(await ha.command(await ha.primaryPort(), 'GET', `knack-session:session:${id}`), 'over-tls')
    const untrusted = new RedisStore({ url: ha.sentinelUrl, sentinel: ha.name, secret: SECRET })
    await assert.rejects(untrusted.get(id), { code: 'KNACK_STORE', message: /not signed by a trusted CA/ })
  } finally {
    await ha.stop()
  }
})
