// The example helpdesk web app: Express + knack-session. Customers see and file their own
// tickets; agents see every ticket. The Knack token never leaves the server: the browser only
// holds a signed, httpOnly cookie with the session id.
import express from 'express'
import { knackSession } from 'knack-session/express'
import { MemoryStore } from 'knack-session'
import { readFileSync } from 'node:fs'

const page = readFileSync(new URL('./page.html', import.meta.url), 'utf8')

/**
 * @param {{ appId: string, baseUrl?: string, secret: string, store?: any, secureCookie?: boolean }} o
 */
export function createApp(o) {
  const knack = knackSession({
    appId: o.appId,
    baseUrl: o.baseUrl,
    store: o.store ?? new MemoryStore(),
    secret: o.secret,
    cookie: { secure: o.secureCookie ?? true, sameSite: 'Lax' },
  })
  const isAgent = (s) => s.profileKeys.includes('profile_2')

  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ limit: '64kb' }))
  app.use(knack)

  app.get('/', (req, res) => res.type('html').send(page))
  // Both take JSON only and refuse cross-site requests (login CSRF): page.html sends JSON with fetch.
  app.post('/api/login', knack.login)
  app.post('/api/logout', knack.logout)

  app.get('/api/me', knack.required, (req, res) => {
    res.json({ id: req.knack.userId, email: req.knack.email, agent: isAgent(req.knack), expiresAt: req.knack.expiresAt })
  })

  app.get('/api/tickets', knack.required, async (req, res, next) => {
    try {
      const view = isAgent(req.knack) ? { scene: 'scene_2', view: 'view_4' } : { scene: 'scene_1', view: 'view_1' }
      const page = await req.knack.getRecords({ ...view, rowsPerPage: 100, format: 'raw' })
      res.json({
        tickets: page.records.map((r) => ({
          id: r.id,
          subject: r.field_10_raw ?? '',
          status: r.field_12_raw ?? '',
          priority: r.field_13_raw ?? null,
          customer: r.field_14_raw?.[0]?.identifier ?? null,
        })),
        total: page.totalRecords,
      })
    } catch (e) {
      next(e)
    }
  })

  app.post('/api/tickets', knack.required, async (req, res, next) => {
    try {
      const { subject, description, priority } = req.body ?? {}
      const data = { field_10: subject ?? '', field_11: description ?? '' }
      if (priority !== undefined && priority !== '') data.field_13 = Number(priority)
      const rec = await req.knack.createRecord({ scene: 'scene_1', view: 'view_2', data })
      res.status(201).json({ id: rec.id })
    } catch (e) {
      next(e)
    }
  })

  app.use(knack.errors) // KnackErrors; anything else goes on to the handler below
  app.use((err, req, res, next) => {
    console.error(err)
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } })
  })
  return app
}
