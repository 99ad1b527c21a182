// Types of knack-session's public API (hand-written over the generated binding.d.ts; what
// the binding's own types already say is re-exported from there, not declared again).

// PagingSummary: what an iteration over pages saw (totalRecords / totalPages absent when Knack
// did not say). TransportStats: counters and limits of an app's shared transport (perSecond
// absent when the governor is off).
import type { PagingSummary, TransportStats } from './binding'
export type { PagingSummary, TransportStats }

/**
 * Every error code a KnackError can carry: the Rust core's `errorCodes()` and `KNACK_INTERNAL`
 * (__test__/codes.test.mjs keeps this list equal to them).
 */
export type KnackErrorCode =
  | 'KNACK_INVALID_ARGUMENT'
  | 'KNACK_LOGIN_FAILED'
  | 'KNACK_TOKEN_EXPIRED'
  | 'KNACK_UNAUTHORIZED'
  | 'KNACK_FORBIDDEN'
  | 'KNACK_NOT_FOUND'
  | 'KNACK_VALIDATION'
  | 'KNACK_UNSUPPORTED_ACTION'
  | 'KNACK_PARENT_REQUIRED'
  | 'KNACK_RATE_LIMITED'
  | 'KNACK_DAILY_LIMIT'
  | 'KNACK_SERVER_ERROR'
  | 'KNACK_TIMEOUT'
  | 'KNACK_NETWORK'
  | 'KNACK_ABORTED'
  | 'KNACK_BAD_RESPONSE'
  | 'KNACK_STORE'
  | 'KNACK_INTERNAL'

/** One item of Knack's `{"errors": [...]}`. */
export interface KnackFieldError {
  field?: string
  type?: string
  message: string
}

/**
 * What a failed call did at Knack, as far as the client can know:
 * - `'not-sent'`: nothing reached Knack (failed before sending, or no connection). Safe to send again.
 * - `'rejected'`: Knack answered and refused it (4xx, 429): nothing was changed.
 * - `'unknown'`: it may have reached Knack and the answer was lost (reset, timeout, 5xx, an
 *   abort or deadline while in flight): a write may have been applied.
 * - `'applied'`: Knack answered 2xx, so it did what was asked, but the answer was unusable.
 *   Sending a create again would duplicate it.
 */
export type KnackOutcome = 'not-sent' | 'rejected' | 'unknown' | 'applied'

/** What `JSON.stringify(error)` shows: no cause, no stack. */
export interface KnackErrorJSON {
  name: 'KnackError'
  code: KnackErrorCode
  message: string
  status?: number
  errors?: KnackFieldError[]
  retryAfterMs?: number
  attempts?: number
  outcome?: KnackOutcome
  request?: string
}

export declare class KnackError extends Error {
  constructor(
    code: KnackErrorCode,
    message: string,
    details?: {
      status?: number
      errors?: KnackFieldError[]
      retryAfterMs?: number
      attempts?: number
      /** What the call did at Knack (see KnackOutcome). */
      outcome?: KnackOutcome
      request?: string
      cause?: unknown
    },
  )
  readonly name: 'KnackError'
  readonly code: KnackErrorCode
  /** HTTP status of Knack's last answer, when there was one. */
  readonly status?: number
  /** Knack's own errors (e.g. `{field: 'field_10', type: 'required', message}`). */
  readonly errors?: KnackFieldError[]
  /** For rate and daily limits: how long Knack asked to wait. */
  readonly retryAfterMs?: number
  /** Attempts made (0: failed before anything was sent). */
  readonly attempts?: number
  /** What the call did at Knack: `'not-sent'`, `'rejected'`, `'unknown'` (a write may have been applied) or `'applied'`. */
  readonly outcome?: KnackOutcome
  /** Method and path of the failed request, e.g. `GET /pages/scene_1/views/view_1/records`. */
  readonly request?: string
  /** `{ name, code, message, status?, errors?, retryAfterMs?, attempts?, outcome?, request? }` (no cause, no stack). */
  toJSON(): KnackErrorJSON
  static readonly codes: readonly KnackErrorCode[]
}

