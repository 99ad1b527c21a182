// What npm publishes: the root tarball holds exactly the JS entry points, types, README, LICENSE
// and CHANGELOG (no binary, no sources, no tests), every relative link in the shipped Markdown
// resolves inside it, and npm/<platform> holds one package per napi target, at our version,
// each shipping only its own binary (and LICENSE).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readNapiConfig } from '@napi-rs/cli'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')
const pkg = JSON.parse(read('package.json'))

function packedFiles(dir) {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' })
  const [entry] = JSON.parse(out)
  return entry.files.map((f) => f.path).sort()
}

const TARBALL = packedFiles(ROOT)

/** Relative targets of Markdown links and images (no anchors, no URLs), without #fragments. */
function relativeLinks(markdown) {
  const targets = [
    ...[...markdown.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...markdown.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
    ...[...markdown.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]),
  ]
  return targets.filter((t) => !t.startsWith('#') && !/^[a-z][a-z0-9+.-]*:/i.test(t)).map((t) => t.split('#')[0])
}

test('the root tarball holds exactly the JS entry points, types, bin/, lib/, README, LICENSE and CHANGELOG', () => {
  assert.deepEqual(TARBALL, [
    'CHANGELOG.md',
    'LICENSE',
    'README.md',
    'bin/knack-session.js',
    'binding.d.ts',
    'binding.js',
    'express.d.ts',
    'express.mjs',
    'index.d.ts',
    'index.js',
    'index.mjs',
    'lib/bulk.js',
    'lib/callbacks.js',
    'lib/codes.js',
    'lib/diagnostics.js',
    'lib/edge.mjs',
    'lib/errors.js',
    'lib/express.js',
    'lib/files.js',
    'lib/http.js',
    'lib/native-args.js',
    'lib/native.js',
    'lib/next.js',
    'lib/options.js',
    'lib/records.js',
    'lib/saved.js',
    'lib/session.js',
    'lib/signal.js',
    'lib/stores.js',
    'lib/typegen.js',
    'next.d.ts',
    'next.mjs',
    'package.json',
  ])
  for (const f of TARBALL) {
    assert.doesNotMatch(f, /\.node$|^(src|crates|npm|__test__|fuzz|bench|examples|docs|fixtures|scripts|target)\//, f)
  }
  assert.ok(!pkg.files.includes('*.node'), 'binaries ship in the npm/<platform> packages, not in the root package')
})

test('main, types, every bin and every exports target of package.json are in the tarball', () => {
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})]
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk))
  walk(pkg.exports)
  for (const t of targets) assert.ok(TARBALL.includes(path.posix.normalize(t)), `${t} is not in the tarball`)
})

test('every relative link in the shipped README.md and CHANGELOG.md points at a file in the tarball', () => {
  for (const doc of ['README.md', 'CHANGELOG.md']) {
    const links = relativeLinks(read(doc))
    if (doc === 'README.md') assert.ok(links.includes('CHANGELOG.md'), 'README links the changelog')
    for (const link of links) {
      const file = path.posix.normalize(decodeURIComponent(link))
      assert.ok(TARBALL.includes(file), `${doc} links ${link}, which is not in the tarball (make it a repository link)`)
    }
  }
})

test('README keeps its in-page Contents links, and the Changelog section points at CHANGELOG.md', () => {
  const readme = read('README.md')
  const anchors = [...readme.matchAll(/\]\(#([a-z0-9-]+)\)/g)].map((m) => m[1])
  const slug = (h) => h.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')
  const headings = new Set([...readme.matchAll(/^#{2,3} (.+)$/gm)].map((m) => slug(m[1])))
  for (const a of anchors) assert.ok(headings.has(a), `#${a} has no heading`)
  const section = readme.split(/^## Changelog\n/m)[1].split(/^## /m)[0]
  assert.match(section, /\[CHANGELOG\.md\]\(CHANGELOG\.md\)/)
  assert.ok(section.trim().split('\n').length <= 2, 'the changelog itself lives in CHANGELOG.md')
  assert.match(read('CHANGELOG.md'), /^## 0\.2\.0 \(unreleased\)$[\s\S]*knack-session-<platform>[\s\S]*^## 0\.1\.0$/m)
})

test('LICENSE is MIT for knack-session contributors, and package.json says MIT', () => {
  const license = read('LICENSE')
  assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 knack-session contributors\n/)
  assert.equal(pkg.license, 'MIT')
})

const config = await readNapiConfig(path.join(ROOT, 'package.json'))
const PLATFORMS = config.targets.map((t) => t.platformArchABI)

test('npm/ holds one package per napi target, no more', () => {
  const dirs = fs
    .readdirSync(path.join(ROOT, 'npm'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
  assert.deepEqual(dirs.sort(), [...PLATFORMS].sort())
})

for (const target of config.targets) {
  const p = target.platformArchABI
  test(`npm/${p}: ${pkg.name}-${p} at version ${pkg.version}, for ${target.platform}/${target.arch}${target.abi ? `/${target.abi}` : ''}, shipping only knack-session.${p}.node and LICENSE`, () => {
    const dir = path.join(ROOT, 'npm', p)
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    assert.equal(m.name, `${pkg.name}-${p}`)
    assert.equal(m.version, pkg.version, 'platform packages are locked to the root version')
    assert.deepEqual(m.os, [target.platform])
    assert.deepEqual(m.cpu, [target.arch])
    if (target.platform === 'linux') assert.deepEqual(m.libc, [target.abi === 'musl' ? 'musl' : 'glibc'])
    else assert.equal(m.libc, undefined)
    assert.equal(m.main, `${pkg.napi.binaryName}.${p}.node`)
    assert.deepEqual(m.files, [`${pkg.napi.binaryName}.${p}.node`])
    assert.equal(m.license, pkg.license)
    assert.deepEqual(m.repository, pkg.repository)
    assert.deepEqual(m.engines, pkg.engines)
    assert.equal(typeof m.description, 'string')
    assert.equal(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8'), read('LICENSE'))
    // Without the binary (CI puts it there before publishing) npm packs the rest: LICENSE included.
    const packed = packedFiles(dir).filter((f) => f !== m.main)
    assert.deepEqual(packed, ['LICENSE', 'README.md', 'package.json'])
  })
}

test('napi prepublish would declare exactly the npm/* packages, at our version, as optional dependencies', () => {
  // What napi prepublish writes into package.json at publish time (one entry per target).
  const wouldWrite = Object.fromEntries(PLATFORMS.map((p) => [`${config.packageName}-${p}`, pkg.version]))
  const present = Object.fromEntries(
    fs.readdirSync(path.join(ROOT, 'npm')).map((d) => {
      const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', d, 'package.json'), 'utf8'))
      return [m.name, m.version]
    }),
  )
  assert.deepEqual(present, wouldWrite)
  // The committed package.json leaves them out (prepublish adds them); if they are there, they match.
  if (pkg.optionalDependencies !== undefined) assert.deepEqual(pkg.optionalDependencies, wouldWrite)
})
