// Start a real redis-server on a free port for a test file. When redis-server is not on PATH
// the Redis tests are skipped locally, but under CI=true that is a failure.
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export function haveRedis() {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
  if (r.status === 0) return true
  if (process.env.CI === 'true') throw new Error('redis-server is not installed, and CI=true: install it (apt-get install -y redis-server)')
  return false
}

async function freePort() {
  const srv = net.createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address()
  srv.close()
  await once(srv, 'close')
  return port
}

export async function startRedis() {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-redis-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('Ready to accept connections')) resolve()
    })
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)))
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    command: (...args) => command(port, args),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** One Redis command over RESP, for assertions (replies: string, number, null, array). */
export async function command(port, args) {
  const sock = net.connect(port, '127.0.0.1')
  await once(sock, 'connect')
  let req = `*${args.length}\r\n`
  for (const a of args) {
    const b = Buffer.from(String(a))
    req += `$${b.length}\r\n${b}\r\n`
  }
  sock.write(req)
  let buf = Buffer.alloc(0)
  for await (const chunk of sock) {
    buf = Buffer.concat([buf, chunk])
    const parsed = parse(buf, 0)
    if (parsed) {
      sock.destroy()
      return parsed.value
    }
  }
  throw new Error('redis closed the connection')
}

function parse(buf, i) {
  const end = buf.indexOf('\r\n', i)
  if (end < 0) return null
  const type = String.fromCharCode(buf[i])
  const line = buf.toString('utf8', i + 1, end)
  const next = end + 2
  if (type === '+') return { value: line, next }
  if (type === '-') return { value: new Error(line), next }
  if (type === ':') return { value: Number(line), next }
  if (type === '$') {
    const n = Number(line)
    if (n < 0) return { value: null, next }
    if (buf.length < next + n + 2) return null
    return { value: buf.toString('utf8', next, next + n), next: next + n + 2 }
  }
  if (type === '*') {
    const n = Number(line)
    if (n < 0) return { value: null, next }
    const out = []
    let at = next
    for (let k = 0; k < n; k++) {
      const p = parse(buf, at)
      if (!p) return null
      out.push(p.value)
      at = p.next
    }
    return { value: out, next: at }
  }
  throw new Error(`unexpected RESP type ${type}`)
}