/** Options shared by every way to make a session. */
export interface SessionOptions {
  /** The Knack application id (24 hex characters). */
  appId: string
  /** Default: env `KNACK_API_URL`, else `https://api.knack.com/v1`. Must be https unless loopback. */
  baseUrl?: string
  /** Per attempt, from sending to the last byte of the answer. Default 30000. */
  timeoutMs?: number
  /** The whole call: queueing, retries and backoff. Default: none. */
  deadlineMs?: number
  /** Retries after the first attempt (0-20). Default 3. */
  retries?: number
  /**
   * Requests per second for this app, shared by all its sessions in this process. Default
   * `{ perSecond: 10 }`; `false` turns the governor off. With `redis` (a URL, a RedisStore, or
   * `{ url, cluster?, sentinel?, ca? }`) the budget is shared by every process of the app.
   */
  rateLimit?: false | { perSecond?: number; redis?: string | RedisStore | RedisTargetOptions; prefix?: string }
  /** Where login() saves and restore() reads. Default: a process-wide MemoryStore. */
  store?: TokenStore
  /** Encryption secret(s) for a custom store (at least 32 characters; newest first). */
  secret?: string | string[]
  /** Proxy URL; otherwise `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` apply. */
  proxy?: string
  /**
   * Extra CA certificates (PEM) to trust besides the system store and NODE_EXTRA_CA_CERTS,
   * e.g. a TLS-inspecting proxy's CA. Like Node's `tls` option: a string, Buffer or an array.
   */
  ca?: string | Uint8Array | Array<string | Uint8Array>
  /** Largest answer accepted, in bytes (1024 to 4 GiB). Default 64 MiB. */
  maxBodyBytes?: number
  /**
   * Largest request body (`data` as JSON) or `filters` text sent, in UTF-8 bytes; larger
   * ones are KNACK_INVALID_ARGUMENT before anything is sent. Default 16 MiB (16777216).
   */
  maxPayloadBytes?: number
  /**
   * Called by restore() when a stored record does not open (tampered, foreign, another
   * secret) or an expired one cannot be deleted; default: a process warning (code
   * `KNACK_STORE`). If it throws or rejects, that becomes a `KNACK_CALLBACK` warning.
   */
  onStoreError?: (error: KnackError) => void | Promise<void>
  /**
   * Where this session's calls are logged, instead of stderr (README "Observability"): any
   * object with debug/info/warn/error, such as pino. Each line is
   * `logger[level](fields, message)`; fields are `{ event, method, path, attempt, requestId,
   * status?, durationMs?, code?, waitMs?, reason? }`, never a secret.
   */
  logger?: KnackLogger
  /** The lowest level sent to `logger`. Default `'info'`: one line per request. */
  logLevel?: KnackLogLevel
}

export type KnackLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off'

/** What `logger` needs (pino, bunyan, console and most loggers have it). */
export interface KnackLogger {
  debug(fields: KnackEventFields, message: string): unknown
  info(fields: KnackEventFields, message: string): unknown
  warn(fields: KnackEventFields, message: string): unknown
  error(fields: KnackEventFields, message: string): unknown
}

/**
 * The message of every `knack-session:*` diagnostics_channel event (README "Observability"):
 * `request:start`, `request:end`, `request:error`, `request:retry`, `ratelimit:wait`, `login`.
 */
export interface KnackRequestEvent {
  method: string
  /** The route below the base URL, without the query string. */
  path: string
  /** 1 for the first attempt. */
  attempt: number
  /** One id for all attempts of a request (`ks-1f`), unique in the process. */
  requestId: string
  /** The answer's status (end; retry and wait after an answer). */
  status?: number
  /** Since the request started (end, error, login). */
  durationMs?: number
  /** The KnackError code (error; a login that failed). */
  code?: KnackErrorCode
  /** How long it waits (retry, ratelimit:wait). */
  waitMs?: number
  /** Why: retry `'server-error' | 'rate-limited' | 'connect' | 'connection-lost' | 'timeout' | 'unusable'`; wait `'governor' | 'knack-429'`. */
  reason?: string
}

/** The fields a logger line carries: the event's message and its channel's name. */
export interface KnackEventFields extends KnackRequestEvent {
  event: string
}

export interface LoginOptions extends SessionOptions {
  email: string
  password: string
  /** "Remember me": the token lives 14 days instead of 48 hours. */
  remember?: boolean
  signal?: AbortSignal
}

/**
 * Options of KnackSession.service(): a login's. With `store`, the token is kept there under an
 * id derived from the store's secret, for the next process.
 */
export interface ServiceOptions extends LoginOptions {}

/** Options of restore(): the session options (`onStoreError` is the one only restore() uses). */
export interface RestoreOptions extends SessionOptions {}

/** Any object with these methods is a store; it only ever sees sealed (encrypted) strings. */
export interface TokenStore {
  get(id: string): Promise<string | null | undefined>
  set(id: string, value: string, ttlMs: number): Promise<unknown>
  delete(id: string): Promise<unknown>
}

