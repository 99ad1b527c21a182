// Start fake-knack (the real binary, a real HTTP server) for a test file, and talk to its
// /_fake control API.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import readline from 'node:readline'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const FIXTURE = path.join(ROOT, 'fixtures/helpdesk.json')
export const APP_ID = '5f0c0ffee0c0ffee0c0ffee1'

// `{ ...opts, ...USERS.alice }` gives login() exactly email and password: the record id is
// there to read but not enumerable (login refuses unknown options).
const user = (email, password, id) =>
  id === undefined ? { email, password } : Object.defineProperty({ email, password }, 'id', { value: id, enumerable: false })
export const USERS = {
  alice: user('alice@example.com', 'alice-pass-1', '000000000000000000000a11'),
  bob: user('bob@example.com', 'bob-pass-1', '000000000000000000000b0b'),
  carol: user('carol@example.com', 'carol-pass-1', '0000000000000000000ca201'),
  dave: user('dave@example.com', 'dave-pass-1'),
}

/** fixtures/field-types.json: a recorded object with a value of every Knack field type. */
export const FIELD_TYPES = Object.freeze({
  fixture: path.join(ROOT, 'fixtures/field-types.json'),
  appId: '5f1e1d7e5f1e1d7e5f1e1d7e',
  user: user('fields@example.com', 'fields-pass-1', '5f1e1d7e00000000000000a1'),
})

export function fakeBinary() {
  for (const profile of ['debug', 'release']) {
    const p = path.join(ROOT, 'target', profile, process.platform === 'win32' ? 'fake-knack.exe' : 'fake-knack')
    if (existsSync(p)) return p
  }
  throw new Error('fake-knack is not built: run `cargo build -p fake-knack` (npm test does)')
}

/**
 * Start a fake-knack server. Returns { url, baseUrl, appId, args, pid, ...control, stop }.
 * @param {string[]} [args] extra CLI flags, e.g. ['--rate-limit', 'off']
 * With `tls: true` it serves HTTPS (HTTP/2 by ALPN) with a certificate of a test CA made at
 * start: `caFile` / `caPem` are that CA, which a client must be given (`ca`, NODE_EXTRA_CA_CERTS).
 * @param {{ binary?: string, tls?: boolean, fixture?: string, appId?: string }} [opts] a specific
 *   binary (default: the debug, else the release build); TLS; another fixture (default: the
 *   helpdesk) and its app id (default: the helpdesk's), e.g. `{ fixture: FIELD_TYPES.fixture,
 *   appId: FIELD_TYPES.appId }`
 */
export async function startFake(args = [], opts = {}) {
  const binary = opts.binary ?? fakeBinary()
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run cargo build -p fake-knack`)
  const caFile = opts.tls ? path.join(mkdtempSync(path.join(os.tmpdir(), 'fake-knack-ca-')), 'ca.pem') : null
  const fullArgs = ['--fixture', opts.fixture ?? FIXTURE, '--port', '0', ...(caFile ? ['--tls', '--ca-out', caFile] : []), ...args]
  const child = spawn(binary, fullArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const rl = readline.createInterface({ input: child.stdout })
  const [line] = await Promise.race([
    once(rl, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`fake-knack exited with ${code} before listening`)
    }),
  ])
  const m = /^listening on (https?:\/\/127\.0\.0\.1:\d+)$/.exec(line)
  if (!m) throw new Error(`unexpected first line from fake-knack: ${line}`)
  const url = m[1]
  rl.close()
  const caPem = caFile ? readFileSync(caFile, 'utf8') : null
  const control = makeControl(
    url,
    async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
    caPem,
    opts.appId ?? APP_ID,
  )
  return { ...control, args: fullArgs, pid: child.pid, caFile, caPem }
}

/** fetch(), or for an https fake (whose CA Node's fetch cannot be given) node:https with `ca`. */
function request(url, init, ca) {
  if (!url.startsWith('https:')) return fetch(url, init)
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method, headers: init.headers ?? {}, ca }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ ok: res.statusCode >= 200 && res.statusCode < 300, status: res.statusCode, text: async () => text, json: async () => JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

export function makeControl(url, stop, ca = null, appId = APP_ID) {
  async function ctl(method, p, body) {
    const res = await request(url + '/_fake' + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }, ca)
    const text = await res.text()
    if (!res.ok) throw new Error(`fake-knack ${method} ${p} -> ${res.status}: ${text}`)
    return text ? JSON.parse(text) : null
  }
  return {
    url,
    baseUrl: url + '/v1',
    appId,
    stop,
    reset: () => ctl('POST', '/reset', {}),
    config: (switches) => ctl('POST', '/config', switches),
    faults: (faults) => ctl('POST', '/faults', { faults }),
    clearFaults: () => ctl('DELETE', '/faults'),
    log: async () => (await ctl('GET', '/log')).entries,
    stats: () => ctl('GET', '/stats'),
    advanceClock: (seconds) => ctl('POST', '/clock', { advance_seconds: seconds }),
    token: (email, opts = {}) => ctl('POST', '/token', { email, ...opts }).then((r) => r.token),
    seed: (object, count, connect) => ctl('POST', '/seed', { object, count, ...(connect ? { connect } : {}) }),
    stored: (object) => ctl('GET', `/records/${object}`),
    /** Uploaded assets in upload order: [{ id, kind, filename, content_type, size, sha256, used_by, part_headers }]. */
    assets: () => ctl('GET', '/assets').then((r) => r.assets),
    /** Requests the asset host saw: [{ method, path, query, headers, status }]. */
    assetLog: () => ctl('GET', '/asset-log').then((r) => r.entries),
    /** The asset host's URL (it listens whether or not the asset_host switch is on). */
    assetHostUrl: () => ctl('GET', '/stats').then((r) => r.asset_host_url),
    /** Log in over the API, as a browser would; resolves the token. */
    async login(email, password) {
      const res = await request(`${url}/v1/applications/${appId}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      }, ca)
      if (!res.ok) throw new Error(`login ${email} -> ${res.status}`)
      return (await res.json()).session.user.token
    },
  }
}
