'use strict'
// What the Express middleware and the Next.js helper share: finding the user's session in a
// request (a signed session-id cookie, or a Knack token in Authorization: resolve() for Next,
// find() for the Express middleware, which never throws and looks at the cookie first),
// logging in and out (with the CSRF checks), the budget for validating unknown tokens, and mapping
// KnackError codes to HTTP answers that tell the browser a code and a generic message only.

const crypto = require('node:crypto')
const { performance } = require('node:perf_hooks')
const { KnackSession } = require('./session')
const codes = require('./codes')
const { KnackError, invalid } = require('./errors')
const { isStrongSecret } = require('./native')
const options = require('./options')

const STATUS = {
  [codes.INVALID_ARGUMENT]: 400,
  [codes.LOGIN_FAILED]: 401,
  [codes.TOKEN_EXPIRED]: 401,
  [codes.UNAUTHORIZED]: 401,
  [codes.FORBIDDEN]: 403,
  [codes.NOT_FOUND]: 404,
  [codes.VALIDATION]: 422,
  // The app asked a view for something it cannot do: the app's bug, not the browser's.
  [codes.UNSUPPORTED_ACTION]: 500,
  [codes.PARENT_REQUIRED]: 500,
  [codes.RATE_LIMITED]: 429,
  [codes.DAILY_LIMIT]: 503,
  [codes.SERVER_ERROR]: 502,
  [codes.BAD_RESPONSE]: 502,
  [codes.NETWORK]: 502,
  [codes.TIMEOUT]: 504,
  [codes.ABORTED]: 499,
  [codes.STORE]: 500,
  [codes.INTERNAL]: 500,
}

// What the browser is told for each code. Knack's and the OS's own words (paths, app id,
// socket errors, whatever Knack echoed) go to the server log through onError only.
const PUBLIC_MESSAGE = {
  [codes.INVALID_ARGUMENT]: 'invalid request',
  [codes.LOGIN_FAILED]: 'email or password incorrect',
  [codes.TOKEN_EXPIRED]: 'the session has expired: log in again',
  [codes.UNAUTHORIZED]: 'not logged in, or the session is no longer valid',
  [codes.FORBIDDEN]: 'not allowed',
  [codes.NOT_FOUND]: 'not found',
  [codes.VALIDATION]: 'Knack refused the data',
  [codes.UNSUPPORTED_ACTION]: 'internal error',
  [codes.PARENT_REQUIRED]: 'internal error',
  [codes.RATE_LIMITED]: 'too many requests: try again later',
  [codes.DAILY_LIMIT]: "the app's daily Knack API limit is used up: try again later",
  [codes.SERVER_ERROR]: 'Knack had an error',
  [codes.BAD_RESPONSE]: "Knack's answer was not understood",
  [codes.NETWORK]: 'Knack could not be reached',
  [codes.TIMEOUT]: 'Knack did not answer in time',
  [codes.ABORTED]: 'the request was cancelled',
  [codes.STORE]: 'internal error',
  [codes.INTERNAL]: 'internal error',
}

// Errors this module raises itself carry a message written for the browser, and some an
// HTTP status other than their code's (415 for a wrong Content-Type, 413 for a large body).
const PUBLIC = Symbol('knack-session.publicMessage')
const HTTP_STATUS = Symbol('knack-session.httpStatus')

/** A KnackError whose message may be shown to the browser, optionally with its own status. */
function refusal(code, message, status, cause) {
  const e = new KnackError(code, message, cause === undefined ? {} : { cause })
  Object.defineProperty(e, PUBLIC, { value: true })
  if (status !== undefined) Object.defineProperty(e, HTTP_STATUS, { value: status })
  return e
}

/** The HTTP status that suits a KnackError. */
function statusFor(err) {
  if (err && err[HTTP_STATUS]) return err[HTTP_STATUS]
  return (err && STATUS[err.code]) || 500
}

// Anything JWT-shaped (a Knack token) in a text Knack sent back.
const JWT_LIKE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g

function scrub(text, redact) {
  let s = String(text ?? '').replace(JWT_LIKE, '[redacted]')
  for (const r of redact) if (typeof r === 'string' && r.length >= 8) s = s.split(r).join('[redacted]')
  return s.slice(0, 500)
}

/** Knack's own message of a KNACK_VALIDATION error, without the request line in front. */
function validationMessage(e, redact) {
  let m = typeof e.message === 'string' ? e.message : ''
  if (typeof e.request === 'string' && m.startsWith(`${e.request}: `)) m = m.slice(e.request.length + 2)
  else m = m.replace(/^(GET|POST|PUT|DELETE|PATCH) \/\S*: /, '')
  m = scrub(m, redact).trim()
  return m || PUBLIC_MESSAGE[codes.VALIDATION]
}

