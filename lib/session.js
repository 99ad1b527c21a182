'use strict'
// The KnackSession facade: checks argument types, links AbortSignals, JSON-parses record
// data that Rust hands over as text, and turns native errors into KnackError. All HTTP,
// retry, rate and token logic lives in Rust.

const util = require('node:util')
const { NativeSession, CancelHandle } = require('../binding.js')
const { MemoryStore, sealerFor, checkStore, REDIS_URL } = require('./stores')
const { KnackError, fromNative, invalid } = require('./errors')
const { checkSignal, link, abortedError } = require('./signal')

const INTERNAL = Symbol('knack-session.internal')

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function optString(o, key) {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw invalid(`${key} must be a string`)
  return v
}

function optNumber(o, key) {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${key} must be a finite number`)
  return v
}

function optBoolean(o, key) {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw invalid(`${key} must be a boolean`)
  return v
}

/** SessionOptions -> the flat native options. */
function nativeOptions(opts) {
  if (!isObject(opts)) throw invalid('options must be an object with at least appId')
  const appId = opts.appId
  if (typeof appId !== 'string' || appId === '') throw invalid('appId must be a non-empty string')
  let rateLimit
  let rateLimitRedis
  let rateLimitRedisPrefix
  const rl = opts.rateLimit
  if (rl === false) rateLimit = 0
  else if (rl === undefined || rl === null || rl === true) rateLimit = undefined
  else if (isObject(rl)) {
    if (rl.perSecond !== undefined && (typeof rl.perSecond !== 'number' || !(rl.perSecond > 0))) {
      throw invalid('rateLimit.perSecond must be a positive number')
    }
    rateLimit = rl.perSecond
    if (rl.redis !== undefined) {
      if (typeof rl.redis === 'string') rateLimitRedis = rl.redis
      else if (rl.redis && rl.redis[REDIS_URL]) {
        rateLimitRedis = rl.redis[REDIS_URL].url
        rateLimitRedisPrefix = rl.redis[REDIS_URL].prefix
      } else throw invalid('rateLimit.redis must be a redis:// URL or a RedisStore')
      if (rl.prefix !== undefined) {
        if (typeof rl.prefix !== 'string') throw invalid('rateLimit.prefix must be a string')
        rateLimitRedisPrefix = rl.prefix
      }
    }
  } else throw invalid('rateLimit must be false or { perSecond, redis? }')
  return {
    appId,
    baseUrl: optString(opts, 'baseUrl'),
    timeoutMs: optNumber(opts, 'timeoutMs'),
    deadlineMs: optNumber(opts, 'deadlineMs'),
    retries: optNumber(opts, 'retries'),
    rateLimit,
    proxy: optString(opts, 'proxy'),
    maxBodyBytes: optNumber(opts, 'maxBodyBytes'),
    remember: optBoolean(opts, 'remember'),
    rateLimitRedis,
    rateLimitRedisPrefix,
  }
}

let defaultStore = null
/** The process-wide MemoryStore used when no store is given. */
function storeOf(opts) {
  if (opts.store === undefined || opts.store === null) {
    defaultStore = defaultStore ?? new MemoryStore()
    return defaultStore
  }
  return checkStore(opts.store)
}

function storeError(e, what) {
  if (e instanceof KnackError) return e.code === 'KNACK_STORE' ? e : new KnackError('KNACK_STORE', `${what}: ${e.message}`, { cause: e })
  return new KnackError('KNACK_STORE', `${what}: ${e && e.message ? e.message : String(e)}`, { cause: e })
}

function remainingMs(info) {
  return Math.max(0, info.expiresAt - Date.now())
}

function requireString(o, key) {
  const v = o[key]
  if (typeof v !== 'string' || v === '') throw invalid(`${key} must be a non-empty string`)
  return v
}

function viewArgs(args, what) {
  if (!isObject(args)) throw invalid(`${what} needs an options object like { scene, view }`)
  return [requireString(args, 'scene'), requireString(args, 'view')]
}

/** Query options -> the native query (filters as JSON text). */
function nativeQuery(q) {
  const [scene, view] = viewArgs(q, 'this call')
  let filters
  if (q.filters !== undefined && q.filters !== null) {
    if (typeof q.filters === 'string') filters = q.filters
    else if (typeof q.filters === 'object') filters = JSON.stringify(q.filters)
    else throw invalid('filters must be { match, rules } or an array of rules')
  }
  return {
    scene,
    view,
    page: optNumber(q, 'page'),
    rowsPerPage: optNumber(q, 'rowsPerPage'),
    filters,
    sortField: optString(q, 'sortField'),
    sortOrder: optString(q, 'sortOrder'),
    format: optString(q, 'format'),
    parentRecordId: optString(q, 'parentRecordId'),
  }
}

function dataText(args) {
  if (!isObject(args.data)) throw invalid('data must be an object of field values, e.g. { field_1: "x" }')
  return JSON.stringify(args.data)
}

/** Run a native async call with the caller's AbortSignal; map errors to KnackError. */
async function call(signal, fn) {
  const s = checkSignal(signal)
  const { handle, dispose } = link(s, CancelHandle)
  try {
    return await fn(handle)
  } catch (e) {
    const err = fromNative(e)
    if (err.code === 'KNACK_ABORTED' && s && s.reason !== undefined) throw abortedError(s, err)
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

  /** @private use KnackSession.login / fromToken / restore */
  constructor(token, native, store = null) {
    if (token !== INTERNAL) {
      throw invalid('use KnackSession.login(), KnackSession.fromToken() or KnackSession.restore()')
    }
    this.#native = native
    this.#info = native.info()
    this.#store = store
  }

  /**
   * Log in with email and password. The session is saved in `store` (default: an in-process
   * MemoryStore) before this resolves; if saving fails, login fails and nothing is kept.
   */
  static async login(opts) {
    const native = nativeOptions(opts)
    const email = requireString(opts, 'email')
    const password = requireString(opts, 'password')
    const store = storeOf(opts)
    const sealer = sealerFor(store, opts.secret)
    const n = await call(opts.signal, (h) => NativeSession.login(native, email, password, h))
    const session = new KnackSession(INTERNAL, n, store)
    session.#secret = opts.secret
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
   * record does not open (tampered, foreign, another secret); the latter is reported through
   * `onStoreError` (default: a process warning), never thrown.
   */
  static async restore(id, opts) {
    if (typeof id !== 'string') throw invalid('id must be a string')
    const native = nativeOptions(opts)
    const store = storeOf(opts)
    const sealer = sealerFor(store, opts.secret)
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(id)) return null
    let text
    try {
      text = await store.get(id)
    } catch (e) {
      throw storeError(e, 'could not read the session')
    }
    if (text === null || text === undefined) return null
    let n
    try {
      n = sealer.open(id, String(text), native)
    } catch (e) {
      const err = fromNative(e)
      if (typeof opts.onStoreError === 'function') opts.onStoreError(err)
      else process.emitWarning(err.message, { code: 'KNACK_STORE' })
      return null
    }
    const session = new KnackSession(INTERNAL, n, store)
    session.#secret = opts.secret
    if (session.expired) {
      await Promise.resolve(store.delete(id)).catch(() => {})
      return null
    }
    return session
  }

  /** Forget the session: delete it from its store; later calls fail with KNACK_UNAUTHORIZED. */
  async logout() {
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
    const native = nativeOptions(opts)
    const store = storeOf(opts)
    let n
    try {
      n = NativeSession.fromToken(token, native)
    } catch (e) {
      throw fromNative(e)
    }
    const session = new KnackSession(INTERNAL, n, store)
    session.#secret = opts.secret
    return session
  }

  /** Save (or refresh) this session in its store; login() does this itself. */
  async save() {
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

  /** The Knack user token. The one way to read it: there is no token property. */
  getToken() {
    return this.#native.getToken()
  }

  async validate(opts = {}) {
    if (!isObject(opts)) throw invalid('validate() takes an options object')
    const text = await call(opts.signal, (h) => this.#native.validate(h))
    this.#info = this.#native.info()
    return JSON.parse(text)
  }

  async getRecords(q) {
    const query = nativeQuery(q)
    const text = await call(q.signal, (h) => this.#native.getRecords(query, h))
    return parseFair(text)
  }

  records(q) {
    const query = nativeQuery(q)
    const paging = {
      maxRecords: optNumber(q, 'maxRecords'),
      prefetchPages: optNumber(q, 'prefetchPages'),
      strict: optBoolean(q, 'strict'),
    }
    const signal = checkSignal(q.signal)
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
        if (err.code === 'KNACK_ABORTED' && signal) throw abortedError(signal, err)
        throw err
      }
    })
  }

  async getAllRecords(q) {
    const it = this.records(q)
    const all = []
    for await (const r of it) all.push(r)
    Object.defineProperty(all, 'summary', { value: it.summary, enumerable: false })
    return all
  }

  async getRecord(args) {
    const [scene, view] = viewArgs(args, 'getRecord()')
    const id = requireString(args, 'id')
    const text = await call(args.signal, (h) => this.#native.getRecord(scene, view, id, h))
    return JSON.parse(text)
  }

  async createRecord(args) {
    const [scene, view] = viewArgs(args, 'createRecord()')
    const data = dataText(args)
    const text = await call(args.signal, (h) => this.#native.createRecord(scene, view, data, h))
    return JSON.parse(text)
  }

  async updateRecord(args) {
    const [scene, view] = viewArgs(args, 'updateRecord()')
    const id = requireString(args, 'id')
    const data = dataText(args)
    const text = await call(args.signal, (h) => this.#native.updateRecord(scene, view, id, data, h))
    return JSON.parse(text)
  }

  async deleteRecord(args) {
    const [scene, view] = viewArgs(args, 'deleteRecord()')
    const id = requireString(args, 'id')
    await call(args.signal, (h) => this.#native.deleteRecord(scene, view, id, h))
  }

  /** Counters and limits of this app's shared transport (requests, retries, 429s, queue, plan). */
  stats() {
    return this.#native.stats()
  }

  /** Create many records through a form view. Results come back in input order. */
  createRecords(args) {
    const [scene, view] = viewArgs(args, 'createRecords()')
    if (!Array.isArray(args.records)) throw invalid('records must be an array of field-value objects')
    return this.#bulk(args, args.records, (item, h) => {
      if (!isObject(item)) throw invalid('each record must be an object of field values')
      return this.#native.createRecord(scene, view, JSON.stringify(item), h).then(JSON.parse)
    })
  }

  /** Update many records: `records` is `[{ id, data }]`. */
  updateRecords(args) {
    const [scene, view] = viewArgs(args, 'updateRecords()')
    if (!Array.isArray(args.records)) throw invalid('records must be an array of { id, data }')
    return this.#bulk(args, args.records, (item, h) => {
      if (!isObject(item) || typeof item.id !== 'string' || !isObject(item.data)) {
        throw invalid('each item must be { id, data }')
      }
      return this.#native.updateRecord(scene, view, item.id, JSON.stringify(item.data), h).then(JSON.parse)
    })
  }

  /** Delete many records by id. */
  deleteRecords(args) {
    const [scene, view] = viewArgs(args, 'deleteRecords()')
    if (!Array.isArray(args.ids)) throw invalid('ids must be an array of record ids')
    return this.#bulk(args, args.ids, (id, h) => {
      if (typeof id !== 'string') throw invalid('each id must be a string')
      return this.#native.deleteRecord(scene, view, id, h).then(() => ({ id }))
    })
  }

  async #bulk(args, items, one) {
    const concurrency = optNumber(args, 'concurrency') ?? 4
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw invalid('concurrency must be a whole number from 1 to 64')
    }
    const reserve = optNumber(args, 'reserve') ?? 0
    if (!Number.isInteger(reserve) || reserve < 0) throw invalid('reserve must be a whole number of calls')
    const onProgress = args.onProgress
    if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid('onProgress must be a function')
    const signal = checkSignal(args.signal)
    const { handle, dispose } = link(signal, CancelHandle)
    const results = new Array(items.length)
    const progress = { done: 0, total: items.length, succeeded: 0, failed: 0, notAttempted: 0 }
    let stop = null
    let next = 0
    const report = () => {
      if (onProgress) {
        try {
          onProgress({ ...progress })
        } catch {
          // a throwing progress callback must not break the batch
        }
      }
    }
    const skip = (i, error) => {
      results[i] = { ok: false, attempted: false, error }
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
            )
          }
        }
        if (stop) {
          skip(i, stop)
          report()
          continue
        }
        try {
          const value = await one(items[i], handle)
          results[i] = { ok: true, record: value }
          progress.succeeded++
        } catch (e) {
          const error = fromNative(e)
          const attempted = (error.attempts ?? 0) > 0
          results[i] = { ok: false, attempted, error }
          progress.failed++
          if (error.code === 'KNACK_DAILY_LIMIT' || error.code === 'KNACK_ABORTED') stop = stop ?? error
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
