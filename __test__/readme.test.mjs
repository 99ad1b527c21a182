// House rule: every README code block must run as written. This suite finds every fenced block
// of README.md and proves each one, by its language:
//
// - js: written to a fresh directory whose node_modules links `knack-session` to this checkout
//   (and any other package the block imports to this checkout's node_modules, e.g. express),
//   then run with `node` in its own process against a fresh fake-knack: exit code 0 and
//   nothing on stderr (no unhandled rejection, no process warning). The environment the block
//   reads is set to the demo app's values: KNACK_API_URL (the core's default base URL when a
//   block gives no baseUrl) = the fake's, KNACK_APP_ID, PASSWORD (alice's), SESSION_SECRET,
//   REDIS_URL (a real redis-server; those blocks are skipped when it is not installed, and
//   fail under CI=true), REDIS_TLS_URL and REDIS_CA_FILE (a redis-server's TLS port and the
//   test CA that signed its certificate), REDIS_CLUSTER_URLS (a 3-node Redis Cluster's nodes,
//   comma-separated). A block reading any other env var fails: the test must be taught it.
//   * A block that builds an Express `app` without starting it is run twice: as written, and
//     with test-owned code appended that serves the app on a free port and uses it as a
//     browser would (login, the tickets route, 401 without a cookie, logout).
//   * A block whose lines `// some/file.js` name files (the Next.js blocks) is written as
//     those files into a Next-like app directory (package.json "type": "module", Next's
//     default `@/` import alias via __test__/helpers/next-alias.mjs), then a driver imports
//     every file and calls the route handlers as Next does, with web Requests; a
//     next.config file must list knack-session in serverExternalPackages.
//   * A block that only makes sense after context (a value the surrounding prose names) is
//     marked in README.md by the line before its fence:
//       <!-- readme-test: fragment; given: KnackSession, token, appId -->
//     and runs with those names defined first (see GIVENS; every given must be used).
// - ts: type-checked with this repo's tsc settings (__test__/tsconfig.json) as a .mts file
//   that imports from the package. A block that needs declarations from the repo (the types
//   `npx knack-session types` generates for the demo app) is marked by the line before it:
//       <!-- readme-test: types from __test__/golden/helpdesk-app.d.ts -->
//   and those files are in the program beside it.
// - sh: not run (`npm install && npm run demo` and `npm test` would recurse into this very
//   suite or need the network). The README must start with exactly those two commands, every
//   npm script a block names must exist (with the files the script runs), `npm install <pkg>`
//   must name this package, `npx <name>` a bin of package.json whose file exists (or a dev
//   tool in node_modules/.bin), and
//   `node <file>` must name a file in the repo. Inline commands of
//   the prose (build from source, platform scripts, `cargo run -p fake-knack ...`) are checked
//   the same way.
// - no language (the Development map): every path it names exists in the repo.
// Any other language fails: teach this file how to prove it.
//
// README_TEST_FILE=other.md checks another Markdown file (for testing this suite itself).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { startFake, USERS, APP_ID, ROOT } from './helpers/fake.mjs'
import { haveRedis, haveOpenssl, startRedis, startRedisCluster } from './helpers/redis.mjs'

const README = path.resolve(ROOT, process.env.README_TEST_FILE ?? 'README.md')
const TEXT = readFileSync(README, 'utf8')
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const SECRET = 'readme-test-secret-0123456789abcdef'
const CHILD_TIMEOUT_MS = 15_000

// ---------------------------------------------------------------------------------------------
// Parsing

const MARKER = /^<!--\s*readme-test:\s*(.*?)\s*-->$/

