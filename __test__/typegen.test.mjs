// Generated types (issue 14): lib/typegen.js turns an app's schema into a .d.ts that fills the
// KnackViews registry of index.d.ts, and `knack-session types` (bin/knack-session.js) writes it.
//
// - The golden file: the helpdesk app's types are exactly __test__/golden/helpdesk-app.d.ts
//   (UPDATE_GOLDEN=1 rewrites it; review the diff). Its schema is the committed
//   __test__/fixtures/helpdesk-schema.json, fake-knack's metadata converted by the spec's rules
//   (__test__/helpers/schema-fixture.mjs), which the runtime's schema() must also give.
// - Label keys: the duplicate rule, quoting and escaping of any label.
// - Every field type of fixtures/field-types.json -> the spec's TS types.
// - tsc --strict: __test__/types/typed-ok.mts compiles with the golden types, typed-bad.mts
//   fails on exactly its marked lines.
// - The CLI: usage errors, and end to end against fake-knack (also through npx).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { startFake, FIELD_TYPES, APP_ID, USERS, ROOT } from './helpers/fake.mjs'
import { schemaFromMetadata, fetchMetadata } from './helpers/schema-fixture.mjs'

const require = createRequire(import.meta.url)
const { generateTypes, labelKeys } = require('../lib/typegen.js')

const GOLDEN = path.join(ROOT, '__test__/golden/helpdesk-app.d.ts')
const CLI = path.join(ROOT, 'bin/knack-session.js')
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')
const readJson = (p) => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8'))
const HELPDESK = readJson('__test__/fixtures/helpdesk-schema.json')
const FIELDS_APP = readJson('__test__/fixtures/field-types-schema.json')
const clone = (v) => JSON.parse(JSON.stringify(v))

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}
const cli = (args, opts) => run(process.execPath, [CLI, ...args], opts)
const tsc = (project, cwd = ROOT) => run(process.execPath, [TSC, '-p', project], { cwd })

/** A directory that uses knack-session as an installed package would (node_modules links). */
function consumerDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-typegen-'))
  mkdirSync(path.join(dir, 'node_modules/@types'), { recursive: true })
  mkdirSync(path.join(dir, 'node_modules/.bin'))
  symlinkSync(ROOT, path.join(dir, 'node_modules/knack-session'), 'dir')
  symlinkSync(path.join(ROOT, 'node_modules/@types/node'), path.join(dir, 'node_modules/@types/node'), 'dir')
  // What npm install does with package.json's "bin".
  symlinkSync('../knack-session/bin/knack-session.js', path.join(dir, 'node_modules/.bin/knack-session'))
  return dir
}

