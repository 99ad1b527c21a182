'use strict'
// Token stores. Each keeps sealed (AES-256-GCM) session records under session ids; the
// I/O and the crypto run in Rust. Any object with async get(id), set(id, value, ttlMs) and
// delete(id) is a store too (give `secret` in the session options then).

const { NativeMemoryStore, NativeFileStore, NativeRedisStore, Sealer } = require('./native')
const { mapNative, invalid } = require('./errors')
const { storeOptions } = require('./options')

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

class NativeBackedStore {
  #native

  constructor(native, sealer) {
    this.#native = native
    SEALERS.set(this, sealer)
  }

  /** The sealed record stored under `id`, or null. */
  get(id) {
    return wrap(this.#native.get(String(id)))
  }

  set(id, value, ttlMs) {
    return wrap(this.#native.set(String(id), String(value), Number(ttlMs)))
  }

  delete(id) {
    return wrap(this.#native.delete(String(id)))
  }

  get native() {
    return this.#native
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
    opts = storeOptions('MemoryStore', opts)
    const native = construct(() => new NativeMemoryStore(opts.maxEntries))
    const sealer = opts.secret === undefined ? Sealer.random() : makeSealer(opts.secret, 'MemoryStore')
    super(native, sealer)
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
    opts = storeOptions('FileStore', opts)
    const sealer = makeSealer(opts.secret, 'FileStore')
    const native = construct(() => new NativeFileStore(opts.dir))
    super(native, sealer)
  }

  /** Remove expired session files now. */
  sweep() {
    return wrap(this.native.sweep())
  }

  get [Symbol.toStringTag]() {
    return 'FileStore'
  }
}

/** Several processes or hosts: `redis://[:password@]host:port[/db]`. */
class RedisStore extends NativeBackedStore {
  constructor(opts) {
    opts = storeOptions('RedisStore', opts)
    const sealer = makeSealer(opts.secret, 'RedisStore')
    const native = construct(() => new NativeRedisStore(opts.url, opts.prefix))
    super(native, sealer)
    REDIS_CONFIG.set(this, Object.freeze({ url: opts.url, prefix: opts.prefix }))
  }

  get [Symbol.toStringTag]() {
    return 'RedisStore'
  }
}

const customSealers = new Map()

/** The sealer for a store: its own, or one from `secret` for a custom store. */
function sealerFor(store, secret) {
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

/** `{ url, prefix }` of a RedisStore (for sharing the rate limit through it), else null. */
function redisConfigOf(store) {
  return REDIS_CONFIG.get(store) ?? null
}

module.exports = { MemoryStore, FileStore, RedisStore, sealerFor, checkStore, redisConfigOf }