/** In this process (the default). Bounded; entries expire with their tokens. */
export declare class MemoryStore implements TokenStore {
  constructor(opts?: { maxEntries?: number; secret?: string | string[] })
  readonly size: number
  get(id: string): Promise<string | null>
  set(id: string, value: string, ttlMs: number): Promise<void>
  delete(id: string): Promise<void>
}

/** One host: a directory of private (0600) files, written atomically. */
export declare class FileStore implements TokenStore {
  constructor(opts: { dir: string; secret: string | string[] })
  get(id: string): Promise<string | null>
  set(id: string, value: string, ttlMs: number): Promise<void>
  delete(id: string): Promise<void>
  /** Remove expired files now; resolves how many went. */
  sweep(): Promise<number>
}

/**
 * Where a Redis is: `url` is `redis://`, `rediss://` (TLS) or `unix://`; with `cluster: true`,
 * a Redis Cluster's seed nodes (one URL or several); with `sentinel`, the sentinels.
 */
export interface RedisTargetOptions {
  url: string | string[]
  /** A Redis Cluster: `url` lists seed nodes, the others are found. Default false. */
  cluster?: boolean
  /**
   * Redis Sentinel: `url` lists the sentinels; this names the primary they watch (and how to
   * log in to it). Followed across failovers.
   */
  sentinel?: string | { name: string; username?: string; password?: string; db?: number }
  /** For rediss://: CA certificates (PEM) trusted besides the system store and NODE_EXTRA_CA_CERTS. */
  ca?: string | Uint8Array | Array<string | Uint8Array>
}

/** Several processes or hosts: one Redis (TCP, TLS or a Unix socket), a Redis Cluster, or Sentinel. */
export declare class RedisStore implements TokenStore {
  constructor(opts: RedisTargetOptions & { secret: string | string[]; prefix?: string })
  get(id: string): Promise<string | null>
  set(id: string, value: string, ttlMs: number): Promise<void>
  delete(id: string): Promise<void>
}

export interface FromTokenOptions extends SessionOptions {
  /** Whether the user ticked "Remember me"; unknown means expiry is the 14-day upper bound. */
  remember?: boolean
}

/** A Knack record: `id` plus `field_N` (formatted) and `field_N_raw` (typed) values. */
export interface KnackRecord {
  id: string
  [field: string]: unknown
}

/**
 * A record read with `shape: 'labels'` from a view that is not in `KnackViews` (or when scene
 * and view are plain `string`s): `id` plus the view's label keys with converted values.
 */
export interface KnackLabelRecord {
  id: string
  [label: string]: unknown
}

// ---- The app's schema (`KnackSession.schema()`, `session.schema()`) ---------------------------

/** The app's metadata as `schema()` gives it: objects with their fields, scenes with their views. */
export interface KnackSchema {
  appId: string
  name: string | null
  slug: string | null
  /**
   * Knack's name of the app's zone ("Central Time (US & Canada)") and the IANA zone it is
   * taken as ("America/Chicago"); `iana: null` means dates are treated as UTC.
   */
  timezone: { knack: string | null; iana: string | null }
  objects: KnackObjectSchema[]
  scenes: KnackSceneSchema[]
}

export interface KnackObjectSchema {
  /** `object_N`. */
  key: string
  name: string
  /** The key of the field that names a record (connections show it as `identifier`). */
  identifier: string | null
  fields: KnackFieldSchema[]
}

export interface KnackFieldSchema {
  /** `field_N`. */
  key: string
  /** Knack's name of the field ("Subject"). */
  label: string
  /** Knack's field type: `short_text`, `number`, `date_time`, `connection`, ... */
  type: string
  required: boolean
  /** Knack's `format` object of the field, as given. */
  format: Record<string, unknown> | null
  /** Connections: the connected object's key. */
  relationship: { object: string } | null
  /** The key of the object this field belongs to. */
  object: string
}

export interface KnackSceneSchema {
  /** `scene_N`. */
  key: string
  slug: string | null
  name: string | null
  /** A child page's parent page, as Knack's metadata gives it (its slug). */
  parent: string | null
  views: KnackViewSchema[]
}

export interface KnackViewSchema {
  /** `view_N`. */
  key: string
  name: string | null
  /** `table`, `form`, `details`, `list`, `report`, ... */
  type: string
  /** The source object's key. */
  object: string | null
  /** The field keys the view shows (a form: accepts), in view order. */
  fields: string[]
  /**
   * Field key -> the key that field has in `shape: 'labels'` records of this view: its label;
   * among fields sharing a label, every one but the lowest field number is
   * `"<label> (field_N)"`; a field labelled `id` is always `"id (field_N)"`.
   */
  labels: Record<string, string>
}