/**
 * `{ status, headers, body }` for an error; the body is `{ error: { code, message, errors? } }`.
 * The message is a fixed one per code (see PUBLIC_MESSAGE), except for KNACK_VALIDATION
 * (Knack's message and field errors, JWT-shaped strings and `opts.redact` strings removed)
 * and for refusals by the middleware itself ("cross-site login refused", ...). Details are
 * for the server's log: pass the error to the middleware's onError.
 * @param {unknown} err
 * @param {{ redact?: string[] }} [opts] strings to cut out of Knack's validation messages (e.g. the app id)
 */
function errorAnswer(err, opts = {}) {
  const e = err instanceof KnackError ? err : new KnackError(codes.INTERNAL, 'internal error')
  const status = statusFor(e)
  const redact = Array.isArray(opts.redact) ? opts.redact : []
  const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
  if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs) && (status === 429 || status === 503)) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)))
  }
  const code = typeof e.code === 'string' ? e.code : codes.INTERNAL
  let message = PUBLIC_MESSAGE[code] ?? 'internal error'
  let errors
  if (e[PUBLIC] && typeof e.message === 'string') message = e.message
  else if (code === codes.VALIDATION) {
    message = validationMessage(e, redact)
    if (Array.isArray(e.errors)) {
      errors = e.errors.map((x) => {
        const out = {}
        if (x && typeof x.field === 'string') out.field = x.field
        if (x && typeof x.type === 'string') out.type = x.type
        out.message = scrub(x && x.message, redact)
        return out
      })
    }
  }
  const error = { code, message }
  if (errors) error.errors = errors
  return { status, headers, body: JSON.stringify({ error }) }
}

function parseCookies(header) {
  const out = Object.create(null)
  if (typeof header !== 'string') return out
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    const k = part.slice(0, i).trim()
    if (!k || k in out) continue
    let v = part.slice(i + 1).trim()
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    try {
      out[k] = decodeURIComponent(v)
    } catch {
      out[k] = v
    }
  }
  return out
}

/** `scheme://host[:port]` of an http(s) URL or Origin header, lower-cased; null for "null" or junk. */
function normaliseOrigin(value) {
  if (typeof value !== 'string' || value === '' || value.trim().toLowerCase() === 'null') return null
  try {
    const u = new URL(value.trim())
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
    return u.origin
  } catch {
    return null
  }
}

/** The first value of a comma-separated header (X-Forwarded-Proto: https, http). */
function firstValue(v) {
  if (typeof v !== 'string') return undefined
  const s = v.split(',')[0].trim()
  return s === '' ? undefined : s
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
function mediaType(v) {
  return typeof v === 'string' ? v.split(';')[0].trim().toLowerCase() : ''
}

/** A Map with a time to live per entry and a size bound (oldest entries go first). */
class TtlCache {
  #map = new Map()
  #max

  constructor(max) {
    this.#max = max
  }

  get(key) {
    const e = this.#map.get(key)
    if (e === undefined) return undefined
    if (e.until <= Date.now()) {
      this.#map.delete(key)
      return undefined
    }
    return e.value
  }

  set(key, value, ttlMs) {
    this.#map.delete(key)
    if (!(ttlMs > 0)) return
    if (this.#map.size >= this.#max) {
      const now = Date.now()
      for (const [k, v] of this.#map) if (v.until <= now) this.#map.delete(k)
      // Still full of live entries: drop the oldest tenth.
      if (this.#map.size >= this.#max) {
        let n = Math.max(1, Math.floor(this.#max / 10))
        for (const k of this.#map.keys()) {
          this.#map.delete(k)
          if (--n === 0) break
        }
      }
    }
    this.#map.set(key, { value, until: Date.now() + ttlMs })
  }

  get size() {
    return this.#map.size
  }
}

/** A token bucket: `perSecond` refill, at most `burst` saved up. */
class TokenBucket {
  #rate
  #burst
  #tokens
  #at = performance.now()

  constructor(perSecond, burst) {
    this.#rate = perSecond
    this.#burst = burst
    this.#tokens = burst
  }

  /** Take one token: 0 when granted, else the milliseconds until one is there. */
  take() {
    const now = performance.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate)
    this.#at = now
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.#rate) * 1000))
  }
}

// ---- option checks ----

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** The middleware's own options (besides the session options). */
const MIDDLEWARE_KEYS = Object.freeze([
  'cookie',
  'allowToken',
  'tokenCacheMs',
  'tokenValidation',
  'allowFormLogin',
  'trustProxy',
  'allowedOrigins',
  'onError',
])
const COOKIE_KEYS = ['name', 'secure', 'sameSite', 'path', 'domain']
const TOKEN_VALIDATION_KEYS = ['perSecond', 'burst', 'refusedCacheMs']
const SAME_SITE = { strict: 'Strict', lax: 'Lax', none: 'None' }

const given = (v) => v !== undefined && v !== null

function bool(v, key, where) {
  if (!given(v)) return undefined
  if (typeof v !== 'boolean') throw invalid(`${where}: ${key} must be true or false (a boolean), got ${describe(v)}`)
  return v
}

function millis(v, key, where) {
  if (!given(v)) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw invalid(`${where}: ${key} must be a finite number of milliseconds, 0 or more, got ${describe(v)}`)
  }
  return v
}

const { isObject, describe, checkKeys: checkKnownKeys } = options

function checkCookie(c, where) {
  if (!given(c)) c = {}
  if (!isObject(c)) throw invalid(`${where}: cookie must be an object like { name, secure, sameSite, path, domain }, got ${describe(c)}`)
  checkKnownKeys(c, COOKIE_KEYS, `${where}: cookie`)
  const name = c.name ?? 'knack_sid'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) throw invalid(`${where}: cookie.name is not a valid cookie name, got ${describe(name)}`)
  const secure = bool(c.secure, 'cookie.secure', where) ?? true
  let sameSite = 'Lax'
  if (given(c.sameSite)) {
    sameSite = typeof c.sameSite === 'string' ? SAME_SITE[c.sameSite.toLowerCase()] : undefined
    if (!sameSite) throw invalid(`${where}: cookie.sameSite must be 'Strict', 'Lax' or 'None', got ${describe(c.sameSite)}`)
  }
  if (sameSite === 'None' && !secure) {
    throw invalid(`${where}: cookie SameSite=None needs secure: true (browsers drop SameSite=None cookies that are not Secure)`)
  }
  const path = c.path ?? '/'
  if (typeof path !== 'string' || !/^\/[^;\s,]*$/.test(path)) throw invalid(`${where}: cookie.path must start with / and hold no ; , or spaces, got ${describe(path)}`)
  const domain = c.domain ?? undefined
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(domain))) {
    throw invalid(`${where}: cookie.domain is not a domain name, got ${describe(domain)}`)
  }
  return { name, secure, sameSite, path, domain }
}

