// The KnackSchema of an app, made from its metadata (`GET /v1/applications/{app_id}`) by
// the rules of the issue 14 spec, for the generated-types tests: __test__/fixtures/*-schema.json
// are this function's output over fake-knack's metadata of the helpdesk and field-types apps.
// The runtime's own schema() must give the same (typegen.test.mjs compares them).
//
//   node __test__/helpers/schema-fixture.mjs   rewrites both fixtures from a fresh fake-knack
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { labelKeys } from '../../lib/typegen.js'

/** Knack's zone names of the fixtures -> IANA (the runtime has the whole table). */
const ZONES = { 'Central Time (US & Canada)': 'America/Chicago' }

const str = (v) => (typeof v === 'string' && v !== '' ? v : null)
const isFieldKey = (k) => typeof k === 'string' && /^field_\d+$/.test(k)

export function schemaFromMetadata(metadata) {
  const app = metadata.application
  const objects = (app.objects ?? []).filter((o) => str(o.key)).map((o) => ({
    key: o.key,
    name: str(o.name) ?? o.key,
    identifier: str(o.identifier),
    fields: (o.fields ?? []).filter((f) => isFieldKey(f.key)).map((f) => ({
      key: f.key,
      label: str(f.name) ?? f.key,
      type: str(f.type) ?? 'unknown',
      required: f.required === true,
      format: f.format && typeof f.format === 'object' && !Array.isArray(f.format) ? f.format : null,
      relationship: str(f.relationship?.object) ? { object: f.relationship.object } : null,
      object: o.key,
    })),
  }))
  const index = new Map()
  for (const o of objects) for (const f of o.fields) if (!index.has(f.key)) index.set(f.key, f)
  const scenes = (app.scenes ?? []).filter((s) => str(s.key)).map((s) => ({
    key: s.key,
    slug: str(s.slug),
    name: str(s.name),
    parent: str(s.parent),
    views: (s.views ?? []).filter((v) => str(v.key)).map((v) => {
      const fields = [...new Set([...(v.fields ?? []), ...(v.inputs ?? [])].filter(isFieldKey))]
      return {
        key: v.key,
        name: str(v.name),
        type: str(v.type) ?? 'unknown',
        object: str(v.source?.object),
        fields,
        labels: Object.fromEntries(labelKeys(fields.map((k) => index.get(k)).filter(Boolean))),
      }
    }),
  }))
  const knack = str(app.settings?.timezone)
  if (knack && !(knack in ZONES)) throw new Error(`schema-fixture.mjs: teach ZONES the IANA zone of "${knack}"`)
  return {
    appId: app.id,
    name: str(app.name),
    slug: str(app.slug),
    timezone: { knack, iana: knack ? ZONES[knack] : null },
    objects,
    scenes,
  }
}

/** The metadata fake-knack serves for the app (no auth, as Knack). */
export async function fetchMetadata(fake) {
  const res = await fetch(`${fake.baseUrl}/applications/${fake.appId}`)
  if (!res.ok) throw new Error(`GET /v1/applications/${fake.appId} -> ${res.status}`)
  return res.json()
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { startFake, FIELD_TYPES, ROOT } = await import('./fake.mjs')
  for (const [name, opts] of [
    ['helpdesk', {}],
    ['field-types', { fixture: FIELD_TYPES.fixture, appId: FIELD_TYPES.appId }],
  ]) {
    const fake = await startFake([], opts)
    try {
      const schema = schemaFromMetadata(await fetchMetadata(fake))
      const file = path.join(ROOT, `__test__/fixtures/${name}-schema.json`)
      writeFileSync(file, JSON.stringify(schema, null, 2) + '\n')
      console.log(`wrote ${path.relative(ROOT, file)}`)
    } finally {
      await fake.stop()
    }
  }
}
