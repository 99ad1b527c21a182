// The Next.js example for real: installed the way a user installs it (the packed package and
// its platform package, next/react from the npm registry), built with `next build` with no
// environment variables, served with `next start` against fake-knack, and driven by headless
// Chromium (playwright-core + Debian's chromium): log in through a Server Action, list tickets
// in a Server Component, create one, see Knack's validation message, call a Pages Router API
// route with the same cookie, log out. Then built again with `output: 'standalone'` to prove
// the .node file is traced into .next/standalone, which serves the same routes.
//
//   node scripts/next-e2e.mjs            (npm run test:next; .ci/run runs it)
//
// Needs: the addon built (npm install), the npm registry, /usr/bin/chromium. Prints the time
// of each step; exits non-zero on the first failure.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { startFake, USERS, APP_ID } from '../__test__/helpers/fake.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const EXAMPLE = path.join(ROOT, 'examples/next')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
const SECRET = 'next-e2e-session-secret-0123456789abcdef'
const times = []

async function step(title, fn) {
  const t0 = Date.now()
  process.stdout.write(`[next-e2e] ${title} ...\n`)
  const out = await fn()
  const s = ((Date.now() - t0) / 1000).toFixed(1)
  times.push([title, s])
  process.stdout.write(`[next-e2e] ${title}: ok (${s} s)\n`)
  return out
}

/** The environment of a build: none of the app's variables (CI and Docker builds have none). */
function bareEnv(extra = {}) {
  const env = {}
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'npm_config_cache', 'npm_config_registry']) {
    if (process.env[k] !== undefined) env[k] = process.env[k]
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', CI: '1', ...extra }
}

function run(cmd, args, opts) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts })
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

