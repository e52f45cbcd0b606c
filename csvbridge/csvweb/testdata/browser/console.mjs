// Drives the web console in Debian's Chromium (playwright-core, never a
// downloaded browser) through the import flow of seed 000, for csvweb's
// TestBrowser_ConsoleImportFlow, which starts the server and the OIDC
// issuer and checks the directory afterwards. Fails (exit 1) on the first
// expectation not met; screenshots go to ARTIFACTS.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const base = process.env.BASE_URL;
const out = process.env.ARTIFACTS;
const fixture = process.env.FIXTURE;
fs.mkdirSync(out, { recursive: true });

function expect(ok, what) {
  if (!ok) throw new Error('expectation failed: ' + what);
  console.log('ok: ' + what);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(out, name + '.png'), fullPage: true });
}

async function launch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scimbridge-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return { ctx, dir };
}

// signIn goes through the real OIDC flow: console -> issuer page -> callback.
async function signIn(page, who) {
  await page.goto(base + '/ui/users');
  expect(page.url().includes('/ui/signin'), 'signed-out visit lands on the sign-in page');
  await shot(page, '01-signin');
  await page.click('#signin-oidc');
  await page.waitForSelector('#idp-signin');
  await page.selectOption('#user', who);
  await Promise.all([page.waitForURL(/\/ui\/users/), page.click('#idp-signin')]);
  expect((await page.textContent('header')).includes(who), 'signed in as ' + who);
}

async function waitState(page, states) {
  await page.waitForFunction((s) => s.includes(document.getElementById('state')?.textContent), states, { timeout: 60000 });
  return page.textContent('#state');
}

async function download(page, selector, name) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const file = path.join(out, name);
  await dl.saveAs(file);
  return fs.readFileSync(file, 'utf8');
}

async function importFlow(page) {
  await page.click('#import-users');
  await page.waitForSelector('#upload-form');
  expect(await page.isChecked('#profile-support-tiers'), 'support-tiers profile chosen by default');
  await shot(page, '03-import-upload');
  await page.setInputFiles('#file', fixture);
  await Promise.all([page.waitForURL(/\/ui\/imports\/[0-9a-f-]+$/), page.click('#upload')]);
  expect(await waitState(page, ['validated']) === 'validated', 'the file is validated');
  const summary = (await page.textContent('#summary')).trim();
  expect(summary === 'Preview: 4 to add, 1 to update, 0 unchanged, 0 to deactivate, 0 to delete, 0 skipped, 1 with errors.', 'preview counts: ' + summary);
  expect((await page.textContent('[data-count="create"]')).includes('4'), 'count of rows to add');
  expect((await page.textContent('#row-6')).includes('not a valid email'), 'the bad row shows its error');
  const diff = await page.textContent('#row-2 .diff');
  expect(diff.includes('name.givenName') && diff.includes('Jon') && diff.includes('John'), 'the update shows its diff: ' + diff.trim());
  await page.click('summary');
  expect((await page.textContent('#mapping')).includes('name.givenName'), 'header-to-attribute mapping shown');
  await shot(page, '04-import-preview');
  await page.check('#exclude-7');
  await Promise.all([page.waitForURL(/\/ui\/imports\/[0-9a-f-]+$/), page.click('#commit')]);
  expect(await waitState(page, ['completed', 'completed_with_errors', 'failed']) === 'completed_with_errors', 'the commit ends with errors reported');
  const result = (await page.textContent('#summary')).trim();
  expect(result === 'Users loaded: 3 added, 1 updated, 0 deleted, 1 failed. 1 excluded.', 'summary sentence: ' + result);
  await shot(page, '05-import-result');
  await page.click('#failed-rows');
  await page.waitForURL(/status=failed/);
  const rows = await page.$$('#rows tbody tr');
  expect(rows.length === 1 && (await rows[0].textContent()).includes('sam.at.talonhealthtech.com'), 'the failed rows open: one row, the bad one');
  await shot(page, '06-failed-rows');
  const report = await download(page, '#report', 'report.csv');
  const lines = report.trim().split(/\r?\n/);
  expect(lines[0].endsWith('_row,_action,_status,_id,_error_code,_error') && lines.length === 7, 'report: header and six rows');
  const failed = await download(page, '#failed-csv', 'failed.csv');
  expect(failed.trim().split(/\r?\n/).length === 2 && failed.includes('sam.at.talonhealthtech.com'), 'failed rows file: one row to fix');
}

