'use server'
// Server Actions: the forms of app/page.js post here. signIn/signOut set and clear the
// session cookie through next/headers; Next checks that an action comes from the app's origin.
import { redirect } from 'next/navigation'
import { revalidatePath } from 'next/cache'
import { KnackError } from 'knack-session'
import { knack, NEW_TICKET } from '../lib/knack.mjs'

export async function logIn(formData) {
  let failed = null
  try {
    await knack.signIn({ email: String(formData.get('email') ?? ''), password: String(formData.get('password') ?? '') })
  } catch (e) {
    if (!(e instanceof KnackError)) throw e
    failed = e.code === 'KNACK_LOGIN_FAILED' ? 'Email or password incorrect.' : 'Knack could not log you in right now.'
  }
  // redirect() throws Next's own signal: outside the try, so it is not taken for a failure.
  redirect(failed ? `/?error=${encodeURIComponent(failed)}` : '/')
}

export async function logOut() {
  await knack.signOut()
  redirect('/')
}

export async function createTicket(formData) {
  const session = await knack.getSession()
  if (!session) redirect('/')
  let invalid = null
  try {
    await session.createRecord({ ...NEW_TICKET, data: { field_10: String(formData.get('subject') ?? ''), field_11: String(formData.get('description') ?? '') } })
  } catch (e) {
    if (!(e instanceof KnackError) || e.code !== 'KNACK_VALIDATION') throw e
    // Knack's own words, e.g. "Subject is required.".
    invalid = (e.errors ?? []).map((x) => x.message).join(' ') || 'Knack refused the ticket.'
  }
  revalidatePath('/')
  redirect(invalid ? `/?invalid=${encodeURIComponent(invalid)}` : '/')
}
