// The npm packages knack-session needs at run time (`npm ls --omit=dev`) and their licences:
// each must be on the allowed list (the same spirit as deny.toml for the Rust graph). Today
// the package has no run-time npm dependencies at all; this keeps it honest if one is added.
import { spawnSync } from 'node:child_process'

const ALLOWED = new Set(['MIT', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', 'ISC', '0BSD', 'Zlib'])

/** An SPDX expression is fine if every AND-part has an allowed OR-alternative. */
function allowed(license) {
  if (typeof license !== 'string' || license.trim() === '') return false
  const expr = license.replace(/[()]/g, ' ').trim()
  return expr.split(/\s+AND\s+/).every((part) => part.split(/\s+OR\s+/).some((l) => ALLOWED.has(l.trim())))
}

const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--json', '--long'], { encoding: 'utf8' })
const tree = JSON.parse(r.stdout || '{}')
const bad = []
const seen = new Set()
function walk(deps) {
  for (const [name, d] of Object.entries(deps ?? {})) {
    if (d.extraneous || d.dev || seen.has(`${name}@${d.version}`)) continue
    seen.add(`${name}@${d.version}`)
    if (!allowed(d.license)) bad.push(`${name}@${d.version}: ${d.license ?? 'no licence'}`)
    walk(d.dependencies)
  }
}
if (!allowed(tree.license)) bad.push(`knack-session itself: ${tree.license}`)
walk(tree.dependencies)
if (bad.length > 0) {
  console.error(`npm licences not on the allowed list (${[...ALLOWED].join(', ')}):\n  ${bad.join('\n  ')}`)
  process.exit(1)
}
console.log(`npm licences ok: ${seen.size} run-time dependencies, all under ${[...ALLOWED].join(', ')}`)
