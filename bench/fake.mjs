// Start the release fake-knack binary for a benchmark phase and talk to its /_fake API.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const FIXTURE = path.join(ROOT, 'fixtures/helpdesk.json')
export const APP_ID = '5f0c0ffee0c0ffee0c0ffee1'
export const BINARY = path.join(ROOT, 'target/release/fake-knack')
/** Tickets in the fixture before seeding (alice 3, bob 2). */
export const FIXTURE_TICKETS = 5

/**
 * @param {{rateLimit: 'off'|number, seedTickets: number}} o
 */
export async function startFake({ rateLimit, seedTickets }) {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run cargo build --release -p fake-knack`)
  const args = [
    '--fixture', FIXTURE, '--port', '0',
    '--rate-limit', String(rateLimit),
    // The daily plan limit (25,000 by default) would end a throughput run early.
    '--daily-limit', 'off',
    '--seed-tickets', String(seedTickets),
  ]
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const rl = readline.createInterface({ input: child.stdout })
  const [line] = await Promise.race([
    once(rl, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`fake-knack exited with ${code} before listening`)
    }),
  ])
  rl.close()
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)
  if (!m) throw new Error(`unexpected first line from fake-knack: ${line}`)
  const url = m[1]
  async function ctl(method, p, body) {
    const res = await fetch(url + '/_fake' + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`fake-knack ${method} ${p} -> ${res.status}: ${text}`)
    return text ? JSON.parse(text) : null
  }
  return {
    url,
    baseUrl: url + '/v1',
    args,
    pid: child.pid,
    stats: () => ctl('GET', '/stats'),
    reset: () => ctl('POST', '/reset', {}),
    config: (c) => ctl('POST', '/config', c),
    async login(email, password) {
      const res = await fetch(`${url}/v1/applications/${APP_ID}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      })
      if (!res.ok) throw new Error(`login ${email} -> ${res.status}`)
      return (await res.json()).session.user.token
    },
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