/** Options of `KnackSession.schema()`: no login, the same cache as the sessions of the app. */
export interface SchemaOptions {
  /** The Knack application id (24 hex characters). */
  appId: string
  /** Default: env `KNACK_API_URL`, else `https://api.knack.com/v1`. Must be https unless loopback. */
  baseUrl?: string
  /** Extra CA certificates (PEM) to trust, as in SessionOptions. */
  ca?: string | Uint8Array | Array<string | Uint8Array>
  /** Proxy URL; otherwise `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` apply. */
  proxy?: string
  signal?: AbortSignal
  /** Fetch it again even when the cached copy (10 minutes) is fresh. */
  refresh?: boolean
}

// ---- Field values -------------------------------------------------------------------------------

/** A file or image field's value: Knack's asset object (not the answer of uploadFile()). */
export interface KnackAsset {
  id: string
  application_id?: string
  s3?: boolean
  type: 'file' | 'image'
  filename: string
  url: string
  thumb_url?: string
  size: number
  field_key?: string
}

/** A name field's value. */
export interface KnackName {
  title?: string
  first?: string
  middle?: string
  last?: string
  full?: string
}

/** An address field's value (US, international, with country, or latitude/longitude). */
export interface KnackAddress {
  street?: string
  street2?: string
  city?: string
  state?: string
  zip?: string
  country?: string
  latitude?: number | string
  longitude?: number | string
}

/** A phone field's value. */
export interface KnackPhone {
  formatted?: string
  full?: string
  area?: string
  number?: string
  ext?: string
  country?: string
}

/** A signature field's value. */
export interface KnackSignature {
  svg?: string
  base30?: string
}

/** One connected record (connection fields) or role (user_roles fields). */
export interface KnackConnection {
  id: string
  identifier: string
}

/** A date/time field's `field_N_raw` (a range, `format.calendar`, also has `to`). */
export interface KnackDateTimeRaw {
  date: string
  date_formatted: string
  hours: string
  minutes: string
  am_pm: string
  unix_timestamp: number
  iso_timestamp: string
  timestamp: string
  time: number
  to?: Omit<KnackDateTimeRaw, 'to'>
}

/** An email field's `field_N_raw`. */
export interface KnackEmailRaw {
  email: string
  label?: string
}

/** A link field's `field_N_raw`. */
export interface KnackLinkRaw {
  url: string
  label?: string
}

/**
 * A `field_N` value: what Knack shows (text, HTML such as `<a href="mailto:...">`, a formatted
 * number). `field_N_raw` holds the typed value.
 */
export type KnackFormatted = string | number | boolean | null

/** What a connection field takes in a write with `shape: 'labels'`: record ids or `{ id }` objects. */
export type KnackConnectionInput = string | { id: string } | Array<string | { id: string }>

/** What a file or image field takes in a write with `shape: 'labels'`: an asset id or `{ id }` (an upload's answer). */
export type KnackAssetInput = string | { id: string }

/** What a date range field (`format.calendar`) takes in a write with `shape: 'labels'`. */
export type KnackDateRangeInput = Date | { from: Date; to?: Date | null }

// ---- Typed views (`npx knack-session types`) ----------------------------------------------------

/**
 * The record keys: `'fields'` (default) is Knack's `field_N` / `field_N_raw`; `'labels'` is the
 * view's label keys with values converted (numbers, booleans, Dates, `{ id, identifier }`...).
 */
export type KnackShape = 'fields' | 'labels'

export type KnackFormat = 'raw' | 'html' | 'both'

/**
 * The registry of typed views, filled by the file `npx knack-session types` writes (a module
 * augmentation): `'scene_N/view_M'` (also `'<page slug>/view_M'`) -> that view's types.
 * Empty here: every view reads as `KnackRecord` / `KnackLabelRecord`.
 */
export interface KnackViews {}

/** What a `KnackViews` entry holds. */
export interface KnackViewTypes {
  /** A record as Knack sends it: `id`, `field_N`, `field_N_raw`. */
  fields: { id: string }
  /** A record with `shape: 'labels'`. */
  labels: { id: string }
  /** `data` of a write with `shape: 'labels'` (forms and tables only). */
  input?: object
  /** Label key -> field key. */
  keys?: object
}

