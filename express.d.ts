// knack-session/express: middleware that puts the user's KnackSession on req.knack. Mounted
// globally it never answers a request itself: req.knack is the session or null, and
// req.knackError says why it is null. knack.required and knack.errors answer.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KnackSession, KnackError, SessionOptions } from './index.js'

export interface CookieOptions {
  /** Default 'knack_sid'. */
  name?: string
  /** Default true (browsers accept Secure cookies on http://localhost too). */
  secure?: boolean
  /** Default 'Lax'. 'None' needs `secure: true`. */
  sameSite?: 'Strict' | 'Lax' | 'None'
  path?: string
  domain?: string
}

export interface KnackAuthOptions extends SessionOptions {
  /** Signs the session cookie (and encrypts a custom store): at least 32 characters; newest first. */
  secret: string | string[]
  cookie?: CookieOptions
  /** Accept a Knack user token in `Authorization` (default true). */
  allowToken?: boolean
  /** How long a token Knack has validated is trusted without asking again, in ms (finite, >= 0). Default 60000. */
  tokenCacheMs?: number
  /**
   * The budget for asking Knack about tokens not validated yet (one `GET /session/token`
   * each, from the app's shared rate budget). Default `{ perSecond: 2, burst: 4 }` per process:
   * 20% of Knack's 10/s. Over it the request goes on without a session (req.knackError is
   * KNACK_RATE_LIMITED, knack.required answers 429 with Retry-After), without calling Knack.
   * Cookie sessions never wait for it.
   */
  tokenValidation?: TokenValidationOptions
  /** Login and logout also take `application/x-www-form-urlencoded` bodies. Default false: JSON only (415 otherwise). */
  allowFormLogin?: boolean
  /**
   * Origins (scheme://host[:port]) other than the app's own that may log in and out. Login and
   * logout refuse `Sec-Fetch-Site: cross-site` and any other `Origin` with 403 KNACK_FORBIDDEN.
   */
  allowedOrigins?: string[]
  /** Believe X-Forwarded-Proto / X-Forwarded-Host for the app's own origin. Default false. */
  trustProxy?: boolean
  /**
   * Where the details of failures go (the browser only gets a code and a generic message).
   * `err` is a KnackError, except (Next, and Express login/logout) something else a handler
   * threw. Failures finding a request's session ('restore', 'token') come here once: a refused
   * token once per token (refusedCacheMs), a store or Knack outage at most once a minute per
   * where and code. Default: nothing for 4xx (refused tokens included); for 5xx, store
   * failures and KNACK_INVALID_ARGUMENT from a route handler, one `process.emitWarning` line
   * (code = the error's code) without tokens or session ids. A throwing hook never breaks
   * the request.
   */
  onError?: (err: unknown, context: KnackErrorContext) => void
}

export interface TokenValidationOptions {
  /** Validations a second (refill of the bucket). Default 2. */
  perSecond?: number
  /** Validations that may be saved up. Default 4. */
  burst?: number
  /** How long a token Knack refused is refused again without asking, in ms. Default 60000. */
  refusedCacheMs?: number
}

export interface KnackErrorContext {
  /**
   * 'restore': a cookie's session could not be read (the store failed: the request went on
   * without a session); 'token': an Authorization token was refused, could not be validated,
   * or the budget was spent; 'login'; 'logout' (also a failed delete of a session Knack
   * rejected); 'handler': an error your route passed to `knack.errors` / `errorResponse`.
   */
  where: 'restore' | 'token' | 'login' | 'logout' | 'handler'
  /** The incoming request (Express `req`, or the web `Request` in Next). */
  request?: unknown
}

type Req = IncomingMessage & { knack?: KnackSession | null; knackVia?: 'cookie' | 'token'; knackError?: KnackError; body?: unknown }
type Next = (err?: unknown) => void

export interface KnackMiddleware {
  /**
   * Sets `req.knack` (the session or null), `req.knackVia` and, when null, `req.knackError`
   * (why: a KnackError; undefined when the request had no credential). Always calls next():
   * a bad token, a dead cookie or a store outage never answers a request by itself. A
   * signed cookie with a session wins over an Authorization token (which is then not
   * checked); a cookie that leads to no session (expired, logged out) is cleared.
   */
  (req: Req, res: ServerResponse, next: Next): Promise<void>
  /**
   * Only requests with a session go on. Otherwise `{ error: { code, message } }`: 401 without
   * a session (none, a refused token, a dead cookie), 503 KNACK_STORE when the store could not
   * be read, 429 KNACK_RATE_LIMITED with Retry-After when the token budget is spent, 502/504
   * when Knack could not be asked. No internals in the body. Finds the session itself when
   * the middleware was not mounted globally.
   */
  required(req: Req, res: ServerResponse, next: Next): Promise<void>
  /**
   * `req.knack` typed as a KnackSession, for routes behind `knack.required` (in TypeScript
   * `req.knack` is `KnackSession | null`). Without a session it throws the KnackError
   * `knack.required` would have answered with; pass it to `next(e)` and `knack.errors`
   * answers it the same way.
   */
  sessionOf(req: { knack?: KnackSession | null; knackError?: KnackError }): KnackSession
  /**
   * POST { email, password, remember? } as `application/json` -> 200 { user } and the session
   * cookie. 415 for other content types (unless allowFormLogin), 403 for cross-site requests.
   */
  login(req: Req, res: ServerResponse): Promise<void>
  /** POST (`application/json`, same origin) -> 204, the session deleted and the cookie cleared. */
  logout(req: Req, res: ServerResponse): Promise<void>
  /**
   * Error handler for KnackErrors only: its HTTP status and { error: { code, message } }.
   * Every other error goes on with next(err) to the app's own error handler (mount one after
   * it). A KNACK_UNAUTHORIZED / KNACK_TOKEN_EXPIRED on a request with a session ends that
   * session: its store record is deleted and its cookie cleared (a token is refused for
   * refusedCacheMs), so the next request is anonymous without asking Knack.
   */
  errors(err: unknown, req: Req, res: ServerResponse, next: Next): Promise<void>
}

export declare function knackSession(opts: KnackAuthOptions): KnackMiddleware
/** The HTTP status that suits a KnackError (e.g. KNACK_FORBIDDEN -> 403). */
export declare function statusFor(err: KnackError): number
/**
 * The HTTP answer for an error: `{ error: { code, message, errors? } }` with a generic message
 * per code (Knack's message and field errors only for KNACK_VALIDATION). `redact`: strings to
 * cut out of Knack's validation messages.
 */
export declare function errorAnswer(err: unknown, opts?: { redact?: string[] }): { status: number; headers: Record<string, string>; body: string }

declare global {
  namespace Express {
    interface Request {
      /** The user's session, or null (see knackError). Use knack.sessionOf(req) after knack.required. */
      knack: KnackSession | null
      knackVia?: 'cookie' | 'token'
      /** Why req.knack is null: a KnackError, or undefined when the request had no credential. */
      knackError?: KnackError
    }
  }
}
