'use strict'
// Option checking in one place: every entry point (sessions, queries, bulk calls, stores,
// the Express middleware, the Next helper) checks its options' keys and types here, so a
// misspelt key or a value of the wrong type is a KNACK_INVALID_ARGUMENT with the same
// wording everywhere.
//
// A spec maps each accepted key to a rule `{ check(value, key, ctx), required? }`. `parse()`
// refuses unknown keys (with a "did you mean" hint), treats undefined and null as "not
// given", runs each rule once and returns the checked values. The Rust side checks what only
// it can (scene/view/record id syntax, filter rules, URLs, secret strength).

const { KnackError, invalid, messageOf } = require('./errors')
const { checkSignal } = require('./signal')

/** Edit distance (Levenshtein), for "did you mean" hints. */
function distance(a, b) {
  a = a.toLowerCase()
  b = b.toLowerCase()
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]
}

/** Singular of a plural-looking word ("retries" -> "retry", "ids" -> "id"), for comparing. */
function stem(word) {
  return word.replace(/ies$/i, 'y').replace(/s$/i, '')
}

/**
 * The known key closest to `key`, if close enough to be a likely typo (a small edit
 * distance, ignoring case and plurals), or else one that `key` is the start or an
 * extension of ("prefetch" -> "prefetchPages", "warning" -> "warn").
 */
function closest(key, known) {
  let best = null
  let bestD = Infinity
  for (const k of known) {
    const d = Math.min(distance(key, k), distance(stem(key), stem(k)))
    if (d < bestD) {
      best = k
      bestD = d
    }
  }
  if (best !== null && bestD <= Math.max(2, Math.floor(key.length / 3))) return best
  const lower = key.toLowerCase()
  for (const k of known) {
    const kl = k.toLowerCase()
    if ((lower.length >= 4 && kl.startsWith(lower)) || (kl.length >= 4 && lower.startsWith(kl))) return k
  }
  return null
}

/**
 * Refuse keys of `obj` that are not in `known` (an iterable of key names), with a
 * "did you mean" hint. `where` names the options in the message, e.g. 'getRecords() options'.
 */
function checkKeys(obj, known, where) {
  const list = [...known]
  for (const key of Object.keys(obj)) {
    if (list.includes(key)) continue
    const hint = closest(key, list)
    throw invalid(`${where}: unknown option "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`)
  }
}

// ---------------------------------------------------------------------------------------
// Rules

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const rule = (check) => ({ check })
const required = (r) => ({ ...r, required: true })

const string = rule((v, key) => {
  if (typeof v !== 'string') throw invalid(`${key} must be a string`)
  return v
})

const nonEmptyString = rule((v, key) => {
  if (typeof v !== 'string' || v === '') throw invalid(`${key} must be a non-empty string`)
  return v
})

const boolean = rule((v, key) => {
  if (typeof v !== 'boolean') throw invalid(`${key} must be true or false`)
  return v
})

const func = rule((v, key) => {
  if (typeof v !== 'function') throw invalid(`${key} must be a function`)
  return v
})

const signal = rule((v) => checkSignal(v))

/**
 * A number for the core: its bounds are the core's (constants on the core types, checked by
 * the binding), so JS checks only that it is a number.
 */
const number = rule((v, key) => {
  if (typeof v !== 'number') throw invalid(`${key} must be a whole number, got ${describe(v)}`)
  return v
})