/** The `KnackViews` entry of a scene (key or slug) and view, or `never` when there is none. */
export type KnackViewOf<S extends string, V extends string> = `${S}/${V}` extends keyof KnackViews ? KnackViews[`${S}/${V}`] : never

/** A record of a typed view, e.g. `KnackViewRecord<'scene_1/view_1', 'labels'>`. */
export type KnackViewRecord<K extends keyof KnackViews, H extends KnackShape = 'fields'> = KnackViews[K] extends { [P in H]: infer T } ? T : never

/** What a write with `shape: 'labels'` takes for a typed view: label keys (or field keys), all optional. */
export type KnackViewInput<K extends keyof KnackViews> = InputOf<KnackViews[K]>

/** What `fields` may name: the view's field keys and label keys, or any string for a view not in `KnackViews`. */
export type KnackFieldRef<S extends string, V extends string> = [KnackViewOf<S, V>] extends [never] ? string : FieldOrLabelOf<KnackViewOf<S, V>>

type Registered<S extends string, V extends string> = [KnackViewOf<S, V>] extends [never] ? false : true
type FieldsOf<E> = E extends { fields: infer T } ? T : KnackRecord
type LabelsOf<E> = E extends { labels: infer T } ? T : KnackLabelRecord
type KeysOf<E> = E extends { keys: infer T } ? T : {}
type FieldKeyOf<E> = Exclude<keyof FieldsOf<E>, 'id' | `${string}_raw`> & string
type FieldOrLabelOf<E> = (Exclude<keyof LabelsOf<E>, 'id'> & string) | FieldKeyOf<E>
/** The field key of a field ref (a label key or a field key). */
type ToFieldKey<E, F> = F extends keyof KeysOf<E> ? KeysOf<E>[F] : F
/** The label key of a field ref. */
type ToLabelKey<E, F> = F extends keyof LabelsOf<E> ? F : { [L in keyof KeysOf<E>]: KeysOf<E>[L] extends F ? L : never }[keyof KeysOf<E>]
type InputOf<E> = E extends { input: infer I }
  ? I & { [L in keyof KeysOf<E> as KeysOf<E>[L] & string]?: L extends keyof I ? I[L] : never }
  : Record<string, unknown>

/** Only the keys of T that K names (K may name keys T lacks). */
type PickSome<T, K> = Pick<T, Extract<keyof T, K>>
type Projected<T, Keep> = { [P in keyof T as P extends Keep ? P : never]: T[P] }

type FieldsRecord<E, F, O> = [FieldOrLabelOf<E>] extends [F]
  ? ([O] extends ['raw'] ? Projected<FieldsOf<E>, 'id' | `${string}_raw`> : [O] extends ['html'] ? Projected<FieldsOf<E>, Exclude<keyof FieldsOf<E>, `${string}_raw`>> : FieldsOf<E>)
  : PickSome<FieldsOf<E>, 'id' | ([O] extends ['html'] ? never : `${ToFieldKey<E, F> & string}_raw`) | ([O] extends ['raw'] ? never : ToFieldKey<E, F>)>
type LabelsRecord<E, F> = [FieldOrLabelOf<E>] extends [F] ? LabelsOf<E> : PickSome<LabelsOf<E>, 'id' | ToLabelKey<E, F>>

/**
 * The record a read gives: R when given explicitly (`getRecords<MyRecord>(...)`), else the
 * view's type from `KnackViews` in the shape, projection and format asked for, else
 * `KnackRecord` / `KnackLabelRecord`.
 */
export type KnackReadRecord<R, S extends string, V extends string, H extends KnackShape, F extends string, O extends KnackFormat = KnackFormat> = [R] extends [never]
  ? Registered<S, V> extends true
    ? [H] extends ['labels'] ? LabelsRecord<KnackViewOf<S, V>, F> : FieldsRecord<KnackViewOf<S, V>, F, O>
    : [H] extends ['labels'] ? KnackLabelRecord : KnackRecord
  : R

/** The record a write answers with: R when given explicitly, else the view's record in that shape. */
export type KnackWriteRecord<R, S extends string, V extends string, H extends KnackShape> = KnackReadRecord<R, S, V, H, KnackFieldRef<S, V>>

/** `data` of a write: the view's input type with `shape: 'labels'` on a typed form or table, else any object. */
export type KnackWriteData<S extends string, V extends string, H extends KnackShape> = [H] extends ['labels']
  ? Registered<S, V> extends true ? InputOf<KnackViewOf<S, V>> : Record<string, unknown>
  : Record<string, unknown>

