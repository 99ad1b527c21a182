'use strict'
// Express (4 and 5) middleware: puts the user's KnackSession on req.knack.
//
//   const { knackSession } = require('knack-session/express')
//   const knack = knackSession({ appId, store, secret, cookie: { secure: true } })
//   app.use(express.json(), knack)
//   app.post('/api/login', knack.login)     // JSON only; same-origin only
//   app.post('/api/logout', knack.logout)   // JSON only; same-origin only
//   app.get('/api/tickets', knack.required, async (req, res) => res.json(await req.knack.getRecords(...)))
//   app.use(knack.errors)

const { KnackAuth, errorAnswer, publicUser, statusFor, refusal, bodyFields, formFields, BODY_LIMIT } = require('./http')
const codes = require('./codes')
const { KnackError } = require('./errors')

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

  async function middleware(req, res, next) {
    req.knack = null
    req.knackVia = undefined
    let found
    try {
      found = await auth.resolve(headersOf(req), req)
    } catch (e) {
      // A token Knack refused, the token budget spent, ...: answer now.
      return fail(res, e, 'token', req)
    }
    if (found.session) {
      req.knack = found.session
      req.knackVia = found.via
    } else if (found.setCookie && !res.headersSent) {
      // The cookie leads nowhere (expired, deleted, unreadable): go on as anonymous, and clear it.
      setOurCookie(res, auth.cookieName, found.setCookie)
    }
    next()
  }

  /** 401 JSON unless the request has a session. */
  middleware.required = function required(req, res, next) {
    if (req.knack) return next()
    sendJson(res, 401, { error: { code: codes.UNAUTHORIZED, message: 'log in first' } })
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

  /** Error handler: a KnackError becomes its HTTP status and `{ error: { code, message } }`. */
  middleware.errors = function errors(err, req, res, next) {
    if (!(err instanceof KnackError) || res.headersSent) return next(err)
    fail(res, err, 'handler', req)
  }

  middleware.auth = auth
  return middleware
}

module.exports = { knackSession, statusFor, errorAnswer }
