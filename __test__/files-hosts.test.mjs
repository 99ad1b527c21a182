// Files as Knack really serves them: the download URL redirects to another host (S3, a CDN),
// which must get no credentials; what was uploaded arrives byte for byte (sha256 on both
// sides), with the filename in both multipart forms; and faults while the body is on the
// wire (the server read it and failed, it stopped reading, it was too large).
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let alice
const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-files-hosts-'))
const UPLOAD = '/assets/file/upload'
const sha256 = (b) => createHash('sha256').update(b).digest('hex')
const CREDENTIAL_HEADERS = ['authorization', 'x-knack-rest-api-key', 'x-knack-application-id', 'cookie']

before(async () => {
  fake = await startFake(['--rate-limit', 'off', '--asset-host', '--max-upload-bytes', String(4 * 1024 * 1024)])
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, retries: 3, ...USERS.alice })
})

const attempts = async () => (await fake.log()).filter((e) => e.path.includes(UPLOAD))

test('downloadFile follows the redirect to the asset host without the token, to a path and to a stream, byte for byte', async () => {
  const data = randomBytes(300_000)
  const a = await alice.uploadFile({ file: data, filename: 'scan.pdf', contentType: 'application/pdf' })
  const [stored] = await fake.assets()
  assert.equal(stored.sha256, sha256(data), 'the fake stored what was sent')
  assert.equal(stored.size, data.length)

  const to = path.join(dir, 'scan.pdf')
  const r = await alice.downloadFile(a, { to })
  assert.deepEqual({ bytes: r.bytes, contentType: r.contentType }, { bytes: data.length, contentType: 'application/pdf' })
  assert.equal(sha256(readFileSync(to)), stored.sha256)
  assert.deepEqual(readdirSync(dir), ['scan.pdf'], 'no temp file left')

  const chunks = []
  await alice.downloadFile(a.publicUrl, { to: new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }) })
  assert.equal(sha256(Buffer.concat(chunks)), stored.sha256)

  const api = (await fake.log()).filter((e) => e.path.includes('/download/'))
  assert.equal(api.length, 2)
  assert.ok(api.every((e) => e.status === 302 && e.authorization_present), 'the API host got the token and redirected')
  const cdn = await fake.assetLog()
  assert.equal(cdn.length, 2)
  for (const e of cdn) {
    assert.equal(e.status, 200)
    for (const h of CREDENTIAL_HEADERS) assert.ok(!(h in e.headers), `${h} was sent to the asset host`)
  }
})

test('the asset host refuses credentials: a plain fetch with the token gets 400, so the test above proves something', async () => {
  const a = await alice.uploadFile({ file: Buffer.from('x'), filename: 'x.txt' })
  const first = await fetch(a.publicUrl, { headers: { Authorization: alice.getToken() }, redirect: 'manual' })
  assert.equal(first.status, 302)
  const cdn = await fetch(first.headers.get('location'), { headers: { Authorization: alice.getToken() } })
  assert.equal(cdn.status, 400)
})

test('the file part names the file in filename and filename*, and the server decodes it intact', async () => {
  const name = 'résumé "final" 2024.pdf'
  const a = await alice.uploadFile({ file: Buffer.from('cv'), filename: `C:\\Users\\me\\${name}` })
  assert.equal(a.filename, name)
  const [stored] = await fake.assets()
  assert.equal(stored.filename, name)
  const cd = stored.part_headers['content-disposition']
  assert.match(cd, /name="files"/)
  assert.match(cd, /filename\*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%202024\.pdf/)
  assert.doesNotMatch(cd, /[^\x20-\x7e]/, 'the header itself is ASCII')
})

test('a 503 after the body was read, or a stored file with a 500 answer, is not retried and says an unused asset may exist', async () => {
  const file = path.join(dir, 'orphan.bin')
  writeFileSync(file, randomBytes(200_000))
  for (const [fault, orphans] of [
    [{ kind: 'status_after_body', status: 503, body: '<html><title>Service Unavailable</title></html>', content_type: 'text/html' }, 0],
    [{ kind: 'status_after_apply', status: 500, body: 'Internal Server Error', content_type: 'text/html' }, 1],
  ]) {
    await fake.reset()
    await fake.faults([{ ...fault, path_contains: UPLOAD }])
    const err = await alice.uploadFile({ file }).catch((e) => e)
    assert.equal(err.code, 'KNACK_SERVER_ERROR', fault.kind)
    assert.deepEqual({ outcome: err.outcome, attempts: err.attempts }, { outcome: 'unknown', attempts: 1 }, fault.kind)
    assert.match(err.message, /Knack may have stored the file as an asset that nothing uses/)
    assert.equal((await attempts()).length, 1)
    assert.equal((await fake.assets()).length, orphans, `${fault.kind}: the orphan the message warns of`)
  }
})

test('a connection dropped mid-body is not retried; nothing is stored', async () => {
  await fake.faults([{ kind: 'reset_mid_body', after_bytes: 64 * 1024, path_contains: UPLOAD }])
  const err = await alice.uploadFile({ file: randomBytes(1024 * 1024), filename: 'mid.bin' }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK', err.message)
  assert.equal(err.attempts, 1)
  assert.equal(err.outcome, 'unknown')
  assert.deepEqual(await fake.assets(), [])
})

test('a server that reads the body slowly hits timeoutMs while sending: KNACK_TIMEOUT, not retried', async () => {
  await fake.faults([{ kind: 'slow_body_read', bytes_per_sec: 64 * 1024, path_contains: UPLOAD }])
  const err = await alice.uploadFile({ file: randomBytes(2 * 1024 * 1024), filename: 'slow.bin', timeoutMs: 500 }).catch((e) => e)
  assert.equal(err.code, 'KNACK_TIMEOUT', err.message)
  assert.equal(err.attempts, 1)
  assert.deepEqual(await fake.assets(), [])
})

test('a file over the server\'s upload limit is a 413: KNACK_VALIDATION, not retried, nothing stored', async () => {
  const err = await alice.uploadFile({ file: Buffer.alloc(5 * 1024 * 1024, 3), filename: 'huge.bin' }).catch((e) => e)
  assert.equal(err.code, 'KNACK_VALIDATION', err.message)
  assert.equal(err.status, 413)
  assert.equal(err.attempts, 1)
  assert.deepEqual(await fake.assets(), [])
  const ok = await alice.uploadFile({ file: Buffer.alloc(1024 * 1024, 3), filename: 'fits.bin' })
  assert.equal(ok.size, 1024 * 1024)
})
