// Compiled with `tsc --strict --noEmit`: uses the whole public API, so the shipped
// index.d.ts cannot drift from what the package offers without this failing.
import { KnackSession, KnackError, RecordIterator, setLogLevel } from 'knack-session'
import type {
  KnackErrorCode,
  KnackRecord,
  RecordPage,
  PagingSummary,
  KnackUser,
  Filters,
  SessionOptions,
} from 'knack-session'

interface Ticket extends KnackRecord {
  field_10: string
  field_13_raw?: number
}

async function main(): Promise<void> {
  setLogLevel('off')
  const common: SessionOptions = {
    appId: '5f0c0ffee0c0ffee0c0ffee1',
    baseUrl: 'http://127.0.0.1:1/v1',
    timeoutMs: 1000,
    deadlineMs: 5000,
    retries: 2,
    rateLimit: { perSecond: 10 },
    maxBodyBytes: 1 << 20,
  }
  const controller = new AbortController()
  const s: KnackSession = await KnackSession.login({
    ...common,
    email: 'a@b.c',
    password: 'x',
    remember: true,
    signal: controller.signal,
  })
  const t: KnackSession = KnackSession.fromToken(s.getToken(), { ...common, remember: false, rateLimit: false })
  const id: string = t.id
  const when: Date = t.expiresAt
  const issued: Date = t.issuedAt
  const expired: boolean = t.expired
  const remember: boolean | null = t.remember
  const roles: string[] = t.profileKeys
  const who: string = `${t.appId} ${t.userId} ${t.email ?? ''} ${t.name ?? ''}`
  const user: KnackUser = await t.validate({ signal: controller.signal })
  const filters: Filters = { match: 'or', rules: [{ field: 'field_10', operator: 'contains', value: 'x' }] }
  const page: RecordPage<Ticket> = await t.getRecords<Ticket>({
    scene: 'scene_1',
    view: 'view_1',
    page: 1,
    rowsPerPage: 100,
    filters,
    sortField: 'field_10',
    sortOrder: 'desc',
    format: 'raw',
    parentRecordId: '000000000000000000000a11',
    signal: controller.signal,
  })
  const first: string = page.records[0].field_10
  const n: number = page.totalRecords + page.totalPages + page.currentPage
  const it: RecordIterator<Ticket> = t.records<Ticket>({ scene: 'scene_1', view: 'view_1', maxRecords: 10, prefetchPages: 2, strict: true })
  for await (const r of it) {
    const subject: string = r.field_10
    void subject
  }
  const summary: PagingSummary | null = it.summary
  const all = await t.getAllRecords({ scene: 'scene_1', view: 'view_1', filters: [{ field: 'field_12', operator: 'is', value: 'New' }] })
  const allSummary: PagingSummary | null = all.summary
  const one: KnackRecord = await t.getRecord({ scene: 'scene_1', view: 'view_1', id: all[0].id })
  const created: Ticket = await t.createRecord<Ticket>({ scene: 'scene_1', view: 'view_2', data: { field_10: 'Help' } })
  const updated: KnackRecord = await t.updateRecord({ scene: 'scene_1', view: 'view_3', id: created.id, data: { field_13: 2 } })
  await t.deleteRecord({ scene: 'scene_2', view: 'view_4', id: updated.id })
  const json: string = JSON.stringify(t.toJSON())
  void [id, when, issued, expired, remember, roles, who, user, first, n, summary, allSummary, one, json]
}

try {
  await main()
} catch (e) {
  if (e instanceof KnackError) {
    const code: KnackErrorCode = e.code
    const status: number | undefined = e.status
    const attempts: number | undefined = e.attempts
    const retryAfter: number | undefined = e.retryAfterMs
    const fields: string[] = (e.errors ?? []).map((x) => `${x.field ?? ''}:${x.type ?? ''}:${x.message}`)
    const all: readonly KnackErrorCode[] = KnackError.codes
    void [code, status, attempts, retryAfter, fields, all, e.request]
  }
}
const err = new KnackError('KNACK_TIMEOUT', 'x', { status: 504, attempts: 2 })
void err
