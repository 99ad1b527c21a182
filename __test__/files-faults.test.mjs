// Uploads under faults: retried only when Knack certainly did not take the file (a 429, a
// connection that was never made); never after Knack may have read it (5xx, a reset, a
// timeout after sending), and then the error says an unused asset may exist.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let alice
const UPLOAD = '/assets/file/upload'
const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-upload-faults-'))
const file = path.join(dir, 'report.pdf')
writeFileSync(file, Buffer.alloc(200_000, 1))

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, retries: 3, ...USERS.alice })
})

const attempts = async () => (await fake.log()).filter((e) => e.path.includes(UPLOAD))

test('a 429 is retried (Knack did not take the file), from a path and from a Buffer', async () => {
  for (const args of [{ file }, { file: Buffer.from('again'), filename: 'again.txt' }]) {
    await fake.reset()
    await fake.faults([{ kind: 'status', status: 429, body: 'Rate limit exceeded', content_type: 'text/plain', path_contains: UPLOAD, times: 2 }])
    const a = await alice.uploadFile(args)
    assert.match(a.id, /^[0-9a-f]{24}$/)
    assert.deepEqual((await attempts()).map((e) => e.status), [429, 429, 200])
  }
})

test('a 503 or a reset after sending is not retried, and the error says an unused asset may exist', async () => {
  for (const fault of [
    { kind: 'status', status: 503, body: '<html><title>Service Unavailable</title></html>', content_type: 'text/html' },
    { kind: 'reset_after' },
    { kind: 'reset_before' },
  ]) {
    await fake.reset()
    await fake.faults([{ ...fault, path_contains: UPLOAD }])
    const err = await alice.uploadFile({ file }).catch((e) => e)
    assert.ok(['KNACK_SERVER_ERROR', 'KNACK_NETWORK'].includes(err.code), `${fault.kind}: ${err.code} ${err.message}`)
    assert.equal(err.outcome, 'unknown', fault.kind)
    assert.equal(err.attempts, 1, `${fault.kind}: not retried`)
    assert.match(err.message, /Knack may have stored the file as an asset that nothing uses/, fault.kind)
    assert.equal((await attempts()).length, 1, fault.kind)
  }
})

test('a connection that is never made is retried, then fails as not sent', async () => {
  const closed = await new Promise((resolve) => {
    const srv = net.createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
  const s = KnackSession.fromToken(alice.getToken(), { appId: APP_ID, baseUrl: `http://127.0.0.1:${closed}/v1`, rateLimit: false, retries: 2 })
  const err = await s.uploadFile({ file }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK')
  assert.equal(err.outcome, 'not-sent')
  assert.equal(err.attempts, 3)
  assert.doesNotMatch(err.message, /may have stored/)
})

test('a stream from JS that a 429 turned away cannot be sent twice: it fails instead of sending a partial file', async () => {
  await fake.faults([{ kind: 'status', status: 429, body: 'Rate limit exceeded', content_type: 'text/plain', path_contains: UPLOAD }])
  const err = await alice.uploadFile({ file: Readable.from([Buffer.alloc(100_000, 2)]), filename: 'stream.bin' }).catch((e) => e)
  if (err && err.id) {
    // The 429 came before the stream was read: the retry sent it whole.
    assert.equal(err.size, 100_000)
  } else {
    assert.equal(err.code, 'KNACK_NETWORK')
    assert.match(err.message, /cannot be sent again/)
  }
  assert.deepEqual((await attempts()).filter((e) => e.applied).length <= 1, true)
})

test('the per-attempt timeoutMs and the abort signal apply to uploads', async () => {
  await fake.faults([{ kind: 'delay', ms: 1500, path_contains: UPLOAD }])
  const err = await alice.uploadFile({ file, timeoutMs: 200 }).catch((e) => e)
  assert.equal(err.code, 'KNACK_TIMEOUT')
  assert.equal(err.attempts, 1, 'an upload that may have been read is not retried')
  await fake.clearFaults()
  await fake.faults([{ kind: 'delay', ms: 1500, path_contains: UPLOAD }])
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 100)
  await assert.rejects(alice.uploadFile({ file, signal: ac.signal }), { code: 'KNACK_ABORTED' })
})