/** Fenced blocks: { line (of the opening fence, 1-based), lang, code, marker? }. */
function parseBlocks(text) {
  const lines = text.split('\n')
  const blocks = []
  const markerLines = []
  let open = null
  let lastNonBlank = null
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '')
    if (open) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line)
      if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
        blocks.push({ line: open.line, lang: open.lang, code: open.body.join('\n') + '\n', marker: open.marker })
        open = null
        lastNonBlank = null
      } else {
        open.body.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)))
      }
      return
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line)
    if (fence) {
      const m = lastNonBlank && MARKER.exec(lastNonBlank.text.trim())
      if (m) lastNonBlank.used = true
      open = { line: i + 1, indent: fence[1].length, fence: fence[2], lang: fence[3].toLowerCase(), body: [], marker: m ? m[1] : undefined }
      return
    }
    if (line.trim() !== '') {
      lastNonBlank = { text: line, line: i + 1 }
      if (MARKER.test(line.trim())) markerLines.push(lastNonBlank)
    }
  })
  if (open) throw new Error(`${path.basename(README)}: the block at line ${open.line} is never closed`)
  return { blocks, strayMarkers: markerLines.filter((m) => !m.used) }
}

const { blocks: BLOCKS, strayMarkers: STRAY } = parseBlocks(TEXT)

const KIND = {
  js: 'js', javascript: 'js', mjs: 'js', cjs: 'js',
  ts: 'ts', typescript: 'ts', mts: 'ts',
  sh: 'sh', bash: 'sh', shell: 'sh', console: 'sh',
  '': 'text', text: 'text', txt: 'text',
}

/**
 * `fragment; given: a, b` (js) -> { fragment: true, given: ['a', 'b'] };
 * `types from x.d.ts, y.d.ts` (ts) -> { typesFrom: ['x.d.ts', 'y.d.ts'] }
 */
function parseMarker(marker) {
  if (marker === undefined) return { fragment: false, given: [], typesFrom: [] }
  const t = /^types from\s+([\w./-]+\.d\.ts(?:\s*,\s*[\w./-]+\.d\.ts)*)$/.exec(marker)
  if (t) return { fragment: false, given: [], typesFrom: t[1].split(',').map((s) => s.trim()) }
  const m = /^fragment;\s*given:\s*([\w$]+(?:\s*,\s*[\w$]+)*)$/.exec(marker)
  if (!m) throw new Error(`unknown readme-test marker "${marker}" (known: "fragment; given: name, name", "types from file.d.ts")`)
  return { fragment: true, given: m[1].split(',').map((s) => s.trim()), typesFrom: [] }
}

// What a fragment may take as given, and how this suite supplies it.
const GIVENS = {
  KnackSession: "import { KnackSession } from 'knack-session'",
  KnackError: "import { KnackError } from 'knack-session'",
  appId: 'const appId = process.env.KNACK_APP_ID',
  // What `Knack.getUserToken()` gave the page: alice's token from a real login at fake-knack.
  token: 'const token = process.env.README_TEST_TOKEN',
  secret: 'const secret = process.env.SESSION_SECRET',
}

const firstLine = (code) => code.split('\n').find((l) => l.trim() !== '')?.trim() ?? '(empty)'
const title = (b, what = 'runs as written') => `README block at line ${b.line} (${b.lang || 'no language'}) ${what}: ${firstLine(b.code).slice(0, 70).trim()}`

// A line `// lib/knack.js` (or `// next.config.mjs: why`) starts a file of a multi-file block.
const FILE_LINE = /^\/\/ ((?:[\w.@-]+\/)*[\w.@-]+\.(?:m?js|cjs|jsx))(?::.*)?$/

/** The files a block shows: [{ name, code }], or null for a plain single-file block. */
function namedFiles(code) {
  const lines = code.split('\n')
  const first = lines.findIndex((l) => l.trim() !== '')
  if (first < 0 || !FILE_LINE.test(lines[first])) return null
  const files = []
  for (const line of lines.slice(first)) {
    const m = FILE_LINE.exec(line)
    if (m) files.push({ name: m[1], lines: [] })
    files.at(-1).lines.push(line)
  }
  return files.map((f) => ({ name: f.name, code: f.lines.join('\n').trimEnd() + '\n' }))
}

