// Files and images: uploads from every kind of source through the same governor and quota,
// the refusals before any request, attaching in one call, and downloads to a path or a
// stream. (Faults, the cross-host redirect and report views: files-faults.test.mjs.)
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync, createReadStream, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { KnackSession } from '../index.js'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

let fake
let alice
const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-files-'))
const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
})
after(() => fake.stop())
beforeEach(async () => {
  await fake.reset()
  alice = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, ...USERS.alice })
})

const uploads = async () => (await fake.log()).filter((e) => e.path.includes('/assets/'))

test('uploadFile takes a path, a Buffer, a Uint8Array, a Blob, a Node Readable and a web ReadableStream', async () => {
  const p = path.join(dir, 'notes.txt')
  writeFileSync(p, 'from a path')
  const cases = [
    [{ file: p }, 'notes.txt', 11],
    [{ file: Buffer.from('a buffer'), filename: 'buf.bin' }, 'buf.bin', 8],
    [{ file: new Uint8Array([1, 2, 3]), filename: 'u8.bin' }, 'u8.bin', 3],
    [{ file: new Blob(['a blob!']), filename: 'blob.txt' }, 'blob.txt', 7],
    [{ file: Readable.from([Buffer.from('node '), 'readable']) , filename: 'r.txt' }, 'r.txt', 13],
    [{ file: createReadStream(p) }, 'notes.txt', 11],
    [{ file: new Blob(['web stream']).stream(), filename: 'w.txt' }, 'w.txt', 10],
  ]
  for (const [args, filename, size] of cases) {
    const a = await alice.uploadFile(args)
    assert.match(a.id, /^[0-9a-f]{24}$/)
    assert.deepEqual({ type: a.type, filename: a.filename, size: a.size }, { type: 'file', filename, size }, filename)
    assert.ok(a.publicUrl.endsWith(`/download/asset/${a.id}/${filename}`), a.publicUrl)
  }
  const log = await uploads()
  assert.equal(log.length, cases.length)
  assert.ok(log.every((e) => e.path === `/v1/applications/${APP_ID}/assets/file/upload` && e.status === 200))
})

