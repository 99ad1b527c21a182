// Start a real redis-server on a free port for a test file. When redis-server is not on PATH
// the Redis tests are skipped locally, but under CI=true that is a failure.
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { once } from 'node:events'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

function spawnRedis(args, dir) {
  const child = spawn('redis-server', [...args, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('Ready to accept connections')) resolve()
    })
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)))
  })
  return { child, ready }
}

async function stopChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

export function haveOpenssl() {
  const r = spawnSync('openssl', ['version'], { stdio: 'ignore' })
  if (r.status === 0) return true
  if (process.env.CI === 'true') throw new Error('openssl is not installed, and CI=true: install it (apt-get install -y openssl)')
  return false
}

/**
 * A test CA and a server certificate it signed for 127.0.0.1 and localhost, made with the
 * openssl CLI in `dir`: { caFile, caPem, certFile, keyFile }.
 */
export function makeTestCa(dir) {
  const f = (n) => path.join(dir, n)
  const run = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  run(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=knack-session test Redis CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'])
  run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost'])
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n')
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext')])
  return { caFile: f('ca.crt'), caPem: readFileSync(f('ca.crt'), 'utf8'), certFile: f('server.crt'), keyFile: f('server.key') }
}

function tlsArgs(ca) {
  return ['--tls-cert-file', ca.certFile, '--tls-key-file', ca.keyFile, '--tls-ca-cert-file', ca.caFile, '--tls-auth-clients', 'no']
}

/**
 * A redis-server on free ports. With `tls: true` it also listens for TLS (`tlsUrl`, trusted
 * through `ca.caPem` / `ca.caFile`); `url` and `command` stay plain TCP, for assertions.
 */
export async function startRedis({ tls = false } = {}) {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-redis-'))
  const args = ['--port', String(port)]
  let ca = null
  let tlsPort = null
  if (tls) {
    ca = makeTestCa(dir)
    tlsPort = await freePort()
    args.push('--tls-port', String(tlsPort), ...tlsArgs(ca))
  }
  const { child, ready } = spawnRedis(args, dir)
  await ready
  return {
    url: `redis://127.0.0.1:${port}`,
    tlsUrl: tls ? `rediss://127.0.0.1:${tlsPort}` : null,
    ca,
    port,
    command: (...a) => command(port, a),
    async stop() {
      await stopChild(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A port P with P + 10000 (its cluster bus) free too. */
async function clusterPort(taken) {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 25000)
    if (taken.has(p) || taken.has(p + 10000)) continue
    try {
      for (const q of [p, p + 10000]) {
        const srv = net.createServer()
        srv.listen(q, '127.0.0.1')
        await Promise.race([once(srv, 'listening'), once(srv, 'error').then(([e]) => Promise.reject(e))])
        srv.close()
        await once(srv, 'close')
      }
      taken.add(p).add(p + 10000)
      return p
    } catch {
      // in use: try another
    }
  }
}

/**
 * A Redis Cluster of `nodes` masters (no replicas), made with `redis-cli --cluster create`
 * and ready (cluster_state:ok on every node). `urls` are its nodes; `command(i, ...)` talks to
 * node i over plain TCP. With `tls: true` clients reach it over TLS only (`urls` are
 * rediss://, trusted through `ca`), the cluster bus too.
 */
export async function startRedisCluster({ nodes = 3, tls = false } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-redis-cluster-'))
  const ca = tls ? makeTestCa(dir) : null
  const taken = new Set()
  const ports = []
  const plain = []
  const children = []
  try {
    for (let i = 0; i < nodes; i++) {
      const port = await clusterPort(taken)
      const node = path.join(dir, `node-${i}`)
      mkdirSync(node)
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000']
      if (tls) {
        const p = await freePort()
        args.push('--port', String(p), '--tls-port', String(port), '--tls-cluster', 'yes', ...tlsArgs(ca))
        plain.push(p)
      } else {
        args.push('--port', String(port))
        plain.push(port)
      }
      const { child, ready } = spawnRedis(args, node)
      children.push(child)
      await ready
      ports.push(port)
    }
    const cli = ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']
    if (tls) cli.unshift('--tls', '--cacert', ca.caFile)
    const made = spawnSync('redis-cli', cli, { encoding: 'utf8' })
    if (made.status !== 0) throw new Error(`redis-cli --cluster create failed: ${made.stdout}${made.stderr}`)
    const until = Date.now() + 20000
    for (;;) {
      const infos = await Promise.all(plain.map((p) => command(p, ['CLUSTER', 'INFO'])))
      if (infos.every((i) => /cluster_state:ok/.test(i) && /cluster_known_nodes:(\d+)/.exec(i)?.[1] === String(nodes))) break
      if (Date.now() > until) throw new Error(`the cluster did not become ready: ${infos.join('\n')}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (e) {
    await Promise.all(children.map(stopChild))
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return {
    urls: ports.map((p) => `${tls ? 'rediss' : 'redis'}://127.0.0.1:${p}`),
    ca,
    ports: plain,
    command: (i, ...a) => command(plain[i], a),
    async stop() {
      await Promise.all(children.map(stopChild))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A primary, one replica and one Sentinel watching them as `mymaster` (quorum 1, down after
 * 1 s), ready: the replica in sync and known to the sentinel. `sentinelUrl` is what a client
 * is given; `primaryPort()` asks the sentinel which port is the primary now; `crashPrimary()`
 * kills the primary and resolves when Sentinel has promoted the replica. With `tls: true` every
 * node and the sentinel take TLS (replication and Sentinel's links too; `sentinelUrl` is
 * rediss://, trusted through `ca`); `command(port)` still reaches each over a plain port.
 */
export async function startRedisSentinel({ name = 'mymaster', tls = false } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-redis-sentinel-'))
  const children = []
  const byPort = new Map()
  // With TLS, clients (and Sentinel) use the TLS ports; the plain ones are for assertions.
  const plainOf = new Map()
  const plain = (port) => plainOf.get(port) ?? port
  try {
    const ca = tls ? makeTestCa(dir) : null
    const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()]
    const listen = async (port) => {
      if (!tls) return ['--port', String(port)]
      const p = await freePort()
      plainOf.set(port, p)
      return ['--port', String(p), '--tls-port', String(port), ...tlsArgs(ca), '--tls-replication', 'yes']
    }
    for (const [port, extra] of [[primary, []], [replica, ['--replicaof', '127.0.0.1', String(primary)]]]) {
      const node = path.join(dir, String(port))
      mkdirSync(node)
      const { child, ready } = spawnRedis([...(await listen(port)), ...extra], node)
      children.push(child)
      byPort.set(port, child)
      await ready
    }
    const conf = path.join(dir, 'sentinel.conf')
    const ports = (await listen(sentinel)).reduce((lines, v, i, all) => (i % 2 === 0 ? [...lines, `${v.slice(2)} ${all[i + 1]}`] : lines), [])
    writeFileSync(conf, [...ports, 'bind 127.0.0.1', `sentinel monitor ${name} 127.0.0.1 ${primary} 1`, `sentinel down-after-milliseconds ${name} 1000`, `sentinel failover-timeout ${name} 4000`, ''].join('\n'))
    const s = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(s)
    await new Promise((resolve, reject) => {
      let out = ''
      s.stdout.on('data', (d) => {
        out += d
        if (out.includes('+monitor')) resolve()
      })
      s.on('exit', (code) => reject(new Error(`redis-sentinel exited with ${code}: ${out}`)))
    })
    const ask = (...a) => command(plain(sentinel), a)
    const until = async (what, ok) => {
      const end = Date.now() + 20000
      for (;;) {
        if (await ok()) return
        if (Date.now() > end) throw new Error(`redis sentinel: ${what} did not happen in 20 s`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const info = (port) => command(plain(port), ['INFO', 'replication'])
    await until('the replica in sync', async () => /master_link_status:up/.test(await info(replica)))
    await until('the sentinel finding the replica', async () => (await ask('SENTINEL', 'REPLICAS', name)).length === 1)
    const primaryPort = async () => Number((await ask('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))[1])
    return {
      sentinelUrl: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${sentinel}`,
      name,
      ca,
      ports: [primary, replica],
      primaryPort,
      command: (port, ...a) => command(plain(port), a),
      /** Kill the primary (SIGKILL); resolves the new primary's port once Sentinel promoted it. */
      async crashPrimary() {
        const before = await primaryPort()
        const other = before === primary ? replica : primary
        const child = byPort.get(before)
        child.kill('SIGKILL')
        await once(child, 'exit')
        await until('the failover', async () => (await primaryPort()) === other && /role:master/.test(await info(other)))
        return other
      },
      async stop() {
        await Promise.all(children.map(stopChild))
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    await Promise.all(children.map(stopChild))
    rmSync(dir, { recursive: true, force: true })
    throw e
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
