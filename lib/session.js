'use strict'
// The KnackSession facade: checks arguments (through lib/options.js), links AbortSignals,
// and hands each call to Rust; record data is parsed in lib/records.js, bulk calls run in
// lib/bulk.js, native errors become KnackError through mapNative (lib/errors.js). All HTTP,
// retry, rate and token logic lives in Rust.

const util = require('node:util')
const { NativeSession, CancelHandle, isSessionId, checkSessionOptions } = require('./native')
const { sealerFor } = require('./stores')
const codes = require('./codes')
const { KnackError, mapNative, invalid } = require('./errors')
const { checkSignal, link } = require('./signal')
const { sessionOptions, appSchemaOptions, callArgs } = require('./options')
const { nativeOptions, nativeQuery, nativeView } = require('./native-args')
const { storeOf, storeError, saveSession, readSession, dropExpired } = require('./saved')
const { RecordIterator, openRecords, parsePage, parseRecord } = require('./records')
const bulk = require('./bulk')
const files = require('./files')
const { watcher } = require('./diagnostics')
const { reportStoreError } = require('./callbacks')

const INTERNAL = Symbol('knack-session.internal')

/**
 * Run a native async call with the caller's AbortSignal, observed for `watch` (the session's
 * watcher, see lib/diagnostics.js) and diagnostics_channel; map errors to KnackError.
 */
async function call(signal, fn, watch = null) {
  const s = checkSignal(signal)
  const { handle, dispose } = link(s, CancelHandle, watch)
  try {
    return await fn(handle)
  } catch (e) {
    throw mapNative(e, s)
  } finally {
    dispose()
    // A service session that logged in again during the call has its new token saved
    // before the call resolves (never failing the call: a store error goes to onStoreError).
    if (watch && watch.onLogin) await watch.onLogin()
  }
}

