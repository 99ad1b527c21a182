// A Server Component: reads the session of the current request with knack.getSession() (no
// argument: next/headers), lists the user's tickets, and offers the forms of app/actions.js.
import { knack, MY_TICKETS } from '../lib/knack.mjs'
import { logIn, logOut, createTicket } from './actions.js'

export const dynamic = 'force-dynamic'

export default async function Home({ searchParams }) {
  const { error, invalid } = await searchParams
  const session = await knack.getSession()
  if (!session) {
    return (
      <main>
        <h1>Helpdesk</h1>
        <form action={logIn} id="login">
          <input name="email" type="email" placeholder="Email" required />
          <input name="password" type="password" placeholder="Password" required />
          <button type="submit">Log in</button>
        </form>
        {error ? <p role="alert" id="login-error">{error}</p> : null}
      </main>
    )
  }
  const page = await session.getRecords({ ...MY_TICKETS, rowsPerPage: 100 })
  return (
    <main>
      <h1>Helpdesk</h1>
      <p id="who">Logged in as {session.email}</p>
      <form action={logOut}>
        <button type="submit" id="logout">Log out</button>
      </form>
      <h2>
        My tickets (<span id="total">{page.totalRecords}</span>)
      </h2>
      <ul id="tickets">
        {page.records.map((t) => (
          <li key={t.id}>
            {t.field_10_raw} ({t.field_12_raw})
          </li>
        ))}
      </ul>
      <h2>New ticket</h2>
      <form action={createTicket} id="new-ticket">
        <input name="subject" placeholder="Subject" />
        <textarea name="description" placeholder="Description" />
        <button type="submit">File it</button>
      </form>
      {invalid ? <p role="alert" id="invalid">{invalid}</p> : null}
    </main>
  )
}