/** A whole number in [min, max] (max defaults to Number.MAX_SAFE_INTEGER): for options only JS uses. */
function whole(min, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`
  return rule((v, key) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw invalid(`${key} must be a whole number ${range}, got ${describe(v)}`)
    }
    return v
  })
}

function oneOf(values) {
  return rule((v, key) => {
    if (!values.includes(v)) {
      const hint = typeof v === 'string' ? closest(v, values) : null
      throw invalid(
        `${key} must be ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}${hint ? ` (did you mean "${hint}"?)` : ''}`,
      )
    }
    return v
  })
}

function describe(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v)
  if (typeof v === 'bigint') return `${v}n`
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

// ---------------------------------------------------------------------------------------
// JSON payloads (data, filters): serialised here, so nothing JSON cannot carry reaches Rust.

/** How deeply `data` (and `filters`) may nest: the record object itself is level 1. */
const MAX_PAYLOAD_DEPTH = 64
/** Default `maxPayloadBytes`: the largest JSON body (or filters text) sent, in UTF-8 bytes. */
const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024

/**
 * JSON text of `value`, refused with KNACK_INVALID_ARGUMENT naming `what` when it is not
 * faithfully serialisable (circular, BigInt, Symbol values, throwing getters, Proxies or
 * toJSON), nested deeper than 64 levels, or over `maxBytes` UTF-8 bytes. Strings are
 * measured while serialising, so a huge one is refused before its JSON is built.
 */
function jsonText(value, what, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES, { dates = false } = {}) {
  const depths = new Map()
  let chars = 0
  const tooLarge = () =>
    invalid(`${what} is larger than maxPayloadBytes (${maxBytes} bytes of JSON); raise maxPayloadBytes or send less`)
  function replacer(key, v) {
    // Writes by label: a Date crosses as its instant, for Rust to write in the field's format.
    if (dates && this[key] instanceof Date) return { $date: this[key].getTime() }
    switch (typeof v) {
      case 'string':
        chars += v.length
        if (chars > maxBytes) throw tooLarge()
        return v
      case 'bigint':
        throw invalid(`${what}: a BigInt (at "${key}") cannot be sent as JSON; use a number or a string`)
      case 'symbol':
        throw invalid(`${what}: a Symbol (at "${key}") cannot be sent as JSON`)
      case 'object':
        if (v !== null) {
          const depth = (depths.get(this) ?? 0) + 1
          if (depth > MAX_PAYLOAD_DEPTH) throw invalid(`${what} is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`)
          depths.set(v, depth)
        }
        return v
      default:
        return v
    }
  }
  let text
  try {
    text = JSON.stringify(value, replacer)
  } catch (e) {
    if (e instanceof KnackError) throw e
    if (e instanceof RangeError) throw invalid(`${what} is too large to serialise as JSON`, e)
    const msg = messageOf(e)
    if (e instanceof TypeError && /circular/i.test(msg)) throw invalid(`${what} has a circular reference`, e)
    throw invalid(`${what} could not be serialised as JSON: ${msg}`, e)
  }
  if (typeof text !== 'string') throw invalid(`${what} could not be serialised as JSON`)
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) throw tooLarge()
  return text
}

/**
 * `data`: an object of field values, as JSON text (ctx.maxPayloadBytes). With
 * `shape: 'labels'` (ctx.labels) its Dates cross as `{ $date: ms }`.
 */
const data = rule((v, key, ctx) => {
  if (!isObject(v)) throw invalid(`${key} must be an object of field values, e.g. { field_1: "x" }`)
  return jsonText(v, key, ctx.maxPayloadBytes, { dates: ctx.labels === true })
})

/** `shape`: the keys records come back (or writes go) with. */
const shape = oneOf(['fields', 'labels'])

/** `fields`: a projection, field keys or labels (the core checks them against the schema). */
const fieldList = rule((v, key) => {
  if (!Array.isArray(v)) throw invalid(`${key} must be an array of field keys or labels, e.g. ['field_1', 'Subject']`)
  v.forEach((f, i) => {
    if (typeof f !== 'string' || f === '') throw invalid(`${key}[${i}] must be a field key or a label (a non-empty string), got ${describe(f)}`)
  })
  return [...v]
})

/** `filters`: `{ match, rules }`, an array of rules, or JSON text of either; as JSON text. */
const filters = rule((v, key, ctx) => {
  if (typeof v === 'string') {
    if (Buffer.byteLength(v, 'utf8') > (ctx.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES)) {
      throw invalid(`${key} is larger than maxPayloadBytes`)
    }
    return v
  }
  if (typeof v !== 'object') throw invalid(`${key} must be { match, rules } or an array of rules`)
  return jsonText(v, key, ctx.maxPayloadBytes)
})

// ---------------------------------------------------------------------------------------
// Session options

function lazyStores() {
  // Required on use: stores.js requires this module.
  return require('./stores')
}

const store = rule((v, key) => {
  if (
    typeof v !== 'object' ||
    typeof v.get !== 'function' ||
    typeof v.set !== 'function' ||
    typeof v.delete !== 'function'
  ) {
    throw invalid(`${key} must have async get(id), set(id, value, ttlMs) and delete(id)`)
  }
  return v
})

const secret = rule((v, key) => {
  const list = Array.isArray(v) ? v : [v]
  if (list.length === 0 || list.some((s) => typeof s !== 'string')) {
    throw invalid(`${key} must be a string of at least 32 characters (or an array of them, newest first)`)
  }
  return v
})

const RATE_LIMIT_SPEC = {
  perSecond: number,
  redis: rule((v, key) => {
    if (typeof v === 'string') return { target: redisTarget({ url: v }, key) }
    const cfg = typeof v === 'object' && v !== null ? lazyStores().redisConfigOf(v) : null
    if (cfg) return cfg
    if (isObject(v) && typeof v.get !== 'function') return { target: redisTarget(v, key) }
    throw invalid(`${key} must be a Redis URL, { url, cluster?, sentinel?, ca? } or a RedisStore`)
  }),
  prefix: string,
}

/**
 * rateLimit: false (off) | true/absent (default) | { perSecond?, redis?, prefix? }, in the
 * same shape for the binding; a RedisStore given as `redis` becomes its URL and prefix.
 */
const rateLimit = rule((v) => {
  if (typeof v === 'boolean') return v
  if (!isObject(v)) throw invalid('rateLimit must be false or { perSecond?, redis?, prefix? }')
  const rl = parse(v, RATE_LIMIT_SPEC, 'rateLimit', {}, 'rateLimit.')
  const out = { perSecond: rl.perSecond }
  if (rl.redis) {
    out.redis = rl.redis.target
    out.prefix = rl.prefix ?? rl.redis.prefix
  }
  return out
})

/**
 * ca: extra CA certificates as PEM, a string, Buffer or Uint8Array, or an array of them (as
 * Node's `tls` takes it), joined into one PEM text for the core, which checks the content.
 */
const MAX_CA_BYTES = 4 << 20
const ca = rule((v, key) => {
  const one = (x, where) => {
    if (typeof x === 'string') return x
    if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('latin1')
    throw invalid(`${where} must be PEM text: a string, a Buffer or an array of them`)
  }
  const parts = Array.isArray(v) ? v.map((x, i) => one(x, `${key}[${i}]`)) : [one(v, key)]
  const text = parts.join('\n')
  if (text.length > MAX_CA_BYTES) throw invalid(`${key} is over ${MAX_CA_BYTES} bytes`)
  return text
})

/**
 * A Redis: `url` is one URL (redis://, rediss:// for TLS, unix://) or, with `cluster: true`
 * or `sentinel`, a Redis Cluster's seed nodes or the sentinels (an array of URLs); `ca` as for
 * HTTPS. Which combinations are accepted is the core's rule (RedisTarget::new); here only the
 * types.
 */
const redisUrl = rule((v, key) => {
  const list = Array.isArray(v) ? v : [v]
  if (list.length === 0 || list.some((u) => typeof u !== 'string' || u === '')) {
    throw invalid(`${key} must be a Redis URL (redis://, rediss:// or unix://) or, for a cluster or Sentinel, an array of them`)
  }
  return list
})
/** sentinel: the primary's name in Sentinel, or { name, username?, password?, db? }. */
const SENTINEL_SPEC = { name: required(nonEmptyString), username: string, password: string, db: whole(0) }
const sentinel = rule((v, key) => {
  if (typeof v !== 'string' && !isObject(v)) throw invalid(`${key} must be the primary's name in Sentinel or { name, username?, password?, db? }`)
  return parse(typeof v === 'string' ? { name: v } : v, SENTINEL_SPEC, key, {}, `${key}.`)
})
const REDIS_TARGET_SPEC = { url: required(redisUrl), cluster: boolean, sentinel, ca }