const isEsm = (code) => /^\s*(import|export)\s/m.test(code) || hasTopLevelAwait(code) || !/\brequire\(/.test(code)
// Top-level await: `await` on a line that is not indented (README blocks are formatted).
const hasTopLevelAwait = (code) => /^(?:\S[^\n]*)?\bawait\b/m.test(code.replace(/^\s*\/\/.*$/gm, ''))

/** Bare package names a block imports or requires (not node: builtins, not relative, not `@/`). */
function packagesOf(code) {
  const names = new Set()
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) {
    const spec = m[1]
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('@/') || spec.startsWith('node:')) continue
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
    if (builtinModules.includes(name)) continue
    names.add(name)
  }
  return [...names]
}

const envVarsOf = (code) => [...new Set([...code.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]))]

// ---------------------------------------------------------------------------------------------
// Running

let redis = null
let redisTls = null
let redisCluster = null
const TLS_VARS = /\bREDIS_(TLS_URL|CA_FILE)\b/
const CLUSTER_VARS = /\bREDIS_CLUSTER_URLS\b/
before(async () => {
  const wants = (re) => BLOCKS.some((b) => re.test(b.code))
  if (wants(/\bREDIS_URL\b/) && haveRedis()) redis = await startRedis()
  if (wants(TLS_VARS) && haveRedis() && haveOpenssl()) redisTls = await startRedis({ tls: true })
  if (wants(CLUSTER_VARS) && haveRedis()) redisCluster = await startRedisCluster()
})
after(() => Promise.all([redis?.stop(), redisTls?.stop(), redisCluster?.stop()]))

/** The Redis servers a block's code names (by env var), each as { flush(), keys() }. */
function redisOf(code) {
  const out = []
  if (redis && /\bREDIS_URL\b/.test(code)) out.push({ flush: () => redis.command('FLUSHALL'), keys: () => redis.command('KEYS', '*') })
  if (redisTls && TLS_VARS.test(code)) out.push({ flush: () => redisTls.command('FLUSHALL'), keys: () => redisTls.command('KEYS', '*') })
  if (redisCluster && CLUSTER_VARS.test(code)) {
    const nodes = [0, 1, 2]
    out.push({
      flush: () => Promise.all(nodes.map((i) => redisCluster.command(i, 'FLUSHALL'))),
      keys: async () => (await Promise.all(nodes.map((i) => redisCluster.command(i, 'KEYS', '*')))).flat(),
    })
  }
  return out
}

/** A fresh app directory with node_modules links to this checkout (and its installed packages). */
function appDir(code) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-readme-'))
  mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true })
  symlinkSync(ROOT, path.join(dir, 'node_modules', PKG.name), 'dir')
  for (const name of packagesOf(code)) {
    if (name === PKG.name) continue
    const installed = path.join(ROOT, 'node_modules', name)
    if (!existsSync(installed)) throw new Error(`the block imports "${name}", which is not installed in this repo's node_modules`)
    mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true })
    symlinkSync(installed, path.join(dir, 'node_modules', name), 'dir')
  }
  return dir
}

function run(cmd, args, { cwd, env, timeoutMs = CHILD_TIMEOUT_MS }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n[readme.test] killed after ${timeoutMs} ms: the block did not exit (if it starts a server, teach readme.test.mjs how to stop it)`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

function assertClean(r, what) {
  const out = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`
  assert.equal(r.signal, null, `${what} was killed by ${r.signal}${out}`)
  assert.equal(r.code, 0, `${what} exited with ${r.code}${out}`)
  assert.equal(r.stderr, '', `${what} wrote to stderr (an error or a process warning)${out}`)
}

/** The child's environment: this process's, minus anything a block reads, plus the fake's. */
function childEnv(fake, extra = {}) {
  const env = { ...process.env }
  for (const k of Object.keys(env)) {
    if (/^(KNACK_|NODE_TEST|NODE_OPTIONS$|PASSWORD$|SESSION_SECRET$|REDIS_)/.test(k)) delete env[k]
  }
  return {
    ...env,
    KNACK_API_URL: fake.baseUrl,
    KNACK_APP_ID: APP_ID,
    PASSWORD: USERS.alice.password,
    SESSION_SECRET: SECRET,
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...(redisTls ? { REDIS_TLS_URL: redisTls.tlsUrl, REDIS_CA_FILE: redisTls.ca.caFile } : {}),
    ...(redisCluster ? { REDIS_CLUSTER_URLS: redisCluster.urls.join(',') } : {}),
    ...extra,
  }
}

