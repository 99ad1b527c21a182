'use strict'
// What the Express middleware and the Next.js helper share: finding the user's session in a
// request (a signed session-id cookie, or a Knack token in Authorization), logging in and
// out, and mapping KnackError codes to HTTP answers.

const crypto = require('node:crypto')
const { KnackSession } = require('./session')
const { KnackError, invalid } = require('./errors')

const STATUS = {
  KNACK_INVALID_ARGUMENT: 400,
  KNACK_LOGIN_FAILED: 401,
  KNACK_TOKEN_EXPIRED: 401,
  KNACK_UNAUTHORIZED: 401,
  KNACK_FORBIDDEN: 403,
  KNACK_NOT_FOUND: 404,
  KNACK_VALIDATION: 422,
  KNACK_RATE_LIMITED: 429,
  KNACK_DAILY_LIMIT: 503,
  KNACK_SERVER_ERROR: 502,
  KNACK_BAD_RESPONSE: 502,
  KNACK_NETWORK: 502,
  KNACK_TIMEOUT: 504,
  KNACK_ABORTED: 499,
  KNACK_STORE: 500,
  KNACK_INTERNAL: 500,
}

/** The HTTP status that suits a KnackError. */
function statusFor(err) {
  return (err && STATUS[err.code]) || 500
}

/** `{ status, headers, body }` for an error; the body is `{ error: { code, message, errors? } }`. */
function errorAnswer(err) {
  const e = err instanceof KnackError ? err : new KnackError('KNACK_INTERNAL', 'internal error')
  const status = statusFor(e)
  const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
  if (e.retryAfterMs !== undefined && (status === 429 || status === 503)) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)))
  }
  // 5xx: a generic message; the details are for the server's logs, not the browser.
  const message = status >= 500 && status !== 502 && status !== 503 && status !== 504 ? 'internal error' : e.message
  const error = { code: e.code, message }
  if (e.errors && e.code === 'KNACK_VALIDATION') error.errors = e.errors
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

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

class KnackAuth {
  #opts
  #cookie
  #key
  #tokenCache = new Map()
  #tokenCacheMs
  #allowToken

  /**
   * @param {object} opts session options (appId, baseUrl, store, ...) plus
   *   secret (signs the cookie; also encrypts a custom store), cookie { name, secure, sameSite,
   *   path, domain }, allowToken (default true), tokenCacheMs (default 60000)
   */
  constructor(opts) {
    if (typeof opts !== 'object' || opts === null) throw invalid('options must be an object')
    if (typeof opts.appId !== 'string') throw invalid('appId must be a string')
    const secrets = Array.isArray(opts.secret) ? opts.secret : [opts.secret]
    if (!secrets.length || secrets.some((s) => typeof s !== 'string' || s.length < 32)) {
      throw invalid('secret must be at least 32 characters: it signs the session cookie')
    }
    const c = opts.cookie ?? {}
    if (typeof c !== 'object') throw invalid('cookie must be an object')
    const name = c.name ?? 'knack_sid'
    if (!COOKIE_NAME.test(name)) throw invalid('cookie.name is not a valid cookie name')
    const sameSite = c.sameSite ?? 'Lax'
    if (!['Strict', 'Lax', 'None'].includes(sameSite)) throw invalid('cookie.sameSite must be Strict, Lax or None')
    if (c.path !== undefined && !/^\/[^;\s]*$/.test(c.path)) throw invalid('cookie.path must start with / and hold no ; or spaces')
    if (c.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(c.domain)) throw invalid('cookie.domain is not a domain')
    this.#cookie = { name, secure: c.secure ?? true, sameSite, path: c.path ?? '/', domain: c.domain }
    // One HMAC key per secret: the first signs, all verify.
    this.#key = secrets.map((s) => crypto.createHmac('sha256', 'knack-session cookie v1').update(s).digest())
    this.#tokenCacheMs = opts.tokenCacheMs ?? 60_000
    this.#allowToken = opts.allowToken ?? true
    const { cookie: _c, allowToken: _a, tokenCacheMs: _t, ...sessionOpts } = opts
    this.#opts = sessionOpts
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
   * The session of a request, or null. `headers.cookie` (signed session id, restored from the
   * store) or `headers.authorization` (a Knack user token sent by a Knack page, validated with
   * Knack once and then cached by its hash for tokenCacheMs).
   * @returns {Promise<{ session: KnackSession, via: 'cookie' | 'token' } | null>}
   */
  async fromHeaders({ cookie, authorization }) {
    const token = this.#token(authorization)
    if (token) return { session: await this.#fromToken(token), via: 'token' }
    const value = parseCookies(cookie)[this.#cookie.name]
    const id = value === undefined ? null : this.unsign(value)
    if (!id) return null
    const session = await KnackSession.restore(id, this.#opts)
    return session ? { session, via: 'cookie' } : null
  }

  /** A validated session for a token; the session (with the roles Knack reported) is cached by the token's hash. */
  async #fromToken(token) {
    const hash = crypto.createHash('sha256').update(token).digest('base64url')
    const hit = this.#tokenCache.get(hash)
    if (hit && hit.until > Date.now()) return hit.session
    const session = KnackSession.fromToken(token, this.#opts)
    await session.validate()
    if (this.#tokenCache.size >= 10_000) {
      const now = Date.now()
      for (const [k, v] of this.#tokenCache) if (v.until <= now) this.#tokenCache.delete(k)
      if (this.#tokenCache.size >= 10_000) this.#tokenCache.clear()
    }
    this.#tokenCache.set(hash, { session, until: Date.now() + this.#tokenCacheMs })
    return session
  }

  /** Log in and save to the store. Resolves { session, setCookie }. */
  async login({ email, password, remember } = {}) {
    if (typeof email !== 'string' || typeof password !== 'string') throw invalid('email and password are required')
    const session = await KnackSession.login({ ...this.#opts, email, password, remember: remember === true })
    return { session, setCookie: this.cookieFor(session) }
  }

  /** Log out (delete from the store). Resolves the Set-Cookie value that clears the cookie. */
  async logout(session) {
    if (session) await session.logout()
    return this.clearCookie()
  }
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

module.exports = { KnackAuth, statusFor, errorAnswer, parseCookies, publicUser }
