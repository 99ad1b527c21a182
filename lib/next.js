'use strict'
// Next.js App Router helper (route handlers on the Node.js runtime). Needs
// `serverExternalPackages: ['knack-session']` in next.config (Next 15+).
//
//   // lib/knack.js
//   export const knack = createKnackAuth({ appId, store, secret })
//   // app/api/tickets/route.js
//   export const GET = knack.withSession(async (request, { session }) =>
//     Response.json(await session.getRecords({ scene: 'scene_1', view: 'view_1' })))

const { KnackAuth, errorAnswer, publicUser } = require('./http')
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

/** @param {object} opts as for the Express middleware. */
function createKnackAuth(opts) {
  const auth = new KnackAuth(opts)

  /** The session of a Request (cookie or Authorization), or null. Throws KnackError. */
  async function getSession(request) {
    const found = await auth.fromHeaders({
      cookie: request.headers.get('cookie') ?? undefined,
      authorization: request.headers.get('authorization') ?? undefined,
    })
    return found ? found.session : null
  }

  /** A Response for any error: KnackError -> its status and `{ error: { code, message } }`. */
  function errorResponse(err) {
    if (!(err instanceof KnackError)) {
      return json(500, { error: { code: 'KNACK_INTERNAL', message: 'internal error' } })
    }
    return answer(errorAnswer(err))
  }

  /** Wrap a route handler: 401 without a session; KnackErrors become JSON answers. */
  function withSession(handler) {
    return async (request, context = {}) => {
      try {
        const session = await getSession(request)
        if (!session) return json(401, { error: { code: 'KNACK_UNAUTHORIZED', message: 'log in first' } })
        return await handler(request, { ...context, session })
      } catch (e) {
        return errorResponse(e)
      }
    }
  }

  /** POST route handler: { email, password, remember? } -> 200 { user } + cookie. */
  async function login(request) {
    try {
      let body
      try {
        body = await request.json()
      } catch {
        return json(400, { error: { code: 'KNACK_INVALID_ARGUMENT', message: 'request body is not JSON' } })
      }
      const { session, setCookie } = await auth.login(body ?? {})
      return json(200, { user: publicUser(session) }, { 'set-cookie': setCookie })
    } catch (e) {
      return errorResponse(e)
    }
  }

  /** POST route handler: 204, session deleted, cookie cleared. */
  async function logout(request) {
    try {
      const cookieOnly = await auth.fromHeaders({ cookie: request.headers.get('cookie') ?? undefined })
      const clear = await auth.logout(cookieOnly ? cookieOnly.session : null)
      return new Response(null, { status: 204, headers: { 'set-cookie': clear, 'cache-control': 'no-store' } })
    } catch (e) {
      return errorResponse(e)
    }
  }

  return { getSession, withSession, login, logout, errorResponse, auth }
}

module.exports = { createKnackAuth }