test('an image goes to the image route; content types come from the name unless given', async () => {
  const img = await alice.uploadFile({ file: Buffer.from([0x89, 0x50, 0x4e, 0x47]), filename: 'shot.png', kind: 'image' })
  assert.equal(img.type, 'image')
  assert.ok((await uploads())[0].path.endsWith('/assets/image/upload'))
  const back = []
  await alice.downloadFile(img, { to: new Writable({ write: (c, _e, cb) => (back.push(c), cb()) }) })
  assert.deepEqual(Buffer.concat(back), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
})

test('a missing path, a directory, an empty file, a file over maxBytes and a Buffer without filename are refused before any request', async () => {
  const empty = path.join(dir, 'empty.txt')
  writeFileSync(empty, '')
  const big = path.join(dir, 'big.bin')
  writeFileSync(big, Buffer.alloc(2048))
  const refused = [
    [{ file: path.join(dir, 'nope.txt') }, /no such file/],
    [{ file: dir }, /not a regular file/],
    [{ file: empty }, /empty/],
    [{ file: big, maxBytes: 1024 }, /2048 bytes, over the upload limit of 1024 bytes \(maxBytes\)/],
    [{ file: Buffer.from('x') }, /filename is required/],
    [{ file: Buffer.from('x'), filename: 'a/' }, /no file name/],
    [{ file: 42 }, /file must be a file path, a Buffer/],
    [{ file: Buffer.from('x'), filename: 'x', kind: 'video' }, /kind must be/],
  ]
  for (const [args, message] of refused) {
    await assert.rejects(alice.uploadFile(args), { code: 'KNACK_INVALID_ARGUMENT', message }, JSON.stringify(args.file))
  }
  assert.deepEqual(await uploads(), [])
})

test('filenames with quotes, non-ASCII and path separators keep their last component and arrive intact', async () => {
  const a = await alice.uploadFile({ file: Buffer.from('cv'), filename: 'C:\\Users\\me\\résumé "final".pdf' })
  // fake-knack reads RFC 5987 filename* (as busboy and multer do) when the client sends it.
  assert.ok(['résumé "final".pdf', 'r_sum_ _final_.pdf'].includes(a.filename), a.filename)
  assert.equal(a.size, 2)
})

test('createRecord with files uploads each (file or image by the field type in the metadata) and attaches the asset', async () => {
  const shot = path.join(dir, 'screenshot.pdf')
  writeFileSync(shot, '%PDF-1.4 screenshot')
  const t = await alice.createRecord({ ...NEW_TICKET, data: { field_10: 'With a screenshot' }, files: { field_17: shot } })
  assert.equal(t.field_10_raw, 'With a screenshot')
  assert.equal(t.field_17_raw.filename, 'screenshot.pdf')
  assert.equal(t.field_17_raw.size, 19)
  const stored = (await fake.stored('object_3')).records.find((r) => r.id === t.id)
  assert.ok(stored.field_17, 'the record holds the asset')
  const got = path.join(dir, 'got.pdf')
  const d = await alice.downloadFile(t.field_17_raw, { to: got })
  assert.equal(readFileSync(got, 'utf8'), '%PDF-1.4 screenshot')
  assert.deepEqual(d, { bytes: 19, contentType: 'application/pdf', filename: 'screenshot.pdf' })
})

test('a write that fails after its uploads names the uploaded assets; a non-file field in files is refused before uploading', async () => {
  const err = await alice.createRecord({ ...NEW_TICKET, data: { field_11: 'no subject' }, files: { field_17: { file: Buffer.from('x'), filename: 'x.txt' } } }).catch((e) => e)
  assert.equal(err.code, 'KNACK_VALIDATION')
  assert.equal(err.assets.length, 1)
  assert.equal(err.assets[0].field, 'field_17')
  assert.match(err.message, new RegExp(`uploaded before it, not attached: field_17=${err.assets[0].id}`))
  await fake.reset()
  await assert.rejects(alice.createRecord({ ...NEW_TICKET, data: { field_10: 'x' }, files: { field_16: Buffer.from('x') } }), { code: 'KNACK_INVALID_ARGUMENT', message: /files\.field_16 is not a file or image field \(its type is email\)/ })
  await assert.rejects(alice.createRecord({ ...NEW_TICKET, data: { field_10: 'x', field_17: 'abc' }, files: { field_17: Buffer.from('x') } }), { code: 'KNACK_INVALID_ARGUMENT', message: /field_17 is in both data and files/ })
  assert.deepEqual(await uploads(), [])
})

test('downloadFile to a path writes the whole file or nothing: a failed download leaves no file and no temp file behind', async () => {
  const a = await alice.uploadFile({ file: Buffer.from('x'.repeat(100_000)), filename: 'big.txt' })
  const out = path.join(dir, 'dl')
  mkdirSync(out, { recursive: true })
  const r = await alice.downloadFile(a, { to: path.join(out, 'big.txt') })
  assert.equal(r.bytes, 100_000)
  await fake.faults([{ kind: 'truncate', path_contains: '/download/' }])
  await assert.rejects(alice.downloadFile(a, { to: path.join(out, 'broken.txt') }), { code: 'KNACK_NETWORK' })
  assert.deepEqual(readdirSync(out), ['big.txt'])
  await assert.rejects(alice.downloadFile({ id: 'ffffffffffffffffffffffff', filename: 'gone.txt' }, { to: path.join(out, 'gone.txt') }), { code: 'KNACK_NOT_FOUND' })
  assert.ok(!existsSync(path.join(out, 'gone.txt')))
})

test('uploads and downloads pass the governor, and an aborted upload is KNACK_ABORTED', async () => {
  const governed = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: { perSecond: 2 }, ...USERS.bob })
  const t0 = Date.now()
  await Promise.all([1, 2, 3, 4, 5].map((i) => governed.uploadFile({ file: Buffer.from(`f${i}`), filename: `f${i}.txt` })))
  assert.ok(Date.now() - t0 >= 900, 'five uploads at 2/s take over a second')
  assert.ok(governed.stats().requests >= 5)
  const ac = new AbortController()
  ac.abort(new Error('user cancelled'))
  await assert.rejects(alice.uploadFile({ file: Buffer.from('x'), filename: 'x', signal: ac.signal }), { code: 'KNACK_ABORTED' })
})

test('onProgress reports the bytes sent and the total; a throwing onProgress does not break the upload', async () => {
  const p = path.join(dir, 'progress.bin')
  writeFileSync(p, Buffer.alloc(3 * 1024 * 1024, 7))
  const seen = []
  const a = await alice.uploadFile({ file: p, onProgress: (x) => seen.push(x) })
  assert.equal(a.size, 3 * 1024 * 1024)
  assert.deepEqual(seen.at(-1), { sent: 3 * 1024 * 1024, total: 3 * 1024 * 1024 })
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    await alice.uploadFile({ file: p, onProgress: () => { throw new Error('boom') } })
    await new Promise((r) => setTimeout(r, 20))
  } finally {
    process.off('warning', onWarning)
  }
  assert.ok(warnings.some((w) => w.code === 'KNACK_CALLBACK'))
})

test('a stream that fails mid-way fails the upload: nothing truncated is stored', async () => {
  async function* failing() {
    yield Buffer.from('first part ')
    throw new Error('disk gone')
  }
  const err = await alice.uploadFile({ file: Readable.from(failing()), filename: 'half.txt' }).catch((e) => e)
  assert.equal(err.code, 'KNACK_NETWORK', err.message)
  const stored = (await uploads()).filter((e) => e.applied)
  assert.deepEqual(stored, [])
})
