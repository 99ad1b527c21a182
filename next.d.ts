// knack-session/next: Next.js helpers for both routers (Node.js runtime; on Edge the import
// throws an error that says to use the Node.js runtime).
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KnackSession } from './index.js'
import type { KnackAuthOptions } from './express.js'

/** What login/signIn tell the browser about the user (no token, no session id). */
export interface PublicUser {
  id: string
  email: string | null
  name: string | null
  profileKeys: string[]
  /** ISO 8601. */
  expiresAt: string
}

/** A pages/api request as Next gives it: Node's request with the parsed body. */
export type PagesRequest = IncomingMessage & { body?: unknown }
export type PagesResponse = ServerResponse

export interface KnackPagesAuth {
  /** The session of a pages/api request (signed cookie or Authorization token), or null. */
  getSession(req: PagesRequest): Promise<KnackSession | null>
  /** `export default knack.pages.withSession(async (req, res, session) => ...)`: 401 JSON without a session. */
  withSession(
    handler: (req: PagesRequest, res: PagesResponse, session: KnackSession) => unknown | Promise<unknown>,
  ): (req: PagesRequest, res: PagesResponse) => Promise<void>
  /** `export default knack.pages.login`: POST JSON { email, password, remember? } -> 200 { user } + cookie. */
  login(req: PagesRequest, res: PagesResponse): Promise<void>
  /** `export default knack.pages.logout`: POST JSON -> 204, session deleted, cookie cleared. */
  logout(req: PagesRequest, res: PagesResponse): Promise<void>
}

export interface KnackNextAuth {
  /**
   * The session of the current request, or null: with no argument through `next/headers`
   * (Server Components, Server Actions, route handlers); with a web Request in a route handler.
   */
  getSession(request?: Request): Promise<KnackSession | null>
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
  /**
   * Server Action: log in and set the session cookie (through `next/headers`). Resolves the
   * public user; throws KnackError (KNACK_LOGIN_FAILED for a wrong password).
   */
  signIn(credentials: { email: string; password: string; remember?: boolean }): Promise<PublicUser>
  /** Server Action: delete the cookie's session from the store and clear the cookie. */
  signOut(): Promise<void>
  /** A JSON Response for an error (generic message per code); the details go to onError. */
  errorResponse(err: unknown, request?: Request): Response
  /** pages/api helpers, with Node (req, res) semantics and the same cookie. */
  readonly pages: KnackPagesAuth
}

/**
 * Nothing is read or checked until the first request, so a module that calls this at import
 * (e.g. `lib/knack.js`) builds with `next build` without secrets; missing or bad options fail
 * that request with KNACK_INVALID_ARGUMENT. `opts` may also be a function returning them.
 */
export declare function createKnackAuth(opts: KnackAuthOptions | (() => KnackAuthOptions)): KnackNextAuth
