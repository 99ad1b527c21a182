'use strict'
// Generated types: generateTypes(schema) turns an app's KnackSchema (what schema() gives) into
// the text of a .d.ts file that fills the KnackViews registry of index.d.ts (a module
// augmentation of 'knack-session'), so that reads and writes of those views with a literal
// scene and view are typed: per view a record in both shapes (`field_N`/`field_N_raw` and
// label keys with converted values) and, for forms and tables, the `data` of a labels write.
// A pure function: no I/O, no clock, the same text for the same schema (ordered as the
// schema's scenes, views and fields). `npx knack-session types` (bin/knack-session.js) runs it.

/** Knack types whose value is computed: never written. */
const COMPUTED = new Set(['auto_increment', 'equation', 'sum', 'count', 'average', 'concatenation'])
const TEXT = new Set(['short_text', 'paragraph_text', 'rich_text', 'concatenation', 'password'])
const NUMERIC = new Set(['number', 'currency', 'rating', 'auto_increment', 'sum', 'average', 'count'])
/** View types whose records can be written through the view (tables: inline edit). */
const WRITABLE_VIEWS = new Set(['form', 'table', 'registration'])

const fieldNumber = (key) => {
  const m = /^field_(\d+)$/.exec(key)
  return m ? Number(m[1]) : Infinity
}

/**
 * The label keys of a view's fields (the rule `shape: 'labels'` uses): a field's label, except
 * that among fields sharing a label only the one with the lowest field number keeps it and
 * every other one becomes "<label> (field_N)"; a field labelled `id` is always "id (field_N)".
 * `fields`: [{ key, label }] in view order. Returns a Map field key -> label key, in that order.
 */
function labelKeys(fields) {
  const owner = new Map()
  for (const f of fields) {
    const o = owner.get(f.label)
    if (o === undefined || fieldNumber(f.key) < fieldNumber(o)) owner.set(f.label, f.key)
  }
  return new Map(fields.map((f) => [f.key, f.label !== 'id' && owner.get(f.label) === f.key ? f.label : `${f.label} (${f.key})`]))
}

// ---- TypeScript text ----------------------------------------------------------------------

const hex4 = (c) => '\\u' + c.toString(16).padStart(4, '0')

/** A single-quoted TypeScript string literal of `s` (any string: quotes, controls, lone surrogates). */
function tsString(s) {
  let out = "'"
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ch = s[i]
    if (ch === "'" || ch === '\\') out += '\\' + ch
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) out += hex4(c)
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += ch + s[i + 1]
        i++
      } else out += hex4(c)
    } else if (c >= 0xdc00 && c <= 0xdfff) out += hex4(c)
    else out += ch
  }
  return out + "'"
}

/** A property name: bare when it is a plain identifier, else a string literal. */
const propertyKey = (s) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) ? s : tsString(s))

/** Text safe inside a `/** ... *\/` or `//` comment: one line, no comment terminator. */
const commentText = (s) =>
  String(s)
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/\*\//g, '*\\/')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')

const fmt = (f) => (f.format && typeof f.format === 'object' ? f.format : {})
const isTrue = (v) => v === true || v === 'true'
const isMulti = (f) => fmt(f).type === 'multi' || fmt(f).type === 'checkboxes'
const isTimeOnly = (f) => fmt(f).date_format === 'Ignore Date'
const isRange = (f) => isTrue(fmt(f).calendar)
const imageSource = (f) => fmt(f).source

/** The TS type of a field's value in a `shape: 'labels'` record (the spec's conversion table). */
function labelType(f) {
  const t = f.type
  if (NUMERIC.has(t)) return 'number | null'
  if (t === 'equation') return fmt(f).equation_type === 'date' ? 'unknown' : 'number | null'
  if (t === 'boolean') return 'boolean | null'
  if (t === 'date_time') {
    if (isTimeOnly(f)) return 'string | null'
    if (isRange(f)) return '{ from: Date; to: Date | null } | null'
    return 'Date | null'
  }
  if (t === 'connection' || t === 'user_roles') return 'KnackConnection[]'
  if (t === 'email' || t === 'link') return 'string | null'
  if (t === 'file') return 'KnackAsset | null'
  if (t === 'image') return imageSource(f) === 'url' ? 'string | null' : imageSource(f) === 'upload' ? 'KnackAsset | null' : 'KnackAsset | string | null'
  if (t === 'multiple_choice') return isMulti(f) ? 'string[] | null' : 'string | null'
  if (TEXT.has(t)) return 'string | null'
  if (t === 'name') return 'KnackName | null'
  if (t === 'address') return 'KnackAddress | null'
  if (t === 'phone') return 'KnackPhone | null'
  if (t === 'signature') return 'KnackSignature | null'
  return 'unknown'
}