/** The binding's `{ urls, cluster?, sentinel?, ca? }` from options checked by REDIS_TARGET_SPEC. */
function redisTargetOf(o) {
  return { urls: o.url, cluster: o.cluster, sentinel: o.sentinel, ca: o.ca }
}

function redisTarget(v, where) {
  return redisTargetOf(parse(v, REDIS_TARGET_SPEC, where, {}, `${where}.`))
}

/** Every session option (login, fromToken, restore, the middleware and the Next helper). */
const SESSION_SPEC = {
  appId: required(nonEmptyString),
  baseUrl: string,
  timeoutMs: number,
  deadlineMs: number,
  retries: number,
  rateLimit,
  proxy: string,
  ca,
  maxBodyBytes: number,
  maxPayloadBytes: whole(1),
  remember: boolean,
  store,
  secret,
  onStoreError: func,
  logger: rule((v, key) => {
    const missing = ['debug', 'info', 'warn', 'error'].filter((m) => v === null || (typeof v !== 'object' && typeof v !== 'function') || typeof v[m] !== 'function')
    if (missing.length > 0) throw invalid(`${key} must have debug, info, warn and error methods (e.g. a pino logger); missing: ${missing.join(', ')}`)
    return v
  }),
  logLevel: oneOf(['debug', 'info', 'warn', 'error', 'off']),
}

