'use strict'
// Express (4 and 5) middleware: puts the user's KnackSession on req.knack.
//
//   const { knackSession } = require('knack-session/express')
//   const knack = knackSession({ appId, secret })  // the default MemoryStore: one process
//   app.use(express.json(), knack)          // never answers: req.knack is a session or null
//   app.post('/api/login', knack.login)     // JSON only; same-origin only
//   app.post('/api/logout', knack.logout)   // JSON only; same-origin only
//   app.get('/api/tickets', knack.required, async (req, res) => res.json(await knack.sessionOf(req).getRecords(...)))
//   app.use(knack.errors)                   // KnackErrors only; others go on to the app's handler

const { KnackAuth, errorAnswer, publicUser, statusFor, refusal, bodyFields, formFields, noSession, asKnackError, SESSION_ENDED, BODY_LIMIT } = require('./http')
const codes = require('./codes')
const { KnackError } = require('./errors')

// Marks the KnackError sessionOf() throws: knack.errors answers it without reporting it again.
const ANSWERED_BY_REQUIRED = Symbol('knack-session.answeredByRequired')

function send(res, { status, headers, body }) {
  res.statusCode = status
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  res.end(body)
}

function sendJson(res, status, value, extraHeaders = {}) {
  send(res, {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders },
    body: JSON.stringify(value),
  })
}

/** A header getter over Node's req.headers (lower-case names; repeated headers joined). */
function headersOf(req) {
  const h = req.headers ?? {}
  return (name) => {
    const v = h[name]
    return Array.isArray(v) ? v.join(', ') : v
  }
}

/** Set our cookie, replacing an earlier Set-Cookie for it (and keeping other cookies). */
function setOurCookie(res, name, value) {
  const prev = res.getHeader('set-cookie')
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)]
  const kept = list.filter((c) => !c.startsWith(`${name}=`))
  res.setHeader('set-cookie', kept.length ? [...kept, value] : value)
}

/**
 * The login body: express.json()'s (or another parser's) req.body if present, else read
 * here (at most 64 KiB). `kind` ('json' | 'form') comes from the Content-Type, which is
 * checked even when a parser already ran.
 */
async function readBody(req, kind) {
  const b = req.body
  if (b !== undefined && b !== null && typeof b === 'object' && !Buffer.isBuffer(b)) return kind === 'form' ? formFields(b) : b
  let text
  if (typeof b === 'string') text = b
  else if (Buffer.isBuffer(b)) text = b.toString('utf8')
  else if (req.readableEnded) text = ''
  else {
    let size = 0
    const chunks = []
    for await (const chunk of req) {
      size += chunk.length
      if (size > BODY_LIMIT) throw refusal(codes.INVALID_ARGUMENT, 'request body too large', 413)
      chunks.push(chunk)
    }
    text = Buffer.concat(chunks).toString('utf8')
  }
  if (text.length > BODY_LIMIT) throw refusal(codes.INVALID_ARGUMENT, 'request body too large', 413)
  return bodyFields(text, kind)
}

/**
 * @param {object} opts session options (appId, baseUrl, store, rateLimit, ...) plus `secret`
 *   (signs the cookie), `cookie` { name, secure, sameSite, path, domain }, `allowToken`,
 *   `tokenCacheMs`, `tokenValidation` { perSecond = 2, burst = 4, refusedCacheMs = 60000 }
 *   (the budget for validating unknown tokens with Knack: 2/s is 20% of Knack's 10/s),
 *   `allowFormLogin`, `allowedOrigins`, `trustProxy`, `onError(err, { where, request })`.
 *   See KnackAuth in lib/http.js for each.
 * The middleware never answers: req.knack is the session or null, req.knackError says why
 * (KnackAuth#find). knack.required answers 401 / 503 / 429; knack.sessionOf(req) is the
 * typed session; knack.errors answers KnackErrors (ending a session Knack rejected) and
 * passes every other error on.
 */