function checkOrigins(list, where) {
  if (!given(list)) return new Set()
  if (!Array.isArray(list)) throw invalid(`${where}: allowedOrigins must be an array of origins like 'https://app.example.com', got ${describe(list)}`)
  const out = new Set()
  const bare = (o) => {
    try {
      const u = new URL(o.trim())
      return u.pathname === '/' && !u.search && !u.hash && !u.username && !u.password && !/[?#]/.test(o)
    } catch {
      return false
    }
  }
  list.forEach((o, i) => {
    const origin = typeof o === 'string' ? normaliseOrigin(o) : null
    if (origin === null || !bare(o)) {
      throw invalid(`${where}: allowedOrigins[${i}] must be an origin (scheme, host and port only) like 'https://app.example.com', got ${describe(o)}`)
    }
    out.add(origin)
  })
  return out
}

function checkTokenValidation(v, where) {
  if (!given(v)) v = {}
  if (!isObject(v)) throw invalid(`${where}: tokenValidation must be an object like { perSecond: 2, burst: 4 }, got ${describe(v)}`)
  checkKnownKeys(v, TOKEN_VALIDATION_KEYS, `${where}: tokenValidation`)
  const perSecond = v.perSecond ?? 2
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0 || perSecond > 10_000) {
    throw invalid(`${where}: tokenValidation.perSecond must be a number above 0 (validations a second), got ${describe(perSecond)}`)
  }
  const burst = v.burst ?? 4
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > 100_000) {
    throw invalid(`${where}: tokenValidation.burst must be a whole number of at least 1, got ${describe(burst)}`)
  }
  const refusedCacheMs = millis(v.refusedCacheMs, 'tokenValidation.refusedCacheMs', where) ?? 60_000
  return { perSecond, burst, refusedCacheMs }
}

/** Check the session options now (not at the first request), with `where` in the message. */
function checkSessionOptions(sessionOpts, where) {
  try {
    options.sessionOptions(sessionOpts, 'restore')
  } catch (e) {
    if (e instanceof KnackError && e.code === codes.INVALID_ARGUMENT) {
      const m = e.message.replace(/KnackSession\.\w+\(\) options/g, where)
      throw invalid(m.startsWith(where) ? m : `${where}: ${m}`)
    }
    throw e
  }
}

// Codes of a token Knack (or the token's own claims) refused: remembered for refusedCacheMs.
const REFUSED = new Set([codes.UNAUTHORIZED, codes.TOKEN_EXPIRED, codes.INVALID_ARGUMENT])
const TOKEN_CACHE_ENTRIES = 10_000
const BODY_LIMIT = 65536

// What a server log may not hold: JWT-shaped strings (tokens) and long base64url runs (session
// ids, cookie signatures), besides the strings a caller names.
const LONG_ID = /[A-Za-z0-9_-]{40,}/g

/** A message for the server log: one line, no token, no session id, no `redact` strings. */
function logSafe(text, redact = []) {
  let s = String(text ?? '')
  for (const r of redact) if (typeof r === 'string' && r.length >= 8) s = s.split(r).join('[redacted]')
  return s.replace(JWT_LIKE, '[redacted]').replace(LONG_ID, '[redacted]').replace(/\s+/g, ' ').trim().slice(0, 500)
}

