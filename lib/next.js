'use strict'
// Next.js App Router helper (route handlers on the Node.js runtime). Needs
// `serverExternalPackages: ['knack-session']` in next.config (Next 15+).
//
//   // lib/knack.js
//   export const knack = createKnackAuth({ appId, store, secret })
//   // app/api/login/route.js
//   export const POST = knack.login        // JSON only; same-origin only
//   // app/api/tickets/route.js
//   export const GET = knack.withSession(async (request, { session }) =>
//     Response.json(await session.getRecords({ scene: 'scene_1', view: 'view_1' })))

const { KnackAuth, errorAnswer, publicUser, refusal, bodyFields, BODY_LIMIT } = require('./http')
const codes = require('./codes')
const { KnackError } = require('./errors')

function answer({ status, headers, body }) {
  return new Response(body, { status, headers })
}

function json(status, value, headers = {}) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  })
}

function headersOf(request) {
  return (name) => {
    const v = request.headers.get(name)
    return v === null ? undefined : v
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

/** @param {object} opts as for the Express middleware (see KnackAuth in lib/http.js). */
function createKnackAuth(opts) {
  const auth = new KnackAuth(opts, { where: 'createKnackAuth() options' })

  /** The app's own origin: the request URL's (Next builds it from the Host header). */
  function ownOrigin(request, get) {
    let url
    try {
      url = new URL(request.url)
    } catch {
      return null
    }
    return auth.originOf(get, { proto: url.protocol, host: url.host })
  }

  /** The session of a Request (cookie or Authorization), or null. Throws KnackError for a refused token. */
  async function getSession(request) {
    const found = await auth.resolve(headersOf(request), request)
    return found.session
  }

  /**
   * A Response for any error: KnackError -> its status and `{ error: { code, message } }`
   * with a generic message; the details go to onError (`where` 'handler' unless given).
   */
  function errorResponse(err, request, where = 'handler') {
    auth.report(err, { where, request })
    if (!(err instanceof KnackError)) {
      return json(500, { error: { code: codes.INTERNAL, message: 'internal error' } })
    }
    return answer(errorAnswer(err, { redact: auth.redact }))
  }

  /** Wrap a route handler: 401 without a session; KnackErrors become JSON answers. */
  function withSession(handler) {
    return async (request, context = {}) => {
      let found
      try {
        found = await auth.resolve(headersOf(request), request)
      } catch (e) {
        return errorResponse(e, request, 'token')
      }
      if (!found.session) {
        const headers = found.setCookie ? { 'set-cookie': found.setCookie } : {}
        return json(401, { error: { code: codes.UNAUTHORIZED, message: 'log in first' } }, headers)
      }
      try {
        return await handler(request, { ...context, session: found.session })
      } catch (e) {
        return errorResponse(e, request)
      }
    }
  }

  /** Same-origin and Content-Type checks for login and logout; returns the body kind. */
  function guard(request, what) {
    const get = headersOf(request)
    auth.checkSameOrigin(get, ownOrigin(request, get), what)
    return auth.bodyKind(get('content-type'), what)
  }

  /** POST route handler: { email, password, remember? } (application/json) -> 200 { user } + cookie. */
  async function login(request) {
    try {
      const kind = guard(request, 'login')
      const body = bodyFields(await readText(request), kind)
      const { session, setCookie } = await auth.login(body ?? {})
      return json(200, { user: publicUser(session) }, { 'set-cookie': setCookie })
    } catch (e) {
      return errorResponse(e, request, 'login')
    }
  }

  /** POST route handler (application/json): 204, session deleted, cookie cleared. */
  async function logout(request) {
    try {
      guard(request, 'logout')
      const found = await auth.resolve(headersOf(request), request, { cookieOnly: true })
      const clear = await auth.logout(found.session, request)
      return new Response(null, { status: 204, headers: { 'set-cookie': clear, 'cache-control': 'no-store' } })
    } catch (e) {
      return errorResponse(e, request, 'logout')
    }
  }

  return { getSession, withSession, login, logout, errorResponse, auth }
}

module.exports = { createKnackAuth }
