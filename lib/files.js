'use strict'
// Files, images and report views. The upload itself runs in Rust (src/upload.rs,
// crates/knack-client/src/upload.rs): a path is streamed from disk there; a Buffer is handed
// over; a Blob, a Node Readable or a web ReadableStream is pumped here, chunk by chunk, into a
// bounded native channel (push resolves when Rust has room), so memory stays bounded.

const path = require('node:path')
const { CancelHandle } = require('./native')
const { abortedError, mapNative, invalid } = require('./errors')
const { link } = require('./signal')
const { nativeView } = require('./native-args')
const { callbackFailed, invoke } = require('./callbacks')

// Content types by extension, for when the caller gives none (Knack shows images by type).
const TYPES = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
}
const PROGRESS_EVERY_MS = 200

const isBlob = (v) => typeof Blob !== 'undefined' && v instanceof Blob
const isWebStream = (v) => v !== null && typeof v === 'object' && typeof v.getReader === 'function'

/** `{ kind: 'path'|'bytes'|'stream', filename?, contentType?, length?, chunks? }` of a checked source. */
function describeSource(file) {
  if (typeof file === 'string') return { kind: 'path', path: file, filename: path.basename(file) }
  if (file instanceof Uint8Array) return { kind: 'bytes', bytes: Buffer.from(file.buffer, file.byteOffset, file.byteLength) }
  if (isBlob(file)) {
    return { kind: 'stream', length: file.size, filename: typeof file.name === 'string' && file.name ? file.name : undefined, contentType: file.type || undefined, chunks: () => file.stream() }
  }
  if (isWebStream(file)) return { kind: 'stream', chunks: () => file }
  // A Node Readable; an fs.ReadStream knows its path.
  const p = typeof file.path === 'string' ? file.path : Buffer.isBuffer(file.path) ? file.path.toString() : undefined
  return { kind: 'stream', chunks: () => file, filename: p ? path.basename(p) : undefined }
}

async function* chunksOf(stream) {
  if (isWebStream(stream)) {
    const reader = stream.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield value
      }
    } finally {
      reader.releaseLock()
    }
  } else {
    yield* stream
  }
}

const toBuffer = (c) => (typeof c === 'string' ? Buffer.from(c) : c instanceof Uint8Array ? Buffer.from(c.buffer, c.byteOffset, c.byteLength) : null)

/** Pump a stream into the native upload; a stream error fails the upload (never a truncated file). */
async function pump(upload, source) {
  try {
    for await (const chunk of chunksOf(source.chunks())) {
      const b = toBuffer(chunk)
      if (b === null) throw invalid('the stream gave a chunk that is not a Buffer, Uint8Array or string')
      if (b.length === 0) continue
      if (!(await upload.push(b))) return // the upload stopped reading (failed or aborted)
    }
    upload.end()
  } catch (e) {
    await upload.fail(`the file's stream failed: ${e && e.message ? e.message : String(e)}`)
  }
}

/**
 * Upload `a.file` (checked by lib/options.js) for `native` (a NativeSession); resolves
 * `{ id, type, filename, publicUrl, thumbUrl, size }`.
 */
async function uploadFile(native, a) {
  const source = describeSource(a.file)
  const filename = a.filename ?? source.filename
  if (filename === undefined) throw invalid('uploadFile(): filename is required when file is a Buffer or a stream')
  const contentType = a.contentType ?? source.contentType ?? TYPES[path.extname(filename).toLowerCase()] ?? 'application/octet-stream'
  const signal = a.signal ?? null
  if (signal && signal.aborted) throw abortedError(signal)
  const args = { filename, contentType, kind: a.kind ?? 'file', maxBytes: a.maxBytes, timeoutMs: a.timeoutMs }
  let upload
  try {
    upload = await native.prepareUpload(args, source.kind === 'path' ? source.path : null, source.kind === 'bytes' ? source.bytes : null, source.length ?? null)
  } catch (e) {
    throw mapNative(e, signal)
  }
  const { handle, dispose } = link(signal, CancelHandle, a.watch)
  let timer = null
  let last = -1
  let reported = false
  const report = () => {
    if (!a.onProgress) return
    const sent = upload.sent()
    if (sent === last) return
    last = sent
    invoke(() => a.onProgress({ sent, total: upload.total() }), (e) => {
      if (!reported) {
        reported = true
        callbackFailed('onProgress', e)
      }
    })
  }
  if (a.onProgress) {
    timer = setInterval(report, PROGRESS_EVERY_MS)
    timer.unref()
  }
  try {
    const running = upload.run(handle)
    if (source.kind === 'stream') pump(upload, source)
    const text = await running
    report()
    return JSON.parse(text)
  } catch (e) {
    throw mapNative(e, signal)
  } finally {
    if (timer) clearInterval(timer)
    upload.end()
    dispose()
  }
}