const SUPPLIED_ENV = ['KNACK_API_URL', 'KNACK_APP_ID', 'PASSWORD', 'SESSION_SECRET', 'REDIS_URL', 'REDIS_TLS_URL', 'REDIS_CA_FILE', 'REDIS_CLUSTER_URLS']

/** Checks shared by every js block before it runs; returns a skip reason or null. */
function precheck(b, code) {
  for (const name of envVarsOf(code)) {
    assert.ok(SUPPLIED_ENV.includes(name), `the block reads process.env.${name}: teach readme.test.mjs what to set it to`)
  }
  if (envVarsOf(code).includes('PASSWORD')) {
    assert.ok(code.includes(USERS.alice.email), "the block reads process.env.PASSWORD: the test sets alice's, so it must log in as alice")
  }
  if (/\bREDIS_URL\b/.test(code) && !redis) return 'redis-server is not installed'
  if (TLS_VARS.test(code) && !redisTls) return 'redis-server or openssl is not installed'
  if (CLUSTER_VARS.test(code) && !redisCluster) return 'redis-server is not installed'
  return null
}

// Appended to an Express block that builds `app` without starting it: serve it once and use
// it as a browser would. Test-owned code; the block above it is untouched.
const EXPRESS_HARNESS = `
// ---- appended by __test__/readme.test.mjs: serve the app above and use it once ----
{
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  const base = 'http://127.0.0.1:' + server.address().port
  const check = (ok, what) => { if (!ok) throw new Error('readme harness: ' + what) }
  const json = { 'content-type': 'application/json' }
  try {
    const anon = await fetch(base + '/api/tickets')
    check(anon.status === 401, 'GET /api/tickets without a session: ' + anon.status)
    const login = await fetch(base + '/api/login', { method: 'POST', headers: json, body: JSON.stringify({ email: ${JSON.stringify(USERS.alice.email)}, password: process.env.PASSWORD }) })
    check(login.status === 200, 'POST /api/login: ' + login.status + ' ' + await login.text())
    const cookie = login.headers.get('set-cookie').split(';')[0]
    const list = await fetch(base + '/api/tickets', { headers: { cookie } })
    const page = await list.json()
    check(list.status === 200 && Array.isArray(page.records) && page.records.length === page.totalRecords && page.totalRecords > 0, 'GET /api/tickets: ' + list.status + ' ' + JSON.stringify(page))
    const out = await fetch(base + '/api/logout', { method: 'POST', headers: { ...json, cookie }, body: '{}' })
    check(out.status === 204, 'POST /api/logout: ' + out.status)
    const after = await fetch(base + '/api/tickets', { headers: { cookie } })
    check(after.status === 401, 'GET /api/tickets after logout: ' + after.status)
    console.log('readme harness: ' + page.totalRecords + ' tickets served')
  } finally {
    server.closeAllConnections()
    server.close()
  }
}
`
const buildsExpressApp = (code) => /\bconst app\s*=\s*express\(\)/.test(code) && !/\.listen\(/.test(code)

// Imports every file of a multi-file block, in order, and calls Next route handlers as Next
// does. Runs in the app directory, with the `@/` alias hook registered.
function nextDriver(files) {
  return `
import assert from 'node:assert/strict'
const files = ${JSON.stringify(files.map((f) => f.name))}
const mods = {}
for (const f of files) mods[f] = await import('./' + f)
const origin = 'http://localhost:3000'
const routeOf = (f) => /^(?:src\\/)?app(\\/.*)\\/route\\.[mc]?js$/.exec(f)?.[1]
const routes = files.filter(routeOf).map((f) => ({ file: f, path: routeOf(f), mod: mods[f] }))
for (const f of files.filter((f) => /^next\\.config\\.[mc]?js$/.test(f))) {
  const cfg = mods[f].default
  assert.ok(cfg?.serverExternalPackages?.includes('knack-session'), f + ' must list knack-session in serverExternalPackages')
}
for (const r of routes) {
  assert.equal(r.mod.runtime, 'nodejs', r.file + ': route handlers must use the Node.js runtime')
  for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) if (m in r.mod) assert.equal(typeof r.mod[m], 'function', r.file + ' ' + m)
}
let cookie
const login = routes.find((r) => r.path === '/api/login')
if (login) {
  const res = await login.mod.POST(new Request(origin + login.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ${JSON.stringify(USERS.alice.email)}, password: process.env.PASSWORD }) }))
  assert.equal(res.status, 200, 'POST ' + login.path + ': ' + await res.clone().text())
  cookie = res.headers.get('set-cookie').split(';')[0]
}
let served = 0
for (const r of routes.filter((r) => typeof r.mod.GET === 'function')) {
  const anon = await r.mod.GET(new Request(origin + r.path))
  assert.equal(anon.status, 401, 'GET ' + r.path + ' without a session')
  assert.ok(cookie, 'GET ' + r.path + ' needs a session, and the block has no /api/login route to make one')
  const res = await r.mod.GET(new Request(origin + r.path, { headers: { cookie } }))
  const body = await res.json()
  assert.equal(res.status, 200, 'GET ' + r.path + ': ' + JSON.stringify(body))
  assert.ok(Array.isArray(body.records) && body.records.length > 0, 'GET ' + r.path + ' answers the records: ' + JSON.stringify(body))
  served++
}
console.log('readme driver: imported ' + files.length + ' files, ' + routes.length + ' routes, served ' + served + ' GETs')
`
}

const NEXT_ALIAS = pathToFileURL(path.join(ROOT, '__test__/helpers/next-alias.mjs')).href
const registerAlias = (root) =>
  `--import=data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(NEXT_ALIAS)}, { data: { root: ${JSON.stringify(root)} } })`)}`

/**
 * Write `files` ([{ name, code }]) into a fresh app directory and run `node ...args` there
 * against a fresh fake-knack (and an emptied Redis). The child must exit 0 with nothing on
 * stderr. Resolves { r, requests (that reached fake-knack), redisKeys }.
 */
async function runInApp(t, { code, files, args, extraFiles = [] }) {
  const dir = appDir(code)
  const fake = await startFake([])
  try {
    for (const f of [...files, ...extraFiles]) {
      mkdirSync(path.dirname(path.join(dir, f.name)), { recursive: true })
      writeFileSync(path.join(dir, f.name), f.code)
    }
    if (redis) await redis.command('FLUSHALL')
    const named = redisOf(code)
    await Promise.all(named.map((r) => r.flush()))
    const env = childEnv(fake, { README_TEST_TOKEN: await fake.login(USERS.alice.email, USERS.alice.password) })
    const before = (await fake.stats()).requests
    const r = await run(process.execPath, args(dir), { cwd: dir, env })
    assertClean(r, 'the block')
    const requests = (await fake.stats()).requests - before
    const redisKeys = redis ? (await redis.command('KEYS', '*')).map((k) => k.replace(/:session:[^:]*$/, ':session:<id>')).sort() : []
    t.diagnostic(`fake-knack answered ${requests} requests${redis ? `; redis keys: ${redisKeys.join(' ') || '-'}` : ''}${r.stdout ? `; stdout: ${r.stdout.trim().slice(0, 200)}` : ''}`)
    // A block that hands REDIS_URL to knack-session and then reaches Knack must use Redis.
    if (/\bREDIS_URL\b/.test(code) && requests > 0) assert.ok(redisKeys.length > 0, 'the block gives knack-session REDIS_URL and made requests, yet Redis holds nothing')
    if (requests > 0) {
      for (const r of named) assert.ok((await r.keys()).length > 0, 'the block gives knack-session a Redis (TLS or cluster) and made requests, yet it holds nothing')
    }
    return { r, requests, redisKeys }
  } finally {
    await fake.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// The suite

test(`${path.basename(README)} has code blocks, each of a language this suite can prove`, () => {
  assert.ok(BLOCKS.length > 0)
  for (const b of BLOCKS) assert.ok(b.lang in KIND, `block at line ${b.line}: language "${b.lang}" is unknown to readme.test.mjs; teach it how to prove such a block`)
  assert.deepEqual(STRAY.map((m) => m.line), [], 'a readme-test marker must be the last line before a block\'s opening fence')
  for (const b of BLOCKS) {
    const { typesFrom } = parseMarker(b.marker)
    if (b.marker !== undefined) {
      const lang = typesFrom.length > 0 ? 'ts' : 'js'
      assert.equal(KIND[b.lang], lang, `block at line ${b.line}: the readme-test marker "${b.marker}" applies to ${lang} blocks only`)
    }
  }
})

for (const b of BLOCKS.filter((b) => KIND[b.lang] === 'js')) {
  const { fragment, given } = parseMarker(b.marker)
  const files = namedFiles(b.code)

  if (files) {
    test(title(b, 'runs as written, as the files it names in a Next-like app'), async (t) => {
      const skip = precheck(b, b.code)
      if (skip) return t.skip(skip)
      const { r, requests } = await runInApp(t, {
        code: b.code,
        files,
        extraFiles: [
          // As examples/next does: the files are ES modules.
          { name: 'package.json', code: JSON.stringify({ private: true, type: 'module' }) },
          { name: '.readme-driver.mjs', code: nextDriver(files) },
        ],
        args: (dir) => [registerAlias(dir), '.readme-driver.mjs'],
      })
      const served = Number(/served (\d+) GETs/.exec(r.stdout)?.[1])
      if (served > 0) assert.ok(requests > 0, 'route handlers answered records, yet fake-knack saw no request')
    })
    continue
  }

  const fileName = isEsm(b.code) ? 'block.mjs' : 'block.cjs'

  test(title(b, fragment ? `runs as written (a fragment, given ${given.join(', ')})` : 'runs as written'), async (t) => {
    let code = b.code
    if (fragment) {
      for (const name of given) {
        assert.ok(name in GIVENS, `the marker gives "${name}", which readme-test does not know (known: ${Object.keys(GIVENS).join(', ')})`)
        assert.match(code, new RegExp(`\\b${name}\\b`), `the marker gives "${name}", but the block does not use it`)
      }
      code = given.map((name) => GIVENS[name]).join('\n') + '\n' + code
    }
    const skip = precheck(b, b.code)
    if (skip) return t.skip(skip)
    const { requests } = await runInApp(t, { code, files: [{ name: fileName, code }], args: () => [fileName] })
    // A block that awaits at top level talks to Knack: it must have reached the double.
    if (hasTopLevelAwait(b.code)) assert.ok(requests > 0, 'the block awaits at top level, yet fake-knack saw no request')
  })

  if (buildsExpressApp(b.code)) {
    test(title(b, 'builds an Express app that serves login, the tickets route and logout'), async (t) => {
      const skip = precheck(b, b.code)
      if (skip) return t.skip(skip)
      const code = b.code + EXPRESS_HARNESS
      const { r, requests } = await runInApp(t, { code, files: [{ name: fileName, code }], args: () => [fileName] })
      assert.match(r.stdout, /readme harness: \d+ tickets served/)
      assert.ok(requests >= 2, 'login and the tickets route reached fake-knack')
    })
  }
}

const TS = BLOCKS.filter((b) => KIND[b.lang] === 'ts')
for (const b of TS) {
  test(title(b, 'type-checks with the repo\'s tsc settings (__test__/tsconfig.json)'), async () => {
    const dir = appDir(b.code)
    try {
      symlinkSync(path.join(ROOT, 'node_modules/@types/node'), path.join(dir, 'node_modules/@types/node'), 'dir')
      writeFileSync(path.join(dir, 'block.mts'), b.code)
      const { typesFrom } = parseMarker(b.marker)
      for (const f of typesFrom) {
        assert.ok(existsSync(path.join(ROOT, f)), `the marker names ${f}, which is not in the repo`)
        writeFileSync(path.join(dir, path.basename(f)), readFileSync(path.join(ROOT, f)))
      }
      const base = JSON.parse(readFileSync(path.join(ROOT, '__test__/tsconfig.json'), 'utf8'))
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: base.compilerOptions, files: ['block.mts', ...typesFrom.map((f) => path.basename(f))] }))
      // tsc checks @types/node too (skipLibCheck: false): seconds, more on a loaded machine.
      const r = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, env: process.env, timeoutMs: 120_000 })
      assert.equal(r.code, 0, `tsc failed:\n${r.stdout}${r.stderr}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