async function exportActive(page) {
  await page.click('nav a[href="/ui/export"]');
  await page.selectOption('#preset', 'active');
  await page.selectOption('#profile', 'support-tiers');
  await page.uncheck('#spreadsheet');
  await shot(page, '07-export');
  const csv = await download(page, '#export', 'active-users.csv');
  const lines = csv.trim().split('\n');
  expect(lines[0] === 'first_name,last_name,email,tier', 'export header is the profile\'s: ' + lines[0]);
  expect(lines.length === 5 && csv.includes('jdoe@talonhealthtech.com') && !csv.includes('gone@talonhealthtech.com'), 'export holds the four active users and not the inactive one');
}

async function browse(page) {
  await page.goto(base + '/ui/users?q=talonhealthtech&sort=userName');
  await shot(page, '02-users');
  await page.click('text=jdoe@talonhealthtech.com');
  expect((await page.textContent('main')).includes('Recent audit events'), 'user detail with audit events');
  await shot(page, '08-user');
  for (const [p, n] of [['/ui/groups', '09-groups'], ['/ui/imports', '10-history'], ['/ui/audit', '11-audit']]) {
    const r = await page.goto(base + p);
    expect(r.status() === 200, p + ' answers 200');
    await shot(page, n);
  }
}

// postUpload posts the upload form from the page with the given CSRF
// token (null: none) and returns the status.
async function postUpload(page, csrf) {
  return page.evaluate(async (token) => {
    const fd = new FormData();
    if (token !== null) fd.append('csrf', token);
    fd.append('profile', 'support-tiers');
    fd.append('file', new Blob(['first_name,last_name,email,tier\nA,B,ab@example.com,support-tier-0-help-desk\n'], { type: 'text/csv' }), 'x.csv');
    const r = await fetch('/ui/imports', { method: 'POST', body: fd, redirect: 'manual' });
    return r.status;
  }, csrf);
}

async function settings(page) {
  await signIn(page, 'carol@example.com');
  await page.click('nav a[href="/ui/settings"]');
  await page.fill('#roles', 'admin\nagent');
  await page.fill('#offices', 'Berlin');
  await Promise.all([page.waitForURL(/saved=1/), page.click('#save-settings')]);
  expect((await page.textContent('#saved')).includes('version 1'), 'tier 3 saves the tenant settings');
  await shot(page, '14-settings');
  await page.click('form.who button');
  await page.waitForURL(/reason=signedout/);
}

async function tierZero(page) {
  await signIn(page, 'hank@example.com');
  expect(await page.$('#import-users') === null && await page.$('nav a[href="/ui/imports"]') === null, 'tier 0 sees no import button and no imports link');
  await shot(page, '12-users-tier0');
  const r = await page.goto(base + '/ui/imports/new');
  expect(r.status() === 403, 'tier 0 opening the import form gets 403');
  await shot(page, '13-import-tier0-403');
  const csrf = await page.getAttribute('form.who input[name="csrf"]', 'value');
  expect(await postUpload(page, csrf) === 403, 'tier 0 posting the upload form directly gets 403');
}

const { ctx, dir } = await launch();
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  await signIn(page, 'alice@example.com');
  await importFlow(page);
  await exportActive(page);
  await browse(page);
  expect(await postUpload(page, null) === 403, 'a form post without its CSRF token is refused (tier 2 may import)');
  await page.click('form.who button');
  await page.waitForURL(/reason=signedout/);
  await ctx.clearCookies();
  await settings(page);
  await ctx.clearCookies();
  await tierZero(page);
  expect(await page.$('nav a[href="/ui/settings"]') === null, 'tier 0 sees no settings link');
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
