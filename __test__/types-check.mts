// Compiled with `tsc --strict --noEmit`: uses the whole public API, so the shipped
// index.d.ts cannot drift from what the package offers without this failing.
import { KnackSession, KnackError, RecordIterator, MemoryStore, FileStore, RedisStore, setLogLevel } from 'knack-session'
import { knackSession, statusFor } from 'knack-session/express'
import { createKnackAuth } from 'knack-session/next'
import type { KnackMiddleware } from 'knack-session/express'
import type { KnackNextAuth } from 'knack-session/next'
import type { UploadedAsset, DownloadResult } from 'knack-session'
import type {
  TokenStore,
  BulkResult,
  TransportStats,
  KnackErrorCode,
  KnackRecord,
  RecordPage,
  PagingSummary,
  KnackUser,
  Filters,
  SessionOptions,
  KnackLogger,
  KnackLogLevel,
  KnackEventFields,
  KnackRequestEvent,
  KnackOutcome,
  KnackErrorJSON,
  LogLevel,
} from 'knack-session'

interface Ticket extends KnackRecord {
  field_10: string
  field_13_raw?: number
}

async function main(): Promise<void> {
  const level: LogLevel = 'warn'
  setLogLevel(level)
  setLogLevel('off')
  const common: SessionOptions = {
    appId: '5f0c0ffee0c0ffee0c0ffee1',
    baseUrl: 'http://127.0.0.1:1/v1',
    timeoutMs: 1000,
    deadlineMs: 5000,
    retries: 2,
    rateLimit: { perSecond: 10 },
    maxBodyBytes: 1 << 20,
    maxPayloadBytes: 1 << 20,
    onStoreError: async (e) => void e.code,
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
  // Service sessions, a logger, and the diagnostics_channel message type.
  const lines: string[] = []
  const logger: KnackLogger = {
    debug: (f, m) => lines.push(`${f.event} ${m}`),
    info: (f: KnackEventFields, m: string) => lines.push(`${f.requestId} ${f.status ?? ''} ${m}`),
    warn: (_f, m) => lines.push(m),
    error: (f, m) => lines.push(`${f.code ?? ''} ${m}`),
  }
  const logLevel: KnackLogLevel = 'debug'
  const job: KnackSession = await KnackSession.service({ ...common, email: 'jobs@b.c', password: 'x', remember: true, logger, logLevel })
  const renewals: number = job.renewals
  const onEnd = (m: unknown) => {
    const e = m as KnackRequestEvent
    void [e.method, e.path, e.attempt, e.requestId, e.durationMs, e.waitMs, e.reason]
  }
  void [renewals, onEnd, lines]
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
  // PagingSummary and TransportStats are the binding's own types, re-exported by index.d.ts.
  const known: number | undefined = allSummary?.totalRecords
  const counts: number[] = allSummary ? [allSummary.pages, allSummary.received, allSummary.duplicates, allSummary.shortfall] : []
  const ended: boolean | undefined = allSummary?.endedEarly || allSummary?.truncated || allSummary?.complete
  void [known, counts, ended]
  const one: KnackRecord = await t.getRecord({ scene: 'scene_1', view: 'view_1', id: all[0].id })
  const created: Ticket = await t.createRecord<Ticket>({ scene: 'scene_1', view: 'view_2', data: { field_10: 'Help' } })
  const updated: KnackRecord = await t.updateRecord({ scene: 'scene_1', view: 'view_3', id: created.id, data: { field_13: 2 } })
  await t.deleteRecord({ scene: 'scene_2', view: 'view_4', id: updated.id })
  const json: string = JSON.stringify(t.toJSON())
  const bulk: BulkResult<Ticket>[] = await t.createRecords<Ticket>({
    scene: 'scene_1',
    view: 'view_2',
    records: [{ field_10: 'a' }],
    concurrency: 2,
    reserve: 100,
    onProgress: async (p) => void p.done,
  })
  for (const r of bulk) {
    if (r.ok) void r.record.field_10
    else {
      const outcome: KnackOutcome = r.outcome
      void [r.attempted, r.error.code, outcome]
    }
  }
  await t.updateRecords({ scene: 'scene_2', view: 'view_4', records: [{ id: created.id, data: { field_12: 'Closed' } }] })
  await t.deleteRecords({ scene: 'scene_2', view: 'view_4', ids: [created.id] })
  const stats: TransportStats = t.stats()
  const left: number | undefined = stats.plan.remaining
  const governor: [number, number, number, number, number | undefined, boolean] = [stats.requests, stats.retries, stats.rateLimited, stats.queued, stats.perSecond, stats.shared]
  void governor
  t.resetDailyLimit()
  const secret = 'x'.repeat(32)
  const stores: TokenStore[] = [
    new MemoryStore({ maxEntries: 100 }),
    new FileStore({ dir: '/tmp/knack', secret }),
    new RedisStore({ url: 'redis://127.0.0.1:6379', secret: [secret, secret], prefix: 'app:' }),
    new RedisStore({ url: 'rediss://127.0.0.1:6380', ca: [Buffer.from(''), 'pem'], secret }),
    new RedisStore({ url: ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'], cluster: true, secret }),
    new RedisStore({ url: ['redis://127.0.0.1:26379'], sentinel: { name: 'mymaster', password: 'pw', db: 1 }, secret }),
    new RedisStore({ url: 'rediss://127.0.0.1:26379', sentinel: 'mymaster', ca: 'pem', secret }),
  ]
  const custom: TokenStore = { get: async () => null, set: async () => undefined, delete: async () => undefined }
  const saved = await KnackSession.login({ ...common, email: 'a@b.c', password: 'x', store: custom, secret })
  await saved.save()
  const back: KnackSession | null = await KnackSession.restore(saved.id, {
    ...common,
    store: stores[0],
    onStoreError: (e) => void e.code,
    rateLimit: { perSecond: 10, redis: 'redis://127.0.0.1:6379' },
  })
  await back?.logout()
  KnackSession.fromToken(s.getToken(), { ...common, rateLimit: { redis: { url: ['rediss://127.0.0.1:7000'], cluster: true, ca: 'pem' } } })
  KnackSession.fromToken(s.getToken(), { ...common, rateLimit: { redis: stores[2] as RedisStore } })
  const mw: KnackMiddleware = knackSession({ ...common, secret, store: stores[1], cookie: { secure: true, sameSite: 'Lax' } })
  const nextAuth: KnackNextAuth = createKnackAuth({ ...common, secret, allowToken: true, tokenCacheMs: 1000 })
  const guarded: KnackMiddleware = knackSession({
    ...common,
    secret,
    tokenValidation: { perSecond: 2, burst: 4, refusedCacheMs: 60_000 },
    allowFormLogin: false,
    allowedOrigins: ['https://app.example.com'],
    trustProxy: true,
    onError: (err, { where, request }) => void [err instanceof KnackError ? err.code : err, where, request],
  })
  void guarded
  // The README's Express routes as @types/express types them (knack-session declares
  // req.knack on Express.Request): req.knack is KnackSession | null even behind
  // knack.required, so the route takes knack.sessionOf(req); other errors go on to the app's
  // own handler after knack.errors.
  type ExpressRequest = Express.Request & import('node:http').IncomingMessage
  type ExpressNext = (err?: unknown) => void
  type Handler = (req: ExpressRequest, res: import('node:http').ServerResponse, next: ExpressNext) => unknown
  const tickets: Handler = async (req, res, next) => {
    try {
      res.end(JSON.stringify(await mw.sessionOf(req).getRecords({ scene: 'scene_1', view: 'view_1', signal: AbortSignal.timeout(10_000) })))
    } catch (e) {
      next(e)
    }
  }
  const publicRoute: Handler = (req, res) => {
    // @ts-expect-error 'req.knack' is possibly 'null': use knack.sessionOf(req) or check it
    void req.knack.userId
    const who: string | null = req.knack ? req.knack.userId : null
    const why: KnackErrorCode | undefined = req.knackError?.code
    const via: 'cookie' | 'token' | undefined = req.knackVia
    res.end(JSON.stringify({ who, why, via }))
  }
  const chain: Handler[] = [mw, mw.required, tickets, publicRoute]
  const errorHandlers: Array<(err: unknown, req: ExpressRequest, res: import('node:http').ServerResponse, next: ExpressNext) => unknown> = [
    mw.errors,
    (err, _req, res) => void res.writeHead(500).end(JSON.stringify({ error: { code: 'INTERNAL', message: String(err instanceof Error ? 'internal error' : err) } })),
  ]
  void [chain, errorHandlers]
  const GET = nextAuth.withSession(async (_req, { session }) => Response.json(await session.getRecords({ scene: 'scene_1', view: 'view_1' })))
  const res: Response = await GET(new Request('http://localhost/api'))
  // Next: the current request's session, Server Actions, pages/api, options read lazily.
  const lazy: KnackNextAuth = createKnackAuth(() => ({ ...common, secret }))
  const current: KnackSession | null = await lazy.getSession()
  const signedIn: { id: string; expiresAt: string } = await lazy.signIn({ email: 'a@b.c', password: 'pw', remember: true })
  await lazy.signOut()
  const pagesApi = lazy.pages.withSession(async (_req, res, session) => res.end(JSON.stringify(await session.validate())))
  const pagesLogin: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void> = lazy.pages.login
  void [current, signedIn, pagesApi, pagesLogin]
  // Files and reports.
  const asset: UploadedAsset = await s.uploadFile({ file: './x.png', kind: 'image', onProgress: ({ sent, total }) => void [sent, total] })
  await s.uploadFile({ file: new Uint8Array(3), filename: 'x.bin', maxBytes: 1024, timeoutMs: 1000 })
  await s.createRecord({ scene: 'scene_1', view: 'view_2', data: { field_10: 'x' }, files: { field_17: './a.pdf', field_18: { file: new Blob(['x']), filename: 'b.txt' } } })
  const dl: DownloadResult = await s.downloadFile(asset, { to: '/tmp/x.png' })
  await s.downloadFile({ id: asset.id, filename: asset.filename }, { to: process.stdout })
  const reports: Record<string, unknown>[] = await s.getReport({ scene: 'scene_2', view: 'view_12' })
  const oneReport: { records: unknown[] } = await s.getReport<{ records: unknown[] }>({ scene: 'scene_2', view: 'view_12', report: 0 })
  void [dl, reports, oneReport]
  const status: number = statusFor(new KnackError('KNACK_FORBIDDEN', 'no'))
  void [id, when, issued, expired, remember, roles, who, user, first, n, summary, allSummary, one, json, left, mw, res, status]
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
    const outcome: KnackOutcome | undefined = e.outcome
    const json: KnackErrorJSON = e.toJSON()
    void [code, status, attempts, retryAfter, fields, all, e.request, outcome, json.message]
  }
}
const err = new KnackError('KNACK_TIMEOUT', 'x', { status: 504, attempts: 2, outcome: 'unknown' })
void err