/** `shape: 'labels'` cannot be combined with `format`. */
type FormatFor<H extends KnackShape> = [H] extends ['labels'] ? { format?: undefined } : {}

export interface RecordPage<R = KnackRecord> {
  records: R[]
  totalRecords: number
  totalPages: number
  currentPage: number
}

export interface FilterRule {
  field: string
  operator: string
  value?: unknown
  range?: number
  type?: string
}

export type Filters = { match?: 'and' | 'or'; rules: FilterRule[] } | FilterRule[]

export interface ViewArgs<S extends string = string, V extends string = string> {
  /** `scene_N` or the page slug. */
  scene: S
  /** `view_N`. */
  view: V
  /**
   * For a view on a child page (e.g. a ticket's comments): the parent record's id, sent as
   * `?{scene_slug}_id=` on every call (the slug comes from the app's metadata, fetched once).
   * Without it Knack refuses the call: KNACK_PARENT_REQUIRED.
   */
  parentRecordId?: string
  signal?: AbortSignal
}

/** `shape` and `fields` of every read. */
export interface ReadOptions<H extends KnackShape = KnackShape, F extends string = string> {
  /**
   * `'fields'` (default): Knack's `field_N` / `field_N_raw` keys. `'labels'`: the view's label
   * keys (see KnackViewSchema.labels) with values converted from `field_N_raw` (numbers,
   * booleans, Dates at the real instant, `[{ id, identifier }]`, ...). Not with `format`.
   */
  shape?: H
  /** Only these fields (field keys or label keys) come back, with `id`; dropped before they reach JS. */
  fields?: readonly F[]
}

export interface ListArgs<S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends string = string, O extends KnackFormat = KnackFormat>
  extends ViewArgs<S, V>,
    ReadOptions<H, F> {
  page?: number
  /** 1-1000; Knack's default is 25 (records()/getAllRecords() default to 1000). */
  rowsPerPage?: number
  filters?: Filters
  sortField?: string
  sortOrder?: 'asc' | 'desc'
  format?: O
}

export interface PagingArgs<S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends string = string, O extends KnackFormat = KnackFormat>
  extends ListArgs<S, V, H, F, O> {
  /** Stop after this many records (at least 1). */
  maxRecords?: number
  /** Pages fetched ahead of the consumer (1-64). Default 8. */
  prefetchPages?: number
  /** Throw KNACK_BAD_RESPONSE when the pages do not add up (shortfall or duplicate ids). */
  strict?: boolean
}

export declare class RecordIterator<R = KnackRecord> implements AsyncIterable<R> {
  private constructor()
  /** Null until the iteration has started. */
  readonly summary: PagingSummary | null
  [Symbol.asyncIterator](): AsyncGenerator<R, void, undefined>
}

export interface RecordArgs<S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends string = string>
  extends ViewArgs<S, V>,
    ReadOptions<H, F> {
  id: string
}

export interface WriteArgs<S extends string = string, V extends string = string, H extends KnackShape = KnackShape, D = Record<string, unknown>> extends ViewArgs<S, V> {
  /**
   * The record's values: `field_N` keys in Knack's write formats, or with `shape: 'labels'`
   * the view's label keys (or field keys) with JS values (Date, number, boolean, ids).
   */
  data: D
  /** `'labels'`: `data` and the answer use the view's label keys and JS values. */
  shape?: H
  /**
   * Files to upload and attach in the same call: `{ field_17: './shot.png' }`. Each is
   * uploaded (as an image or a file by the field's type in the app's metadata, unless `kind`
   * is given), then the record is written with the asset ids. If the write fails, the error's
   * `assets` lists what was uploaded (not attached; harmless).
   */
  files?: Record<string, UploadSource | { file: UploadSource; filename?: string; contentType?: string; kind?: 'file' | 'image'; maxBytes?: number }>
}

/** What uploadFile() reads: a path (streamed from disk), bytes, a Blob, a Node Readable or a web ReadableStream. */
export type UploadSource = string | Uint8Array | Blob | NodeJS.ReadableStream | ReadableStream<Uint8Array>

export interface UploadArgs {
  file: UploadSource
  /** Default: the path's or the Blob's/File's name; required for Buffers and streams. Only its last path component is used. */
  filename?: string
  /** Default: from the file name's extension, else `application/octet-stream`. */
  contentType?: string
  /** The asset route: `'file'` (default) or `'image'`. */
  kind?: 'file' | 'image'
  /** Refuse larger sources before sending (KNACK_INVALID_ARGUMENT). Default 512 MiB. */
  maxBytes?: number
  /** Per attempt. Default: 10 minutes (or the session's timeoutMs if longer). */
  timeoutMs?: number
  /** About five times a second while sending, and once at the end. */
  onProgress?: (p: { sent: number; total: number | null }) => void | Promise<void>
  signal?: AbortSignal
}

