'use strict'
// Next.js helpers, both routers, Node.js runtime (Edge gets lib/next-edge.mjs: an error that
// says so). Needs `serverExternalPackages: ['knack-session']` in next.config (Next 15+).
//
//   // lib/knack.js: nothing is read or checked here, so `next build` needs no secrets
//   export const knack = createKnackAuth({ appId: process.env.KNACK_APP_ID, store, secret })
//
//   App Router
//     const session = await knack.getSession()           // Server Components, Actions, routes
//     await knack.signIn({ email, password })             // Server Action: sets the cookie
//     await knack.signOut()                               // Server Action: clears it
//     export const POST = knack.login                     // route handler, JSON, same origin
//     export const GET = knack.withSession(async (request, { session }) => Response.json(...))
//   Pages Router (pages/api/*.js)
//     export default knack.pages.withSession(async (req, res, session) => res.json(...))
//     export default knack.pages.login                    // and knack.pages.logout

const { KnackAuth, errorAnswer, publicUser, refusal, bodyFields, formFields, BODY_LIMIT } = require('./http')
const codes = require('./codes')
const { KnackError, invalid } = require('./errors')

function answer({ status, headers, body }) {
  return new Response(body, { status, headers })
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

function json(status, value, headers = {}) {
  return new Response(JSON.stringify(value), { status, headers: { ...JSON_HEADERS, ...headers } })
}

const LOG_IN_FIRST = { error: { code: codes.UNAUTHORIZED, message: 'log in first' } }

/** A header getter over a web Request or a Headers object. */
function headersOf(h) {
  return (name) => {
    const v = h.get(name)
    return v === null ? undefined : v
  }
}

/** A header getter over Node's req.headers (lower-case names; repeated headers joined). */
function nodeHeadersOf(req) {
  const h = (req && req.headers) || {}
  return (name) => {
    const v = h[name]
    return Array.isArray(v) ? v.join(', ') : v
  }
}

/** The request body as text, at most 64 KiB. */
async function readText(request) {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > BODY_LIMIT) {
      reader.cancel().catch(() => {})
      throw refusal(codes.INVALID_ARGUMENT, 'request body too large', 413)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))).toString('utf8')
}

/** A Pages Router body: Next's body parser already ran (object or string), or read it here. */
async function readNodeBody(req, kind) {
  const b = req.body
  if (b !== undefined && b !== null && typeof b === 'object' && !Buffer.isBuffer(b)) return kind === 'form' ? formFields(b) : b
  let text
  if (typeof b === 'string') text = b
  else if (Buffer.isBuffer(b)) text = b.toString('utf8')
  else if (req.readableEnded || typeof req[Symbol.asyncIterator] !== 'function') text = ''
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

/** Node (req, res) answers for the Pages Router. */
function send(res, { status, headers, body }) {
  res.statusCode = status
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  res.end(body)
}

function sendJson(res, status, value, extra = {}) {
  send(res, { status, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(value) })
}

/** Add our Set-Cookie to a Node response, replacing an earlier one of ours. */
function setOurCookie(res, name, value) {
  const prev = res.getHeader('set-cookie')
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)]
  const kept = list.filter((c) => !c.startsWith(`${name}=`))
  res.setHeader('set-cookie', kept.length ? [...kept, value] : value)
}

/** `name=value; Path=/; Max-Age=N; HttpOnly; SameSite=Lax; Secure; Domain=d` -> cookies().set() arguments. */
function cookieArgs(setCookie) {
  const [pair, ...attrs] = setCookie.split('; ')
  const i = pair.indexOf('=')
  const name = pair.slice(0, i)
  const value = decodeURIComponent(pair.slice(i + 1))
  const o = { httpOnly: false, secure: false }
  for (const a of attrs) {
    const [k, v] = a.split('=')
    const key = k.toLowerCase()
    if (key === 'path') o.path = v
    else if (key === 'max-age') o.maxAge = Number(v)
    else if (key === 'httponly') o.httpOnly = true
    else if (key === 'secure') o.secure = true
    else if (key === 'samesite') o.sameSite = v.toLowerCase()
    else if (key === 'domain') o.domain = v
  }
  return { name, value, options: o }
}

/**
 * `next/headers`, required when first needed (from the app's own `next`): only the
 * argument-less getSession(), signIn() and signOut() use it.
 */
let nextHeaders = null
function loadNextHeaders(what) {
  if (nextHeaders) return nextHeaders
  try {
    nextHeaders = require('next/headers')
  } catch (e) {
    throw invalid(`${what} reads the current request through next/headers, which could not be loaded (${String(e && e.message).split('\n')[0]}); outside Next.js, pass the request: getSession(request)`, e)
  }
  return nextHeaders
}

