// Loading the native binary on every platform: a platform we ship names its missing package, a
// platform we do not ship says so and how to build from source, a platform package of another
// version is refused, and the real one loads (also from a platform package, as npm installs it).
// Other platforms are faked in a child process by a preload that redefines process.platform /
// process.arch and, for musl, makes /usr/bin/ldd and the process report say musl.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const SUPPORTED = [
  'linux-x64-gnu',
  'linux-arm64-gnu',
  'linux-x64-musl',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
  'win32-arm64-msvc',
]
const REAL = 'linux-x64-gnu' // the platform this suite runs on (the debug build's)
const BINARY = path.join(ROOT, `knack-session.${REAL}.node`)

let tmp
let preload

const PRELOAD = `
'use strict'
// Fakes the platform for the knack-session loader: FAKE_PLATFORM, FAKE_ARCH, FAKE_LIBC=musl.
const fs = require('node:fs')
const define = (key, value) => Object.defineProperty(process, key, { value, configurable: true, enumerable: true })
if (process.env.FAKE_PLATFORM) define('platform', process.env.FAKE_PLATFORM)
if (process.env.FAKE_ARCH) define('arch', process.env.FAKE_ARCH)
if (process.env.FAKE_LIBC === 'musl') {
  const readFileSync = fs.readFileSync
  fs.readFileSync = function (file, ...rest) {
    if (file === '/usr/bin/ldd') return 'musl libc (x86_64)\\n'
    return readFileSync.call(this, file, ...rest)
  }
  const getReport = process.report.getReport.bind(process.report)
  process.report.getReport = (...a) => {
    const r = getReport(...a)
    delete r.header.glibcVersionRuntime
    r.sharedObjects = ['/lib/ld-musl-x86_64.so.1']
    return r
  }
}
`

// Requires the package in a child and reports what it threw (or that it loaded).
const PROBE = `
try {
  const m = require(process.env.TARGET)
  console.log(JSON.stringify({ loaded: typeof m.KnackSession === 'function' }))
} catch (e) {
  const { KnackError } = require(process.env.ERRORS)
  const causes = []
  for (let c = e.cause; c; c = c.cause) causes.push(String(c.message))
  console.log(JSON.stringify({ loaded: false, message: e.message, code: e.code, knackError: e instanceof KnackError, causes }))
}
`

function probe(target, { env = {}, cwd = ROOT } = {}) {
  const r = spawnSync(process.execPath, ['--require', preload, '-e', PROBE], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      NAPI_RS_NATIVE_LIBRARY_PATH: '',
      NAPI_RS_FORCE_WASI: '',
      TARGET: target,
      ERRORS: path.join(target, 'lib', 'errors.js'),
      ...env,
    },
  })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

const fake = (platform, arch, libc) => ({ FAKE_PLATFORM: platform, FAKE_ARCH: arch, FAKE_LIBC: libc ?? '' })

function assertCommon(out) {
  assert.equal(out.loaded, false)
  assert.equal(out.code, 'KNACK_INTERNAL')
  assert.equal(out.knackError, true)
  assert.ok(out.causes.length > 0, 'the original load errors are kept as cause')
  assert.doesNotMatch([out.message, ...out.causes].join('\n'), /npm has a bug/)
  assert.match(out.message, /To build it from source instead: clone https:\/\/github\.com\/knack-session\/knack-session, run `npm install` there with Rust 1\.85\+ installed/)
  assert.match(out.message, /`npm install \/path\/to\/knack-session` in your app/)
}

/** A fresh app dir with knack-session installed as npm would: the packed JS, no local .node. */
function installCopy(name) {
  const app = path.join(tmp, name)
  const dest = path.join(app, 'node_modules', 'knack-session')
  fs.mkdirSync(dest, { recursive: true })
  for (const entry of [...pkg.files, 'package.json']) {
    if (entry.includes('*') || entry.endsWith('.md') || entry === 'LICENSE') continue
    const from = path.join(ROOT, entry)
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dest, entry), { recursive: true })
  }
  return { app, dest }
}

/** node_modules/knack-session-<platform> with the given version and binary (symlinked). */
function installPlatformPackage(app, version, binary) {
  const dir = path.join(app, 'node_modules', `knack-session-${REAL}`)
  fs.mkdirSync(dir, { recursive: true })
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', REAL, 'package.json'), 'utf8'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...manifest, version }))
  const file = path.join(dir, `knack-session.${REAL}.node`)
  if (typeof binary === 'string') fs.symlinkSync(binary, file)
  else fs.writeFileSync(file, binary)
}

