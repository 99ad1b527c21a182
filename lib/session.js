'use strict'
// The KnackSession facade: checks arguments (through lib/options.js), links AbortSignals,
// JSON-parses record data that Rust hands over as text, and turns native errors into
// KnackError. All HTTP, retry, rate and token logic lives in Rust.

const util = require('node:util')
const { NativeSession, CancelHandle } = require('./native')
const { MemoryStore, sealerFor } = require('./stores')
const { KnackError, fromNative, invalid, messageOf } = require('./errors')
const { checkSignal, link, abortedError } = require('./signal')
const { sessionOptions, callArgs, bulkItem } = require('./options')

const INTERNAL = Symbol('knack-session.internal')
const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/

/** SessionOptions -> the flat native options (checked; only NativeOptions fields). */
function nativeOptions(opts) {
  return sessionOptions(opts, 'fromToken').native
}

let defaultStore = null
/** The store of checked options: the given one, or the process-wide MemoryStore. */
function storeOf(store) {
  if (store === undefined) {
    defaultStore = defaultStore ?? new MemoryStore()
    return defaultStore
  }
  return store
}

function storeError(e, what) {
  if (e instanceof KnackError && e.code === 'KNACK_STORE') return e
  return new KnackError('KNACK_STORE', `${what}: ${messageOf(e)}`, { cause: e })
}

function remainingMs(info) {
  return Math.max(0, info.expiresAt - Date.now())
}

/** A caller's callback failed: say so once, as a process warning (it must not break us). */
function callbackFailed(name, e) {
  process.emitWarning(`knack-session: the ${name} callback failed: ${messageOf(e)}`, { code: 'KNACK_CALLBACK' })
}

/**
 * Call a caller's callback: a throw or a rejected promise goes to `onError`, never further
 * (no unhandled rejection, no exception out of our code).
 */
function invoke(fn, onError) {
  let r
  try {
    r = fn()
  } catch (e) {
    onError(e)
    return
  }
  if (r !== null && (typeof r === 'object' || typeof r === 'function')) {
    try {
      const then = r.then
      if (typeof then === 'function') then.call(r, undefined, onError)
    } catch (e) {
      onError(e)
    }
  }
}

/** A record that did not open (or a store failure on the way): to onStoreError, else a warning. */
function reportStoreError(onStoreError, err) {
  if (onStoreError === undefined) {
    process.emitWarning(err.message, { code: 'KNACK_STORE' })
    return
  }
  invoke(
    () => onStoreError(err),
    (e) => callbackFailed('onStoreError', e),
  )
}

/** Checked query args -> the native query (filters already JSON text). */
function nativeQuery(a) {
  return {
    scene: a.scene,
    view: a.view,
    page: a.page,
    rowsPerPage: a.rowsPerPage,
    filters: a.filters,
    sortField: a.sortField,
    sortOrder: a.sortOrder,
    format: a.format,
    parentRecordId: a.parentRecordId,
  }
}

function pagingOptions(a) {
  return { maxRecords: a.maxRecords, prefetchPages: a.prefetchPages, strict: a.strict }
}

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

/** Run a native async call with the caller's AbortSignal; map errors to KnackError. */
async function call(signal, fn) {
  const s = checkSignal(signal)
  const { handle, dispose } = link(s, CancelHandle)
  try {
    return await fn(handle)
  } catch (e) {
    const err = fromNative(e)
    if (err.code === 'KNACK_ABORTED' && s && s.aborted) throw abortedError(s, err)
    throw err
  } finally {
    dispose()
  }
}

// Large bodies are parsed one per event-loop turn (setImmediate), so a burst of finished
// calls cannot hold the loop for the sum of all their JSON.parse times.
const YIELD_PARSE_BYTES = 64 * 1024
const parseQueue = []
let draining = false
function drainParse() {
  const job = parseQueue.shift()
  try {
    job.resolve(JSON.parse(job.text))
  } catch (e) {
    job.reject(e)
  }
  if (parseQueue.length > 0) setImmediate(drainParse)
  else draining = false
}
function parseFair(text) {
  if (text.length < YIELD_PARSE_BYTES) return JSON.parse(text)
  return new Promise((resolve, reject) => {
    parseQueue.push({ text, resolve, reject })
    if (!draining) {
      draining = true
      setImmediate(drainParse)
    }
  })
}

