// examples/express in a real browser (headless Chromium driven by playwright-core): log in,
// see the records, create one, log out.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { startFake, APP_ID } from './helpers/fake.mjs'
import { createApp } from '../examples/express/app.mjs'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
if (!CHROMIUM && process.env.CI === 'true') throw new Error('chromium is not installed, and CI=true: install it (apt-get install -y chromium)')

let fake
let server
let browser
let base

before(async () => {
  if (!CHROMIUM) return
  const { chromium } = await import('playwright-core')
  fake = await startFake(['--rate-limit', 'off'])
  const app = createApp({ appId: APP_ID, baseUrl: fake.baseUrl, secret: 'browser-test-secret-0123456789abcdef' })
  server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://localhost:${server.address().port}`
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

after(async () => {
  await browser?.close()
  server?.closeAllConnections()
  server?.close()
  await fake?.stop()
})

test('a customer logs in, sees her tickets, files one, and logs out', { skip: !CHROMIUM && 'chromium not installed' }, async () => {
  const page = await browser.newPage()
  page.setDefaultTimeout(15000)
  await page.goto(base + '/')
  await page.fill('input[name=email]', 'alice@example.com')
  await page.fill('input[name=password]', 'wrong-password')
  await page.click('#login button[type=submit]')
  await page.waitForFunction(() => document.getElementById('message').textContent.length > 0)
  assert.match(await page.textContent('#message'), /incorrect/i)

  await page.fill('input[name=password]', 'alice-pass-1')
  await page.click('#login button[type=submit]')
  await page.waitForSelector('#app-section:not([hidden])')
  assert.equal(await page.textContent('#who'), 'alice@example.com')
  await page.waitForFunction(() => document.querySelectorAll('tr.ticket').length === 3)
  const subjects = await page.$$eval('tr.ticket td:first-child', (tds) => tds.map((t) => t.textContent))
  assert.ok(subjects.includes('Printer is on fire'))

  // The session cookie is httpOnly: page scripts cannot read it.
  assert.equal(await page.evaluate(() => document.cookie), '')
  const cookies = await page.context().cookies()
  const sid = cookies.find((c) => c.name === 'knack_sid')
  assert.ok(sid && sid.httpOnly && sid.secure && sid.sameSite === 'Lax')

  await page.fill('#create input[name=subject]', 'Filed from a browser')
  await page.fill('#create input[name=priority]', '2')
  await page.click('#create button[type=submit]')
  await page.waitForFunction(() => document.querySelectorAll('tr.ticket').length === 4)
  assert.ok((await page.textContent('#tickets')).includes('Filed from a browser'))

  // A ticket without a subject is refused with Knack's message.
  await page.click('#create button[type=submit]')
  await page.waitForFunction(() => /required/i.test(document.getElementById('message').textContent))

  await page.click('#logout')
  await page.waitForSelector('#login-section:not([hidden])')
  const after = await page.evaluate(() => fetch('/api/tickets').then((r) => r.status))
  assert.equal(after, 401)
  await page.close()
})

test('an agent sees every customer\'s tickets', { skip: !CHROMIUM && 'chromium not installed' }, async () => {
  const page = await browser.newPage()
  page.setDefaultTimeout(15000)
  await page.goto(base + '/')
  await page.fill('input[name=email]', 'carol@example.com')
  await page.fill('input[name=password]', 'carol-pass-1')
  await page.click('#login button[type=submit]')
  await page.waitForSelector('#app-section:not([hidden])')
  await page.waitForFunction(() => document.querySelectorAll('tr.ticket').length >= 5)
  const customers = await page.$$eval('tr.ticket td:nth-child(4)', (tds) => [...new Set(tds.map((t) => t.textContent))])
  assert.ok(customers.includes('Alice Customer') && customers.includes('Bob Customer'), customers.join(','))
  assert.equal(await page.isHidden('#create'), true)
  await page.close()
})