function knackSession(opts) {
  const auth = new KnackAuth(opts, { where: 'knackSession() options' })

  function fail(res, err, where, req) {
    auth.report(err, { where, request: req })
    send(res, errorAnswer(err, { redact: auth.redact }))
  }

  /** The app's own origin for this request (Host and the socket's protocol). */
  function ownOrigin(req, get) {
    const proto = req.socket && req.socket.encrypted ? 'https' : 'http'
    return auth.originOf(get, { proto, host: get('host') })
  }

  /**
   * Find the request's session: req.knack (the session or null), req.knackVia, and when null
   * req.knackError (why; undefined without any credential). Never answers, never throws;
   * failures went to onError inside auth.find().
   */
  async function load(req, res) {
    req.knack = null
    req.knackVia = undefined
    req.knackError = undefined
    const found = await auth.find(headersOf(req), req)
    // A cookie that leads nowhere (expired, logged out, unknown): clear it, whatever else happens.
    if (found.setCookie && !res.headersSent) setOurCookie(res, auth.cookieName, found.setCookie)
    if (found.session) {
      req.knack = found.session
      req.knackVia = found.via
    } else {
      req.knackError = found.error
    }
  }

  async function middleware(req, res, next) {
    try {
      await load(req, res)
    } catch (e) {
      // auth.find() does not throw; this is a last guard so a request always goes on.
      req.knack = null
      req.knackError = asKnackError(e)
      auth.report(req.knackError, { where: 'restore', request: req })
    }
    next()
  }

  /**
   * Only requests with a session go on; else `{ error: { code, message } }`: 401 without a
   * session (none, or a refused one), 503 KNACK_STORE when the store could not be read, 429
   * with Retry-After when the token budget is spent, 502/504 when Knack could not say.
   */
  middleware.required = async function required(req, res, next) {
    // Without the global middleware (mounted on some routes only), find the session here.
    if (req.knack === undefined) await load(req, res)
    if (req.knack) return next()
    send(res, errorAnswer(noSession(req.knackError), { redact: auth.redact }))
  }

  /**
   * req.knack as a KnackSession, for code after knack.required (and for TypeScript, where
   * req.knack is `KnackSession | null`). Without a session it throws the KnackError that
   * knack.required would have answered with (knack.errors answers it the same way).
   */
  middleware.sessionOf = function sessionOf(req) {
    if (req && req.knack) return req.knack
    if (!req || req.knack === undefined) {
      throw new KnackError(codes.INTERNAL, 'knack.sessionOf(req): the knack middleware did not run for this request: app.use(knack) before the route, or knack.required on it')
    }
    const e = noSession(req.knackError)
    Object.defineProperty(e, ANSWERED_BY_REQUIRED, { value: true })
    throw e
  }

  /** Same-origin and Content-Type checks for login and logout; resolves the body kind. */
  function guard(req, what) {
    const get = headersOf(req)
    auth.checkSameOrigin(get, ownOrigin(req, get), what)
    return auth.bodyKind(get('content-type'), what)
  }

  /** POST { email, password, remember? } (application/json) -> 200 { user } and the session cookie. */
  middleware.login = async function login(req, res) {
    try {
      const kind = guard(req, 'login')
      const body = await readBody(req, kind)
      const { session, setCookie } = await auth.login(body)
      setOurCookie(res, auth.cookieName, setCookie)
      sendJson(res, 200, { user: publicUser(session) })
    } catch (e) {
      fail(res, e, 'login', req)
    }
  }

  /** POST (application/json) -> 204, the session deleted from the store and the cookie cleared. */
  middleware.logout = async function logout(req, res) {
    try {
      guard(req, 'logout')
      let session = req.knackVia === 'cookie' ? req.knack : null
      if (req.knack === undefined) {
        // The middleware did not run for this route: find the cookie's session here.
        session = (await auth.resolve(headersOf(req), req, { cookieOnly: true })).session
      }
      const clear = await auth.logout(session, req)
      res.statusCode = 204
      setOurCookie(res, auth.cookieName, clear)
      res.setHeader('cache-control', 'no-store')
      res.end()
    } catch (e) {
      fail(res, e, 'logout', req)
    }
  }

  /**
   * Error handler for KnackErrors: its HTTP status and `{ error: { code, message } }`, the
   * details to onError ('handler'). Any other error goes on (next(err)) to the app's own
   * error handler after this one. A KNACK_UNAUTHORIZED / KNACK_TOKEN_EXPIRED while the request
   * has a session means Knack no longer takes its token: the session ends (a cookie session's
   * store record is deleted and the cookie cleared; a token is refused for refusedCacheMs),
   * so the next request is anonymous without asking Knack again.
   */
  middleware.errors = async function errors(err, req, res, next) {
    if (!(err instanceof KnackError)) return next(err)
    if (SESSION_ENDED.has(err.code) && req.knack) {
      const { knack: session, knackVia: via } = req
      req.knack = null
      req.knackVia = undefined
      req.knackError = err
      await auth.endSession(session, via, err, req)
      if (via === 'cookie' && !res.headersSent) setOurCookie(res, auth.cookieName, auth.clearCookie())
    }
    if (res.headersSent) return next(err)
    // What sessionOf() threw was reported when the session was looked for.
    if (err[ANSWERED_BY_REQUIRED]) return send(res, errorAnswer(err, { redact: auth.redact }))
    fail(res, err, 'handler', req)
  }

  middleware.auth = auth
  return middleware
}

module.exports = { knackSession, statusFor, errorAnswer }
