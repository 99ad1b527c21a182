// Hand-made SVG bar charts of a results object (no chart library).
const COLORS = { ks: '#d9480f', undici: '#7048e8', fetch: '#1971c2', kah: '#2f9e44', wrk: '#495057', bound: '#868e96', parse: '#868e96' }
const NAMES = { ks: 'knack-session', undici: 'undici.request', fetch: 'fetch+JSON.parse', kah: 'knack-api-helper', wrk: 'wrk (ceiling)', bound: 'bound', parse: 'JSON.parse of the full page' }
const W = 900
const LABEL_W = 190
const BAR_H = 14
const GAP = 10

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const num = (v) => (v == null ? 'n/a' : Number.isInteger(v) || v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))

/**
 * One panel: groups of bars, one bar per series. Returns { svg, height }.
 * groups: [{ label, values: { ks: n, fetch: n, ... } }]
 */
function panel(y0, title, unit, groups, note) {
  const series = [...new Set(groups.flatMap((g) => Object.keys(g.values)))]
  const max = Math.max(1e-9, ...groups.flatMap((g) => Object.values(g.values).filter((v) => v != null)))
  const plotW = W - LABEL_W - 90
  let y = y0 + 22
  const parts = [`<text x="10" y="${y0 + 14}" font-size="14" font-weight="bold">${esc(title)}</text>`]
  if (note) parts.push(`<text x="${W - 10}" y="${y0 + 14}" font-size="11" text-anchor="end" fill="#555">${esc(note)}</text>`)
  for (const g of groups) {
    const present = series.filter((s) => s in g.values)
    const gh = present.length * (BAR_H + 2)
    parts.push(`<text x="${LABEL_W - 8}" y="${y + gh / 2 + 4}" font-size="12" text-anchor="end">${esc(g.label)}</text>`)
    for (const s of present) {
      const v = g.values[s]
      const w = v == null ? 0 : Math.max(1, (v / max) * plotW)
      parts.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[s] || '#999'}"><title>${esc(NAMES[s] || s)}: ${num(v)} ${esc(unit)}</title></rect>`)
      parts.push(`<text x="${LABEL_W + w + 4}" y="${y + BAR_H - 3}" font-size="11">${v == null ? 'n/a' : num(v) + ' ' + esc(unit)}</text>`)
      y += BAR_H + 2
    }
    y += GAP
  }
  parts.push(`<line x1="${LABEL_W}" y1="${y0 + 20}" x2="${LABEL_W}" y2="${y - GAP + 2}" stroke="#333"/>`)
  return { svg: parts.join('\n'), height: y - y0 + 8 }
}

const pick = (clients, key, scale = 1) =>
  Object.fromEntries(Object.entries(clients).map(([c, v]) => [c, v && v[key] != null ? v[key] * scale : null]))

export function renderChart(results) {
  const S = results.scenarios
  const panels = []
  if (S.s1) {
    panels.push(['1. Throughput (higher is better)', 'req/s', S.s1.cases.map((cs) => ({ label: `${cs.op}, c=${cs.concurrency}`, values: pick(cs.clients, 'rps') }))])
    panels.push(['1. p99 latency (lower is better)', 'ms', S.s1.cases.map((cs) => ({ label: `${cs.op}, c=${cs.concurrency}`, values: pick(cs.clients, 'p99') }))])
  }
  if (S.s2) {
    panels.push(['2. 1,000-row page, format=both (lower is better)', 'ms', [
      { label: 'wall to JS objects', values: pick(S.s2.clients, 'wallMs') },
      { label: 'main-thread CPU (mean)', values: pick(S.s2.clients, Object.values(S.s2.clients).every((v) => v.mainCpuMeanMs != null) ? 'mainCpuMeanMs' : 'mainCpuMs') },
      { label: 'process CPU (all threads)', values: pick(S.s2.clients, 'cpuMs') },
    ]])
  }
  if (S.s3) {
    panels.push(['3. Event-loop delay p99, 64 in flight (lower is better)', 'ms', S.s3.cases.map((cs) => ({ label: cs.op, values: pick(cs.clients, 'eldP99') }))])
  }
  if (S.s4) {
    const groupsW = []
    const groupsM = []
    for (const n of Object.keys(S.s4.sizes)) {
      const label = `${Number(n) / 1000}k records`
      groupsW.push({ label, values: pick(S.s4.sizes[n], 'wallMs', 1 / 1000) })
      groupsM.push({ label, values: pick(S.s4.sizes[n], 'peakRssMiB') })
    }
    panels.push(['4. Export wall time, no rate limit (lower is better)', 's', groupsW])
    panels.push(['4. Export peak RSS (lower is better)', 'MiB', groupsM])
  }
  if (S.s5) {
    panels.push([`5. Export of 100k at 10 req/s: wall time (bound ${S.s5.settings.boundS} s)`, 's', [
      { label: 'wall time', values: { ...pick(S.s5.clients, 'wallMs', 1 / 1000), bound: S.s5.settings.boundS } },
    ]])
    panels.push(['5. 429 answers received (median per run)', '', [{ label: '429s', values: pick(S.s5.clients, 'rateLimited') }]])
  }
  if (S.s6) {
    const groups = S.s6.variants.filter((v) => v.available).map((v) => ({ label: v.label, values: { ks: v.mainCpuMs, parse: v.parseMainMs } }))
    if (groups.length) panels.push(['6. 1,000-row page: main-thread CPU vs JSON.parse of the full page (lower is better)', 'ms', groups])
  }
  let y = 50
  const body = []
  for (const [title, unit, groups] of panels) {
    const p = panel(y, title, unit, groups)
    body.push(p.svg)
    y += p.height + 10
  }
  const legend = ['ks', 'undici', 'fetch', 'kah', ...(S.s1 ? ['wrk'] : []), ...(S.s5 || S.s6 ? ['bound'] : [])]
    .map((c, i) => `<rect x="${10 + i * 145}" y="10" width="12" height="12" fill="${COLORS[c]}"/><text x="${28 + i * 145}" y="21" font-size="12">${c === 'bound' ? (S.s6 ? 'bound / JSON.parse' : 'theoretical bound') : NAMES[c]}</text>`)
    .join('')
  const m = results.machine
  const sub = `<text x="10" y="40" font-size="11" fill="#555">${esc(`${m.nproc} CPUs, node ${m.node}, ${m.date.slice(0, 10)}; medians`)}</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" viewBox="0 0 ${W} ${y + 10}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${legend}
${sub}
${body.join('\n')}
</svg>
`
}
