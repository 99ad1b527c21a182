// Token stores: sessions survive restarts (FileStore, RedisStore), are encrypted at rest,
// expire with their tokens, and bad records are rejected without a crash.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, statSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { KnackSession, KnackError, MemoryStore, FileStore, RedisStore } from '../index.js'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'
import { haveRedis, startRedis } from './helpers/redis.mjs'

const SECRET = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(8)
const OTHER_SECRET = 'z'.repeat(40)
let fake
let opts
let redis = null
let dir
const REDIS = haveRedis()

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  opts = { appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false }
  if (REDIS) redis = await startRedis()
  dir = mkdtempSync(path.join(os.tmpdir(), 'knack-filestore-'))
})
after(async () => {
  await fake.stop()
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => fake.reset())

/** Run a script in a fresh Node process (a "restart") and return its stdout. */
async function inNewProcess(body) {
  const script = `
    const { KnackSession, FileStore, RedisStore, MemoryStore } = require(${JSON.stringify(ROOT)})
    ;(async () => { ${body} })().catch((e) => { console.error(e); process.exit(1) })
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
  return out.trim()
}

test('default MemoryStore: login saves, restore loads, logout forgets', async () => {
  const s = await KnackSession.login({ ...opts, ...USERS.alice })
  const again = await KnackSession.restore(s.id, opts)
  assert.ok(again instanceof KnackSession)
  assert.equal(again.userId, USERS.alice.id)
  assert.equal(again.getToken(), s.getToken())
  assert.deepEqual(again.profileKeys, ['profile_1'])
  assert.equal(again.remember, false)
  assert.equal((await again.getRecords({ scene: 'scene_1', view: 'view_1' })).records.length, 3)
  await again.logout()
  assert.equal(await KnackSession.restore(s.id, opts), null)
  await assert.rejects(again.getRecords({ scene: 'scene_1', view: 'view_1' }), { code: 'KNACK_UNAUTHORIZED' })
})

test('restore of an unknown or malformed id resolves null', async () => {
  assert.equal(await KnackSession.restore('A'.repeat(43), opts), null)
  assert.equal(await KnackSession.restore('../../etc/passwd', opts), null)
  assert.equal(await KnackSession.restore('', opts), null)
  await assert.rejects(KnackSession.restore(42, opts), { code: 'KNACK_INVALID_ARGUMENT' })
})

test('the stored TTL is the token\'s remaining life; the store sees only ciphertext', async () => {
  const calls = []
  const map = new Map()
  const custom = {
    async get(id) {
      return map.get(id) ?? null
    },
    async set(id, value, ttlMs) {
      calls.push({ id, value, ttlMs })
      map.set(id, value)
    },
    async delete(id) {
      map.delete(id)
    },
  }
  const s = await KnackSession.login({ ...opts, ...USERS.bob, remember: true, store: custom, secret: SECRET })
  assert.equal(calls.length, 1)
  const { ttlMs, value } = calls[0]
  const expected = s.expiresAt.getTime() - Date.now()
  assert.ok(Math.abs(ttlMs - expected) < 5000, `${ttlMs} vs ${expected}`)
  assert.ok(!value.includes(s.getToken()) && !value.includes(USERS.bob.email) && !value.includes('profile_1'))
  assert.match(value, /^v1\.[A-Za-z0-9_-]+$/)
  const back = await KnackSession.restore(s.id, { ...opts, store: custom, secret: SECRET })
  assert.equal(back.userId, USERS.bob.id)
  assert.equal(back.remember, true)
  await assert.rejects(KnackSession.login({ ...opts, ...USERS.bob, store: custom }), { code: 'KNACK_INVALID_ARGUMENT' })
})

test('a store that fails to save fails the login: no half-saved session', async () => {
  const broken = {
    get: async () => null,
    set: async () => {
      throw new Error('disk full')
    },
    delete: async () => {},
  }
  const err = await KnackSession.login({ ...opts, ...USERS.alice, store: broken, secret: SECRET }).catch((e) => e)
  assert.ok(err instanceof KnackError)
  assert.equal(err.code, 'KNACK_STORE')
  assert.match(err.message, /disk full/)
})

test('MemoryStore is bounded', async () => {
  const store = new MemoryStore({ maxEntries: 2 })
  const ids = []
  for (let i = 0; i < 4; i++) ids.push((await KnackSession.login({ ...opts, ...USERS.carol, store })).id)
  assert.equal(store.size, 2)
  assert.equal(await KnackSession.restore(ids[0], { ...opts, store }), null)
  assert.ok(await KnackSession.restore(ids[3], { ...opts, store }))
})

test('FileStore and RedisStore refuse a bad secret or URL when made', () => {
  assert.throws(() => new FileStore({ dir, secret: 'short' }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.throws(() => new FileStore({ dir: 5, secret: undefined }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.throws(() => new RedisStore({ url: 'http://x', secret: SECRET }), { code: 'KNACK_INVALID_ARGUMENT' })
  assert.throws(() => new RedisStore({ url: undefined, secret: SECRET, prefx: 'x' }), { code: 'KNACK_INVALID_ARGUMENT', message: /prefix/ })
})

test('a store made without its required options (env vars unset at build time) fails its first use, not its import', async () => {
  const redis = new RedisStore({ url: process.env.NOT_SET_REDIS_URL, secret: process.env.NOT_SET_SECRET })
  const file = new FileStore({ dir, secret: undefined })
  await assert.rejects(redis.get('x'), { code: 'KNACK_INVALID_ARGUMENT', message: /RedisStore needs url and secret, which were not given/ })
  await assert.rejects(file.set('x', 'y', 1000), { code: 'KNACK_INVALID_ARGUMENT', message: /FileStore needs secret/ })
  await assert.rejects(KnackSession.restore('x'.repeat(43), { appId: APP_ID, baseUrl: fake.baseUrl, store: redis }), { code: 'KNACK_INVALID_ARGUMENT', message: /RedisStore needs/ })
})

test('FileStore: a session survives a process restart; files are private', async () => {
  const storeDir = path.join(dir, 'restart')
  const id = await inNewProcess(`
    const store = new FileStore({ dir: ${JSON.stringify(storeDir)}, secret: ${JSON.stringify(SECRET)} })
    const s = await KnackSession.login({ appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, email: 'alice@example.com', password: 'alice-pass-1', store })
    process.stdout.write(s.id)
  `)
  const out = await inNewProcess(`
    const store = new FileStore({ dir: ${JSON.stringify(storeDir)}, secret: ${JSON.stringify(SECRET)} })
    const s = await KnackSession.restore(${JSON.stringify(id)}, { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, store })
    const page = await s.getRecords({ scene: 'scene_1', view: 'view_1' })
    process.stdout.write(s.userId + ' ' + page.records.length)
  `)
  assert.equal(out, `${USERS.alice.id} 3`)
  const files = readdirSync(storeDir)
  assert.deepEqual(files, [`${id}.session`])
  const file = path.join(storeDir, files[0])
  assert.equal(statSync(file).mode & 0o777, 0o600)
  assert.equal(statSync(storeDir).mode & 0o777, 0o700)
  assert.ok(!readFileSync(file, 'utf8').includes('alice'))
})

test('FileStore: tampered, foreign and wrong-secret records count as absent and are reported', async () => {
  const store = new FileStore({ dir: path.join(dir, 'tamper'), secret: SECRET })
  const a = await KnackSession.login({ ...opts, ...USERS.alice, store })
  const b = await KnackSession.login({ ...opts, ...USERS.bob, store })
  const fileA = path.join(dir, 'tamper', `${a.id}.session`)
  const fileB = path.join(dir, 'tamper', `${b.id}.session`)
  const reported = []
  const onStoreError = (e) => reported.push(e)
  // Foreign: b's record copied under a's id.
  const original = readFileSync(fileA, 'utf8')
  writeFileSync(fileA, readFileSync(fileB, 'utf8'))
  assert.equal(await KnackSession.restore(a.id, { ...opts, store, onStoreError }), null)
  // Tampered: one character of the ciphertext changed.
  const entry = JSON.parse(original)
  const v = entry.value
  entry.value = v.slice(0, 20) + (v[20] === 'A' ? 'B' : 'A') + v.slice(21)
  writeFileSync(fileA, JSON.stringify(entry))
  assert.equal(await KnackSession.restore(a.id, { ...opts, store, onStoreError }), null)
  // Another secret cannot open b's record.
  const other = new FileStore({ dir: path.join(dir, 'tamper'), secret: OTHER_SECRET })
  assert.equal(await KnackSession.restore(b.id, { ...opts, store: other, onStoreError }), null)
  // Another app id cannot open it either.
  assert.equal(await KnackSession.restore(b.id, { ...opts, appId: 'ffffffffffffffffffffffff', store, onStoreError }), null)
  assert.equal(reported.length, 4)
  for (const e of reported) {
    assert.equal(e.code, 'KNACK_STORE')
    assert.ok(!e.message.includes(b.getToken()))
  }
  // The untouched record still opens.
  assert.equal((await KnackSession.restore(b.id, { ...opts, store })).userId, USERS.bob.id)
})

test('key rotation: records sealed with the old secret open with [new, old]', async () => {
  const storeDir = path.join(dir, 'rotate')
  const old = new FileStore({ dir: storeDir, secret: SECRET })
  const s = await KnackSession.login({ ...opts, ...USERS.carol, store: old })
  const rotated = new FileStore({ dir: storeDir, secret: [OTHER_SECRET, SECRET] })
  assert.equal((await KnackSession.restore(s.id, { ...opts, store: rotated })).userId, USERS.carol.id)
})

test('many concurrent restores of one id all succeed', async () => {
  const store = new FileStore({ dir: path.join(dir, 'concurrent'), secret: SECRET })
  const s = await KnackSession.login({ ...opts, ...USERS.alice, store })
  const all = await Promise.all(Array.from({ length: 50 }, () => KnackSession.restore(s.id, { ...opts, store })))
  assert.ok(all.every((x) => x && x.userId === USERS.alice.id))
})

test('an expired stored session restores as null and is removed', async () => {
  // A custom store that ignores TTLs, so the record outlives its token.
  const map = new Map()
  const store = { get: async (id) => map.get(id) ?? null, set: async (id, v) => void map.set(id, v), delete: async (id) => void map.delete(id) }
  const iat = Math.floor(Date.now() / 1000) - 49 * 3600
  const token = await fake.token(USERS.alice.email, { iat })
  const s = KnackSession.fromToken(token, { ...opts, remember: false, store, secret: SECRET })
  await s.save()
  assert.ok(map.has(s.id))
  assert.equal(await KnackSession.restore(s.id, { ...opts, store, secret: SECRET }), null)
  assert.equal(map.has(s.id), false, 'the expired record was not removed')
})

test('fromToken sessions can be saved and restored too', async () => {
  const store = new MemoryStore()
  const token = await fake.token(USERS.carol.email)
  const s = KnackSession.fromToken(token, { ...opts, store })
  await s.save()
  const back = await KnackSession.restore(s.id, { ...opts, store })
  assert.equal(back.getToken(), token)
})

test('RedisStore: a session survives a restart, expires with the token, logout deletes it', { skip: !REDIS && 'redis-server not installed' }, async () => {
  const id = await inNewProcess(`
    const store = new RedisStore({ url: ${JSON.stringify(redis.url)}, secret: ${JSON.stringify(SECRET)}, prefix: 'test:' })
    const s = await KnackSession.login({ appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, email: 'bob@example.com', password: 'bob-pass-1', store })
    process.stdout.write(s.id)
  `)
  const pttl = await redis.command('PTTL', `test:session:${id}`)
  assert.ok(pttl > 47 * 3600 * 1000 && pttl <= 48 * 3600 * 1000, `PTTL ${pttl}`)
  const raw = await redis.command('GET', `test:session:${id}`)
  assert.match(raw, /^v1\./)
  const out = await inNewProcess(`
    const store = new RedisStore({ url: ${JSON.stringify(redis.url)}, secret: ${JSON.stringify(SECRET)}, prefix: 'test:' })
    const s = await KnackSession.restore(${JSON.stringify(id)}, { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(fake.baseUrl)}, store })
    const page = await s.getRecords({ scene: 'scene_1', view: 'view_1' })
    await s.logout()
    process.stdout.write(s.userId + ' ' + page.records.length)
  `)
  assert.equal(out, `${USERS.bob.id} 2`)
  assert.equal(await redis.command('EXISTS', `test:session:${id}`), 0)
})

test('RedisStore: tampered and foreign records are rejected; an unreachable Redis is KNACK_STORE', { skip: !REDIS && 'redis-server not installed' }, async () => {
  const store = new RedisStore({ url: redis.url, secret: SECRET })
  const a = await KnackSession.login({ ...opts, ...USERS.alice, store })
  const b = await KnackSession.login({ ...opts, ...USERS.bob, store })
  await redis.command('SET', `knack-session:session:${a.id}`, await redis.command('GET', `knack-session:session:${b.id}`))
  const reported = []
  assert.equal(await KnackSession.restore(a.id, { ...opts, store, onStoreError: (e) => reported.push(e) }), null)
  await redis.command('SET', `knack-session:session:${b.id}`, 'v1.garbage')
  assert.equal(await KnackSession.restore(b.id, { ...opts, store, onStoreError: (e) => reported.push(e) }), null)
  assert.equal(reported.length, 2)
  const down = new RedisStore({ url: 'redis://127.0.0.1:1', secret: SECRET })
  const err = await KnackSession.restore('A'.repeat(43), { ...opts, store: down }).catch((e) => e)
  assert.equal(err.code, 'KNACK_STORE')
})

test('util.inspect and JSON.stringify of a RedisStore show no password from its URL', async () => {
  const { inspect } = await import('node:util')
  const password = 'hunter2-redis-password'
  const store = new RedisStore({ url: `redis://:${password}@127.0.0.1:1/0`, secret: SECRET, prefix: 'inspect:' })
  const shown = [
    inspect(store, { showHidden: true, depth: 10 }),
    inspect(store, { showHidden: true, depth: 10, getters: true }),
    JSON.stringify(store),
    String(store),
    JSON.stringify(Object.getOwnPropertyDescriptors(store), (k, v) => (typeof v === 'symbol' ? String(v) : v)),
    Object.getOwnPropertySymbols(store).map((sym) => inspect(store[sym], { showHidden: true, depth: 10 })).join('\n'),
  ].join('\n')
  assert.ok(!shown.includes(password), `the Redis password is visible:\n${shown}`)
  // The session layer still finds the URL to share the rate limit through this store.
  const baseUrl = fake.baseUrl.replace('127.0.0.1', 'localhost')
  assert.ok(KnackSession.fromToken(await fake.token(USERS.alice.email), { ...opts, baseUrl, rateLimit: { perSecond: 5, redis: store } }))
})
