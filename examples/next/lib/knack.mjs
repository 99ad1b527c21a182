// One auth helper for the whole app (module scope: one per server process).
import { createKnackAuth } from 'knack-session/next'
import { RedisStore, MemoryStore } from 'knack-session'

const secret = process.env.SESSION_SECRET
if (!secret) throw new Error('set SESSION_SECRET (at least 32 characters)')

export const knack = createKnackAuth({
  appId: process.env.KNACK_APP_ID,
  baseUrl: process.env.KNACK_API_URL,
  secret,
  // Several Next processes or hosts: share sessions (and the rate limit) through Redis.
  store: process.env.REDIS_URL ? new RedisStore({ url: process.env.REDIS_URL, secret }) : new MemoryStore(),
  rateLimit: process.env.REDIS_URL ? { perSecond: 10, redis: process.env.REDIS_URL } : undefined,
})
