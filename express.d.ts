// knack-session/express: middleware that puts the user's KnackSession on req.knack.
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
   * 20% of Knack's 10/s. Over it: 429 KNACK_RATE_LIMITED with Retry-After, without calling
   * Knack. Cookie sessions never wait for it.
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
   * Where the details of failures go (the browser only gets a code and a generic message);
   * `err` is a KnackError except for what a route handler threw that was not one.
   * Default: nothing for 4xx; `process.emitWarning` (code = the error's code) for 5xx, store
   * failures and KNACK_INVALID_ARGUMENT from a route handler. A throwing hook never breaks
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
   * 'restore': a cookie's session could not be read (the request went on as anonymous);
   * 'token': an Authorization token was refused; 'login', 'logout'; 'handler': an error your
   * route passed to `knack.errors` / `errorResponse`.
   */
  where: 'restore' | 'token' | 'login' | 'logout' | 'handler'
  /** The incoming request (Express `req`, or the web `Request` in Next). */
  request?: unknown
}

type Req = IncomingMessage & { knack?: KnackSession | null; knackVia?: 'cookie' | 'token'; body?: unknown }
type Next = (err?: unknown) => void

export interface KnackMiddleware {
  (req: Req, res: ServerResponse, next: Next): Promise<void>
  /** 401 JSON unless the request has a session. */
  required(req: Req, res: ServerResponse, next: Next): void
  /**
   * POST { email, password, remember? } as `application/json` -> 200 { user } and the session
   * cookie. 415 for other content types (unless allowFormLogin), 403 for cross-site requests.
   */
  login(req: Req, res: ServerResponse): Promise<void>
  /** POST (`application/json`, same origin) -> 204, the session deleted and the cookie cleared. */
  logout(req: Req, res: ServerResponse): Promise<void>
  /** Error handler: KnackError -> its HTTP status and { error: { code, message } }. */
  errors(err: unknown, req: Req, res: ServerResponse, next: Next): void
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
      knack?: KnackSession | null
      knackVia?: 'cookie' | 'token'
    }
  }
}