/** The properties of `interface <name>` in generated text: Map key (the real string) -> { type, optional }. */
function members(text, name) {
  const m = new RegExp(`^export interface ${name} \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(text)
  assert.ok(m, `the generated text declares interface ${name}`)
  const out = new Map()
  for (const line of m[1].split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('/**')) continue
    const p = /^ {2}('(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*)(\?)?: (.+)$/.exec(line)
    assert.ok(p, `a property line of ${name}: ${line}`)
    // A quoted key is a TS string literal, which is a JS one: evaluate it to the real string.
    const key = p[1].startsWith("'") ? Function(`return ${p[1]}`)() : p[1]
    assert.ok(!out.has(key), `${name} declares ${JSON.stringify(key)} once`)
    out.set(key, { type: p[3], optional: p[2] === '?' })
  }
  return out
}

/** A one-object, one-view schema of fields [{ key, label, type, format? }] (a table, or `viewType`). */
function schemaOf(fields, { viewType = 'table', labels, scene = 'scene_90', view = 'view_1' } = {}) {
  const fs = fields.map((f) => ({ required: false, format: null, relationship: null, object: 'object_1', ...f }))
  return {
    appId: '0123456789abcdef01234567',
    name: 'Test app',
    slug: 'test',
    timezone: { knack: null, iana: null },
    objects: [{ key: 'object_1', name: 'Things', identifier: fs[0]?.key ?? null, fields: fs }],
    scenes: [
      {
        key: scene,
        slug: null,
        name: null,
        parent: null,
        views: [{ key: view, name: null, type: viewType, object: 'object_1', fields: fs.map((f) => f.key), labels: labels ?? Object.fromEntries(labelKeys(fs)) }],
      },
    ],
  }
}

// ---- The golden file --------------------------------------------------------------------------

test('the helpdesk app\'s generated types are exactly the committed __test__/golden/helpdesk-app.d.ts', () => {
  const text = generateTypes(HELPDESK)
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text)
  assert.equal(text, readFileSync(GOLDEN, 'utf8'), 'generated types changed: review, then UPDATE_GOLDEN=1 node --test __test__/typegen.test.mjs')
})

test('the output is stable: no timestamp, the same text every time, views in the order of scenes and views, a header naming the app and how to regenerate', () => {
  const text = generateTypes(HELPDESK)
  assert.equal(generateTypes(clone(HELPDESK)), text)
  assert.doesNotMatch(text, /\b20\d\d-\d\d-\d\d|\d\d:\d\d:\d\d/, 'no date or time in the output')
  const head = text.split('\n').slice(0, 5).join('\n')
  assert.match(head, /"Helpdesk" \(5f0c0ffee0c0ffee0c0ffee1\)/)
  assert.match(head, /npx knack-session types --app 5f0c0ffee0c0ffee0c0ffee1/)
  assert.match(head, /do not edit/)
  assert.match(generateTypes(HELPDESK, { appId: 'ffffffffffffffffffffffff' }), /--app ffffffffffffffffffffffff/, 'opts.appId names the app')
  // Registry entries follow the schema's order: scene keys first, then the page slugs.
  const entries = [...text.matchAll(/^ {4}'([^']+)': (\w+)$/gm)].map((m) => m[1])
  const expected = HELPDESK.scenes.flatMap((s) => s.views.filter((v) => v.type !== 'report').map((v) => `${s.key}/${v.key}`))
  assert.deepEqual(entries.slice(0, expected.length), expected)
  assert.deepEqual(
    entries.slice(expected.length),
    HELPDESK.scenes.flatMap((s) => s.views.filter((v) => v.type !== 'report').map((v) => `${s.slug}/${v.key}`)),
  )
  // Reports have no records to type; every other view does.
  assert.doesNotMatch(text, /view_1[234]\b/)
  // Reordering the schema reorders the output, nothing else.
  const reversed = clone(HELPDESK)
  reversed.scenes.reverse()
  const r = generateTypes(reversed)
  assert.ok(r.indexOf("'scene_5/view_10'") < r.indexOf("'scene_1/view_1'"))
  assert.equal(r.length, text.length)
  // An app without typed views: an empty registry, no imports.
  const empty = generateTypes({ ...clone(HELPDESK), scenes: [] })
  assert.match(empty, /: 0 views\.\n/)
  assert.doesNotMatch(empty, /^import/m)
  assert.match(empty, /interface KnackViews \{\n {2}\}/)
  // A view given twice is typed once.
  const twice = clone(HELPDESK)
  twice.scenes.push(clone(twice.scenes[0]))
  assert.equal(generateTypes(twice), text)
  assert.throws(() => generateTypes({ scenes: [] }), TypeError)
  assert.throws(() => generateTypes(null), /KnackSchema/)
})

test('the committed schema fixtures are fake-knack\'s metadata converted by the spec\'s rules (label keys included)', async () => {
  for (const [file, opts] of [
    ['__test__/fixtures/helpdesk-schema.json', {}],
    ['__test__/fixtures/field-types-schema.json', { fixture: FIELD_TYPES.fixture, appId: FIELD_TYPES.appId }],
  ]) {
    const fake = await startFake([], opts)
    try {
      assert.deepEqual(schemaFromMetadata(await fetchMetadata(fake)), readJson(file), `${file}: rewrite it with node __test__/helpers/schema-fixture.mjs`)
    } finally {
      await fake.stop()
    }
  }
})

test('KnackSession.schema() gives exactly the committed schema fixtures (the schema the golden file is made from)', async () => {
  const { KnackSession } = require('../index.js')
  for (const [fixture, appId, file] of [
    [undefined, APP_ID, '__test__/fixtures/helpdesk-schema.json'],
    [FIELD_TYPES.fixture, FIELD_TYPES.appId, '__test__/fixtures/field-types-schema.json'],
  ]) {
    const fake = await startFake([], fixture ? { fixture, appId } : {})
    try {
      assert.equal(typeof KnackSession.schema, 'function', 'KnackSession.schema() exists')
      assert.deepEqual(await KnackSession.schema({ appId, baseUrl: fake.baseUrl }), readJson(file), file)
    } finally {
      await fake.stop()
    }
  }
})

// ---- Label keys --------------------------------------------------------------------------------

test('label keys: a shared label stays with the lowest field number, the others get "(field_N)", and "id" is always "id (field_N)"', () => {
  const keys = labelKeys([
    { key: 'field_20', label: 'Email' },
    { key: 'field_3', label: 'Email' },
    { key: 'field_7', label: 'Name' },
    { key: 'field_125', label: 'id' },
    { key: 'field_100', label: 'Email (field_3)' },
    { key: 'field_4', label: 'Email' },
  ])
  assert.deepEqual([...keys], [
    ['field_20', 'Email (field_20)'],
    ['field_3', 'Email'],
    ['field_7', 'Name'],
    ['field_125', 'id (field_125)'],
    ['field_100', 'Email (field_3)'],
    ['field_4', 'Email (field_4)'],
  ])
  // In generated types: the labels record and the write type use those keys.
  const text = generateTypes(schemaOf([
    { key: 'field_20', label: 'Email', type: 'email' },
    { key: 'field_3', label: 'Email', type: 'email' },
    { key: 'field_125', label: 'id', type: 'short_text' },
  ]))
  assert.deepEqual([...members(text, 'Scene90_View1_Labels').keys()], ['id', 'Email (field_20)', 'Email', 'id (field_125)'])
  assert.deepEqual([...members(text, 'Scene90_View1_Input').keys()], ['Email (field_20)', 'Email', 'id (field_125)'])
  assert.equal(members(text, 'Scene90_View1_Labels').get('id').type, 'string', 'id is the record id')
})

test('the rule is per view: the helpdesk\'s labels shared across objects ("Name", "Email", "Body") stay plain in each view', () => {
  const text = generateTypes(HELPDESK)
  assert.deepEqual([...members(text, 'Scene5_View10_Labels').keys()], ['id', 'Name', 'Email'])
  assert.deepEqual([...members(text, 'Scene3_View6_Labels').keys()], ['id', 'Body', 'Ticket', 'Author'])
  assert.deepEqual([...members(text, 'Scene4_View8_Labels').keys()], ['id', 'Title', 'Body'])
})

test('the generated types use the schema\'s label keys as given (the runtime\'s), and declare a key two fields would share once', () => {
  const fields = [
    { key: 'field_3', label: 'Email', type: 'email' },
    { key: 'field_20', label: 'Email', type: 'email' },
    { key: 'field_100', label: 'Email (field_20)', type: 'number' },
  ]
  // The rule gives field_20 and field_100 the same key: the first in view order keeps it.
  const text = generateTypes(schemaOf(fields))
  const labels = members(text, 'Scene90_View1_Labels')
  assert.deepEqual([...labels.keys()], ['id', 'Email', 'Email (field_20)'])
  assert.equal(labels.get('Email (field_20)').type, 'string | null', 'the email field keeps it')
  // Label keys from the schema win over the rule.
  const given = generateTypes(schemaOf(fields, { labels: { field_3: 'Primary', field_20: 'Secondary', field_100: 'Count' } }))
  assert.deepEqual([...members(given, 'Scene90_View1_Labels').keys()], ['id', 'Primary', 'Secondary', 'Count'])
  assert.match(given, /keys: \{ Primary: 'field_3'; Secondary: 'field_20'; Count: 'field_100' \}/)
})

const TRICKY = [
  'Subject',
  'Due date',
  'Cost ($)',
  "it's",
  'say "hi"',
  'back\\slash',
  'naïve ñ 🙂',
  'über',
  'line\nbreak',
  'tab\there',
  'ends */ here',
  'sep\u2028arator',
  'lone \ud800 high',
  '123 starts with a digit',
  'default',
  '$dollar',
  '_under',
  'a-b',
  'nul \u0000 char',
]
const trickySchema = () => schemaOf(TRICKY.map((label, i) => ({ key: `field_${i + 1}`, label, type: 'short_text' })), { scene: 'scene_91' })

test('label keys that are not identifiers are quoted and escaped: each key reads back as exactly its label', () => {
  const text = generateTypes(trickySchema())
  const labels = members(text, 'Scene91_View1_Labels')
  assert.deepEqual([...labels.keys()], ['id', ...TRICKY])
  for (const plain of ['Subject', 'default', '$dollar', '_under']) assert.ok(text.includes(`\n  ${plain}: string | null\n`), `${plain} is bare`)
  assert.match(text, /^ {2}'it\\'s': string \| null$/m)
  assert.match(text, /^ {2}'back\\\\slash': string \| null$/m)
  assert.match(text, /^ {2}'naïve ñ 🙂': string \| null$/m, 'unicode stays readable')
  // Comments cannot be ended or broken by a label.
  const docs = text.split('\n').filter((l) => /^\s*\/\*\*/.test(l))
  assert.ok(docs.some((l) => l.includes('ends *\\/ here')), 'the label is in a comment, defused')
  for (const l of docs) assert.match(l, /^\s*\/\*\*((?!\*\/).)*\*\/$/, `one comment per line, ended once: ${l}`)
  for (const line of text.split('\n')) assert.doesNotMatch(line, /[\u2028\u2029\u0000]/)
})

// ---- Field types -------------------------------------------------------------------------------

// fixtures/field-types.json has every Knack type: field key -> [labels record, field_N_raw,
// labels write (null: cannot be written)], as the spec's tables say.
const FIELD_TYPE_TABLE = {
  field_11: ['auto_increment', 'number | null', 'number', null],
  field_125: ['short_text', 'string | null', 'string', 'string | null'],
  field_6: ['multiple_choice', 'string | null', 'string', 'string | null'],
  field_7: ['short_text', 'string | null', 'string', 'string | null'],
  field_8: ['rich_text', 'string | null', 'string', 'string | null'],
  field_10: ['number', 'number | null', 'number', 'number | null'],
  field_12: ['date_time', 'Date | null', 'KnackDateTimeRaw', 'Date | null'],
  field_13: ['date_time', 'Date | null', 'KnackDateTimeRaw', 'Date | null'],
  field_14: ['date_time', 'string | null', 'KnackDateTimeRaw', 'string | null'],
  field_15: ['date_time', '{ from: Date; to: Date | null } | null', 'KnackDateTimeRaw', 'KnackDateRangeInput | null'],
  field_16: ['timer', 'unknown', 'unknown', 'unknown'],
  field_17: ['file', 'KnackAsset | null', "KnackAsset | ''", 'KnackAssetInput | null'],
  field_18: ['image', 'KnackAsset | null', "KnackAsset | ''", 'KnackAssetInput | null'],
  field_19: ['name', 'KnackName | null', 'KnackName', 'KnackName | null'],
  field_20: ['email', 'string | null', 'KnackEmailRaw', 'string | null'],
  field_21: ['address', 'KnackAddress | null', 'KnackAddress', 'KnackAddress | null'],
  field_22: ['phone', 'KnackPhone | null', 'KnackPhone', 'KnackPhone | null'],
  field_23: ['signature', 'KnackSignature | null', 'KnackSignature', 'unknown'],
  field_24: ['link', 'string | null', 'KnackLinkRaw', 'string | null'],
  field_25: ['rating', 'number | null', 'number', 'number | null'],
  field_9: ['concatenation', 'string | null', 'string', null],
  field_29: ['boolean', 'boolean | null', 'boolean', 'boolean | null'],
  field_30: ['currency', 'number | null', 'string | number', 'number | null'],
  field_37: ['date_time', 'Date | null', 'KnackDateTimeRaw', 'Date | null'],
  field_38: ['boolean', 'boolean | null', 'boolean', 'boolean | null'],
  field_50: ['image', 'string | null', 'string', 'KnackAssetInput | null'],
  field_44: ['address', 'KnackAddress | null', 'KnackAddress', 'KnackAddress | null'],
  field_76: ['concatenation', 'string | null', 'string', null],
  field_126: ['address', 'KnackAddress | null', 'KnackAddress', 'KnackAddress | null'],
  field_127: ['address', 'KnackAddress | null', 'KnackAddress', 'KnackAddress | null'],
  field_128: ['connection', 'KnackConnection[]', 'KnackConnection[]', 'KnackConnectionInput | null'],
  field_129: ['equation', 'number | null', 'number', null],
  field_200: ['paragraph_text', 'string | null', 'string', 'string | null'],
  field_201: ['multiple_choice', 'string[] | null', 'Array<string | null>', 'string | string[] | null'],
  field_202: ['sum', 'number | null', 'number', null],
  field_203: ['count', 'number | null', 'number', null],
  field_204: ['average', 'number | null', 'number', null],
  field_205: ['password', 'string | null', 'string', 'string | null'],
  field_206: ['user_roles', 'KnackConnection[]', 'KnackConnection[]', 'unknown'],
  field_210: ['number', 'number | null', 'number', 'number | null'],
  field_211: ['number', 'number | null', 'number', 'number | null'],
  field_212: ['number', 'number | null', 'number', 'number | null'],
  field_213: ['short_text', 'string | null', 'string', 'string | null'],
}

test('every field type of fixtures/field-types.json has the spec\'s TS type: in labels records, in field_N_raw and in labels writes (computed types are not writable)', () => {
  const text = generateTypes(FIELDS_APP)
  const view = FIELDS_APP.scenes[0].views[0]
  const fields = new Map(FIELDS_APP.objects.flatMap((o) => o.fields).map((f) => [f.key, f]))
  assert.deepEqual(Object.keys(FIELD_TYPE_TABLE).sort(), [...view.fields].sort(), 'the table covers every field the view shows')
  // Every type of the spec's conversion table is there.
  const types = new Set(view.fields.map((k) => fields.get(k).type))
  const spec = 'number currency rating auto_increment sum average count equation boolean date_time connection user_roles email link file image multiple_choice short_text paragraph_text rich_text concatenation password name address phone signature timer'
  assert.deepEqual([...types].sort(), spec.split(' ').sort())
  // The table's own types must be the schema's, so that the rows say what they test.
  for (const [k, [type]] of Object.entries(FIELD_TYPE_TABLE)) assert.equal(fields.get(k).type, type, k)
  const labels = members(text, 'Scene1_View1_Labels')
  const raw = members(text, 'Scene1_View1_Fields')
  const input = members(text, 'Scene1_View1_Input')
  for (const [k, [type, read, rawType, write]] of Object.entries(FIELD_TYPE_TABLE)) {
    const label = view.labels[k]
    assert.equal(labels.get(label)?.type, read, `${k} (${type}) "${label}" in a labels record`)
    assert.equal(labels.get(label).optional, false)
    assert.deepEqual(raw.get(k), { type: 'KnackFormatted', optional: false }, `${k} formatted`)
    assert.deepEqual(raw.get(`${k}_raw`), { type: rawType, optional: true }, `${k}_raw (${type})`)
    if (write === null) assert.ok(!input.has(label), `${k} (${type}) is computed: not in the write type`)
    else assert.deepEqual(input.get(label), { type: write, optional: true }, `${k} (${type}) in a labels write`)
  }
  assert.ok(labels.has('id (field_125)'), 'a field labelled id')
  assert.equal(labels.size, view.fields.length + 1)
})

test('a field\'s format picks its type: time-only and calendar dates, multi and checkboxes choices, date equations, image sources', () => {
  const text = generateTypes(schemaOf([
    { key: 'field_1', label: 'Time', type: 'date_time', format: { date_format: 'Ignore Date', time_format: 'HH:MM am' } },
    { key: 'field_2', label: 'Range', type: 'date_time', format: { calendar: 'true' } },
    { key: 'field_3', label: 'Day', type: 'date_time', format: { date_format: 'mm/dd/yyyy', time_format: 'Ignore Time' } },
    { key: 'field_4', label: 'Boxes', type: 'multiple_choice', format: { type: 'checkboxes', options: ['a', 'b'] } },
    { key: 'field_5', label: 'Radio', type: 'multiple_choice', format: { type: 'radios', options: ['a', 'b'] } },
    { key: 'field_6', label: 'When', type: 'equation', format: { equation_type: 'date' } },
    { key: 'field_7', label: 'Sum up', type: 'equation', format: null },
    { key: 'field_8', label: 'Picture', type: 'image', format: null },
    { key: 'field_9', label: 'Brand new type', type: 'hologram', format: null },
  ]))
  const read = Object.fromEntries([...members(text, 'Scene90_View1_Labels')].map(([k, v]) => [k, v.type]))
  assert.deepEqual(read, {
    id: 'string',
    Time: 'string | null',
    Range: '{ from: Date; to: Date | null } | null',
    Day: 'Date | null',
    Boxes: 'string[] | null',
    Radio: 'string | null',
    When: 'unknown',
    'Sum up': 'number | null',
    Picture: 'KnackAsset | string | null',
    'Brand new type': 'unknown',
  })
  const write = Object.fromEntries([...members(text, 'Scene90_View1_Input')].map(([k, v]) => [k, v.type]))
  assert.deepEqual(write, {
    Time: 'string | null',
    Range: 'KnackDateRangeInput | null',
    Day: 'Date | null',
    Boxes: 'string | string[] | null',
    Radio: 'string | null',
    Picture: 'KnackAssetInput | null',
    'Brand new type': 'unknown',
  })
})

test('write types exist for forms and tables only; details, lists and report views get none (reports no types at all)', () => {
  const text = generateTypes(HELPDESK)
  for (const name of ['Scene1_View1', 'Scene1_View2', 'Scene1_View3', 'Scene2_View4', 'Scene2_View5', 'Scene3_View6', 'Scene3_View7', 'Scene3_View11']) {
    assert.match(text, new RegExp(`^export interface ${name}_Input \\{`, 'm'), name)
  }
  for (const name of ['Scene4_View8', 'Scene4_View9', 'Scene5_View10']) assert.doesNotMatch(text, new RegExp(`${name}_Input`), name)
  // A form's types are its inputs: what it accepts and answers with.
  assert.deepEqual([...members(text, 'Scene1_View2_Input').keys()], ['Subject', 'Description', 'Priority', 'Contact email', 'Attachment'])
})

// ---- tsc --strict ------------------------------------------------------------------------------

test('npm run typecheck (__test__/tsconfig.json) compiles neither typed-ok.mts nor typed-bad.mts', () => {
  const cfg = readJson('__test__/tsconfig.json')
  assert.deepEqual(cfg.files, ['types-check.mts'])
  assert.equal(cfg.include, undefined)
})

test('__test__/types/typed-ok.mts compiles under tsc --strict with the golden generated types', async () => {
  const r = await tsc('__test__/types/tsconfig.json')
  assert.equal(r.code, 0, `tsc failed:\n${r.stdout}${r.stderr}`)
  const cfg = readJson('__test__/types/tsconfig.json')
  assert.equal(cfg.compilerOptions.strict, true)
  assert.deepEqual(cfg.files, ['typed-ok.mts', '../golden/helpdesk-app.d.ts'])
})

test('__test__/types/typed-bad.mts fails under tsc --strict: an error on each marked line that names the mistake, and on no other line', async () => {
  const file = '__test__/types/typed-bad.mts'
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n')
  const marked = new Map()
  lines.forEach((l, i) => {
    const m = /\/\/ error: .*\((\w+)\)$/.exec(l)
    if (m) marked.set(i + 1, { what: l.slice(l.indexOf('// error: ') + 10), name: m[1], text: l })
  })
  assert.ok(marked.size >= 4, 'typed-bad.mts marks its mistakes')
  for (const what of ['misspelt label read', 'misspelt fields entry', 'misspelt write key', 'wrong value type in a write']) {
    assert.ok([...marked.values()].some((m) => m.what.startsWith(what)), `typed-bad.mts has a "${what}"`)
  }
  const r = await tsc('__test__/types/tsconfig.bad.json')
  assert.notEqual(r.code, 0, 'tsc must fail on typed-bad.mts')
  const errors = [...r.stdout.matchAll(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/gm)].map((m) => ({ file: m[1], line: Number(m[2]), col: Number(m[3]), code: m[4], message: m[5] }))
  assert.ok(errors.length > 0, `tsc printed errors:\n${r.stdout}${r.stderr}`)
  for (const e of errors) {
    assert.equal(path.normalize(e.file), path.normalize(file), `an error outside typed-bad.mts: ${JSON.stringify(e)}`)
    assert.ok(marked.has(e.line), `an error on unmarked line ${e.line} of typed-bad.mts: ${e.code} ${e.message}`)
  }
  for (const [line, m] of marked) {
    const here = errors.filter((e) => e.line === line)
    assert.ok(here.length > 0, `no error reported for line ${line} (${m.what})`)
    // The message names the mistake, or the error points at it.
    assert.ok(
      here.some((e) => e.message.includes(`'${m.name}'`) || e.message.includes(`"${m.name}"`) || m.text.slice(e.col - 1).startsWith(m.name)),
      `line ${line} (${m.what}): the error is not about ${m.name}: ${here.map((e) => e.message).join(' | ')}`,
    )
  }
})

test('the generated types of the field-types app and of labels needing quotes compile under tsc --strict, and a user\'s code reads every label key back with its type', async () => {
  const dir = consumerDir()
  try {
    writeFileSync(path.join(dir, 'field-types-app.d.ts'), generateTypes(FIELDS_APP))
    writeFileSync(path.join(dir, 'tricky-app.d.ts'), generateTypes(trickySchema()))
    const view = FIELDS_APP.scenes[0].views[0]
    // Label keys written by JSON.stringify, independently of the generator's quoting.
    const use = [
      `import type { KnackSession, KnackViewRecord, KnackViewInput, ${[...new Set(Object.values(FIELD_TYPE_TABLE).flatMap(([, read]) => read.match(/Knack\w+/g) ?? []))].join(', ')} } from 'knack-session'`,
      'export async function check(session: KnackSession): Promise<unknown[]> {',
      "  const r = (await session.getRecords({ scene: 'scene_1', view: 'view_1', shape: 'labels' })).records[0]",
      "  const t: KnackViewRecord<'scene_91/view_1', 'labels'> = (await session.getRecords({ scene: 'scene_91', view: 'view_1', shape: 'labels' })).records[0]",
      "  const write: KnackViewInput<'scene_91/view_1'> = {",
      ...TRICKY.map((l) => `    ${JSON.stringify(l)}: 'x',`),
      '  }',
      "  await session.createRecord({ scene: 'scene_91', view: 'view_1', shape: 'labels', data: write })",
      '  return [',
      ...Object.entries(FIELD_TYPE_TABLE).map(([k, [, read]]) => `    r[${JSON.stringify(view.labels[k])}] satisfies ${read},`),
      ...TRICKY.map((l) => `    t[${JSON.stringify(l)}] satisfies string | null,`),
      '  ]',
      '}',
    ]
    writeFileSync(path.join(dir, 'use.mts'), use.join('\n') + '\n')
    const base = readJson('__test__/types/tsconfig.json')
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: base.compilerOptions, files: ['use.mts', 'field-types-app.d.ts', 'tricky-app.d.ts'] }))
    const r = await tsc('tsconfig.json', dir)
    assert.equal(r.code, 0, `tsc failed:\n${r.stdout}${r.stderr}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// ---- The CLI -----------------------------------------------------------------------------------

test('knack-session --help prints the usage and exits 0; usage mistakes exit 2 with a message saying what is wrong', async () => {
  const help = await cli(['--help'])
  assert.equal(help.code, 0)
  assert.equal(help.stderr, '')
  assert.match(help.stdout, /^Usage: knack-session types --app <app id> \[--base-url <url>\] \[--out <file>\]/)
  assert.match(help.stdout, /knack-app\.d\.ts/)
  assert.equal((await cli(['types', '-h'])).code, 0)
  for (const [args, message] of [
    [[], /no command given/],
    [['typs', '--app', APP_ID], /unknown command "typs"/],
    [['types'], /types needs --app <app id>/],
    [['types', '--app'], /--app needs a value/],
    [['types', '--app', '--out', 'x.d.ts'], /--app needs a value/],
    [['types', '--app='], /--app needs a value/],
    [['types', '--ap', APP_ID], /unknown option --ap \(did you mean --app\?\)/],
    [['types', '--base_url', 'http://127.0.0.1:1/v1', '--app', APP_ID], /unknown option --base_url \(did you mean --base-url\?\)/],
    [['types', '--app', APP_ID, '--app', APP_ID], /--app is given twice/],
    [['types', '--app', APP_ID, 'extra'], /unexpected argument "extra"/],
  ]) {
    const r = await cli(args)
    assert.equal(r.code, 2, `${args.join(' ')}: exit 2\n${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
    assert.match(r.stderr, /Usage: knack-session types/)
    assert.equal(r.stdout, '', 'nothing on stdout')
  }
})

test('package.json declares the knack-session bin, and npx knack-session runs it in a project that installed the package', async () => {
  const pkg = readJson('package.json')
  assert.deepEqual(pkg.bin, { 'knack-session': 'bin/knack-session.js' })
  assert.ok(pkg.files.includes('bin/'))
  assert.match(readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/)
  const dir = consumerDir()
  try {
    // --no: never install anything, use the project's own bin. (npx keeps a --help for itself
    // unless it comes after --; -h reaches the command.)
    for (const args of [['--no', 'knack-session', 'types', '-h'], ['--no', '--', 'knack-session', '--help']]) {
      const r = await run('npx', args, { cwd: dir })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^Usage: knack-session types/, `npx ${args.join(' ')}`)
    }
    const bad = await run('npx', ['--no', 'knack-session', 'types', '--ap', APP_ID], { cwd: dir })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /did you mean --app/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('knack-session types fetches the app\'s schema from Knack (fake-knack) and writes the golden types: to --out, to the default knack-app.d.ts, to stdout with --out -, through npx', async () => {
  const fake = await startFake([])
  const dir = consumerDir()
  try {
    const golden = readFileSync(GOLDEN, 'utf8')
    const out = path.join(dir, 'types/app.d.ts')
    mkdirSync(path.dirname(out))
    const r = await cli(['types', '--app', APP_ID, '--base-url', fake.baseUrl, '--out', out])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.match(r.stdout, /wrote .*app\.d\.ts: types of 11 views of "Helpdesk"/)
    assert.equal(readFileSync(out, 'utf8'), golden)
    // Default file, in the working directory; the base URL from KNACK_API_URL.
    const d = await cli(['types', '--app', APP_ID], { cwd: dir, env: { ...process.env, KNACK_API_URL: fake.baseUrl } })
    assert.equal(d.code, 0, d.stderr)
    assert.equal(readFileSync(path.join(dir, 'knack-app.d.ts'), 'utf8'), golden)
    const s = await cli(['types', `--app=${APP_ID}`, `--base-url=${fake.baseUrl}`, '--out', '-'])
    assert.equal(s.code, 0, s.stderr)
    assert.equal(s.stdout, golden, 'stdout is the file, nothing else')
    const n = await run('npx', ['--no', 'knack-session', 'types', '--app', APP_ID, '--base-url', fake.baseUrl, '--out', '-'], { cwd: dir })
    assert.equal(n.code, 0, n.stderr)
    assert.equal(n.stdout, golden)
    // Metadata needs no login: nothing but GET /v1/applications/{id} reached Knack.
    const paths = new Set((await fake.log()).map((e) => `${e.method} ${e.path}`))
    assert.deepEqual([...paths], [`GET /v1/applications/${APP_ID}`])
  } finally {
    await fake.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('knack-session types exits 1 with the KnackError\'s code and message when the schema cannot be fetched, and writes no file', async () => {
  const fake = await startFake([])
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knack-typegen-'))
  try {
    const unknown = 'ffffffffffffffffffffffff'
    const r = await cli(['types', '--app', unknown, '--base-url', fake.baseUrl], { cwd: dir })
    assert.equal(r.code, 1, `exit 1\n${r.stderr}`)
    assert.match(r.stderr, new RegExp(`could not get the schema of app ${unknown}: KNACK_NOT_FOUND: .+`))
    assert.equal(r.stdout, '')
    assert.ok(!existsSync(path.join(dir, 'knack-app.d.ts')), 'no file written')
  } finally {
    await fake.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

// ---- The types describe what the runtime gives ---------------------------------------------------

/** Whether a JS value fits one of the generated TS type strings (the few the helpdesk uses). */
function fits(value, type) {
  return type.split(' | ').some((t) => {
    if (t === 'null') return value === null
    if (t === 'string') return typeof value === 'string'
    if (t === 'number') return typeof value === 'number'
    if (t === 'boolean') return typeof value === 'boolean'
    if (t === 'Date') return value instanceof Date && !Number.isNaN(value.getTime())
    if (t === 'KnackConnection[]') return Array.isArray(value) && value.every((c) => typeof c.id === 'string' && typeof c.identifier === 'string')
    if (t === 'KnackAsset') return typeof value === 'object' && value !== null && typeof value.id === 'string' && typeof value.url === 'string'
    if (t === 'KnackName') return typeof value === 'object' && value !== null && !Array.isArray(value)
    throw new Error(`fits() does not know ${t}`)
  })
}

test('records read with shape: \'labels\' have exactly the keys and value types of the generated types (helpdesk views, real reads from fake-knack)', async () => {
  const { KnackSession } = require('../index.js')
  const text = generateTypes(HELPDESK)
  const fake = await startFake([])
  try {
    const alice = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, ...USERS.alice })
    const carol = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, ...USERS.carol })
    for (const [session, scene, view, name] of [
      [alice, 'scene_1', 'view_1', 'Scene1_View1'],
      [carol, 'scene_2', 'view_4', 'Scene2_View4'],
      [alice, 'scene_4', 'view_8', 'Scene4_View8'],
      [alice, 'scene_5', 'view_10', 'Scene5_View10'],
    ]) {
      const types = members(text, `${name}_Labels`)
      const { records } = await session.getRecords({ scene, view, shape: 'labels' })
      assert.ok(records.length > 0, `${scene}/${view} has records`)
      for (const r of records) {
        assert.deepEqual(Object.keys(r).sort(), [...types.keys()].sort(), `${scene}/${view}: keys of a labels record`)
        for (const [k, { type }] of types) assert.ok(fits(r[k], type), `${scene}/${view} ${k}: ${JSON.stringify(r[k])} is not ${type}`)
      }
      const raw = members(text, `${name}_Fields`)
      const { records: plain } = await session.getRecords({ scene, view })
      for (const r of plain) for (const k of Object.keys(r)) assert.ok(raw.has(k), `${scene}/${view}: ${k} of a fields record is in ${name}_Fields`)
    }
  } finally {
    await fake.stop()
  }
})
