// knack-session/express: middleware that puts the user's KnackSession on req.knack.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KnackSession, KnackError, SessionOptions } from './index.js'

export interface CookieOptions {
  /** Default 'knack_sid'. */
  name?: string
  /** Default true (browsers accept Secure cookies on http://localhost too). */
  secure?: boolean
  /** Default 'Lax'. */
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
  /** How long a token Knack has validated is trusted without asking again. Default 60000. */
  tokenCacheMs?: number
}

type Req = IncomingMessage & { knack?: KnackSession | null; knackVia?: 'cookie' | 'token'; body?: unknown }
type Next = (err?: unknown) => void

export interface KnackMiddleware {
  (req: Req, res: ServerResponse, next: Next): Promise<void>
  /** 401 JSON unless the request has a session. */
  required(req: Req, res: ServerResponse, next: Next): void
  /** POST { email, password, remember? } -> 200 { user } and the session cookie. */
  login(req: Req, res: ServerResponse): Promise<void>
  /** POST -> 204, the session deleted and the cookie cleared. */
  logout(req: Req, res: ServerResponse): Promise<void>
  /** Error handler: KnackError -> its HTTP status and { error: { code, message } }. */
  errors(err: unknown, req: Req, res: ServerResponse, next: Next): void
}

export declare function knackSession(opts: KnackAuthOptions): KnackMiddleware
/** The HTTP status that suits a KnackError (e.g. KNACK_FORBIDDEN -> 403). */
export declare function statusFor(err: KnackError): number
export declare function errorAnswer(err: unknown): { status: number; headers: Record<string, string>; body: string }

declare global {
  namespace Express {
    interface Request {
      knack?: KnackSession | null
      knackVia?: 'cookie' | 'token'
    }
  }
}