/**
 * The `files` of a create/update: each uploaded (image or file by the field's type in the
 * app's metadata, unless `kind` is given), then `data` (JSON text) with the asset ids added.
 * Resolves `{ data, assets }`; a failed upload throws with the assets already uploaded.
 */
async function uploadFiles(native, a) {
  const given = JSON.parse(a.data)
  for (const f of a.files) {
    if (Object.prototype.hasOwnProperty.call(given, f.field)) throw invalid(`${f.field} is in both data and files: give it once`)
  }
  const assets = []
  for (const f of a.files) {
    let kind = f.kind
    if (kind === undefined) {
      try {
        kind = await native.assetKindOf(f.field, null)
      } catch (e) {
        throw withAssets(mapNative(e), assets)
      }
    }
    try {
      const asset = await uploadFile(native, { ...f, kind, signal: a.signal, watch: a.watch })
      assets.push({ field: f.field, id: asset.id, filename: asset.filename })
    } catch (e) {
      throw withAssets(e, assets)
    }
  }
  const extra = assets.map((x) => `${JSON.stringify(x.field)}:${JSON.stringify(x.id)}`).join(',')
  const body = a.data.trim()
  const inner = body.slice(1, -1).trim()
  return { data: `{${inner}${inner ? ',' : ''}${extra}}`, assets }
}

/** Name the assets already uploaded on an error (they are not attached to anything). */
function withAssets(err, assets) {
  if (assets.length === 0 || !err || typeof err !== 'object') return err
  Object.defineProperty(err, 'assets', { value: assets.map((x) => ({ ...x })), enumerable: true, configurable: true })
  const list = assets.map((x) => `${x.field}=${x.id}`).join(', ')
  if (typeof err.message === 'string' && !err.message.includes(list)) {
    err.message = `${err.message} (uploaded before it, not attached: ${list})`
  }
  return err
}

/** `{ url }` or `{ id, filename }` for the binding, from what the caller has. */
function assetOf(asset) {
  if (typeof asset === 'string' && asset !== '') return { url: asset }
  if (asset !== null && typeof asset === 'object') {
    const url = asset.url ?? asset.publicUrl ?? asset.public_url
    if (typeof url === 'string' && url !== '') return { url }
    if (typeof asset.id === 'string' && typeof asset.filename === 'string') return { id: asset.id, filename: asset.filename }
  }
  throw invalid("downloadFile() takes a file field's raw value, an upload's answer, { id, filename } or a URL")
}

/** Download to `a.to`: a path (written whole or not at all) or a Writable (ended when done). */
async function downloadFile(native, asset, a) {
  const target = assetOf(asset)
  const signal = a.signal ?? null
  if (signal && signal.aborted) throw abortedError(signal)
  const { handle, dispose } = link(signal, CancelHandle, a.watch)
  try {
    if (typeof a.to === 'string') return await native.downloadToPath(target, a.to, handle)
    const d = native.openDownload(target, handle)
    const out = a.to
    let failed = null
    const onError = (e) => (failed = e)
    out.on('error', onError)
    try {
      for (;;) {
        const chunk = await d.next()
        if (chunk === null) break
        if (failed) break
        if (!out.write(chunk)) await new Promise((resolve) => { out.once('drain', resolve); out.once('error', resolve) })
      }
      if (failed) {
        d.close()
        throw invalid(`to: the stream failed: ${failed.message}`, failed)
      }
      const result = await d.result()
      await new Promise((resolve) => out.end(resolve))
      return result
    } finally {
      out.off('error', onError)
    }
  } catch (e) {
    throw mapNative(e, signal)
  } finally {
    dispose()
  }
}

/** A report view: every report (array), or `a.report` (one object). */
async function getReport(native, a, call) {
  const text = await call(a.signal, (h) => native.getReport(nativeView(a), a.report ?? null, a.filters ?? null, h), a.watch)
  return JSON.parse(text)
}

module.exports = { uploadFile, uploadFiles, withAssets, getReport, downloadFile }
