// The Next.js example's route handlers, called the way Next calls them: with a web Request,
// returning a web Response. (Building the app with Next is not part of the test run.)
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'
import { createKnackAuth } from 'knack-session/next'

// The example imports 'knack-session' as an installed package would; link it to this checkout
// (what `npm install` of the example does).
function linkPackage() {
  const dir = path.join(ROOT, 'examples/next/node_modules')
  const link = path.join(dir, 'knack-session')
  if (existsSync(link)) return
  mkdirSync(dir, { recursive: true })
  symlinkSync('../../..', link, 'dir')
}

let fake
let routes

before(async () => {
  linkPackage()
  fake = await startFake(['--rate-limit', 'off'])
  process.env.SESSION_SECRET = 'next-example-secret-0123456789abcdef'
  process.env.KNACK_APP_ID = APP_ID
  process.env.KNACK_API_URL = fake.baseUrl
  routes = {
    login: await import('../examples/next/app/api/login/route.js'),
    logout: await import('../examples/next/app/api/logout/route.js'),
    tickets: await import('../examples/next/app/api/tickets/route.js'),
  }
})
after(() => fake.stop())

const url = (p) => `http://localhost:3000${p}`

function post(p, body, headers = {}) {
  return new Request(url(p), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}

test('login route sets the cookie; the tickets route reads it; logout clears it', async () => {
  const res = await routes.login.POST(post('/api/login', { email: USERS.alice.email, password: USERS.alice.password }))
  assert.equal(res.status, 200)
  const body = await res.json()
  assert.equal(body.user.id, USERS.alice.id)
  const cookie = res.headers.get('set-cookie').split(';')[0]
  assert.match(res.headers.get('set-cookie'), /HttpOnly; SameSite=Lax; Secure/)

  const list = await routes.tickets.GET(new Request(url('/api/tickets'), { headers: { cookie } }))
  assert.equal(list.status, 200)
  const { tickets, total } = await list.json()
  assert.equal(total, 3)
  assert.equal(tickets.length, 3)

  const created = await routes.tickets.POST(post('/api/tickets', { subject: 'From a Next route' }, { cookie }))
  assert.equal(created.status, 201)
  const bad = await routes.tickets.POST(post('/api/tickets', { subject: '' }, { cookie }))
  assert.equal(bad.status, 422)
  assert.equal((await bad.json()).error.code, 'KNACK_VALIDATION')

  const out = await routes.logout.POST(post('/api/logout', {}, { cookie }))
  assert.equal(out.status, 204)
  assert.match(out.headers.get('set-cookie'), /Max-Age=0/)
  const after = await routes.tickets.GET(new Request(url('/api/tickets'), { headers: { cookie } }))
  assert.equal(after.status, 401)
})

test('a Knack page token in Authorization works without a cookie', async () => {
  const token = await fake.token(USERS.carol.email)
  const res = await routes.tickets.GET(new Request(url('/api/tickets'), { headers: { authorization: token } }))
  assert.equal(res.status, 200)
  const { total } = await res.json()
  assert.ok(total >= 5, 'the agent sees every ticket')
})

test('no session: 401 JSON; bad login: 401 KNACK_LOGIN_FAILED; bad body: 400', async () => {
  const none = await routes.tickets.GET(new Request(url('/api/tickets')))
  assert.equal(none.status, 401)
  assert.equal((await none.json()).error.code, 'KNACK_UNAUTHORIZED')
  const wrong = await routes.login.POST(post('/api/login', { email: USERS.alice.email, password: 'bad-password' }))
  assert.equal(wrong.status, 401)
  assert.equal((await wrong.json()).error.code, 'KNACK_LOGIN_FAILED')
  const junk = await routes.login.POST(new Request(url('/api/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' }))
  assert.equal(junk.status, 400)
})

test('the example config keeps knack-session out of the bundle', async () => {
  const config = (await import('../examples/next/next.config.mjs')).default
  assert.deepEqual(config.serverExternalPackages, ['knack-session'])
})

test('a store that cannot read a session: anonymous with the cookie cleared, login and logout still work', async () => {
  const records = new Map()
  let broken = false
  const store = {
    async get(id) {
      if (broken) throw new Error('EIO: i/o error, read /var/lib/sessions/' + id)
      return records.get(id) ?? null
    },
    async set(id, value) {
      records.set(id, value)
    },
    async delete(id) {
      if (broken) throw new Error('EIO: i/o error, unlink')
      records.delete(id)
    },
  }
  const seen = []
  const knack = createKnackAuth({
    appId: APP_ID,
    baseUrl: fake.baseUrl,
    rateLimit: false,
    secret: process.env.SESSION_SECRET,
    store,
    onError: (err, context) => seen.push({ code: err.code, where: context.where }),
  })
  const GET = knack.withSession(async (_request, { session }) => Response.json({ userId: session.userId }))
  const credentials = { email: USERS.alice.email, password: USERS.alice.password }
  const first = await knack.login(post('/api/login', credentials))
  assert.equal(first.status, 200)
  const cookie = first.headers.get('set-cookie').split(';')[0]
  assert.equal((await GET(new Request(url('/api/me'), { headers: { cookie } }))).status, 200)

  broken = true
  assert.equal(await knack.getSession(new Request(url('/api/me'), { headers: { cookie } })), null)
  const me = await GET(new Request(url('/api/me'), { headers: { cookie } }))
  assert.equal(me.status, 401)
  assert.match(me.headers.get('set-cookie') ?? '', /^knack_sid=; Path=\/; Max-Age=0/)
  assert.ok(!(await me.text()).includes('EIO'))
  const again = await knack.login(post('/api/login', credentials, { cookie }))
  assert.equal(again.status, 200)
  assert.match(again.headers.get('set-cookie'), /^knack_sid=[^;]+\./)
  const out = await knack.logout(post('/api/logout', {}, { cookie }))
  assert.equal(out.status, 204)
  assert.match(out.headers.get('set-cookie'), /Max-Age=0/)
  assert.ok(seen.length >= 2 && seen.every((s) => s.code === 'KNACK_STORE' && s.where === 'restore'), JSON.stringify(seen))
})