/** The keys of every session option; the middleware accepts these plus its own. */
const SESSION_OPTION_KEYS = Object.freeze(Object.keys(SESSION_SPEC))

const LOGIN_SPEC = {
  ...SESSION_SPEC,
  email: required(nonEmptyString),
  password: required(nonEmptyString),
  signal,
}

/** Native option fields, in the shape NativeOptions declares (nothing else crosses). */
function nativeFields(o) {
  return {
    appId: o.appId,
    baseUrl: o.baseUrl,
    timeoutMs: o.timeoutMs,
    deadlineMs: o.deadlineMs,
    retries: o.retries,
    rateLimit: o.rateLimit,
    proxy: o.proxy,
    ca: o.ca,
    maxBodyBytes: o.maxBodyBytes,
    remember: o.remember,
  }
}

/**
 * Session options of `where` ('login' | 'service' | 'fromToken' | 'restore') checked. Returns
 * `{ native, store, secret, onStoreError, maxPayloadBytes, email?, password?, signal? }`.
 */
function sessionOptions(opts, where) {
  const label = `KnackSession.${where}() options`
  if (!isObject(opts)) throw invalid(`${label} must be an object with at least appId`)
  const o = parse(opts, where === 'login' || where === 'service' ? LOGIN_SPEC : SESSION_SPEC, label)
  return {
    native: nativeFields(o),
    store: o.store,
    secret: o.secret,
    onStoreError: o.onStoreError,
    maxPayloadBytes: o.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    logger: o.logger,
    logLevel: o.logLevel ?? 'info',
    email: o.email,
    password: o.password,
    signal: o.signal ?? null,
  }
}

// ---------------------------------------------------------------------------------------
// Calls on a session

// Every call on a view takes the parent record of a child page (`?{scene_slug}_id=`).
const VIEW = { scene: required(nonEmptyString), view: required(nonEmptyString), parentRecordId: string, signal }

const QUERY_SPEC = {
  ...VIEW,
  page: number,
  rowsPerPage: number,
  filters,
  sortField: string,
  sortOrder: oneOf(['asc', 'desc']),
  format: oneOf(['raw', 'html', 'both']),
  shape,
  fields: fieldList,
}

const PAGING_SPEC = {
  ...QUERY_SPEC,
  maxRecords: number,
  prefetchPages: number,
  strict: boolean,
}

const array = rule((v, key) => {
  if (!Array.isArray(v)) throw invalid(`${key} must be an array`)
  return v
})

const BULK = { ...VIEW, shape, concurrency: whole(1, 64), reserve: number, onProgress: func }