/** Knack's answer to an upload: set a file or image field to `id` to attach it (once). */
export interface UploadedAsset {
  id: string
  type: 'file' | 'image'
  filename: string
  publicUrl: string
  thumbUrl: string | null
  size: number
}

/** What downloadFile() takes: a file field's raw value, an upload's answer, `{ id, filename }` or a URL. */
export type AssetLike = string | { url: string } | { publicUrl: string } | { id: string; filename: string }

export interface DownloadResult {
  bytes: number
  contentType: string | null
  filename: string | null
}

export interface ReportArgs extends ViewArgs {
  /** One report of the view (from 0); without it, every report. */
  report?: number
  filters?: Filters
}

export interface UpdateArgs<S extends string = string, V extends string = string, H extends KnackShape = KnackShape, D = Record<string, unknown>>
  extends WriteArgs<S, V, H, D> {
  id: string
}

export interface BulkArgs<S extends string = string, V extends string = string> extends ViewArgs<S, V> {
  /** Calls in flight at once (1-64). Default 4. All of them still pass the rate governor. */
  concurrency?: number
  /** Stop (marking the rest not attempted) when the daily plan has this many calls left or fewer. */
  reserve?: number
  /** Called after each item. A throw or a rejected promise is contained (one `KNACK_CALLBACK` process warning per batch). */
  onProgress?: (p: BulkProgress) => void | Promise<void>
}

export interface BulkProgress {
  done: number
  total: number
  succeeded: number
  failed: number
  notAttempted: number
}

/**
 * One item of a bulk call. A failed item says whether Knack processed it: `attempted: false`
 * when it was never sent (stopped by the daily limit, the reserve or an abort; refused by the
 * argument checks) or Knack turned it away with a 429 before processing it: every
 * `attempted: false` item is safe to send again. `outcome` is what the call did at Knack
 * (`'not-sent'` for every item skipped or refused before sending; `'rejected'`: refused,
 * nothing changed; `'unknown'`: may have been applied; `'applied'`: do not send it again).
 */
export type BulkResult<R> =
  | { ok: true; record: R }
  | { ok: false; attempted: boolean; outcome: KnackOutcome; error: KnackError }

/** The user behind a token, as Knack reports it (`GET /v1/session/token`). */
export interface KnackUser {
  id: string
  email: string | null
  name: string | null
  status: string | null
  accountStatus: string | null
  approvalStatus: string | null
  profileKeys: string[]
  values: Record<string, unknown>
}

export declare class KnackSession {
  private constructor()
  static login(opts: LoginOptions): Promise<KnackSession>
  /**
   * A service session for jobs and servers acting as one Knack user: logs in now (or goes on
   * with the token its store kept), then logs in again by itself before the token expires
   * and whenever Knack refuses it (one login for all the calls that need it; only refused
   * calls are sent again).
   */
  static service(opts: ServiceOptions): Promise<KnackSession>
  static fromToken(token: string, opts: FromTokenOptions): KnackSession
  /** A session saved by login(); null when unknown, expired or unreadable. */
  static restore(id: string, opts: RestoreOptions): Promise<KnackSession | null>
  /** The app's schema without a session (the metadata needs no login); the same cache as sessions'. */
  static schema(opts: SchemaOptions): Promise<KnackSchema>

  /** Opaque random id (for cookies and stores); not the token. */
  readonly id: string
  readonly appId: string
  readonly userId: string
  readonly email: string | null
  readonly name: string | null
  /** The user's roles, e.g. `['profile_1']` (known after login). */
  readonly profileKeys: string[]
  readonly issuedAt: Date
  readonly expiresAt: Date
  /** Computed when read. */
  readonly expired: boolean
  /** Whether "remember me" applies; null when unknown. */
  readonly remember: boolean | null
  /** Logins a service session made after its first (0 for other sessions). */
  readonly renewals: number