/**
 * Tell onError (or the default) about a failure; never throws. `extra.redact`: strings the
 * default warning must not show (the request's token, session id, cookie); `extra.held`: how
 * many failures like it were not reported since the last one (see Throttle).
 */
function report(onError, err, context, extra = {}) {
  try {
    if (onError) {
      onError(err, context)
      return
    }
    // Default: nothing for what the client did wrong (4xx); a process warning for 5xx, store
    // failures, and a KNACK_INVALID_ARGUMENT a route handler passed on (a bug in the app's
    // own call, e.g. a bad view key: the browser only sees "invalid request"). A warning goes
    // to the process's 'warning' listeners: by default one line on stderr.
    const appBug = context.where === 'handler' && err instanceof KnackError && err.code === codes.INVALID_ARGUMENT && !err[PUBLIC]
    if (err instanceof KnackError && err.code !== codes.STORE && statusFor(err) < 500 && !appBug) return
    const code = err instanceof KnackError ? err.code : codes.INTERNAL
    const message = err && typeof err.message === 'string' ? err.message : String(err)
    const held = extra.held > 0 ? ` (and ${extra.held} more like it since the last report)` : ''
    process.emitWarning(`knack-session (${context.where}): ${logSafe(message, extra.redact)}${held}`, { code })
  } catch (hookError) {
    try {
      const m = hookError && typeof hookError.message === 'string' ? hookError.message : 'unprintable error'
      process.emitWarning(`knack-session: the onError hook threw: ${logSafe(m)}`, { code: 'KNACK_ON_ERROR' })
    } catch {
      // nothing left to tell
    }
  }
}

/**
 * At most one report per key and window: a Redis outage or an unreachable Knack fails every
 * request, and one line a minute says so as well as a thousand. Keys are `where:code`, so
 * the map stays small.
 */
class Throttle {
  #map = new Map()
  #ms

  constructor(ms) {
    this.#ms = ms
  }

  /** -1 when `key` was already reported in this window (counted); else how many were held back before. */
  take(key) {
    const now = Date.now()
    const e = this.#map.get(key)
    if (e && e.until > now) {
      e.held++
      return -1
    }
    this.#map.set(key, { until: now + this.#ms, held: 0 })
    return e ? e.held : 0
  }
}
const REPORT_WINDOW_MS = 60_000

/** Any thrown value as a KnackError (a non-KnackError is KNACK_INTERNAL, the original as cause). */
function asKnackError(e) {
  if (e instanceof KnackError) return e
  const m = e && typeof e.message === 'string' ? e.message : String(e)
  return new KnackError(codes.INTERNAL, m, { cause: e })
}

// A refusal the refused-token cache repeated (the first one was reported already).
const FROM_CACHE = Symbol('knack-session.fromCache')
// Codes that say the session's token is no longer good: the session ends.
const SESSION_ENDED = new Set([codes.UNAUTHORIZED, codes.TOKEN_EXPIRED])

/**
 * The error to answer a request that needs a session and has none, from why it has none
 * (`req.knackError`; undefined: no credential at all). 401 for no credential or a refused one
 * (the message says which, never more), 503 KNACK_STORE when the session store could not be
 * read, 429 with Retry-After when the token budget is spent, Knack's outage as its generic
 * 502/503/504, anything else 500. Never the details: those went to onError.
 */
function noSession(why) {
  if (why === undefined || why === null) return refusal(codes.UNAUTHORIZED, 'log in first', 401)
  const e = asKnackError(why)
  if (e.code === codes.TOKEN_EXPIRED) return refusal(codes.TOKEN_EXPIRED, PUBLIC_MESSAGE[codes.TOKEN_EXPIRED], 401)
  if (e.code === codes.UNAUTHORIZED) return refusal(codes.UNAUTHORIZED, e[PUBLIC] ? e.message : PUBLIC_MESSAGE[codes.UNAUTHORIZED], 401)
  if (e.code === codes.INVALID_ARGUMENT && e[PUBLIC]) return refusal(codes.UNAUTHORIZED, e.message, 401)
  if (e.code === codes.STORE) return refusal(codes.STORE, 'the session store is unavailable: try again later', 503)
  if (e.code === codes.RATE_LIMITED) return e
  if (e.code !== codes.INTERNAL && e.code !== codes.INVALID_ARGUMENT && statusFor(e) >= 500) return e
  return refusal(codes.INTERNAL, 'internal error', 500)
}

class KnackAuth {
  #opts
  #cookie
  #key
  #tokenCache = new TtlCache(TOKEN_CACHE_ENTRIES)
  #refused = new TtlCache(TOKEN_CACHE_ENTRIES)
  #pending = new Map()
  #bucket
  #refusedCacheMs
  #tokenCacheMs
  #allowToken
  #allowFormLogin
  #trustProxy
  #allowedOrigins
  #onError
  #onStoreError
  #throttle = new Throttle(REPORT_WINDOW_MS)
  #reported = new WeakSet()