before(() => {
  assert.ok(fs.existsSync(BINARY), `build the addon first: ${BINARY}`)
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'knack-platform-'))
  preload = path.join(tmp, 'preload.cjs')
  fs.writeFileSync(preload, PRELOAD)
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

test('the platform list the loader uses is napi.targets in napi naming', async () => {
  const { readNapiConfig } = await import('@napi-rs/cli')
  const config = await readNapiConfig(path.join(ROOT, 'package.json'))
  assert.deepEqual(config.targets.map((t) => t.platformArchABI), SUPPORTED)
})

test('the real platform loads from the local build', () => {
  const out = probe(ROOT)
  assert.deepEqual(out, { loaded: true })
})

test('an unsupported platform (linux-riscv64-gnu) is named, every supported one listed, with how to build from source', () => {
  const out = probe(ROOT, { env: fake('linux', 'riscv64') })
  assertCommon(out)
  assert.match(out.message, /no prebuilt binary for this platform \(linux-riscv64-gnu\)/)
  assert.match(out.message, new RegExp(`prebuilt binaries exist for ${SUPPORTED.join(', ')}\\.`))
  for (const p of SUPPORTED) assert.ok(out.message.includes(p), p)
})

for (const [platform, arch, libc, name] of [
  ['darwin', 'arm64', null, 'darwin-arm64'],
  ['linux', 'x64', 'musl', 'linux-x64-musl'],
  ['win32', 'x64', null, 'win32-x64-msvc'],
]) {
  test(`a supported platform without its package (${name}) names the missing knack-session-${name} and the optional-dependency fix`, () => {
    const out = probe(ROOT, { env: fake(platform, arch, libc) })
    assertCommon(out)
    assert.match(out.message, new RegExp(`for this platform \\(${name}\\)`))
    assert.match(out.message, new RegExp(`the package knack-session-${name}, which is not installed`))
    assert.match(out.message, /reinstall without --omit=optional \(or --no-optional\)/)
    assert.match(out.message, new RegExp(`package-lock\\.json was made on a machine that lists knack-session-${name}`))
    assert.doesNotMatch(out.message, /prebuilt binaries exist for/)
  })
}

test('installed from npm: the binary loads from knack-session-<platform> of the same version', () => {
  const { app, dest } = installCopy('same-version')
  installPlatformPackage(app, pkg.version, BINARY)
  assert.equal(fs.existsSync(path.join(dest, `knack-session.${REAL}.node`)), false)
  assert.deepEqual(probe(dest, { cwd: app }), { loaded: true })
})

test('a platform package of another version (9.9.9) is refused, naming both versions, even without NAPI_RS_ENFORCE_VERSION_CHECK', () => {
  const { app, dest } = installCopy('other-version')
  installPlatformPackage(app, '9.9.9', BINARY)
  for (const check of ['', '1']) {
    const out = probe(dest, { cwd: app, env: { NAPI_RS_ENFORCE_VERSION_CHECK: check } })
    assert.equal(out.loaded, false)
    assert.equal(out.code, 'KNACK_INTERNAL')
    assert.equal(out.knackError, true)
    assert.match(out.message, new RegExp(`knack-session ${pkg.version.replace(/\./g, '\\.')} found its native binary package knack-session-${REAL} at version 9\\.9\\.9`))
    assert.match(out.message, /Reinstall/)
    assert.doesNotMatch(out.message, /npm has a bug/)
  }
})

test('a platform package whose binary does not load reports the load error itself', () => {
  const { app, dest } = installCopy('broken-binary')
  installPlatformPackage(app, pkg.version, Buffer.from('not an ELF file'))
  const out = probe(dest, { cwd: app })
  assertCommon(out)
  assert.match(out.message, new RegExp(`knack-session-${REAL} is installed but did not load: .*(invalid ELF header|too short)`))
  assert.doesNotMatch(out.message, /which is not installed/)
})

test('the loader is the only module that requires binding.js', () => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'index.js', 'lib'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.js'))
  const requiring = files.filter((f) => /require\(['"][./]*binding(\.js)?['"]\)/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')))
  assert.deepEqual(requiring, ['lib/native.js'])
})