/** What next/headers says about the current request; a clear error outside a request. */
async function requestScope(what) {
  const { headers, cookies } = loadNextHeaders(what)
  try {
    return { headers: await headers(), cookies: await cookies() }
  } catch (e) {
    // Next's own errors (dynamic usage during prerendering, ...) must reach Next untouched.
    if (e && (e.digest || e.$$typeof || /dynamic|prerender|postpone/i.test(String(e.message)))) throw e
    throw invalid(`${what} was called outside a request (no next/headers scope: call it in a Server Component, a Server Action or a route handler), or pass the request: ${String(e && e.message).split('\n')[0]}`, e)
  }
}

// Errors of the app's own configuration (a missing secret): the browser gets a 500 and
// "internal error", not the 400 "invalid request" of a bad request; onError gets the details.
const CONFIG_ERRORS = new WeakSet()
const CONFIG_ANSWER = { error: { code: codes.INVALID_ARGUMENT, message: 'internal error' } }

/**
 * @param {object | (() => object)} opts as for the Express middleware (see KnackAuth in
 *   lib/http.js), or a function that returns them. Nothing is read or checked until the first
 *   request, so importing this during `next build` needs no secrets; bad or missing options
 *   fail that first request with KNACK_INVALID_ARGUMENT (and onError, if it could be read).
 */