/** An upload's source: a path, a Buffer/Uint8Array, a Blob, a Node Readable or a web ReadableStream. */
const uploadSource = rule((v, key) => {
  const ok =
    (typeof v === 'string' && v !== '') ||
    v instanceof Uint8Array ||
    (typeof Blob !== 'undefined' && v instanceof Blob) ||
    (v !== null && typeof v === 'object' && (typeof v.getReader === 'function' || (typeof v.pipe === 'function' && typeof v[Symbol.asyncIterator] === 'function')))
  if (!ok) throw invalid(`${key} must be a file path, a Buffer or Uint8Array, a Blob, a Node Readable or a web ReadableStream, got ${describe(v)}`)
  return v
})

const UPLOAD_SPEC = {
  file: required(uploadSource),
  filename: nonEmptyString,
  contentType: nonEmptyString,
  kind: oneOf(['file', 'image']),
  maxBytes: number,
  timeoutMs: number,
  onProgress: func,
  signal,
}

/** `files` of a write: `{ field_N: source | { file, filename?, contentType?, kind? } }`. */
const files = rule((v, key) => {
  if (!isObject(v)) throw invalid(`${key} must be an object like { field_17: './screenshot.png' }`)
  const out = []
  for (const [field, value] of Object.entries(v)) {
    if (!/^field_\d+$/.test(field)) throw invalid(`${key}: "${field}" is not a field key (field_N)`)
    const spec = isObject(value) && 'file' in value && !(value instanceof Uint8Array) ? value : { file: value }
    const u = parse(spec, { file: required(uploadSource), filename: nonEmptyString, contentType: nonEmptyString, kind: oneOf(['file', 'image']), maxBytes: number }, `${key}.${field}`, {}, `${key}.${field}.`)
    out.push({ field, ...u })
  }
  if (out.length === 0) throw invalid(`${key} names no field`)
  return out
})

const SPECS = {
  getRecords: QUERY_SPEC,
  records: PAGING_SPEC,
  getAllRecords: PAGING_SPEC,
  getRecord: { ...VIEW, id: required(nonEmptyString), shape, fields: fieldList },
  createRecord: { ...VIEW, shape, data: required(data), files },
  updateRecord: { ...VIEW, id: required(nonEmptyString), shape, data: required(data), files },
  uploadFile: UPLOAD_SPEC,
  downloadFile: {
    to: required(
      rule((v, key) => {
        if ((typeof v === 'string' && v !== '') || (v !== null && typeof v === 'object' && typeof v.write === 'function' && typeof v.once === 'function')) return v
        throw invalid(`${key} must be a file path or a Node Writable, got ${describe(v)}`)
      }),
    ),
    signal,
  },
  getReport: { ...VIEW, report: number, filters },
  deleteRecord: { ...VIEW, id: required(nonEmptyString) },
  createRecords: { ...BULK, records: required(array) },
  updateRecords: { ...BULK, records: required(array) },
  deleteRecords: { ...BULK, ids: required(array) },
  validate: { signal },
  schema: { signal, refresh: boolean },
}

/** `KnackSession.schema()`: the app (no login) and the call. */
const APP_SCHEMA_SPEC = {
  appId: required(nonEmptyString),
  baseUrl: string,
  timeoutMs: number,
  deadlineMs: number,
  retries: number,
  rateLimit,
  proxy: string,
  ca,
  maxBodyBytes: number,
  signal,
  refresh: boolean,
}

/** KnackSession.schema() options: `{ native, signal, refresh }`. */
function appSchemaOptions(opts) {
  const label = 'KnackSession.schema() options'
  if (!isObject(opts)) throw invalid(`${label} must be an object with at least appId`)
  const o = parse(opts, APP_SCHEMA_SPEC, label)
  return { native: nativeFields(o), signal: o.signal ?? null, refresh: o.refresh === true }
}

/**
 * The checked arguments of a session method (`name`: 'getRecords', 'createRecord', ...).
 * `ctx.maxPayloadBytes` caps `data` and `filters`, which come back as JSON text.
 */
