// Compiled by typegen.test.mjs with tsc --strict and the generated types of the helpdesk app
// (../golden/helpdesk-app.d.ts): it must FAIL, with an error on every line marked
// `// error: <what>` and on no other line. Not part of `npm run typecheck`.
import type { KnackSession } from 'knack-session'

export async function mistakes(session: KnackSession): Promise<void> {
  const page = await session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels' })
  const t = page.records[0]
  void t.Subjet // error: misspelt label read (Subjet)
  void t.field_10 // error: a field key read from a labels record (field_10)
  const raw = await session.getRecords({ scene: 'scene_1', view: 'view_1', format: 'raw' })
  void raw.records[0].field_10 // error: a formatted value read from a format: 'raw' record (field_10)
  await session.getRecords({ scene: 'scene_1', view: 'view_1', fields: ['Subjet'] }) // error: misspelt fields entry (Subjet)
  await session.getRecord({ scene: 'scene_4', view: 'view_9', id: 'x', fields: ['Description'] }) // error: a fields entry of another view (Description)
  const picked = await session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels', fields: ['Subject'] })
  void picked.records[0].Priority // error: a label read that the projection left out (Priority)
  await session.createRecord({ scene: 'scene_1', view: 'view_2', shape: 'labels', data: { Subjet: 'x' } }) // error: misspelt write key (Subjet)
  await session.createRecord({ scene: 'scene_1', view: 'view_2', shape: 'labels', data: { Priority: 'high' } }) // error: wrong value type in a write (Priority)
  await session.updateRecord({ scene: 'scene_2', view: 'view_4', id: 'x', shape: 'labels', data: { Created: '2024-01-01' } }) // error: a date written as a string (Created)
  await session.createRecords({ scene: 'scene_3', view: 'view_7', shape: 'labels', records: [{ Bdy: 'x' }] }) // error: misspelt key in a bulk write (Bdy)
  await session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels', format: 'raw' }) // error: shape labels with format (format)
}