  /** The token itself (there is deliberately no token property). KNACK_UNAUTHORIZED after logout(). */
  getToken(): string
  /** Save (or refresh) the session in its store (login() saves by itself). */
  save(): Promise<void>
  /** Delete the session from its store; later calls fail with KNACK_UNAUTHORIZED. */
  logout(): Promise<void>
  validate(opts?: { signal?: AbortSignal }): Promise<KnackUser>
  /** The app's schema (objects, fields, scenes, views, timezone), cached per app for 10 minutes. */
  schema(opts?: { signal?: AbortSignal; refresh?: boolean }): Promise<KnackSchema>
  /**
   * A page of records. With the types `npx knack-session types` writes, a literal scene and
   * view give that view's record type (in the `shape`, `fields` and `format` asked for);
   * `getRecords<MyRecord>(...)` gives MyRecord; otherwise KnackRecord (KnackLabelRecord with
   * `shape: 'labels'`).
   */
  getRecords<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends KnackFieldRef<S, V> = KnackFieldRef<S, V>, O extends KnackFormat = KnackFormat>(
    args: ListArgs<S, V, H, F, O> & FormatFor<H>,
  ): Promise<RecordPage<KnackReadRecord<R, S, V, H, F, O>>>
  records<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends KnackFieldRef<S, V> = KnackFieldRef<S, V>, O extends KnackFormat = KnackFormat>(
    args: PagingArgs<S, V, H, F, O> & FormatFor<H>,
  ): RecordIterator<KnackReadRecord<R, S, V, H, F, O>>
  getAllRecords<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends KnackFieldRef<S, V> = KnackFieldRef<S, V>, O extends KnackFormat = KnackFormat>(
    args: PagingArgs<S, V, H, F, O> & FormatFor<H>,
  ): Promise<KnackReadRecord<R, S, V, H, F, O>[] & { readonly summary: PagingSummary | null }>
  getRecord<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape, F extends KnackFieldRef<S, V> = KnackFieldRef<S, V>>(
    args: RecordArgs<S, V, H, F>,
  ): Promise<KnackReadRecord<R, S, V, H, F>>
  createRecord<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape>(
    args: WriteArgs<S, V, H, KnackWriteData<S, V, H>>,
  ): Promise<KnackWriteRecord<R, S, V, H>>
  updateRecord<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape>(
    args: UpdateArgs<S, V, H, KnackWriteData<S, V, H>>,
  ): Promise<KnackWriteRecord<R, S, V, H>>
  deleteRecord(args: ViewArgs & { id: string }): Promise<void>
  /** Upload a file or image through the app's governor and quota; not retried once Knack may have read it. */
  uploadFile(args: UploadArgs): Promise<UploadedAsset>
  /**
   * Stream an asset to a path (written whole or not at all) or a Writable (ended when done).
   * The token goes only to the Knack API host; a redirect elsewhere is followed without it (https only).
   */
  downloadFile(asset: AssetLike, opts: { to: string | NodeJS.WritableStream; signal?: AbortSignal }): Promise<DownloadResult>
  /** A report view: every report (`{ records, ... }[]`), or with `report` the one. */
  getReport<R = Record<string, unknown>>(args: ReportArgs & { report: number }): Promise<R>
  getReport<R = Record<string, unknown>>(args: ReportArgs): Promise<R[]>
  createRecords<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape>(
    args: BulkArgs<S, V> & { shape?: H; records: KnackWriteData<S, V, H>[] },
  ): Promise<BulkResult<KnackWriteRecord<R, S, V, H>>[]>
  updateRecords<R = never, S extends string = string, V extends string = string, H extends KnackShape = KnackShape>(
    args: BulkArgs<S, V> & { shape?: H; records: { id: string; data: KnackWriteData<S, V, H> }[] },
  ): Promise<BulkResult<KnackWriteRecord<R, S, V, H>>[]>
  deleteRecords(args: BulkArgs & { ids: string[] }): Promise<BulkResult<{ id: string }>[]>
  /** Counters and limits of this app's shared transport (shared by every session of the app). */
  stats(): TransportStats
  /**
   * Forget that the app's daily plan limit is spent (e.g. the plan was upgraded mid-day): the
   * next call of any session of this app goes to Knack.
   */
  resetDailyLimit(): void
  toJSON(): {
    appId: string
    userId: string
    email: string | null
    profileKeys: string[]
    issuedAt: string
    expiresAt: string
    remember: boolean | null
  }
}

/** Log levels of the Rust core, lower case. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug'

/**
 * Log level of the Rust core; overrides `KNACK_SESSION_LOG`. Exactly one of the `LogLevel`
 * names (case-sensitive): anything else throws KNACK_INVALID_ARGUMENT.
 */
export declare function setLogLevel(level: LogLevel): void
