// npm run demo: build what is missing, start fake-knack with the helpdesk app, and walk
// through knack-session as a customer and as an agent, printing a transcript.
//
// With KNACK_APP_ID, KNACK_EMAIL and KNACK_PASSWORD set (and optionally KNACK_API_URL,
// KNACK_SCENE, KNACK_VIEW), it runs the read-only part against that real Knack app instead.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

function step(title, cmd, args) {
  console.log(`\n[demo] ${title}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`[demo] ${title} failed`)
    process.exit(1)
  }
}

// `npm install` in a checkout builds the addon (the prepare script); build it here when that
// was skipped or the binary does not load on this machine.
if (spawnSync(process.execPath, ['-e', `require(${JSON.stringify(root)})`], { stdio: 'ignore' }).status !== 0) {
  step('building the addon (first run only)', process.execPath, ['scripts/build.mjs', '--release'])
}

const real = process.env.KNACK_APP_ID && process.env.KNACK_EMAIL && process.env.KNACK_PASSWORD
const { KnackSession, KnackError, MemoryStore } = require(root)

const line = (s = '') => console.log(s)
const h = (s) => console.log(`\n== ${s}`)
const show = (label, value) => console.log(`   ${label.padEnd(18)} ${value}`)

function describe(e) {
  if (!(e instanceof KnackError)) throw e
  const fields = e.errors?.length ? ` [${e.errors.map((x) => `${x.field ?? '-'}: ${x.message}`).join('; ')}]` : ''
  return `${e.code}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message}${fields}`
}

function table(records, columns) {
  for (const r of records) {
    const value = (key) => (typeof key === 'function' ? key(r) : r[key])
    console.log('   - ' + columns.map(([label, key]) => `${label}: ${String(value(key) ?? '').slice(0, 40)}`).join(' | '))
  }
}

async function realApp() {
  h(`real Knack app ${process.env.KNACK_APP_ID} (read-only)`)
  const opts = { appId: process.env.KNACK_APP_ID, baseUrl: process.env.KNACK_API_URL }
  const s = await KnackSession.login({ ...opts, email: process.env.KNACK_EMAIL, password: process.env.KNACK_PASSWORD })
  show('logged in as', `${s.email} (user ${s.userId}, roles ${s.profileKeys.join(', ') || '-'})`)
  show('token expires', s.expiresAt.toISOString())
  const me = await s.validate()
  show('Knack says', `status ${me.status}, account ${me.accountStatus}, approval ${me.approvalStatus}`)
  if (process.env.KNACK_SCENE && process.env.KNACK_VIEW) {
    const page = await s.getRecords({ scene: process.env.KNACK_SCENE, view: process.env.KNACK_VIEW, rowsPerPage: 5 })
    show('records', `${page.totalRecords} in ${page.totalPages} pages; first ${page.records.length}:`)
    for (const r of page.records) line(`   - ${r.id}`)
  }
  await s.logout()
  show('logged out', 'session forgotten')
}

async function fakeApp() {
  if (!existsSync(path.join(root, 'target/release/fake-knack')) && !existsSync(path.join(root, 'target/debug/fake-knack'))) {
    step('building fake-knack (first run only)', 'cargo', ['build', '--release', '-p', 'fake-knack'])
  }
  const { startFake } = await import('../__test__/helpers/fake.mjs')
  const fake = await startFake([])
  try {
    console.log(`\n[demo] fake-knack (a local Knack API double) is serving the "Helpdesk" app at ${fake.baseUrl}`)
    const store = new MemoryStore()
    const opts = { appId: fake.appId, baseUrl: fake.baseUrl, store }

    h('1. A customer logs in')
    const alice = await KnackSession.login({ ...opts, email: 'alice@example.com', password: 'alice-pass-1' })
    show('user', `${alice.email} (${alice.userId})`)
    show('roles', alice.profileKeys.join(', '))
    show('token expires', `${alice.expiresAt.toISOString()} (48 h after login)`)
    show('session id', `${alice.id.slice(0, 8)}... (for a cookie; not the token)`)
    show('inspect', JSON.stringify(alice).slice(0, 90) + '... (no token anywhere)')

    h('2. An agent logs in with "remember me"')
    const carol = await KnackSession.login({ ...opts, email: 'carol@example.com', password: 'carol-pass-1', remember: true })
    show('user', `${carol.email} (${carol.userId})`)
    show('roles', carol.profileKeys.join(', '))
    show('token expires', `${carol.expiresAt.toISOString()} (14 days)`)

    h('3. Each lists tickets: the same app, different records')
    const mine = await alice.getRecords({ scene: 'scene_1', view: 'view_1' })
    show('customer sees', `${mine.totalRecords} tickets (only her own)`)
    table(mine.records, [['subject', 'field_10_raw'], ['status', 'field_12_raw']])
    const all = await carol.getRecords({ scene: 'scene_2', view: 'view_4' })
    show('agent sees', `${all.totalRecords} tickets (everyone's)`)
    table(all.records, [['subject', 'field_10_raw'], ['customer', (r) => r.field_14_raw?.[0]?.identifier]])

    h('4. The customer files a ticket: the form\'s record rule sets the customer')
    const created = await alice.createRecord({
      scene: 'scene_1',
      view: 'view_2',
      data: { field_10: 'Printer on fire', field_11: 'Smoke & sparks — please hurry', field_13: 5 },
    })
    show('created', `${created.id} "${created.field_10_raw}"`)
    show('customer set to', `${created.field_14_raw?.[0]?.identifier} (${created.field_14_raw?.[0]?.id}), by the record rule`)
    const found = await alice.getRecords({
      scene: 'scene_1',
      view: 'view_1',
      filters: { match: 'and', rules: [{ field: 'field_10', operator: 'contains', value: 'fire' }] },
    })
    show('filter "fire"', `${found.records.length} match`)

    h('4b. The customer comments on the ticket: a view on its child page needs parentRecordId')
    const comment = await alice.createRecord({
      scene: 'scene_3',
      view: 'view_7',
      parentRecordId: created.id,
      data: { field_20: 'It is still smoking.', field_22: 'Alice' },
    })
    show('comment', `${comment.id} "${comment.field_20_raw}" on ${comment.field_21_raw?.[0]?.identifier}`)
    const thread = await alice.getRecords({ scene: 'scene_3', view: 'view_6', parentRecordId: created.id })
    show('comments on it', `${thread.totalRecords} (sent as ?ticket_id=..., the page's slug from the app's metadata)`)

    h('4c. The customer files a ticket with a screenshot: uploaded and attached in one call')
    const screenshot = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(1024, 7)])
    const withShot = await alice.createRecord({
      scene: 'scene_1',
      view: 'view_2',
      data: { field_10: 'The screen flickers' },
      files: { field_17: { file: screenshot, filename: 'screenshot.png' } },
    })
    show('attached', `${withShot.field_17_raw?.filename} (${withShot.field_17_raw?.size} bytes, asset ${withShot.field_17_raw?.id})`)
    const chunks = []
    const { Writable } = await import('node:stream')
    const back = await alice.downloadFile(withShot.field_17_raw, { to: new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }) })
    show('downloaded', `${back.bytes} bytes, ${back.contentType}, identical: ${Buffer.concat(chunks).equals(screenshot)}`)

    h('5. A customer may not use the agent desk; a bad form is refused')
    try {
      await alice.getRecords({ scene: 'scene_2', view: 'view_4' })
    } catch (e) {
      show('agent desk', describe(e))
    }
    try {
      await alice.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_11: 'no subject', field_13: 'urgent!' } })
    } catch (e) {
      show('bad ticket', describe(e))
    }
    try {
      await KnackSession.login({ ...opts, email: 'alice@example.com', password: 'not-her-password' })
    } catch (e) {
      show('wrong password', describe(e))
    }

    h('6. Expiry')
    show('alice.expired', String(alice.expired))
    await fake.advanceClock(49 * 3600)
    show('49 hours later', 'Knack (fake-knack\'s clock) has moved on')
    try {
      await alice.getRecords({ scene: 'scene_1', view: 'view_1' })
    } catch (e) {
      show('alice (48 h)', describe(e))
    }
    const still = await carol.getRecords({ scene: 'scene_2', view: 'view_4', rowsPerPage: 1 })
    show('carol (14 days)', `still works: ${still.totalRecords} tickets`)

    h('7. Sessions live in a store; logout forgets them')
    const restored = await KnackSession.restore(carol.id, { ...opts })
    show('restore(carol.id)', restored ? `${restored.email}, same token: ${restored.getToken() === carol.getToken()}` : 'null')
    await carol.logout()
    show('after logout', `restore -> ${await KnackSession.restore(carol.id, { ...opts })}`)
    try {
      await carol.getRecords({ scene: 'scene_2', view: 'view_4' })
    } catch (e) {
      show('carol again', describe(e))
    }

    h('8. What the shared transport did')
    const stats = alice.stats()
    show('requests', `${stats.requests} (retries ${stats.retries}, 429s ${stats.rateLimited})`)
    show('rate governor', `${stats.perSecond} requests/second for this app, shared by all sessions`)
    show('daily plan', `${stats.plan.remaining} of ${stats.plan.limit} calls left`)
  } finally {
    await fake.stop()
  }
}

try {
  if (real) await realApp()
  else await fakeApp()
  console.log('\n[demo] done')
} catch (e) {
  console.error('\n[demo] failed:', e instanceof KnackError ? describe(e) : e)
  process.exit(1)
}
