'use strict'
// Token stores. Each keeps sealed (AES-256-GCM) session records under session ids; the
// I/O and the crypto run in Rust. Any object with async get(id), set(id, value, ttlMs) and
// delete(id) is a store too (give `secret` in the session options then).

const { NativeMemoryStore, NativeFileStore, NativeRedisStore, Sealer } = require('./native')
const { mapNative, invalid } = require('./errors')
const { storeOptions, redisTargetOf } = require('./options')

// Module-private: a store's sealer, and a RedisStore's URL (it may hold a password) and
// prefix. Kept out of the objects, so util.inspect (even with showHidden) and JSON show none.
const SEALERS = new WeakMap()
const REDIS_CONFIG = new WeakMap()

function secrets(secret, who) {
  const list = Array.isArray(secret) ? secret : [secret]
  if (list.length === 0 || list.some((s) => typeof s !== 'string')) {
    throw invalid(`${who} needs secret: a string of at least 32 characters (or an array of them, newest first)`)
  }
  return list
}

function makeSealer(secret, who) {
  try {
    return new Sealer(secrets(secret, who))
  } catch (e) {
    throw mapNative(e)
  }
}

function wrap(promise) {
  return promise.catch((e) => {
    throw mapNative(e)
  })
}

/**
 * The required options of `kind` that are missing (undefined or null): typically environment
 * variables that are not set while `next build` imports the module that makes the store.
 */
function missingRequired(kind, opts) {
  const required = kind === 'FileStore' ? ['dir', 'secret'] : kind === 'RedisStore' ? ['url', 'secret'] : []
  if (opts === null || typeof opts !== 'object') return []
  return required.filter((k) => opts[k] === undefined || opts[k] === null)
}

/**
 * A store over a native one. Its options are checked when it is made, except that a store
 * whose required options are missing is made anyway and fails its first use (get, set,
 * delete, or a session that names it) with KNACK_INVALID_ARGUMENT naming them: importing a
 * module that builds `new RedisStore({ url: process.env.REDIS_URL, ... })` needs no secrets.
 */
class NativeBackedStore {
  #state = null
  #kind
  #missing

  constructor(kind, opts, make) {
    this.#kind = kind
    this.#missing = missingRequired(kind, opts)
    if (this.#missing.length > 0) {
      // Everything given is still checked now (unknown keys, types, a short secret).
      const given = Object.fromEntries(Object.entries(opts).filter(([k]) => !this.#missing.includes(k)))
      storeOptions(kind, given, { partial: true })
      return
    }
    this.#state = make(storeOptions(kind, opts))
    SEALERS.set(this, this.#state.sealer)
  }

  /** The native store and sealer; a store made without its required options throws here. */
  ready() {
    if (this.#state) return this.#state
    throw invalid(`${this.#kind} needs ${this.#missing.join(' and ')}, which ${this.#missing.length > 1 ? 'were' : 'was'} not given when it was made (is the environment variable set?)`)
  }

  /** The sealed record stored under `id`, or null. */
  get(id) {
    return Promise.resolve().then(() => wrap(this.ready().native.get(String(id))))
  }

  set(id, value, ttlMs) {
    return Promise.resolve().then(() => wrap(this.ready().native.set(String(id), String(value), Number(ttlMs))))
  }

  delete(id) {
    return Promise.resolve().then(() => wrap(this.ready().native.delete(String(id))))
  }

  get native() {
    return this.ready().native
  }
}

/** A native store, its errors as KnackError. */
function construct(make) {
  try {
    return make()
  } catch (e) {
    throw mapNative(e)
  }
}

/** In this process only (the default). Bounded; entries expire with their tokens. */
class MemoryStore extends NativeBackedStore {
  constructor(opts) {
    super('MemoryStore', opts ?? {}, (o) => ({
      native: construct(() => new NativeMemoryStore(o.maxEntries)),
      sealer: o.secret === undefined ? Sealer.random() : makeSealer(o.secret, 'MemoryStore'),
    }))
  }

  /** Live entries. */
  get size() {
    return this.native.size
  }

  get [Symbol.toStringTag]() {
    return 'MemoryStore'
  }
}

/** One host: a directory of private (0600) files, written atomically. Survives restarts. */
class FileStore extends NativeBackedStore {
  constructor(opts) {
    super('FileStore', opts, (o) => {
      const sealer = makeSealer(o.secret, 'FileStore')
      return { sealer, native: construct(() => new NativeFileStore(o.dir)) }
    })
  }

  /** Remove expired session files now. */
  sweep() {
    return Promise.resolve().then(() => wrap(this.native.sweep()))
  }

  get [Symbol.toStringTag]() {
    return 'FileStore'
  }
}

/**
 * Several processes or hosts: `redis://[:password@]host:port[/db]`, `rediss://` (TLS, with the
 * system's trust store plus `ca`), `unix://`, a Redis Cluster (`url`: its seed nodes,
 * `cluster: true`), or a primary found through Redis Sentinel (`url`: the sentinels,
 * `sentinel: { name, password? }`).
 */
class RedisStore extends NativeBackedStore {
  constructor(opts) {
    let config = null
    super('RedisStore', opts, (o) => {
      const sealer = makeSealer(o.secret, 'RedisStore')
      const target = Object.freeze(redisTargetOf(o))
      const native = construct(() => new NativeRedisStore(target, o.prefix))
      config = Object.freeze({ target, prefix: o.prefix })
      return { sealer, native }
    })
    if (config) REDIS_CONFIG.set(this, config)
  }

  get [Symbol.toStringTag]() {
    return 'RedisStore'
  }
}

const customSealers = new Map()

/** The sealer for a store: its own, or one from `secret` for a custom store. */
function sealerFor(store, secret) {
  if (store instanceof NativeBackedStore) return store.ready().sealer
  const own = SEALERS.get(store)
  if (own) return own
  if (secret === undefined) {
    throw invalid('a custom store needs `secret` (at least 32 characters) in the session options')
  }
  const key = JSON.stringify(secrets(secret, 'a custom store'))
  let s = customSealers.get(key)
  if (!s) {
    s = makeSealer(secret, 'a custom store')
    customSealers.set(key, s)
  }
  return s
}

function checkStore(store) {
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    throw invalid('store must have async get(id), set(id, value, ttlMs) and delete(id)')
  }
  return store
}

/** `{ target, prefix }` of a RedisStore (for sharing the rate limit through it), else null. */
function redisConfigOf(store) {
  if (store instanceof RedisStore) store.ready()
  return REDIS_CONFIG.get(store) ?? null
}

module.exports = { MemoryStore, FileStore, RedisStore, sealerFor, checkStore, redisConfigOf }