/** The TS type of a field's `field_N_raw` (Knack's typed value, as sent). */
function rawType(f) {
  const t = f.type
  if (TEXT.has(t)) return 'string'
  if (t === 'currency') return 'string | number'
  if (NUMERIC.has(t)) return 'number'
  if (t === 'equation') return fmt(f).equation_type === 'date' ? 'unknown' : 'number'
  if (t === 'boolean') return 'boolean'
  if (t === 'date_time') return 'KnackDateTimeRaw'
  if (t === 'connection' || t === 'user_roles') return 'KnackConnection[]'
  if (t === 'email') return 'KnackEmailRaw'
  if (t === 'link') return 'KnackLinkRaw'
  if (t === 'file') return "KnackAsset | ''"
  if (t === 'image') return imageSource(f) === 'url' ? 'string' : imageSource(f) === 'upload' ? "KnackAsset | ''" : 'KnackAsset | string'
  if (t === 'multiple_choice') return isMulti(f) ? 'Array<string | null>' : 'string'
  if (t === 'name') return 'KnackName'
  if (t === 'address') return 'KnackAddress'
  if (t === 'phone') return 'KnackPhone'
  if (t === 'signature') return 'KnackSignature'
  return 'unknown'
}

/** The TS type a labels write takes for a field (without `| null`), or null when it cannot be written. */
function inputType(f) {
  const t = f.type
  if (COMPUTED.has(t)) return null
  if (t === 'number' || t === 'currency' || t === 'rating') return 'number'
  if (t === 'boolean') return 'boolean'
  if (t === 'date_time') return isTimeOnly(f) ? 'string' : isRange(f) ? 'KnackDateRangeInput' : 'Date'
  if (t === 'connection') return 'KnackConnectionInput'
  if (t === 'email' || t === 'link') return 'string'
  if (t === 'file' || t === 'image') return 'KnackAssetInput'
  if (t === 'multiple_choice') return isMulti(f) ? 'string | string[]' : 'string'
  if (TEXT.has(t)) return 'string'
  if (t === 'name') return 'KnackName'
  if (t === 'address') return 'KnackAddress'
  if (t === 'phone') return 'KnackPhone'
  return 'unknown'
}

const orNull = (t) => (t === 'unknown' ? t : `${t} | null`)

/** What a field's doc comment says: key or label, type, required, choices, connected object. */
function describe(f, first, objects) {
  const parts = [`${first}: ${f.type}`]
  if (f.required) parts.push('required')
  const o = fmt(f)
  if (f.type === 'multiple_choice' && Array.isArray(o.options)) parts.push(`${isMulti(f) ? 'any of' : 'one of'} ${o.options.map((x) => JSON.stringify(String(x))).join(', ')}`)
  if (f.type === 'date_time' && first === f.key) parts.push(isTimeOnly(f) ? 'time only, "HH:MM"' : isRange(f) ? 'a range' : 'a Date at the real instant')
  if (f.relationship && f.relationship.object) {
    const to = objects.get(f.relationship.object)
    parts.push(`-> ${f.relationship.object}${to ? ` ${to.name}` : ''}`)
  }
  return commentText(parts.join(', '))
}

