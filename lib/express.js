'use strict'
// Express (4 and 5) middleware: puts the user's KnackSession on req.knack.
//
//   const { knackSession } = require('knack-session/express')
//   const knack = knackSession({ appId, store, secret, cookie: { secure: true } })
//   app.use(express.json(), knack)
//   app.post('/api/login', knack.login)
//   app.post('/api/logout', knack.logout)
//   app.get('/api/tickets', knack.required, async (req, res) => res.json(await req.knack.getRecords(...)))
//   app.use(knack.errors)

const { KnackAuth, errorAnswer, publicUser, statusFor } = require('./http')
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

/** The JSON body: express.json()'s req.body if present, else read it here (max 64 KiB). */
async function readBody(req) {
  if (req.body !== undefined && req.body !== null && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) return req.body
  let size = 0
  const chunks = []
  for await (const chunk of req) {
    size += chunk.length
    if (size > 65536) throw new KnackError('KNACK_INVALID_ARGUMENT', 'request body too large')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (!text) return {}
  const type = String(req.headers['content-type'] || '')
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text))
  try {
    return JSON.parse(text)
  } catch {
    throw new KnackError('KNACK_INVALID_ARGUMENT', 'request body is not JSON')
  }
}

/**
 * @param {object} opts session options (appId, baseUrl, store, rateLimit, ...) plus `secret`
 *   (signs the cookie), `cookie` { name, secure, sameSite, path, domain }, `allowToken`,
 *   `tokenCacheMs`.
 */
function knackSession(opts) {
  const auth = new KnackAuth(opts)

  async function middleware(req, res, next) {
    req.knack = null
    try {
      const found = await auth.fromHeaders({ cookie: req.headers.cookie, authorization: req.headers.authorization })
      if (found) {
        req.knack = found.session
        req.knackVia = found.via
      }
      next()
    } catch (e) {
      // A token Knack refused, a store that is down, ...: answer now.
      send(res, errorAnswer(e))
    }
  }

  /** 401 JSON unless the request has a session. */
  middleware.required = function required(req, res, next) {
    if (req.knack) return next()
    sendJson(res, 401, { error: { code: 'KNACK_UNAUTHORIZED', message: 'log in first' } })
  }

  /** POST { email, password, remember? } -> 200 { user } and the session cookie. */
  middleware.login = async function login(req, res) {
    try {
      const body = await readBody(req)
      const { session, setCookie } = await auth.login(body)
      sendJson(res, 200, { user: publicUser(session) }, { 'set-cookie': setCookie })
    } catch (e) {
      send(res, errorAnswer(e))
    }
  }

  /** POST -> 204, the session deleted from the store and the cookie cleared. */
  middleware.logout = async function logout(req, res) {
    try {
      const clear = await auth.logout(req.knackVia === 'cookie' ? req.knack : null)
      res.statusCode = 204
      res.setHeader('set-cookie', clear)
      res.setHeader('cache-control', 'no-store')
      res.end()
    } catch (e) {
      send(res, errorAnswer(e))
    }
  }

  /** Error handler: a KnackError becomes its HTTP status and `{ error: { code, message } }`. */
  middleware.errors = function errors(err, req, res, next) {
    if (!(err instanceof KnackError) || res.headersSent) return next(err)
    send(res, errorAnswer(err))
  }

  middleware.auth = auth
  return middleware
}

module.exports = { knackSession, statusFor, errorAnswer }
