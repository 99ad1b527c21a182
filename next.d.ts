// knack-session/next: helpers for Next.js App Router route handlers (Node.js runtime).
import type { KnackSession } from './index.js'
import type { KnackAuthOptions } from './express.js'

export interface KnackNextAuth {
  /** The session of a request (signed cookie or Authorization token), or null. */
  getSession(request: Request): Promise<KnackSession | null>
  /** 401 without a session; KnackErrors become JSON answers with their HTTP status. */
  withSession<C extends object = {}>(
    handler: (request: Request, context: C & { session: KnackSession }) => Promise<Response> | Response,
  ): (request: Request, context?: C) => Promise<Response>
  /** POST route handler: { email, password, remember? } -> 200 { user } + cookie. */
  login(request: Request): Promise<Response>
  /** POST route handler: 204, session deleted, cookie cleared. */
  logout(request: Request): Promise<Response>
  errorResponse(err: unknown): Response
}

export declare function createKnackAuth(opts: KnackAuthOptions): KnackNextAuth