  /**
   * @param {object} opts session options (appId, baseUrl, store, rateLimit, ...) plus:
   * - `secret` (required): signs the cookie (and encrypts a custom store); at least 32 characters.
   * - `cookie` `{ name = 'knack_sid', secure = true, sameSite = 'Lax', path = '/', domain? }`
   *   (SameSite 'None' needs secure: true).
   * - `allowToken` (default true): accept a Knack user token in `Authorization`.
   * - `tokenCacheMs` (default 60000): how long a token Knack validated is trusted.
   * - `tokenValidation` `{ perSecond = 2, burst = 4, refusedCacheMs = 60000 }`: the budget for
   *   asking Knack about tokens it has not seen validated yet. Each such token costs one
   *   `GET /session/token` from the app's shared rate budget (Knack allows 10 a second), so
   *   strangers sending made-up tokens could otherwise spend all of it. The default is 2 a
   *   second (20% of Knack's 10/s) with bursts of 4, per process; over it the token is not
   *   validated: KNACK_RATE_LIMITED with retryAfterMs (find(): the request's error, which
   *   knack.required answers 429 with Retry-After), without calling Knack. Logged-in
   *   (cookie) users' calls never wait for it. Concurrent requests with the same token share
   *   one validation, and a token Knack refused is refused again without asking for
   *   `refusedCacheMs`.
   * - `allowFormLogin` (default false): login and logout also take
   *   `application/x-www-form-urlencoded` bodies; otherwise only `application/json` (415).
   * - `allowedOrigins` (default none): origins besides the app's own that may log in and out
   *   (login and logout refuse `Sec-Fetch-Site: cross-site` and any other `Origin` with 403).
   * - `trustProxy` (default false): believe `X-Forwarded-Proto` / `X-Forwarded-Host` for the
   *   app's own origin (behind a reverse proxy that sets them).
   * - `onError(err, { where, request })`: where the details of failures go ('restore',
   *   'token', 'login', 'logout', 'handler'); the browser only gets a code and a generic
   *   message. find() reports a refused token once (per refusedCacheMs) and a store or Knack
   *   outage at most once a minute per where and code. Default: nothing for 4xx; one
   *   `process.emitWarning` line (code = the error's code; no token or session id) for 5xx,
   *   store failures and KNACK_INVALID_ARGUMENT from a route handler. A throwing hook never
   *   breaks a request.
   * @param {{ where?: string }} [meta] names the options in error messages
   */
  constructor(opts, meta = {}) {
    const where = meta.where ?? 'knack-session middleware options'
    if (!isObject(opts)) throw invalid(`${where} must be an object with at least appId and secret`)
    const sessionKeys = options.SESSION_OPTION_KEYS
    checkKnownKeys(opts, [...MIDDLEWARE_KEYS, ...sessionKeys.filter((k) => !MIDDLEWARE_KEYS.includes(k))], where)
    if (typeof opts.appId !== 'string' || opts.appId === '') throw invalid(`${where}: appId must be a non-empty string`)
    const secrets = Array.isArray(opts.secret) ? opts.secret : [opts.secret]
    if (!secrets.length || secrets.some((s) => typeof s !== 'string' || !isStrongSecret(s))) {
      throw invalid(`${where}: secret must be at least 32 characters: it signs the session cookie`)
    }
    this.#cookie = checkCookie(opts.cookie, where)
    this.#allowToken = bool(opts.allowToken, 'allowToken', where) ?? true
    this.#tokenCacheMs = millis(opts.tokenCacheMs, 'tokenCacheMs', where) ?? 60_000
    const tv = checkTokenValidation(opts.tokenValidation, where)
    this.#bucket = new TokenBucket(tv.perSecond, tv.burst)
    this.#refusedCacheMs = tv.refusedCacheMs
    this.#allowFormLogin = bool(opts.allowFormLogin, 'allowFormLogin', where) ?? false
    this.#trustProxy = bool(opts.trustProxy, 'trustProxy', where) ?? false
    this.#allowedOrigins = checkOrigins(opts.allowedOrigins, where)
    if (given(opts.onError) && typeof opts.onError !== 'function') throw invalid(`${where}: onError must be a function (err, { where, request }) => void, got ${describe(opts.onError)}`)
    this.#onError = opts.onError ?? null
    // One HMAC key per secret: the first signs, all verify.
    this.#key = secrets.map((s) => crypto.createHmac('sha256', 'knack-session cookie v1').update(s).digest())
    const sessionOpts = {}
    for (const [k, v] of Object.entries(opts)) if (!MIDDLEWARE_KEYS.includes(k)) sessionOpts[k] = v
    checkSessionOptions(sessionOpts, where)
    this.#onStoreError = typeof sessionOpts.onStoreError === 'function' ? sessionOpts.onStoreError : null
    delete sessionOpts.onStoreError
    this.#opts = sessionOpts
  }

