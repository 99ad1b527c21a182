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
  /**
   * POST route handler: { email, password, remember? } as `application/json` -> 200 { user } +
   * cookie. 415 for other content types (unless allowFormLogin), 403 for cross-site requests.
   */
  login(request: Request): Promise<Response>
  /** POST route handler (`application/json`, same origin): 204, session deleted, cookie cleared. */
  logout(request: Request): Promise<Response>
  /** A JSON Response for an error (generic message per code); the details go to onError. */
  errorResponse(err: unknown, request?: Request): Response
}

export declare function createKnackAuth(opts: KnackAuthOptions): KnackNextAuth