class KnackSession {
  #native
  #info
  #store
  #secret
  #maxPayloadBytes
  #watch = null
  #onStoreError
  #renewalsSeen = 0
  #saving = Promise.resolve()
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
    this.#onStoreError = opts.onStoreError
    this.#watch = opts.watch ?? watcher(opts.logger, opts.logLevel)
  }

  /**
   * Log in with email and password. The session is saved in `store` (default: an in-process
   * MemoryStore) before this resolves; if saving fails, login fails and nothing is kept.
   */
  static async login(opts) {
    const o = sessionOptions(opts, 'login')
    const store = storeOf(o.store)
    const sealer = sealerFor(store, o.secret)
    const watch = watcher(o.logger, o.logLevel)
    const n = await call(o.signal, (h) => NativeSession.login(o.native, o.email, o.password, h), watch)
    const session = new KnackSession(INTERNAL, n, store, { ...o, watch })
    await session.#save(sealer)
    return session
  }

  /**
   * A service session (README "Background jobs"): a job or server acting as one Knack user.
   * Logs in now (or goes on with the token `store` kept for this user, when it is not about
   * to expire), then logs in again by itself before the token expires and whenever Knack
   * refuses it: one login for all the calls that need it, and only calls Knack refused are
   * sent again. With a `store`, every new token is saved there for the next process.
   */
  static async service(opts) {
    const o = sessionOptions(opts, 'service')
    const store = o.store === undefined ? null : storeOf(o.store)
    const sealer = store ? sealerFor(store, o.secret) : null
    const id = sealer ? sealer.serviceId(o.native.appId, o.email) : null
    /** @type {KnackSession | null} */
    let session = null
    const watch = watcher(o.logger, o.logLevel, () => session?.#renewed())
    const stored = store ? await readSession(store, sealer, id, o) : null
    const n = await call(o.signal, (h) => NativeSession.service(o.native, id, o.email, o.password, stored, h), watch)
    session = new KnackSession(INTERNAL, n, store, { ...o, watch })
    if (sealer) await session.#save(sealer)
    return session
  }

  /**
   * After a service session's call or login event: if it logged in again since last seen,
   * take its new token's expiry and save it (when it has a store). Resolves when saved; a
   * store error goes to onStoreError, never to the call.
   */
  #renewed() {
    const n = this.#native.renewals()
    if (this.#loggedOut || n === this.#renewalsSeen) return this.#saving
    this.#renewalsSeen = n
    this.#info = this.#native.info()
    if (!this.#store) return this.#saving
    const sealer = sealerFor(this.#store, this.#secret)
    this.#saving = this.#saving.then(() => this.#save(sealer)).catch((e) => reportStoreError(this.#onStoreError, e))
    return this.#saving
  }

  /** Logins a service session made after its first (0 for other sessions). */
  get renewals() {
    return this.#native.renewals()
  }

  async #save(sealer) {
    await saveSession(this.#store, sealer, this.#native, this.#info)
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
    try {
      checkSessionOptions(o.native)
    } catch (e) {
      throw mapNative(e)
    }
    const store = storeOf(o.store)
    const sealer = sealerFor(store, o.secret)
    if (!isSessionId(id)) return null
    const n = await readSession(store, sealer, id, o)
    if (n === null) return null
    const session = new KnackSession(INTERNAL, n, store, o)
    if (session.expired) {
      await dropExpired(store, id, o.onStoreError)
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
      throw mapNative(e)
    }
    return new KnackSession(INTERNAL, n, store, o)
  }

  #loggedOutError() {
    return new KnackError(codes.UNAUTHORIZED, 'this session was logged out', { attempts: 0, outcome: 'not-sent' })
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

  /** Checked arguments, with this session's watcher for the calls they go to. */
  #args(name, args, ctx) {
    const a = callArgs(name, args, ctx)
    a.watch = this.#watch
    return a
  }

  /** What payload checks need: the cap on JSON bodies and filters. */
  #ctx() {
    return { maxPayloadBytes: this.#maxPayloadBytes }
  }

  /**
   * The app's schema (objects, fields, scenes, views, timezone), from metadata cached per app
   * for 10 minutes: `{ signal?, refresh? }`.
   */
  async schema(opts = {}) {
    const a = this.#args('schema', opts)
    return JSON.parse(await call(a.signal, (h) => this.#native.schema(a.refresh === true, h), this.#watch))
  }

  /** An app's schema without logging in (its metadata is public): `{ appId, baseUrl?, signal?, refresh?, ... }`. */
  static async schema(opts) {
    const o = appSchemaOptions(opts)
    return JSON.parse(await call(o.signal, (h) => NativeSession.appSchema(o.native, o.refresh, h)))
  }

  async validate(opts = {}) {
    const a = this.#args('validate', opts)
    const text = await call(a.signal, (h) => this.#native.validate(h), this.#watch)
    this.#info = this.#native.info()
    return JSON.parse(text)
  }

  async getRecords(q) {
    const a = this.#args('getRecords', q, this.#ctx())
    const text = await call(a.signal, (h) => this.#native.getRecords(nativeQuery(a), h), this.#watch)
    return parsePage(text, a.shape)
  }

  records(q) {
    return this.#records('records', q)
  }

  #records(name, q) {
    return openRecords(this.#native, this.#args(name, q, this.#ctx()))
  }

  async getAllRecords(q) {
    const it = this.#records('getAllRecords', q)
    const all = []
    for await (const r of it) all.push(r)
    Object.defineProperty(all, 'summary', { value: it.summary, enumerable: false })
    return all
  }

  async getRecord(args) {
    const a = this.#args('getRecord', args)
    const text = await call(a.signal, (h) => this.#native.getRecord(nativeView(a), a.id, h), this.#watch)
    return parseRecord(text, a.shape)
  }

  async createRecord(args) {
    const a = this.#args('createRecord', args, this.#ctx())
    return this.#write(a, (data, h) => this.#native.createRecord(nativeView(a), data, h))
  }

  async updateRecord(args) {
    const a = this.#args('updateRecord', args, this.#ctx())
    return this.#write(a, (data, h) => this.#native.updateRecord(nativeView(a), a.id, data, h))
  }

  /** A write, after uploading its `files` (their asset ids go into `data`). */
  async #write(a, send) {
    if (!a.files) return parseRecord(await call(a.signal, (h) => send(a.data, h), this.#watch), a.shape)
    const { data, assets } = await files.uploadFiles(this.#native, a)
    try {
      return parseRecord(await call(a.signal, (h) => send(data, h), this.#watch), a.shape)
    } catch (e) {
      throw files.withAssets(e, assets)
    }
  }

  /**
   * Upload a file or image: `{ file, filename?, contentType?, kind?, maxBytes?, timeoutMs?,
   * onProgress?, signal? }` -> `{ id, type, filename, publicUrl, thumbUrl, size }`.
   */
  async uploadFile(args) {
    return files.uploadFile(this.#native, this.#args('uploadFile', args))
  }

  /**
   * Download a file or image (a file field's raw value, an upload's answer, `{ id, filename }`
   * or a URL) `{ to: path | Writable, signal? }` -> `{ bytes, contentType, filename }`.
   */
  async downloadFile(asset, opts) {
    return files.downloadFile(this.#native, asset, this.#args('downloadFile', opts))
  }

  /** A report view: `{ scene, view, report?, filters?, parentRecordId?, signal? }`. */
  async getReport(args) {
    return files.getReport(this.#native, this.#args('getReport', args, this.#ctx()), call)
  }

  async deleteRecord(args) {
    const a = this.#args('deleteRecord', args)
    await call(a.signal, (h) => this.#native.deleteRecord(nativeView(a), a.id, h), this.#watch)
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
    return bulk.createRecords(this.#native, this.#args('createRecords', args), this.#ctx())
  }

  /** Update many records: `records` is `[{ id, data }]`. */
  async updateRecords(args) {
    return bulk.updateRecords(this.#native, this.#args('updateRecords', args), this.#ctx())
  }

  /** Delete many records by id. */
  async deleteRecords(args) {
    return bulk.deleteRecords(this.#native, this.#args('deleteRecords', args), this.#ctx())
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