/** Records of a view, page by page, as an async iterable with a summary. */
class RecordIterator {
  #start
  #summary = null

  constructor(start) {
    this.#start = start
  }

  /** What the iteration saw (counts, duplicates, shortfall); null until it has started. */
  get summary() {
    return this.#summary
  }

  async *[Symbol.asyncIterator]() {
    const { pager, signal, dispose } = await this.#start()
    try {
      for (;;) {
        let text
        try {
          text = await pager.next()
        } catch (e) {
          const err = fromNative(e)
          if (err.code === 'KNACK_ABORTED' && signal) throw abortedError(signal, err)
          throw err
        } finally {
          this.#summary = pager.summary()
        }
        if (text === null) break
        const records = await parseFair(text)
        for (let i = 0; i < records.length; i++) yield records[i]
      }
    } finally {
      pager.close()
      this.#summary = pager.summary()
      dispose()
    }
  }
}

class KnackSession {
  #native
  #info
  #store
  #secret
  #maxPayloadBytes
  #loggedOut = false

  /** @private use KnackSession.login / fromToken / restore */
  constructor(token, native, store = null, opts = {}) {
    if (token !== INTERNAL) {
      throw invalid('use KnackSession.login(), KnackSession.fromToken() or KnackSession.restore()')
    }
    this.#native = native
    this.#info = native.info()
    this.#store = store
    this.#secret = opts.secret
    this.#maxPayloadBytes = opts.maxPayloadBytes
  }

  /**
   * Log in with email and password. The session is saved in `store` (default: an in-process
   * MemoryStore) before this resolves; if saving fails, login fails and nothing is kept.
   */
  static async login(opts) {
    const o = sessionOptions(opts, 'login')
    const store = storeOf(o.store)
    const sealer = sealerFor(store, o.secret)
    const n = await call(o.signal, (h) => NativeSession.login(o.native, o.email, o.password, h))
    const session = new KnackSession(INTERNAL, n, store, o)
    await session.#save(sealer)
    return session
  }

  async #save(sealer) {
    let sealed
    try {
      sealed = sealer.seal(this.#native)
    } catch (e) {
      throw fromNative(e)
    }
    try {
      await this.#store.set(this.id, sealed, remainingMs(this.#info))
    } catch (e) {
      throw storeError(e, 'could not save the session')
    }
  }

  /**
   * Load a session saved by login(). Resolves null when the id is unknown, expired, or its
   * record does not open (tampered, foreign, another secret); the latter, and a failure to
   * delete an expired record, are reported through `onStoreError` (default: a process
   * warning), never thrown. A throwing onStoreError becomes a KNACK_CALLBACK warning.
   */
  static async restore(id, opts) {
    if (typeof id !== 'string') throw invalid('id must be a string')
    const o = sessionOptions(opts, 'restore')
    const store = storeOf(o.store)
    const sealer = sealerFor(store, o.secret)
    if (!SESSION_ID.test(id)) return null
    let text
    try {
      text = await store.get(id)
    } catch (e) {
      throw storeError(e, 'could not read the session')
    }
    if (text === null || text === undefined) return null
    let sealed
    try {
      sealed = typeof text === 'string' ? text : String(text)
    } catch (e) {
      reportStoreError(o.onStoreError, storeError(e, 'the store returned a value that is not text'))
      return null
    }
    let n
    try {
      n = sealer.open(id, sealed, o.native)
    } catch (e) {
      const err = fromNative(e)
      if (err.code === 'KNACK_INVALID_ARGUMENT') throw err
      reportStoreError(o.onStoreError, storeError(err, 'the stored session does not open'))
      return null
    }
    const session = new KnackSession(INTERNAL, n, store, o)
    if (session.expired) {
      try {
        await store.delete(id)
      } catch (e) {
        reportStoreError(o.onStoreError, storeError(e, 'could not delete the expired session'))
      }
      return null
    }
    return session
  }