function createKnackAuth(opts) {
  let made = null
  /** The KnackAuth, made (options read and checked) on first use; a failure is not kept. */
  function auth() {
    if (made) return made
    try {
      const o = typeof opts === 'function' ? opts() : opts
      made = new KnackAuth(o, { where: 'createKnackAuth() options' })
    } catch (e) {
      const err = e instanceof KnackError ? e : invalid(`createKnackAuth() options could not be read: ${e && e.message}`, e)
      CONFIG_ERRORS.add(err)
      throw err
    }
    return made
  }

  /** The app's own origin: the request URL's (Next builds it from the Host header). */
  function ownOrigin(request, get) {
    let url
    try {
      url = new URL(request.url)
    } catch {
      return null
    }
    return auth().originOf(get, { proto: url.protocol, host: url.host })
  }

  function report(err, where, request) {
    try {
      auth().report(err, { where, request })
    } catch {
      // Options that cannot be read cannot name an onError: the default applies.
      process.emitWarning(`knack-session (${where}): ${err && err.message}`, { code: err && err.code })
    }
  }

  /**
   * The session of the current request: `getSession(request)` in a route handler, or
   * `getSession()` anywhere Next's `headers()` works (Server Components, Server Actions,
   * route handlers). Null when there is none. Throws KnackError for a refused token.
   */
  async function getSession(request) {
    if (request === undefined) {
      const scope = await requestScope('getSession()')
      return (await auth().resolve(headersOf(scope.headers), null)).session
    }
    if (!request || typeof request.headers?.get !== 'function') {
      throw invalid('getSession(request) takes a web Request (App Router); in pages/api routes use knack.pages.getSession(req)')
    }
    return (await auth().resolve(headersOf(request.headers), request)).session
  }

  /**
   * A Response for any error: KnackError -> its status and `{ error: { code, message } }`
   * with a generic message; the details go to onError (`where` 'handler' unless given).
   */
  function errorResponse(err, request, where = 'handler') {
    report(err, where, request)
    if (CONFIG_ERRORS.has(err)) return json(500, CONFIG_ANSWER)
    if (!(err instanceof KnackError)) return json(500, { error: { code: codes.INTERNAL, message: 'internal error' } })
    return answer(errorAnswer(err, { redact: made ? made.redact : [] }))
  }

  /** Wrap a route handler: 401 without a session; KnackErrors become JSON answers. */
  function withSession(handler) {
    return async (request, context = {}) => {
      let found
      try {
        found = await auth().resolve(headersOf(request.headers), request)
      } catch (e) {
        return errorResponse(e, request, 'token')
      }
      if (!found.session) return json(401, LOG_IN_FIRST, found.setCookie ? { 'set-cookie': found.setCookie } : {})
      try {
        return await handler(request, { ...context, session: found.session })
      } catch (e) {
        return errorResponse(e, request)
      }
    }
  }

  /** Same-origin and Content-Type checks for login and logout; returns the body kind. */
  function guard(request, what) {
    const get = headersOf(request.headers)
    auth().checkSameOrigin(get, ownOrigin(request, get), what)
    return auth().bodyKind(get('content-type'), what)
  }

  /** POST route handler: { email, password, remember? } (application/json) -> 200 { user } + cookie. */
  async function login(request) {
    try {
      const kind = guard(request, 'login')
      const body = bodyFields(await readText(request), kind)
      const { session, setCookie } = await auth().login(body ?? {})
      return json(200, { user: publicUser(session) }, { 'set-cookie': setCookie })
    } catch (e) {
      return errorResponse(e, request, 'login')
    }
  }

  /** POST route handler (application/json): 204, session deleted, cookie cleared. */
  async function logout(request) {
    try {
      guard(request, 'logout')
      const found = await auth().resolve(headersOf(request.headers), request, { cookieOnly: true })
      const clear = await auth().logout(found.session, request)
      return new Response(null, { status: 204, headers: { 'set-cookie': clear, 'cache-control': 'no-store' } })
    } catch (e) {
      return errorResponse(e, request, 'logout')
    }
  }

  /**
   * Server Action: log in and set the session cookie through next/headers. Resolves the
   * public user `{ id, email, name, profileKeys, expiresAt }`; throws KnackError
   * (KNACK_LOGIN_FAILED for a wrong password). Next checks a Server Action's origin itself.
   */
  async function signIn(credentials) {
    const scope = await requestScope('signIn()')
    const { session, setCookie } = await auth().login(credentials ?? {})
    const c = cookieArgs(setCookie)
    scope.cookies.set(c.name, c.value, c.options)
    return publicUser(session)
  }

  /** Server Action: delete the cookie's session from the store and clear the cookie. */
  async function signOut() {
    const scope = await requestScope('signOut()')
    const found = await auth().resolve(headersOf(scope.headers), null, { cookieOnly: true })
    const c = cookieArgs(await auth().logout(found.session, null))
    scope.cookies.set(c.name, '', c.options)
  }

  // ---- Pages Router: Node (req, res) ----

  function pagesFail(res, err, where, req) {
    report(err, where, req)
    if (res.headersSent) return
    if (CONFIG_ERRORS.has(err)) return sendJson(res, 500, CONFIG_ANSWER)
    if (!(err instanceof KnackError)) return sendJson(res, 500, { error: { code: codes.INTERNAL, message: 'internal error' } })
    send(res, errorAnswer(err, { redact: made ? made.redact : [] }))
  }

  function pagesOrigin(req, get) {
    const proto = req.socket && req.socket.encrypted ? 'https' : 'http'
    return auth().originOf(get, { proto, host: get('host') })
  }

  function pagesGuard(req, res, what) {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      throw refusal(codes.INVALID_ARGUMENT, `${what} takes POST`, 405)
    }
    const get = nodeHeadersOf(req)
    auth().checkSameOrigin(get, pagesOrigin(req, get), what)
    return auth().bodyKind(get('content-type'), what)
  }

  const pages = {
    /** The session of a pages/api request, or null. Throws KnackError for a refused token. */
    async getSession(req) {
      if (!req || typeof req.headers !== 'object' || typeof req.headers.get === 'function') {
        throw invalid('pages.getSession(req) takes the Node request of a pages/api route; App Router code uses getSession(request) or getSession()')
      }
      return (await auth().resolve(nodeHeadersOf(req), req)).session
    },

    /** Wrap a pages/api handler: `handler(req, res, session)`; 401 without a session. */
    withSession(handler) {
      return async (req, res) => {
        let found
        try {
          found = await auth().resolve(nodeHeadersOf(req), req)
        } catch (e) {
          return pagesFail(res, e, 'token', req)
        }
        if (!found.session) {
          if (found.setCookie) setOurCookie(res, auth().cookieName, found.setCookie)
          return sendJson(res, 401, LOG_IN_FIRST)
        }
        try {
          await handler(req, res, found.session)
        } catch (e) {
          pagesFail(res, e, 'handler', req)
        }
      }
    },

    /** `export default knack.pages.login`: POST JSON { email, password, remember? } -> 200 { user } + cookie. */
    async login(req, res) {
      try {
        const kind = pagesGuard(req, res, 'login')
        const { session, setCookie } = await auth().login(await readNodeBody(req, kind))
        setOurCookie(res, auth().cookieName, setCookie)
        sendJson(res, 200, { user: publicUser(session) })
      } catch (e) {
        pagesFail(res, e, 'login', req)
      }
    },

    /** `export default knack.pages.logout`: POST JSON -> 204, session deleted, cookie cleared. */
    async logout(req, res) {
      try {
        pagesGuard(req, res, 'logout')
        const found = await auth().resolve(nodeHeadersOf(req), req, { cookieOnly: true })
        setOurCookie(res, auth().cookieName, await auth().logout(found.session, req))
        res.statusCode = 204
        res.setHeader('cache-control', 'no-store')
        res.end()
      } catch (e) {
        pagesFail(res, e, 'logout', req)
      }
    },
  }

  return {
    getSession,
    withSession,
    login,
    logout,
    signIn,
    signOut,
    errorResponse,
    pages,
    /** The KnackAuth (options checked now if they were not yet). */
    get auth() {
      return auth()
    },
  }
}

module.exports = { createKnackAuth }