// ---- sh blocks and the prose's commands: checked, not run --------------------------------------

const SCRIPT_FILES = (script) => [...script.matchAll(/(?:^|\s)((?:\.\/)?[\w.-]+(?:\/[\w.-]+)+\.m?js)\b/g)].map((m) => m[1])

/** Check one shell command against the repo: what it names must exist. Returns what was checked. */
function checkCommand(cmd, where) {
  const words = cmd.trim().split(/\s+/)
  const script = (name) => {
    assert.ok(PKG.scripts?.[name], `${where}: \`${cmd}\` needs the npm script "${name}" in package.json`)
    for (const f of SCRIPT_FILES(PKG.scripts[name])) assert.ok(existsSync(path.join(ROOT, f)), `${where}: the npm script "${name}" runs ${f}, which is missing`)
    return `npm script "${name}" (${PKG.scripts[name]})`
  }
  if (words[0] === 'npm') {
    const [, sub, ...rest] = words
    const args = rest.filter((a) => !a.startsWith('-'))
    if ((sub === 'install' || sub === 'i' || sub === 'ci') && rest.length === 0) {
      // In a checkout, `npm install` builds the addon through the prepare script.
      return `npm install in the checkout: ${script('prepare')}`
    }
    if ((sub === 'install' || sub === 'i') && args.length === 0) return 'npm install flags only: nothing of the repo to check'
    if (sub === 'install' || sub === 'i') {
      for (const a of args) {
        // A local path (/path/to/knack-session): a checkout of this package.
        if (!(a.startsWith('/') || a.startsWith('.'))) assert.equal(a, PKG.name, `${where}: \`${cmd}\` installs "${a}", not this package (${PKG.name})`)
      }
      return args.map((a) => (a === PKG.name ? `${a} = package.json name` : `${a}: a local checkout`)).join(', ')
    }
    if (sub === 'test' || sub === 't') return script('test')
    if (sub === 'run' || sub === 'run-script') return script(args[0])
    throw new Error(`${where}: \`${cmd}\`: npm ${sub} is unknown to readme.test.mjs`)
  }
  if (words[0] === 'npx') {
    // npx <bin> ...: a command this package installs (package.json "bin"), or a dev tool's.
    const name = words.slice(1).find((w) => !w.startsWith('-'))
    const file = PKG.bin?.[name]
    if (!file) {
      assert.ok(existsSync(path.join(ROOT, 'node_modules/.bin', name ?? '')), `${where}: \`${cmd}\` runs ${name}, which is neither a bin of package.json nor installed in node_modules/.bin`)
      return `${name} is installed in node_modules/.bin`
    }
    assert.ok(existsSync(path.join(ROOT, file)), `${where}: \`${cmd}\`: the bin ${name} is ${file}, which is missing`)
    return `bin ${name} = ${file} exists`
  }
  if (words[0] === 'node') {
    const file = words.slice(1).find((w) => !w.startsWith('-'))
    assert.ok(file && existsSync(path.join(ROOT, file)), `${where}: \`${cmd}\` runs ${file}, which is not in the repo`)
    return `${file} exists`
  }
  if (words[0] === 'cargo' && words[1] === 'run') {
    const crate = words[words.indexOf('-p') + 1]
    assert.ok(words.includes('-p') && existsSync(path.join(ROOT, 'crates', crate, 'Cargo.toml')), `${where}: \`${cmd}\`: no crate ${crate} under crates/`)
    const fixture = words.includes('--fixture') ? words[words.indexOf('--fixture') + 1] : null
    if (fixture) assert.ok(existsSync(path.join(ROOT, fixture)), `${where}: \`${cmd}\`: fixture ${fixture} is missing`)
    return `crate ${crate}${fixture ? ` and ${fixture}` : ''} exist`
  }
  throw new Error(`${where}: \`${cmd}\` is a command readme.test.mjs does not know how to check`)
}

