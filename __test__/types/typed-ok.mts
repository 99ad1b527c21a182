// Compiled by typegen.test.mjs with tsc --strict and the generated types of the helpdesk app
// (../golden/helpdesk-app.d.ts): what a user of `npx knack-session types` writes, typed.
// Never run: it only has to compile, and every Same<> below must hold.
import { KnackSession } from 'knack-session'
import type {
  KnackAsset,
  KnackConnection,
  KnackDateTimeRaw,
  KnackEmailRaw,
  KnackFormatted,
  KnackLabelRecord,
  KnackName,
  KnackRecord,
  KnackSchema,
  KnackViewInput,
  KnackViewRecord,
  BulkResult,
  RecordIterator,
} from 'knack-session'

/** true when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function holds<T extends true>(): T | void {}

export async function readsByLabel(session: KnackSession): Promise<string[]> {
  const page = await session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels', rowsPerPage: 100 })
  const t = page.records[0]
  const subject: string | null = t.Subject
  const status: string | null = t.Status
  const priority: number | null = t.Priority
  const customer: KnackConnection[] = t.Customer
  const created: Date | null = t.Created
  const email: string | null = t['Contact email']
  const file: KnackAsset | null = t.Attachment
  holds<Same<typeof t, KnackViewRecord<'scene_1/view_1', 'labels'>>>()
  // The page slug names the scene too.
  const bySlug = await session.getRecords({ scene: 'my-tickets', view: 'view_1', shape: 'labels' })
  holds<Same<(typeof bySlug.records)[number], (typeof page.records)[number]>>()
  return [subject ?? '', status ?? '', String(priority), customer.map((c) => c.identifier).join(), created?.toISOString() ?? '', email ?? '', file?.url ?? '']
}

export async function readsByField(session: KnackSession): Promise<void> {
  // The default shape: field_N (formatted) and field_N_raw (Knack's typed value).
  const page = await session.getRecords({ scene: 'scene_2', view: 'view_4' })
  const r = page.records[0]
  const shown: KnackFormatted = r.field_10
  const subject: string | undefined = r.field_10_raw
  const priority: number | undefined = r.field_13_raw
  const created: KnackDateTimeRaw | undefined = r.field_15_raw
  const email: KnackEmailRaw | undefined = r.field_16_raw
  const customer: KnackConnection[] | undefined = r.field_14_raw
  void [shown, subject, priority, created?.unix_timestamp, email?.email, customer]
  // format: 'raw' leaves only id and field_N_raw; 'html' only id and field_N.
  const raw = await session.getRecords({ scene: 'scene_2', view: 'view_4', format: 'raw' })
  holds<Same<keyof (typeof raw.records)[number], 'id' | `field_${10 | 11 | 12 | 13 | 14 | 15 | 16 | 17}_raw`>>()
  const html = await session.getRecords({ scene: 'scene_2', view: 'view_4', format: 'html' })
  holds<Same<keyof (typeof html.records)[number], 'id' | `field_${10 | 11 | 12 | 13 | 14 | 15 | 16 | 17}`>>()
}

export async function projections(session: KnackSession): Promise<void> {
  // `fields` by label or by field key; only id and those come back, and the type says so.
  const labels = await session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels', fields: ['Subject', 'field_13'] })
  holds<Same<(typeof labels.records)[number], { id: string; Subject: string | null; Priority: number | null }>>()
  const raw = await session.getAllRecords({ scene: 'scene_1', view: 'view_1', fields: ['Subject', 'Created'], format: 'raw' })
  holds<Same<(typeof raw)[number], { id: string; field_10_raw?: string; field_15_raw?: KnackDateTimeRaw }>>()
  const one = await session.getRecord({ scene: 'scene_4', view: 'view_9', id: '000000000000000000000001', shape: 'labels', fields: ['Title'] })
  holds<Same<typeof one, { id: string; Title: string | null }>>()
  const it = session.records({ scene: 'scene_3', view: 'view_6', parentRecordId: '000000000000000000000001', shape: 'labels', fields: ['Body', 'Author'] })
  holds<Same<typeof it, RecordIterator<{ id: string; Body: string | null; Author: string | null }>>>()
  for await (const comment of it) void comment.Body?.length
  const all = await session.getAllRecords({ scene: 'scene_5', view: 'view_10', shape: 'labels' })
  const me: KnackName | null = all[0].Name
  void [me?.first, all.summary?.complete]
}

export async function writesByLabel(session: KnackSession): Promise<void> {
  const created = await session.createRecord({
    scene: 'scene_1',
    view: 'view_2',
    shape: 'labels',
    data: { Subject: 'Printer on fire', Description: null, Priority: 2, 'Contact email': 'a@example.com', Attachment: { id: '000000000000000000000f11' } },
  })
  holds<Same<typeof created, KnackViewRecord<'scene_1/view_2', 'labels'>>>()
  // Field keys are accepted too, with the same value types.
  await session.updateRecord({ scene: 'scene_2', view: 'view_5', id: created.id, shape: 'labels', data: { Status: 'Closed', field_13: 5 } })
  // A table (inline edit): dates as Date, connections as ids or { id }.
  await session.updateRecord({ scene: 'scene_2', view: 'view_4', id: created.id, shape: 'labels', data: { Created: new Date(), Customer: ['000000000000000000000a11', { id: '000000000000000000000b0b' }] } })
  const input: KnackViewInput<'scene_3/view_7'> = { Body: 'Thanks!', Author: 'Alice' }
  const bulk = await session.createRecords({ scene: 'scene_3', view: 'view_7', parentRecordId: created.id, shape: 'labels', records: [input, { Body: 'Again' }] })
  holds<Same<typeof bulk, BulkResult<KnackViewRecord<'scene_3/view_7', 'labels'>>[]>>()
  const updated = await session.updateRecords({ scene: 'scene_3', view: 'view_11', parentRecordId: created.id, shape: 'labels', records: [{ id: created.id, data: { Body: 'Edited' } }] })
  for (const r of updated) if (r.ok) void r.record.Body
  // Without shape: 'labels', data is Knack's field_N values, as before.
  const plain = await session.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'x', anything: 1 } })
  holds<Same<typeof plain, KnackViewRecord<'scene_1/view_2'>>>()
}

export async function looseWhereUntyped(session: KnackSession, scene: string, view: string): Promise<void> {
  // A view the generated file does not know, and scene/view that are plain strings: the loose types.
  const unknownView = await session.getRecords({ scene: 'scene_1', view: 'view_99', shape: 'labels', fields: ['Anything'] })
  holds<Same<(typeof unknownView.records)[number], KnackLabelRecord>>()
  const dynamic = await session.getRecords({ scene, view })
  holds<Same<(typeof dynamic.records)[number], KnackRecord>>()
  await session.createRecord({ scene, view, shape: 'labels', data: { 'Any label': new Date() } })
  // The generic escape hatch still wins over the generated types.
  interface Ticket extends KnackRecord {
    field_10: string
  }
  const mine = await session.getRecords<Ticket>({ scene: 'scene_1', view: 'view_1', fields: ['field_10'] })
  holds<Same<(typeof mine.records)[number], Ticket>>()
}

export async function schemas(session: KnackSession): Promise<string[]> {
  const s: KnackSchema = await KnackSession.schema({ appId: '5f0c0ffee0c0ffee0c0ffee1', baseUrl: 'http://127.0.0.1:1/v1', refresh: true })
  const same: KnackSchema = await session.schema({ signal: AbortSignal.timeout(1000) })
  const labels: string[] = s.scenes.flatMap((scene) => scene.views.flatMap((v) => Object.values(v.labels)))
  return [...labels, same.timezone.iana ?? 'UTC', ...same.objects.flatMap((o) => o.fields.map((f) => `${f.key}:${f.type}:${f.relationship?.object ?? ''}`))]
}
