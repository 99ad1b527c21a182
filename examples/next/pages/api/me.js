// A Pages Router API route (Node req/res) with the same session cookie as the App Router pages.
import { knack, MY_TICKETS } from '../../lib/knack.mjs'

export default knack.pages.withSession(async (req, res, session) => {
  const page = await session.getRecords({ ...MY_TICKETS, rowsPerPage: 1 })
  res.status(200).json({ user: { id: session.userId, email: session.email }, tickets: page.totalRecords })
})
