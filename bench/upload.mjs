// Upload throughput and memory: a file from disk uploaded to fake-knack by knack-session's
// uploadFile(path) and by the hand-written alternative a Node user reaches for (fetch with a
// FormData of fs.openAsBlob(path), which also streams from disk; knack-api-helper, the npm
// peer of the other rows, has no upload). Each measurement runs in a fresh Node process;
// peak RSS is sampled every 10 ms and reported above the process's RSS just before the upload.
//
//   node bench/upload.mjs [--mb=200] [--rounds=3] [--big-mb=1024]
//
// Writes bench/upload-results.md. Needs the release builds: `node scripts/build.mjs --release`
// and `cargo build --release -p fake-knack` (a debug fake-knack's unoptimised sha256 would be
// the bottleneck). The children load a private copy of the release addon, so a concurrent
// debug build cannot swap it.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, openSync, ftruncateSync, closeSync, rmSync, existsSync, copyFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFake, USERS, APP_ID } from '../__test__/helpers/fake.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const opt = (name, dflt) => Number((argv.find((a) => a.startsWith(`--${name}=`)) ?? `=${dflt}`).split('=')[1])
const MB = opt('mb', 200)
const ROUNDS = opt('rounds', 3)
const BIG_MB = opt('big-mb', 1024)

// Cargo's target directory: CARGO_TARGET_DIR when set, as cargo and napi build use it.
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target')
const RELEASE_SO = path.join(TARGET_DIR, 'x86_64-unknown-linux-gnu/release/libknack_session.so')
const RELEASE_FAKE = path.join(TARGET_DIR, 'release/fake-knack')
for (const f of [RELEASE_SO, RELEASE_FAKE]) {
  if (!existsSync(f)) throw new Error(`${f} is missing: node scripts/build.mjs --release && cargo build --release -p fake-knack`)
}
const ADDON = path.join(ROOT, 'bench/out/knack-session.upload.node')
mkdirSync(path.dirname(ADDON), { recursive: true })
copyFileSync(RELEASE_SO, ADDON)

const CHILD = `
const [mode, file, baseUrl, token, appId] = process.argv.slice(1)
const { KnackSession } = require(${JSON.stringify(ROOT)})
const fs = require('node:fs')
let peak = 0
const sample = () => { const r = process.memoryUsage().rss; if (r > peak) peak = r }
;(async () => {
  const s = KnackSession.fromToken(token, { appId, baseUrl, rateLimit: false })
  // Warm both paths up with a small upload, so the figure is the big file's, not start-up's.
  await s.uploadFile({ file: Buffer.from('warm'), filename: 'warm.txt' })
  await fetch(baseUrl + '/applications/' + appId + '/assets/file/upload', { method: 'POST', body: (() => { const f = new FormData(); f.append('files', new Blob(['warm']), 'warm.txt'); return f })() })
  global.gc && global.gc()
  const before = process.memoryUsage().rss
  peak = before
  const timer = setInterval(sample, 10)
  const t0 = performance.now()
  let size
  if (mode === 'ks') {
    size = (await s.uploadFile({ file, maxBytes: 16 * 1024 ** 3 })).size
  } else {
    const form = new FormData()
    form.append('files', await fs.openAsBlob(file), 'big.bin')
    const res = await fetch(baseUrl + '/applications/' + appId + '/assets/file/upload', { method: 'POST', headers: { Authorization: token }, body: form })
    size = (await res.json()).size
  }
  const ms = performance.now() - t0
  sample()
  clearInterval(timer)
  process.stdout.write(JSON.stringify({ ms, size, before, peak }))
})().catch((e) => { console.error(e); process.exit(1) })
`

function run(mode, file, fake, token) {
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD, mode, file, fake.baseUrl, token, APP_ID], { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: ADDON } })
  if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const mib = (b) => (b / 1024 / 1024).toFixed(1)

function sparseFile(dir, mb) {
  const p = path.join(dir, `upload-${mb}mb.bin`)
  const fd = openSync(p, 'w')
  ftruncateSync(fd, mb * 1024 * 1024)
  closeSync(fd)
  return p
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-upload-bench-'))
const fake = await startFake(['--rate-limit', 'off', '--daily-limit', 'off'], { binary: RELEASE_FAKE })
try {
  const token = await fake.login(USERS.carol.email, USERS.carol.password)
  const file = sparseFile(dir, MB)
  const rows = []
  for (const mode of ['ks', 'fetch']) {
    const results = []
    for (let i = 0; i < ROUNDS; i++) {
      await fake.reset()
      const r = run(mode, file, fake, token)
      if (r.size !== MB * 1024 * 1024) throw new Error(`${mode}: uploaded ${r.size} bytes, expected ${MB * 1024 * 1024}`)
      results.push(r)
    }
    rows.push({
      mode,
      mbps: median(results.map((r) => MB / (r.ms / 1000))),
      rss: median(results.map((r) => r.peak - r.before)),
    })
  }
  await fake.reset()
  const big = sparseFile(dir, BIG_MB)
  const b = run('ks', big, fake, token)
  const name = { ks: 'knack-session `uploadFile({ file: path })`', fetch: '`fetch` + `FormData` of `fs.openAsBlob(path)`' }
  const ks = rows.find((r) => r.mode === 'ks')
  const fe = rows.find((r) => r.mode === 'fetch')
  const md = [
    '# Uploads: throughput and memory',
    '',
    `Measured by \`node bench/upload.mjs --mb=${MB} --rounds=${ROUNDS} --big-mb=${BIG_MB}\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores, Node ${process.version}), against fake-knack on loopback; medians of ${ROUNDS} fresh processes. Peak RSS is sampled every 10 ms, above the process's RSS just before the upload.`,
    '',
    `| client (${MB} MB file from disk) | MB/s | peak RSS above idle |`,
    '|---|---|---|',
    ...rows.map((r) => `| ${name[r.mode]} | ${r.mbps.toFixed(0)} | ${mib(r.rss)} MiB |`),
    '',
    `knack-session / fetch: ${(ks.mbps / fe.mbps).toFixed(2)}× the throughput, ${(ks.rss / Math.max(1, fe.rss)).toFixed(2)}× the memory.`,
    '',
    `A ${BIG_MB} MiB file from a path with knack-session: ${(BIG_MB / (b.ms / 1000)).toFixed(0)} MB/s, peak RSS ${mib(b.peak - b.before)} MiB above idle (${mib(b.before)} MiB idle): the file is read in 64 KiB chunks as the connection takes them.`,
    '',
  ].join('\n')
  writeFileSync(path.join(ROOT, 'bench/upload-results.md'), md)
  process.stdout.write(md)
} finally {
  await fake.stop()
  rmSync(dir, { recursive: true, force: true })
}