/** Start a server process and wait until `url` answers. */
async function serve(cmd, args, { cwd, env, url }) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited ${child.exitCode}:\n${log}`)
    try {
      await fetch(url)
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s:\n${log}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  return {
    log: () => log,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** Files under `dir` whose name ends with `suffix`. */
function findFiles(dir, suffix, out = []) {
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) findFiles(p, suffix, out)
    else if (name.endsWith(suffix)) out.push(p)
  }
  return out
}

/** The browser part: every step a user takes, against `base`. */
async function drive(base) {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  try {
    const page = await browser.newPage()
    await page.goto(base + '/')
    await page.waitForSelector('#login')
    // A wrong password: the Server Action answers with the page's error.
    await page.fill('input[name=email]', USERS.alice.email)
    await page.fill('input[name=password]', 'not-her-password')
    await Promise.all([page.waitForSelector('#login-error'), page.click('#login button')])
    assert.match(await page.textContent('#login-error'), /Email or password incorrect/)
    // Log in: the Server Action sets the cookie, the Server Component lists her 3 tickets.
    await page.fill('input[name=email]', USERS.alice.email)
    await page.fill('input[name=password]', USERS.alice.password)
    await Promise.all([page.waitForSelector('#who'), page.click('#login button')])
    assert.match(await page.textContent('#who'), /alice@example\.com/)
    assert.equal(await page.textContent('#total'), '3')
    const cookies = await page.context().cookies()
    const sid = cookies.find((c) => c.name === 'knack_sid')
    assert.ok(sid && sid.httpOnly && sid.sameSite === 'Lax', JSON.stringify(cookies.map((c) => ({ ...c, value: '…' }))))
    // Create a ticket.
    await page.fill('#new-ticket input[name=subject]', 'Filed from Chromium')
    await Promise.all([page.waitForFunction(() => document.querySelector('#total')?.textContent === '4'), page.click('#new-ticket button')])
    assert.match(await page.textContent('#tickets'), /Filed from Chromium \(New\)/)
    // Knack's validation message for a ticket without a subject.
    await Promise.all([page.waitForSelector('#invalid'), page.click('#new-ticket button')])
    assert.match(await page.textContent('#invalid'), /Subject is required/)
    // A Pages Router API route sees the same session cookie.
    const me = await page.evaluate(async () => {
      const r = await fetch('/api/me')
      return { status: r.status, body: await r.json() }
    })
    assert.deepEqual(me, { status: 200, body: { user: { id: USERS.alice.id, email: USERS.alice.email }, tickets: 4 } })
    // Log out: back to the login form, and the API route says 401.
    await Promise.all([page.waitForSelector('#login'), page.click('#logout')])
    const after = await page.evaluate(async () => (await fetch('/api/me')).status)
    assert.equal(after, 401)
  } finally {
    await browser.close()
  }
}

/** Pages Router login and the App Router route handlers without a browser (for standalone). */
async function apiRoundTrip(base) {
  const login = await fetch(base + '/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email: USERS.bob.email, password: USERS.bob.password }),
  })
  assert.equal(login.status, 200, `${login.status} ${await login.clone().text()}`)
  const cookie = login.headers.get('set-cookie').split(';')[0]
  const me = await fetch(base + '/api/me', { headers: { cookie } })
  assert.equal(me.status, 200)
  assert.deepEqual(await me.json(), { user: { id: USERS.bob.id, email: USERS.bob.email }, tickets: 2 })
  const tickets = await fetch(base + '/api/tickets', { headers: { cookie } })
  assert.equal(tickets.status, 200)
  assert.equal((await tickets.json()).total, 2)
  const out = await fetch(base + '/api/session-end', { method: 'POST', headers: { 'content-type': 'application/json', origin: base, cookie }, body: '{}' })
  assert.equal(out.status, 204)
  assert.equal((await fetch(base + '/api/me', { headers: { cookie } })).status, 401)
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'knack-next-e2e-'))
  const app = path.join(work, 'app')
  const platform = 'linux-x64-gnu'
  const binary = path.join(ROOT, `knack-session.${platform}.node`)
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm install (it builds the addon)`)

  await step('pack knack-session and its platform package', () => {
    run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: ROOT })
    const plat = path.join(work, 'platform')
    cpSync(path.join(ROOT, 'npm', platform), plat, { recursive: true })
    cpSync(binary, path.join(plat, path.basename(binary)))
    run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: plat })
  })
  const tgz = readdirSync(work).filter((f) => f.endsWith('.tgz'))
  const main = tgz.find((f) => /^knack-session-\d/.test(f))
  const plat = tgz.find((f) => f.startsWith(`knack-session-${platform}`))

  await step('install the example (next, react, the packed knack-session)', () => {
    cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !/[/\\](node_modules|\.next)([/\\]|$)/.test(src) })
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'))
    pkg.dependencies['knack-session'] = `file:../${main}`
    pkg.dependencies[`knack-session-${platform}`] = `file:../${plat}`
    writeFileSync(path.join(app, 'package.json'), JSON.stringify(pkg, null, 2))
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app })
  })

  const next = path.join(app, 'node_modules/next/dist/bin/next')
  await step('next build, with no environment variables', () => run(process.execPath, [next, 'build'], { cwd: app, env: bareEnv() }))

  const fake = await startFake(['--rate-limit', 'off'])
  const env = bareEnv({ KNACK_APP_ID: APP_ID, KNACK_API_URL: fake.baseUrl, SESSION_SECRET: SECRET, NODE_ENV: 'production' })
  try {
    const port = await freePort()
    const base = `http://localhost:${port}`
    const server = await step('next start', () => serve(process.execPath, [next, 'start', '-p', String(port)], { cwd: app, env, url: base + '/api/me' }))
    try {
      await step('Chromium: log in (Server Action), list (Server Component), create, validation message, Pages API with the same cookie, log out', () => drive(base))
      await step('Pages Router login/logout and route handlers', () => apiRoundTrip(base))
    } catch (e) {
      process.stderr.write(`--- next start log ---\n${server.log()}\n`)
      throw e
    } finally {
      await server.stop()
    }

    await fake.reset()
    await step("next build with output: 'standalone'", () => {
      rmSync(path.join(app, '.next'), { recursive: true, force: true })
      run(process.execPath, [next, 'build'], { cwd: app, env: bareEnv({ NEXT_OUTPUT: 'standalone' }) })
    })
    const standalone = path.join(app, '.next/standalone')
    const traced = findFiles(path.join(standalone, 'node_modules'), '.node')
    assert.ok(traced.some((f) => f.endsWith(`knack-session.${platform}.node`)), `no .node file traced into .next/standalone: ${traced.join(', ') || 'none'}`)
    process.stdout.write(`[next-e2e] traced: ${traced.map((f) => path.relative(app, f)).join(', ')}\n`)
    const port2 = await freePort()
    const base2 = `http://localhost:${port2}`
    const server2 = await step('node .next/standalone/server.js', () =>
      serve(process.execPath, ['server.js'], { cwd: standalone, env: { ...env, PORT: String(port2), HOSTNAME: '127.0.0.1' }, url: base2 + '/api/me' }),
    )
    try {
      await step('standalone: Pages Router login/logout and route handlers', () => apiRoundTrip(base2))
    } catch (e) {
      process.stderr.write(`--- standalone log ---\n${server2.log()}\n`)
      throw e
    } finally {
      await server2.stop()
    }
  } finally {
    await fake.stop()
  }

  await step('an Edge route that imports knack-session/next gets the Node.js-runtime error, not a bundler error', async () => {
    rmSync(path.join(app, '.next'), { recursive: true, force: true })
    const dir = path.join(app, 'app/edge')
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      path.join(dir, 'route.js'),
      "import { createKnackAuth } from 'knack-session/next'\nexport const runtime = 'edge'\nexport async function GET() { return new Response(typeof createKnackAuth) }\n",
    )
    const r = spawnSync(process.execPath, [next, 'build'], { cwd: app, env: bareEnv(), encoding: 'utf8' })
    const out = `${r.stdout}\n${r.stderr}`
    let said = out
    if (r.status === 0) {
      // Built: then the route must fail when it runs, with our message in the server's log.
      const port3 = await freePort()
      const server3 = await serve(process.execPath, [next, 'start', '-p', String(port3)], { cwd: app, env: bareEnv(), url: `http://localhost:${port3}/api/me` })
      try {
        const res = await fetch(`http://localhost:${port3}/edge`)
        assert.equal(res.status, 500)
        await new Promise((r) => setTimeout(r, 200))
        said = server3.log()
      } finally {
        await server3.stop()
      }
    }
    assert.match(said, /knack-session cannot run on the Edge runtime/, said.slice(-3000))
    assert.doesNotMatch(said, /Module parse failed|Unknown module type|\.node['"]? (file|module)|cannot bundle|binary file/i, said.slice(-3000))
    const line = said.split('\n').find((l) => l.includes('knack-session cannot run')) ?? ''
    process.stdout.write(`[next-e2e] edge: ${r.status === 0 ? 'built; the route answered 500' : 'the build stopped'}: ${line.trim().slice(0, 200)}\n`)
    rmSync(dir, { recursive: true, force: true })
  })
  rmSync(work, { recursive: true, force: true })
  process.stdout.write('[next-e2e] times: ' + times.map(([t, s]) => `${t.split(':')[0].split(',')[0]} ${s}s`).join('; ') + '\n')
}

main().catch((e) => {
  process.stderr.write(`[next-e2e] FAILED: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
