// One auth helper for the whole app (module scope: one per server process). Nothing here is
// read or checked at import: `next build` imports this module with no environment at all,
// and the first request fails with a clear KnackError if a variable is missing.
import { createKnackAuth } from 'knack-session/next'
import { RedisStore } from 'knack-session'

const redis = process.env.REDIS_URL

export const knack = createKnackAuth({
  appId: process.env.KNACK_APP_ID,
  baseUrl: process.env.KNACK_API_URL,
  secret: process.env.SESSION_SECRET,
  // Several Next processes or hosts: share sessions (and the rate limit) through Redis. One
  // process: leave `store` out for the process-wide MemoryStore. (Not `new MemoryStore()`
  // here: Next bundles this module once for the App Router and once for pages/api, so each
  // would get a store of its own and pages/api would not see the App Router's logins.)
  store: redis ? new RedisStore({ url: redis, secret: process.env.SESSION_SECRET }) : undefined,
  rateLimit: redis ? { perSecond: 10, redis } : undefined,
})

/** The customer's views in the Helpdesk app (agents see every ticket on scene_2/view_4). */
export const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
export const NEW_TICKET = { scene: 'scene_1', view: 'view_2' }
