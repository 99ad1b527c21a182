// The Linux glibc binary loads on every distribution Node 20 runs on: it needs nothing newer
// than glibc 2.17 (RHEL/CentOS 7's), however new the build machine's glibc is.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from './helpers/fake.mjs'
import { GLIBC_FLOOR, compareVersions, exportsNapiEntry, glibcFloor, glibcVersions } from '../scripts/lib/artifact.mjs'

const glibcHost = process.platform === 'linux' && Boolean(process.report?.getReport()?.header?.glibcVersionRuntime)
const platform = `linux-${process.arch}-gnu`
const addon = path.join(ROOT, `knack-session.${platform}.node`)

test(`the built ${platform} addon needs no glibc newer than ${GLIBC_FLOOR}`, { skip: !glibcHost && 'not a glibc Linux host' }, () => {
  assert.ok(existsSync(addon), `${addon} is not built: run node scripts/build.mjs`)
  const floor = glibcFloor(addon)
  assert.ok(floor !== null, 'the addon needs no versioned glibc symbol at all: is it a glibc build?')
  assert.ok(
    compareVersions(floor, GLIBC_FLOOR) <= 0,
    `the addon needs GLIBC_${floor} (all: ${glibcVersions(addon).join(', ')}), above the ${GLIBC_FLOOR} floor: ` +
      'build it with zig (`pip install ziglang cargo-zigbuild`, then node scripts/build.mjs)',
  )
})

test('the built addon exports napi_register_module_v1, the entry point Node looks for', { skip: !glibcHost && 'not a glibc Linux host' }, () => {
  assert.equal(exportsNapiEntry(addon), true)
})

test('glibc versions compare numerically, so 2.3 is below 2.17 and 2.34 above it', () => {
  assert.ok(compareVersions('2.3', GLIBC_FLOOR) < 0)
  assert.ok(compareVersions('2.2.5', GLIBC_FLOOR) < 0)
  assert.ok(compareVersions('2.34', GLIBC_FLOOR) > 0)
  assert.equal(compareVersions('2.17', '2.17'), 0)
})