/** `scene_1`, `view_2` -> `Scene1_View2`: a name for a view's types (unique in the file). */
function typeBase(sceneKey, viewKey, taken) {
  const pascal = (s) =>
    String(s)
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean)
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('') || 'X'
  let base = `${pascal(sceneKey)}_${pascal(viewKey)}`
  if (/^[0-9]/.test(base)) base = '_' + base
  let name = base
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`
  taken.add(name)
  return name
}

/** Views that get types: those showing records of an object (not reports, menus, logins...). */
const isTyped = (v) => Boolean(v && v.object) && v.type !== 'report'

/** The views generateTypes() types, in order: [{ scene, view }] (their keys). */
function typedViews(schema) {
  checkSchema(schema)
  return schema.scenes.flatMap((s) => (s.views ?? []).filter(isTyped).map((v) => ({ scene: s.key, view: v.key })))
}

function checkSchema(schema) {
  if (typeof schema !== 'object' || schema === null || !Array.isArray(schema.objects) || !Array.isArray(schema.scenes)) {
    throw new TypeError('generateTypes(schema): schema must be a KnackSchema (what KnackSession.schema() resolves), with objects and scenes arrays')
  }
}

/**
 * The text of a .d.ts file typing the app's views for knack-session (see the file's header).
 * `schema`: a KnackSchema. `opts.appId`: the app id named in the header (default schema.appId).
 */
function generateTypes(schema, opts = {}) {
  checkSchema(schema)
  const appId = opts.appId ?? schema.appId ?? null
  const objects = new Map()
  const fields = new Map()
  for (const o of schema.objects) {
    objects.set(o.key, o)
    for (const f of o.fields ?? []) if (!fields.has(f.key)) fields.set(f.key, f)
  }

  const used = new Set()
  const use = (type) => {
    for (const m of type.matchAll(/\bKnack[A-Za-z]+/g)) used.add(m[0])
    return type
  }
  const taken = new Set()
  const body = []
  const registry = [] // [registry key, type name]
  const keysTaken = new Set()
  let viewCount = 0

  for (const scene of schema.scenes) {
    // A scene or view key given twice: the first wins, as in the client.
    const views = (scene.views ?? []).filter((v) => {
      const key = `${scene.key}/${v?.key}`
      if (!isTyped(v) || keysTaken.has(key)) return false
      keysTaken.add(key)
      return true
    })
    if (views.length === 0) continue
    body.push(`// ---- ${commentText(scene.key)}${scene.name ? ` ${commentText(JSON.stringify(scene.name))}` : ''}${scene.slug ? ` (${commentText(scene.slug)})` : ''} ${'-'.repeat(40)}`, '')
    for (const view of views) {
      const key = `${scene.key}/${view.key}`
      viewCount++
      const name = typeBase(scene.key, view.key, taken)
      used.add('KnackFormatted')
      const shown = (view.fields ?? []).filter((k, i, all) => all.indexOf(k) === i)
      const known = shown.map((k) => fields.get(k)).filter(Boolean)
      const labels = view.labels && typeof view.labels === 'object' ? new Map(Object.entries(view.labels)) : labelKeys(known)
      const object = objects.get(view.object)
      const what = `${commentText(key)}${view.name ? ` ${commentText(JSON.stringify(view.name))}` : ''} (${commentText(view.type)} of ${commentText(view.object)}${object ? ` ${commentText(object.name)}` : ''})`

      // Fields shape: id, field_N, field_N_raw.
      body.push(`/** ${what}: a record as Knack sends it (\`shape: 'fields'\`, the default). */`, `export interface ${name}_Fields {`, '  id: string')
      for (const k of shown) {
        const f = fields.get(k)
        body.push(`  /** ${f ? describe(f, commentText(f.label), objects) : 'a field the schema does not describe'} */`)
        body.push(`  ${propertyKey(k)}: KnackFormatted`, `  ${propertyKey(k + '_raw')}?: ${f ? use(rawType(f)) : 'unknown'}`)
      }
      body.push('}', '')

      // Labels shape: id and label keys. A label key already taken in this view (possible only
      // with labels such as "Email (field_3)") goes to the first field that has it.
      const labelled = [] // [labelKey, field]
      const seen = new Set(['id'])
      for (const f of known) {
        const l = labels.get(f.key)
        if (l === undefined || seen.has(l)) continue
        seen.add(l)
        labelled.push([l, f])
      }
      body.push(`/** ${what}: a record with \`shape: 'labels'\`. */`, `export interface ${name}_Labels {`, '  id: string')
      for (const [l, f] of labelled) body.push(`  /** ${describe(f, f.key, objects)} */`, `  ${propertyKey(l)}: ${use(labelType(f))}`)
      body.push('}', '')

      const members = [`fields: ${name}_Fields`, `labels: ${name}_Labels`]
      if (WRITABLE_VIEWS.has(view.type)) {
        body.push(
          `/** ${what}: \`data\` of createRecord/updateRecord with \`shape: 'labels'\` (label keys or field keys; null clears). */`,
          `export interface ${name}_Input {`,
        )
        for (const [l, f] of labelled) {
          const t = inputType(f)
          if (t !== null) body.push(`  /** ${describe(f, f.key, objects)} */`, `  ${propertyKey(l)}?: ${use(orNull(t))}`)
        }
        body.push('}', '')
        members.push(`input: ${name}_Input`)
      }
      members.push(`keys: { ${labelled.map(([l, f]) => `${propertyKey(l)}: ${tsString(f.key)}`).join('; ')}${labelled.length ? ' ' : ''}}`)
      body.push(`/** ${what}: its entry in KnackViews. */`, `export interface ${name} {`, ...members.map((m) => `  ${m}`), '}', '')
      registry.push([key, name])
    }
  }
  // Page slugs name scenes too (`scene: 'my-tickets'`): after every key, as the client resolves them.
  for (const scene of schema.scenes) {
    if (!scene.slug) continue
    for (const view of scene.views ?? []) {
      const entry = registry.find(([k]) => k === `${scene.key}/${view.key}`)
      const alias = `${scene.slug}/${view.key}`
      if (!entry || keysTaken.has(alias)) continue
      keysTaken.add(alias)
      registry.push([alias, entry[1]])
    }
  }

  const title = `${schema.name ? `"${commentText(schema.name)}"` : 'an unnamed app'}${appId ? ` (${commentText(appId)})` : ''}`
  const head = [
    `// knack-session types for the Knack app ${title}: ${viewCount} view${viewCount === 1 ? '' : 's'}.`,
    `// Generated from the app's schema by \`npx knack-session types${appId ? ` --app ${commentText(appId)}` : ''}\`: do not edit;`,
    '// run it again when the app changes. Include this file in your TypeScript program (tsconfig',
    '// "include" or "files"): reads and writes with a literal scene and view are then typed, e.g.',
    "//   session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels' })",
    '',
    ...(used.size > 0 ? [`import type { ${[...used].sort().join(', ')} } from 'knack-session'`, ''] : []),
  ]
  const tail = [
    "declare module 'knack-session' {",
    '  interface KnackViews {',
    ...registry.map(([k, n]) => `    ${tsString(k)}: ${n}`),
    '  }',
    '}',
    '',
    'export {}',
    '',
  ]
  return [...head, ...body, ...tail].join('\n')
}

module.exports = { generateTypes, typedViews, labelKeys, tsString, propertyKey }