function callArgs(name, args, ctx = {}) {
  const label = `${name}()`
  if (!isObject(args)) {
    throw invalid(name === 'validate' || name === 'schema' ? `${label} takes an options object` : `${label} needs an options object like { scene, view }`)
  }
  return parse(args, SPECS[name], label, { ...ctx, labels: args.shape === 'labels' })
}

/** One bulk item checked: a create's record, an update's `{ id, data }`, a delete's id. */
function bulkItem(kind, item, index, ctx) {
  const what = `${kind === 'delete' ? 'ids' : 'records'}[${index}]`
  if (kind === 'create') {
    if (!isObject(item)) throw invalid(`${what} must be an object of field values`)
    return { data: jsonText(item, what, ctx.maxPayloadBytes, { dates: ctx.labels === true }) }
  }
  if (kind === 'update') {
    if (!isObject(item)) throw invalid(`${what} must be { id, data }`)
    const o = parse(item, { id: required(nonEmptyString), data: required(data) }, what, ctx, `${what}.`)
    return o
  }
  if (typeof item !== 'string' || item === '') throw invalid(`${what} must be a record id (a string)`)
  return { id: item }
}

// ---------------------------------------------------------------------------------------
// Stores

const STORE_SPECS = {
  MemoryStore: { maxEntries: number, secret },
  FileStore: { dir: required(nonEmptyString), secret: required(secret) },
  RedisStore: { ...REDIS_TARGET_SPEC, secret: required(secret), prefix: string },
}

/**
 * Options of `new MemoryStore/FileStore/RedisStore(opts)` checked. `partial`: the required
 * ones may be absent (the store defers them to its first use; see lib/stores.js).
 */
function storeOptions(kind, opts, { partial = false } = {}) {
  const label = `${kind} options`
  if (opts === undefined && kind === 'MemoryStore') return {}
  if (!isObject(opts)) {
    throw invalid(kind === 'MemoryStore' ? `${label} must be an object` : `${kind} needs ${kind === 'FileStore' ? '{ dir, secret }' : '{ url, secret, prefix?, cluster?, sentinel?, ca? }'}`)
  }
  const spec = partial ? Object.fromEntries(Object.entries(STORE_SPECS[kind]).map(([k, r]) => [k, { check: r.check }])) : STORE_SPECS[kind]
  return parse(opts, spec, label)
}

// ---------------------------------------------------------------------------------------

/**
 * Check `obj` against `spec`: unknown keys refused with a hint, required keys present, each
 * value checked once. Values that are undefined or null count as not given. `prefix` goes in
 * front of key names in messages (e.g. 'rateLimit.'). Anything else thrown while reading
 * the object (a throwing getter, a Proxy) becomes KNACK_INVALID_ARGUMENT too.
 */
const specKeys = new WeakMap()

function parse(obj, spec, where, ctx = {}, prefix = '') {
  let keys = specKeys.get(spec)
  if (!keys) {
    keys = { list: Object.keys(spec), set: new Set(Object.keys(spec)) }
    specKeys.set(spec, keys)
  }
  try {
    for (const key of Object.keys(obj)) {
      if (!keys.set.has(key)) checkKeys(obj, keys.list, where)
    }
    const out = {}
    for (const key of keys.list) {
      const r = spec[key]
      const v = obj[key]
      if (v === undefined || v === null) {
        if (r.required) throw invalid(`${where}: ${prefix}${key} is required`)
        continue
      }
      out[key] = r.check(v, `${prefix}${key}`, ctx)
    }
    return out
  } catch (e) {
    if (e instanceof KnackError) throw e
    throw invalid(`${where} could not be read: ${messageOf(e)}`, e)
  }
}

module.exports = {
  SESSION_OPTION_KEYS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_PAYLOAD_DEPTH,
  checkKeys,
  closest,
  distance,
  parse,
  sessionOptions,
  appSchemaOptions,
  callArgs,
  bulkItem,
  storeOptions,
  redisTargetOf,
  jsonText,
  isObject,
  describe,
}
