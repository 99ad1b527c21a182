import { knack } from '../../../lib/knack.mjs'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

const isAgent = (s) => s.profileKeys.includes('profile_2')

// GET /api/tickets: the logged-in user's tickets (agents: all of them).
export const GET = knack.withSession(async (request, { session }) => {
  const view = isAgent(session) ? { scene: 'scene_2', view: 'view_4' } : { scene: 'scene_1', view: 'view_1' }
  const page = await session.getRecords({ ...view, rowsPerPage: 100, format: 'raw', signal: request.signal })
  return Response.json({ tickets: page.records, total: page.totalRecords })
})

// POST /api/tickets { subject, description }: a new ticket through the form view.
export const POST = knack.withSession(async (request, { session }) => {
  const body = await request.json().catch(() => ({}))
  const record = await session.createRecord({
    scene: 'scene_1',
    view: 'view_2',
    data: { field_10: body.subject ?? '', field_11: body.description ?? '' },
    signal: request.signal,
  })
  return Response.json({ id: record.id }, { status: 201 })
})