const commandsOf = (code) =>
  code
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
    .flatMap((l) => l.split('&&').map((c) => c.trim()))

test('README starts with exactly `npm install && npm run demo` and `npm test` (not run here: they would recurse into this suite or need the network)', () => {
  assert.ok(
    TEXT.startsWith('# knack-session\n\n```sh\nnpm install && npm run demo\nnpm test\n```\n'),
    'README.md must start with the title and then exactly these two commands in one sh block',
  )
  const first = BLOCKS[0]
  assert.equal(first.lang, 'sh')
  assert.deepEqual(commandsOf(first.code), ['npm install', 'npm run demo', 'npm test'])
})

for (const b of BLOCKS.filter((b) => KIND[b.lang] === 'sh')) {
  test(title(b, 'names only npm scripts, packages and files that exist'), (t) => {
    const cmds = commandsOf(b.code)
    assert.ok(cmds.length > 0, 'an sh block with no command')
    for (const c of cmds) t.diagnostic(`${c}: ${checkCommand(c, `block at line ${b.line}`)}`)
  })
}

test('the commands in the prose (build from source, scripts, fake-knack) name npm scripts and files that exist', (t) => {
  const prose = TEXT.replace(/^\s*(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\s*\1\s*$/gm, '')
  const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/\s+/g, ' ').trim())
  const cmds = spans.filter((s) => /^(node \S+\.m?js|npm (run|test|install)\b|cargo run -p |npx )/.test(s))
  assert.ok(cmds.length > 0)
  for (const c of cmds) for (const part of c.split('&&')) t.diagnostic(`${part.trim()}: ${checkCommand(part, 'prose')}`)
  // "KNACK_SESSION_SKIP_BUILD=1 installs a checkout without building": the build script reads it.
  if (prose.includes('KNACK_SESSION_SKIP_BUILD')) {
    assert.match(readFileSync(path.join(ROOT, PKG.scripts.prepare.split(' ')[1]), 'utf8'), /KNACK_SESSION_SKIP_BUILD/)
  }
})