  /**
   * Forget the session: later calls on this object fail with KNACK_UNAUTHORIZED, then it is
   * deleted from its store (a failing store is KNACK_STORE; the session is logged out anyway).
   */
  async logout() {
    this.#loggedOut = true
    this.#native.logout()
    if (this.#store) {
      try {
        await this.#store.delete(this.id)
      } catch (e) {
        throw storeError(e, 'could not delete the session')
      }
    }
  }

  static fromToken(token, opts) {
    if (typeof token !== 'string' || token === '') throw invalid('token must be a non-empty string')
    const o = sessionOptions(opts, 'fromToken')
    const store = storeOf(o.store)
    let n
    try {
      n = NativeSession.fromToken(token, o.native)
    } catch (e) {
      throw fromNative(e)
    }
    return new KnackSession(INTERNAL, n, store, o)
  }

  #loggedOutError() {
    return new KnackError('KNACK_UNAUTHORIZED', 'this session was logged out', { attempts: 0, outcome: 'not-sent' })
  }

  /** Save (or refresh) this session in its store; login() does this itself. */
  async save() {
    if (this.#loggedOut) throw this.#loggedOutError()
    await this.#save(sealerFor(this.#store, this.#secret))
  }

  get id() {
    return this.#info.id
  }
  get appId() {
    return this.#info.appId
  }
  get userId() {
    return this.#info.userId
  }
  get email() {
    return this.#info.email ?? null
  }
  get name() {
    return this.#info.name ?? null
  }
  get profileKeys() {
    return [...this.#info.profileKeys]
  }
  get issuedAt() {
    return new Date(this.#info.issuedAt)
  }
  get expiresAt() {
    return new Date(this.#info.expiresAt)
  }
  /** Computed when read: the token is certainly past its expiry. */
  get expired() {
    return Date.now() >= this.#info.expiresAt
  }
  /** true / false when known ("remember me"), null when unknown (adopted token). */
  get remember() {
    return this.#info.remember ?? null
  }

  /** The Knack user token. The one way to read it: there is no token property. KNACK_UNAUTHORIZED after logout(). */
  getToken() {
    if (this.#loggedOut) throw this.#loggedOutError()
    return this.#native.getToken()
  }

  /** What payload checks need: the cap on JSON bodies and filters. */
  #ctx() {
    return { maxPayloadBytes: this.#maxPayloadBytes }
  }

  async validate(opts = {}) {
    const a = callArgs('validate', opts)
    const text = await call(a.signal, (h) => this.#native.validate(h))
    this.#info = this.#native.info()
    return JSON.parse(text)
  }

  async getRecords(q) {
    const a = callArgs('getRecords', q, this.#ctx())
    const text = await call(a.signal, (h) => this.#native.getRecords(nativeQuery(a), h))
    return parseFair(text)
  }

  records(q) {
    return this.#records('records', q)
  }

  #records(name, q) {
    const a = callArgs(name, q, this.#ctx())
    const query = nativeQuery(a)
    const paging = pagingOptions(a)
    const signal = a.signal ?? null
    const native = this.#native
    return new RecordIterator(async () => {
      const { handle, dispose } = link(signal, CancelHandle)
      try {
        if (signal && signal.aborted) throw abortedError(signal)
        const pager = await native.openPager(query, paging, handle)
        return { pager, signal, dispose }
      } catch (e) {
        dispose()
        const err = fromNative(e)
        if (err.code === 'KNACK_ABORTED' && signal && signal.aborted) throw abortedError(signal, err)
        throw err
      }
    })
  }

  async getAllRecords(q) {
    const it = this.#records('getAllRecords', q)
    const all = []
    for await (const r of it) all.push(r)
    Object.defineProperty(all, 'summary', { value: it.summary, enumerable: false })
    return all
  }

  async getRecord(args) {
    const a = callArgs('getRecord', args)
    const text = await call(a.signal, (h) => this.#native.getRecord(a.scene, a.view, a.id, h))
    return JSON.parse(text)
  }

  async createRecord(args) {
    const a = callArgs('createRecord', args, this.#ctx())
    const text = await call(a.signal, (h) => this.#native.createRecord(a.scene, a.view, a.data, h))
    return JSON.parse(text)
  }

  async updateRecord(args) {
    const a = callArgs('updateRecord', args, this.#ctx())
    const text = await call(a.signal, (h) => this.#native.updateRecord(a.scene, a.view, a.id, a.data, h))
    return JSON.parse(text)
  }

  async deleteRecord(args) {
    const a = callArgs('deleteRecord', args)
    await call(a.signal, (h) => this.#native.deleteRecord(a.scene, a.view, a.id, h))
  }

  /** Counters and limits of this app's shared transport (requests, retries, 429s, queue, plan). */
  stats() {
    return this.#native.stats()
  }

  /**
   * Forget that the app's daily plan limit is spent (e.g. the plan was upgraded mid-day): the
   * next call of any session of this app goes to Knack. (While the limit is believed spent,
   * one call a minute goes through anyway to see whether it still is.)
   */
  resetDailyLimit() {
    this.#native.resetDailyLimit()
  }

  /** Create many records through a form view. Results come back in input order. */
  async createRecords(args) {
    const a = callArgs('createRecords', args)
    return this.#bulk(a, a.records, 'create', (item, h) =>
      this.#native.createRecord(a.scene, a.view, item.data, h).then(JSON.parse),
    )
  }

  /** Update many records: `records` is `[{ id, data }]`. */
  async updateRecords(args) {
    const a = callArgs('updateRecords', args)
    return this.#bulk(a, a.records, 'update', (item, h) =>
      this.#native.updateRecord(a.scene, a.view, item.id, item.data, h).then(JSON.parse),
    )
  }

  /** Delete many records by id. */
  async deleteRecords(args) {
    const a = callArgs('deleteRecords', args)
    return this.#bulk(a, a.ids, 'delete', (item, h) =>
      this.#native.deleteRecord(a.scene, a.view, item.id, h).then(() => ({ id: item.id })),
    )
  }

  /**
   * Run `send` for each item, `concurrency` at a time. Every failed result says whether the
   * item reached Knack (`attempted`) and what it did there (`outcome`); items never sent
   * (stopped by the daily limit, the reserve or an abort; refused by the checks) are
   * `attempted: false, outcome: 'not-sent'`.
   */
  async #bulk(a, items, kind, send) {
    const concurrency = a.concurrency ?? 4
    const reserve = a.reserve ?? 0
    const onProgress = a.onProgress
    const signal = a.signal ?? null
    const ctx = this.#ctx()
    const { handle, dispose } = link(signal, CancelHandle)
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
        error.code === 'KNACK_ABORTED' && signal
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
        if (!stop && reserve > 0) {
          const rem = this.#native.stats().plan.remaining
          if (rem !== null && rem !== undefined && rem <= reserve) {
            stop = new KnackError(
              'KNACK_DAILY_LIMIT',
              `stopped: only ${rem} API calls of the daily plan remain (reserve ${reserve})`,
              { attempts: 0, outcome: 'not-sent' },
            )
          }
        }
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
          let error = fromNative(e)
          if (error.code === 'KNACK_ABORTED' && signal && signal.aborted) error = abortedError(signal, error)
          const attempted = wasAttempted(error)
          const outcome = error.outcome ?? (attempted ? 'unknown' : 'not-sent')
          results[i] = { ok: false, attempted, outcome, error }
          progress.failed++
          if (error.code === 'KNACK_DAILY_LIMIT' || error.code === 'KNACK_ABORTED') stopWith(error)
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

  /** Safe to log: no token, and no session id (it unlocks the stored session). */
  toJSON() {
    return {
      appId: this.appId,
      userId: this.userId,
      email: this.email,
      profileKeys: this.profileKeys,
      issuedAt: this.issuedAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      remember: this.remember,
    }
  }

  [util.inspect.custom](depth, options, inspect) {
    const shown = { ...this.toJSON(), expired: this.expired }
    return `KnackSession ${inspect(shown, options)}`
  }
}

module.exports = { KnackSession, RecordIterator, nativeOptions, INTERNAL }
