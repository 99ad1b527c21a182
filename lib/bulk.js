'use strict'
// createRecords / updateRecords / deleteRecords: many items, `concurrency` at a time, each
// result saying whether the item reached Knack and what it did there.

const { CancelHandle } = require('./native')
const codes = require('./codes')
const { KnackError, abortedError, mapNative } = require('./errors')
const { link } = require('./signal')
const { bulkItem } = require('./options')
const { nativeView } = require('./native-args')
const { parseRecord } = require('./records')
const { callbackFailed, invoke } = require('./callbacks')

/**
 * Whether Knack processed (or may have processed) the request behind a failed bulk item:
 * false when nothing was sent, or when Knack turned it away with a 429 (rate or daily
 * limit) before processing it. Every `attempted: false` item is safe to send again (it
 * cannot duplicate); for the others `outcome` says more ('rejected': refused, nothing
 * changed; 'unknown': may have been applied; 'applied').
 */
function wasAttempted(error) {
  if (error.outcome === undefined) return (error.attempts ?? 0) > 0
  if (error.outcome === 'not-sent') return false
  if (error.outcome === 'rejected' && error.status === 429) return false
  return true
}

/**
 * Run `send` for each item, `concurrency` at a time. Every failed result says whether the
 * item reached Knack (`attempted`) and what it did there (`outcome`); items never sent
 * (stopped by the daily limit, the reserve or an abort; refused by the checks) are
 * `attempted: false, outcome: 'not-sent'`.
 * @param {object} native the NativeSession (checkReserve() applies the plan reserve)
 * @param {object} a the checked bulk args
 * @param {unknown[]} items
 * @param {'create' | 'update' | 'delete'} kind
 * @param {(item: object, handle: object | undefined) => Promise<unknown>} send
 * @param {object} ctx what the item checks need (maxPayloadBytes)
 */
async function bulk(native, a, items, kind, send, ctx) {
  const concurrency = a.concurrency ?? 4
  const reserve = a.reserve ?? 0
  // The reserve rule is the core's (the plan quota): one check per item, none in JS. A bad
  // reserve is refused here, before any item; a reserve already reached stops the first item.
  const reserveStop = () => {
    try {
      native.checkReserve(reserve)
      return null
    } catch (e) {
      return mapNative(e)
    }
  }
  const first = reserveStop()
  if (first && first.code === codes.INVALID_ARGUMENT) throw first
  const onProgress = a.onProgress
  const signal = a.signal ?? null
  const { handle, dispose } = link(signal, CancelHandle, a.watch)
  const results = new Array(items.length)
  const progress = { done: 0, total: items.length, succeeded: 0, failed: 0, notAttempted: 0 }
  let stop = null
  let next = 0
  let warned = false
  const progressFailed = (e) => {
    if (warned) return
    warned = true
    callbackFailed('onProgress', e)
  }
  const report = () => {
    if (onProgress) invoke(() => onProgress({ ...progress }), progressFailed)
  }
  // The error the skipped items get: the stop reason, as "not sent".
  const stopWith = (error) => {
    if (stop) return
    stop =
      error.code === codes.ABORTED && signal
        ? abortedError(signal)
        : new KnackError(error.code, `not sent: ${error.message}`, {
            status: error.status,
            retryAfterMs: error.retryAfterMs,
            attempts: 0,
            outcome: 'not-sent',
            cause: error,
          })
  }
  const skip = (i) => {
    results[i] = { ok: false, attempted: false, outcome: 'not-sent', error: stop }
    progress.notAttempted++
    progress.done++
  }
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= items.length) return
      if (!stop && signal && signal.aborted) stop = abortedError(signal)
      if (!stop && reserve > 0) stop = reserveStop()
      if (stop) {
        skip(i)
        report()
        continue
      }
      try {
        const item = bulkItem(kind, items[i], i, ctx)
        const value = await send(item, handle)
        results[i] = { ok: true, record: value }
        progress.succeeded++
      } catch (e) {
        const error = mapNative(e, signal)
        const attempted = wasAttempted(error)
        const outcome = error.outcome ?? (attempted ? 'unknown' : 'not-sent')
        results[i] = { ok: false, attempted, outcome, error }
        progress.failed++
        if (error.code === codes.DAILY_LIMIT || error.code === codes.ABORTED) stopWith(error)
      }
      progress.done++
      report()
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  } finally {
    dispose()
  }
  return results
}

/** createRecords: `a.records` is `[data]`, through the form view. */
function createRecords(native, a, ctx) {
  const parse = (text) => parseRecord(text, a.shape)
  return bulk(native, a, a.records, 'create', (item, h) => native.createRecord(nativeView(a), item.data, h).then(parse), { ...ctx, labels: a.shape === 'labels' })
}

/** updateRecords: `a.records` is `[{ id, data }]`. */
function updateRecords(native, a, ctx) {
  const parse = (text) => parseRecord(text, a.shape)
  return bulk(native, a, a.records, 'update', (item, h) => native.updateRecord(nativeView(a), item.id, item.data, h).then(parse), { ...ctx, labels: a.shape === 'labels' })
}

/** deleteRecords: `a.ids` is `[id]`. */
function deleteRecords(native, a, ctx) {
  return bulk(native, a, a.ids, 'delete', (item, h) => native.deleteRecord(nativeView(a), item.id, h).then(() => ({ id: item.id })), ctx)
}

module.exports = { createRecords, updateRecords, deleteRecords, wasAttempted }