  /** Report a failure to onError (or the default); never throws. */
  report(err, context, extra) {
    report(this.#onError, err, context, extra)
  }

  /** Report `err` unless one like it (same where and code) was reported in the last minute. */
  #reportThrottled(err, where, request, redact) {
    const held = this.#throttle.take(`${where}:${err && err.code}`)
    if (held < 0) return
    this.report(err, { where, request }, { redact, held })
  }

  /** Strings to cut out of anything Knack said before the browser sees it. */
  get redact() {
    return [this.#opts.appId]
  }

  #mac(id, key) {
    return crypto.createHmac('sha256', key).update(id).digest('base64url')
  }

  /** `id.signature` for the cookie. */
  sign(id) {
    return `${id}.${this.#mac(id, this.#key[0])}`
  }

  /** The session id of a signed cookie value, or null. */
  unsign(value) {
    if (typeof value !== 'string') return null
    const i = value.lastIndexOf('.')
    if (i <= 0) return null
    const id = value.slice(0, i)
    const sig = Buffer.from(value.slice(i + 1))
    for (const key of this.#key) {
      const want = Buffer.from(this.#mac(id, key))
      if (want.length === sig.length && crypto.timingSafeEqual(want, sig)) return id
    }
    return null
  }

  /** The cookie's name. */
  get cookieName() {
    return this.#cookie.name
  }

  /** A Set-Cookie value for a session. */
  cookieFor(session) {
    const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000))
    return this.#cookieString(encodeURIComponent(this.sign(session.id)), maxAge)
  }

  /** A Set-Cookie value that removes the cookie. */
  clearCookie() {
    return this.#cookieString('', 0)
  }

  #cookieString(value, maxAge) {
    const c = this.#cookie
    let s = `${c.name}=${value}; Path=${c.path}; Max-Age=${maxAge}; HttpOnly; SameSite=${c.sameSite}`
    if (c.secure) s += '; Secure'
    if (c.domain) s += `; Domain=${c.domain}`
    return s
  }

  /** Knack token from `Authorization: <token>` (or `Bearer <token>`), if allowed. */
  #token(authorization) {
    if (!this.#allowToken || typeof authorization !== 'string') return null
    const t = authorization.trim().replace(/^Bearer\s+/i, '')
    return t.split('.').length === 3 ? t : null
  }

  /**
   * The session of a request, the signed cookie first, then the Authorization token.
   * `get(name)` reads a request header (lower-case name).
   * Resolves `{ session, via, setCookie? }`: `session` null when there is none; `setCookie`
   * (a clearing Set-Cookie) when the request's signed cookie no longer leads to a session:
   * unknown, expired, or a record the store cannot read (reported to onError, never thrown).
   * Throws KnackError for a token Knack refused, or when the token budget is spent.
   * @param {(name: string) => string | undefined} get
   * @param {unknown} [request] passed on to onError
   * @param {{ cookieOnly?: boolean }} [o]
   */
  async resolve(get, request, o = {}) {
    // The cookie first: a signed cookie whose session the store holds wins, and a token
    // header beside it is neither looked at nor sent to Knack (as find() does).
    const found = await this.#cookieSession(get, request)
    if (found.session || o.cookieOnly) return found
    const token = this.#token(get('authorization'))
    if (!token) return found
    const session = await this.#fromToken(token)
    return found.setCookie ? { session, via: 'token', setCookie: found.setCookie } : { session, via: 'token' }
  }

  async #cookieSession(get, request) {
    const value = parseCookies(get('cookie'))[this.#cookie.name]
    const id = value === undefined ? null : this.unsign(value)
    if (!id) return { session: null, via: null }
    let session
    try {
      session = await KnackSession.restore(id, { ...this.#opts, onStoreError: (err) => this.#storeError(err, request) })
    } catch (e) {
      if (!(e instanceof KnackError) || e.code !== codes.STORE) throw e
      this.report(e, { where: 'restore', request })
      return { session: null, via: null, setCookie: this.clearCookie() }
    }
    if (!session) return { session: null, via: null, setCookie: this.clearCookie() }
    return { session, via: 'cookie' }
  }

  #storeError(err, request) {
    if (this.#onStoreError) {
      try {
        this.#onStoreError(err)
      } catch {
        // a throwing hook must not fail the request
      }
      return
    }
    this.report(err, { where: 'restore', request })
  }

  /**
   * The session of a request for a global middleware: never throws, never answers. Resolves
   * `{ session, via, error, setCookie? }`:
   * - the cookie first: a signed cookie whose session the store holds wins, and an
   *   Authorization header beside it is not looked at (nor sent to Knack);
   * - else the Authorization token (when allowToken), validated as resolve() does;
   * - `session` null: `error` says why (a KnackError; undefined when the request had no
   *   credential): a cookie that leads to no session (unknown, expired, logged out: then
   *   `setCookie` clears it, and an expired record is deleted from the store), a bad cookie
   *   signature, a token Knack refused, the token budget spent, the store unreachable
   *   (KNACK_STORE: the cookie is kept, the session may be back when the store is), Knack
   *   unreachable. When both fail, a store outage wins over the token's refusal.
   * - reported to onError with `where` 'restore' or 'token': a refused token once (the
   *   refused-token cache answers the repeats), other failures at most once a minute per
   *   where and code. A cookie without a session is not reported (it is cleared).
   * @param {(name: string) => string | undefined} get
   * @param {unknown} [request] passed on to onError
   */
  async find(get, request) {
    try {
      return await this.#find(get, request)
    } catch (e) {
      const err = asKnackError(e)
      this.#reportThrottled(err, 'restore', request)
      return { session: null, via: null, error: err }
    }
  }

  async #find(get, request) {
    let error
    let setCookie
    const value = parseCookies(get('cookie'))[this.#cookie.name]
    if (value !== undefined && value !== '') {
      const id = this.unsign(value)
      if (!id) error = refusal(codes.UNAUTHORIZED, 'the session cookie is not valid: log in again', 401)
      else {
        try {
          const session = await KnackSession.restore(id, { ...this.#opts, onStoreError: (err) => this.#storeError(err, request) })
          if (session) return { session, via: 'cookie', error: undefined }
          setCookie = this.clearCookie()
          error = refusal(codes.UNAUTHORIZED, 'the session has ended: log in again', 401)
        } catch (e) {
          error = asKnackError(e)
          this.#reportThrottled(error, 'restore', request, [id, value])
        }
      }
    }
    const token = this.#token(get('authorization'))
    if (token) {
      try {
        return { session: await this.#fromToken(token), via: 'token', error: undefined, setCookie }
      } catch (e) {
        const err = asKnackError(e)
        if (!err[FROM_CACHE] && !this.#reported.has(err)) {
          // Concurrent requests with one token share one validation, so one error object.
          this.#reported.add(err)
          if (REFUSED.has(err.code)) this.report(err, { where: 'token', request }, { redact: [token] })
          else this.#reportThrottled(err, 'token', request, [token])
        }
        if (!(error && error.code === codes.STORE)) error = err
      }
    }
    return { session: null, via: null, error, setCookie }
  }

  /**
   * End a session whose token Knack no longer accepts (KNACK_UNAUTHORIZED or
   * KNACK_TOKEN_EXPIRED during a request): a cookie session is deleted from its store (a
   * failing delete is reported, `where` 'logout'); a token session leaves the token cache and
   * the token is refused without asking Knack for refusedCacheMs. Never throws. The caller
   * clears the cookie.
   * @param {KnackSession} session
   * @param {'cookie' | 'token'} via
   * @param {KnackError} err what Knack said
   */
  async endSession(session, via, err, request) {
    try {
      if (via === 'token') {
        const hash = crypto.createHash('sha256').update(session.getToken()).digest('base64url')
        this.#tokenCache.set(hash, null, 0)
        const { code, message, status } = err
        this.#refuse(hash, () => new KnackError(code, message, { status, attempts: 0 }))
        return
      }
      await session.logout()
    } catch (e) {
      this.report(asKnackError(e), { where: 'logout', request })
    }
  }

  /**
   * The session of a request, or null (the older interface; resolve() also says when to
   * clear the cookie).
   * @returns {Promise<{ session: KnackSession, via: 'cookie' | 'token' } | null>}
   */
  async fromHeaders({ cookie, authorization } = {}) {
    const found = await this.resolve((name) => (name === 'cookie' ? cookie : name === 'authorization' ? authorization : undefined))
    return found.session ? { session: found.session, via: found.via } : null
  }

  /**
   * A validated session for a token; the session (with the roles Knack reported) is cached by
   * the token's hash. One validation per token at a time; refusals are remembered; unknown
   * tokens spend the tokenValidation budget.
   */
  async #fromToken(token) {
    const hash = crypto.createHash('sha256').update(token).digest('base64url')
    const hit = this.#tokenCache.get(hash)
    if (hit) return hit
    const refused = this.#refused.get(hash)
    if (refused) {
      const e = refused()
      Object.defineProperty(e, FROM_CACHE, { value: true })
      throw e
    }
    let pending = this.#pending.get(hash)
    if (!pending) {
      pending = this.#validate(token, hash).finally(() => this.#pending.delete(hash))
      this.#pending.set(hash, pending)
    }
    return pending
  }

  async #validate(token, hash) {
    let session
    try {
      session = KnackSession.fromToken(token, this.#opts)
    } catch (e) {
      if (e instanceof KnackError && e.code === codes.INVALID_ARGUMENT) {
        const make = () => refusal(codes.INVALID_ARGUMENT, 'the Authorization header does not hold a Knack user token of this app', 400, e)
        this.#refuse(hash, make)
        throw make()
      }
      throw e
    }
    const waitMs = this.#bucket.take()
    if (waitMs > 0) {
      throw new KnackError(codes.RATE_LIMITED, 'too many new tokens to validate: the tokenValidation budget is spent', {
        retryAfterMs: waitMs,
        attempts: 0,
      })
    }
    try {
      await session.validate()
    } catch (e) {
      if (e instanceof KnackError && REFUSED.has(e.code)) {
        const { code, message, status } = e
        this.#refuse(hash, () => new KnackError(code, message, { status, attempts: 0 }))
      }
      throw e
    }
    this.#tokenCache.set(hash, session, this.#tokenCacheMs)
    return session
  }

  #refuse(hash, make) {
    this.#refused.set(hash, make, this.#refusedCacheMs)
  }

  /** The app's own origin for a request: `{ proto, host }` as the server saw them. */
  originOf(get, { proto, host }) {
    if (this.#trustProxy) {
      proto = firstValue(get('x-forwarded-proto')) ?? proto
      host = firstValue(get('x-forwarded-host')) ?? host
    }
    if (typeof proto !== 'string' || typeof host !== 'string' || host === '') return null
    return normaliseOrigin(`${proto.replace(/:$/, '')}://${host}`)
  }

  /**
   * Refuse (403 KNACK_FORBIDDEN) a login or logout that a browser says comes from another
   * site: `Sec-Fetch-Site: cross-site`, or an `Origin` ("null" included) that is neither the
   * app's own (`own`) nor in allowedOrigins.
   */
  checkSameOrigin(get, own, what) {
    const site = typeof get('sec-fetch-site') === 'string' ? get('sec-fetch-site').trim().toLowerCase() : undefined
    const raw = get('origin')
    const refuse = () => refusal(codes.FORBIDDEN, `cross-site ${what} refused`, 403)
    if (raw !== undefined) {
      const origin = normaliseOrigin(raw)
      if (origin !== null && this.#allowedOrigins.has(origin)) return
      if (origin === null || own === null || origin !== own || site === 'cross-site') throw refuse()
      return
    }
    if (site === 'cross-site') throw refuse()
  }

  /**
   * 'json' or 'form' for a login/logout Content-Type; anything else is a 415: only
   * application/json (and, with allowFormLogin, urlencoded forms) is taken, so a cross-site
   * page cannot send it without a CORS preflight.
   */
  bodyKind(contentType, what) {
    const type = mediaType(contentType)
    if (type === 'application/json') return 'json'
    if (this.#allowFormLogin && type === 'application/x-www-form-urlencoded') return 'form'
    const wanted = this.#allowFormLogin ? 'application/json or application/x-www-form-urlencoded' : 'application/json'
    throw refusal(codes.INVALID_ARGUMENT, `${what} takes Content-Type: ${wanted}`, 415)
  }

  /** Log in and save to the store. Resolves { session, setCookie }. */
  async login(body) {
    if (!isObject(body)) throw refusal(codes.INVALID_ARGUMENT, 'the body must be { email, password, remember? }', 400)
    const { email, password, remember } = body
    if (typeof email !== 'string' || typeof password !== 'string' || email === '' || password === '') {
      throw refusal(codes.INVALID_ARGUMENT, 'email and password are required', 400)
    }
    const session = await KnackSession.login({ ...this.#opts, email, password, remember: remember === true })
    return { session, setCookie: this.cookieFor(session) }
  }

  /**
   * Log out (delete from the store). Resolves the Set-Cookie value that clears the cookie.
   * A store that fails to delete is reported to onError ('logout'); the browser is still
   * logged out (the record expires with its token).
   */
  async logout(session, request) {
    if (session) {
      try {
        await session.logout()
      } catch (e) {
        if (!(e instanceof KnackError) || e.code !== codes.STORE) throw e
        this.report(e, { where: 'logout', request })
      }
    }
    return this.clearCookie()
  }
}

/** A login or logout body as an object: `text` is JSON, or (kind 'form') urlencoded. */
function bodyFields(text, kind) {
  if (typeof text !== 'string' || text.trim() === '') return {}
  if (kind === 'form') return formFields(Object.fromEntries(new URLSearchParams(text)))
  try {
    return JSON.parse(text)
  } catch {
    throw refusal(codes.INVALID_ARGUMENT, 'request body is not JSON', 400)
  }
}

/** Form fields are strings: a checked "remember" box is "on". */
function formFields(fields) {
  if (!isObject(fields)) return fields
  const out = { ...fields }
  if (typeof out.remember === 'string') out.remember = ['on', 'true', '1', 'yes'].includes(out.remember.toLowerCase())
  return out
}

/** What a login answer tells the browser (no token). */
function publicUser(session) {
  return {
    id: session.userId,
    email: session.email,
    name: session.name,
    profileKeys: session.profileKeys,
    expiresAt: session.expiresAt.toISOString(),
  }
}

module.exports = {
  KnackAuth,
  statusFor,
  errorAnswer,
  parseCookies,
  publicUser,
  refusal,
  bodyFields,
  formFields,
  normaliseOrigin,
  BODY_LIMIT,
  MIDDLEWARE_KEYS,
  noSession,
  asKnackError,
  SESSION_ENDED,
}