// ---- blocks without a language: a map of the repo, whose paths must exist --------------------

function pathsOf(code) {
  const out = new Set()
  for (const raw of code.split('\n')) {
    if (raw.trim() === '') continue
    const line = raw.replace(/\([^)]*\)/g, '')
    // The left column (up to a run of 2+ spaces), when the line starts with it.
    if (!/^\s/.test(raw)) {
      for (const item of line.split(/\s{2,}/)[0].split(',')) {
        const p = item.trim()
        if (/^[\w.*-]+(\/[\w.*-]*)*$/.test(p) && (p.includes('/') || p.includes('.'))) out.add(p)
      }
    }
    // Files named anywhere: dir/file.ext
    for (const m of line.matchAll(/(?:^|[\s,])([\w-]+\/[\w.-]+\.(?:js|mjs|json|toml|rs|md|sh))(?=[\s,]|$)/g)) out.add(m[1])
  }
  return [...out]
}

function existsInRepo(p) {
  if (!p.includes('*')) return existsSync(path.join(ROOT, p))
  const dir = path.dirname(p)
  const re = new RegExp('^' + path.basename(p).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$')
  return existsSync(path.join(ROOT, dir)) && readdirSync(path.join(ROOT, dir)).some((f) => re.test(f))
}

for (const b of BLOCKS.filter((b) => KIND[b.lang] === 'text')) {
  test(title(b, 'is a map of the repo whose every path exists'), (t) => {
    const paths = pathsOf(b.code)
    assert.ok(paths.length > 0, 'a block without a language that names no path: give it a language readme.test.mjs can prove')
    t.diagnostic(paths.join(' '))
    for (const p of paths) assert.ok(existsInRepo(p), `the block names ${p}, which is not in the repo`)
  })
}
