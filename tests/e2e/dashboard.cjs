// End-to-end test of the dashboard in headless Chromium (Debian's package), driven by
// playwright-core. Run by tests/integration/browser.rs, which starts the server and passes:
//   node dashboard.cjs BASE_URL ADMIN_TOKEN INTAKE_TOKEN SCREENSHOT_DIR CHROMIUM UNIT_TOKEN INSPECTOR_TOKEN
// (the unit token is district:bang-rak's, the inspector's the Governor's secretariat's)
// Exits non-zero, naming the failed step, on the first check that does not hold.
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');

const [base, adminToken, intakeToken, shots, executablePath, unitToken, inspectorToken] = process.argv.slice(2);
const FY = '2567';

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

async function append(event) {
  const r = await fetch(base + '/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + intakeToken },
    body: JSON.stringify(event),
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error('append failed: ' + r.status + ' ' + text);
}

(async () => {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const shot = (name) => page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });

    // Overview, Thai by default with a Buddhist-era year.
    await page.goto(`${base}/dashboard?fy=${FY}`);
    check(await page.getAttribute('html', 'lang') === 'th', 'the overview is in Thai by default');
    check((await page.textContent('h1')).includes('ปีงบประมาณ 2567'), 'the heading gives the B.E. fiscal year');
    check(await page.locator('svg.chart rect').count() > 12, 'the monthly chart is drawn');
    const received = Number((await page.textContent('#received .v')).replace(/,/g, ''));
    check(received > 0, 'the overview counts received complaints: ' + received);
    await shot('01-overview-th');

    // Keyboard: the first Tab reaches the skip link.
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.className) === 'skip', 'the first Tab focuses the skip link');

    // Switch to English.
    await page.click('#lang-switch');
    await page.waitForSelector('html[lang="en"]');
    check((await page.textContent('h1')).includes('FY 2024'), 'English shows the C.E. fiscal year');
    await shot('02-overview-en');

    // League table, then a unit.
    await page.click('nav >> text=League table');
    await page.waitForSelector('#league');
    const rows = await page.locator('#league tbody tr').count();
    check(rows === 50, 'the league table lists the 50 district offices (' + rows + ')');
    await page.click('#league thead a >> text=Complaints');
    await page.waitForSelector('th[aria-sort="descending"] >> text=Complaints');
    const counts = await page.$$eval('#league tbody tr td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
    check(counts.every((n, i) => i === 0 || counts[i - 1] >= n), 'sorting by complaints orders the rows');
    await shot('03-league');
    await page.click('#league tbody tr:first-child td:nth-child(2) a');
    await page.waitForSelector('#backlog');
    check(await page.locator('h3').count() === 4, 'the unit page scores all four indicators');
    await shot('04-unit');

    // A complaint from the unit's backlog.
    const first = page.locator('#backlog tbody a').first();
    if (await first.count() > 0) {
      await first.click();
      await page.waitForSelector('#timeline');
      check(await page.locator('#timeline li').count() >= 2, 'the complaint timeline lists its events');
      check(await page.getAttribute('#chain', 'class') === 'good', 'the hash chain of the complaint checks out');
      await shot('05-complaint');
    }

    // Live: a new complaint appended through the API appears on the open overview.
    await page.goto(`${base}/dashboard?fy=${FY}&lang=en`);
    const before = Number((await page.textContent('#received .v')).replace(/,/g, ''));
    const id = 'E2E-' + Date.now();
    await append({
      id: '0190b000-0000-7000-8000-' + String(Date.now()).padStart(12, '0').slice(-12),
      stream: id, type: 'received', occurred_at: '2024-09-27T10:00:00+07:00', actor: 'e2e',
      data: { channel: 'web', category: 'road', district: 'bang-rak', subject: 'E2E pothole', complainant: { anonymous: true } },
    });
    await page.waitForFunction((n) => Number(document.querySelector('#received .v').textContent.replace(/,/g, '')) === n + 1, before, { timeout: 20000 });
    check(true, 'the overview counted the appended complaint without a reload');
    await shot('06-live-overview');

    // Live on a complaint page: its timeline grows when it is forwarded.
    await page.goto(`${base}/dashboard/complaints/${id}?fy=${FY}&lang=en`);
    check(await page.locator('#timeline li').count() === 1, 'the new complaint has one event');
    await append({
      id: '0190b000-0000-7000-9000-' + String(Date.now()).padStart(12, '0').slice(-12),
      stream: id, type: 'forwarded', occurred_at: '2024-09-27T11:00:00+07:00', actor: 'e2e',
      data: { to_unit: 'district:bang-rak' },
    });
    await page.waitForFunction(() => document.querySelectorAll('#timeline li').length === 2, null, { timeout: 20000 });
    check((await page.textContent('#rounds')).includes('Bang Rak'), 'the forward shows as a round without a reload');
    await shot('07-live-complaint');

    // Signed in as admin, contact details are visible; the overdue list filters by kind.
    await page.goto(`${base}/dashboard/login?lang=en`);
    await page.fill('#token', adminToken);
    await page.click('form[action="/dashboard/login"] button');
    await page.waitForSelector('text=Signed in as');
    await page.goto(`${base}/dashboard/overdue?fy=${FY}&lang=en&as_of=2024-06-01T12:00:00%2B07:00&kind=ack_overdue`);
    const kinds = await page.$$eval('#main table tbody tr td:nth-child(2)', (tds) => [...new Set(tds.map((t) => t.textContent))]);
    check(kinds.length <= 1 && kinds.every((k) => k.includes('R1')), 'the overdue list shows only the chosen kind');
    await shot('08-overdue');

    // The map: the real Traffy Fondue tickets imported into this log, filtered, in both languages.
    await page.goto(`${base}/dashboard/map?fy=${FY}&lang=en`);
    const sumHexes = () => page.$$eval('svg#map path.hex', (ps) => ps.reduce((a, p) => a + Number(p.dataset.n), 0));
    const cells = await page.locator('svg#map path.hex').count();
    check(cells > 100, 'the map draws the imported tickets in ' + cells + ' hexagons');
    const mapped = Number((await page.textContent('#map-units tfoot td:nth-child(3)')).replace(/,/g, ''));
    const drawn = await sumHexes();
    check(mapped >= 1900 && drawn === mapped, 'the hexagons hold what the table counts (' + drawn + ' of ' + mapped + ')');
    await shot('10-map-en');
    await page.selectOption('#map-state', 'closed');
    await Promise.all([page.waitForURL(/state=closed/), page.click('#map-filter button')]);
    const closedDrawn = await sumHexes();
    check(closedDrawn > 0 && closedDrawn < mapped, 'filtered by state, the map shows fewer (' + closedDrawn + ')');
    await page.click('#lang-switch');
    await page.waitForSelector('html[lang="th"]');
    check((await page.textContent('h1')).includes('แผนที่เรื่องร้องเรียน') && await sumHexes() === closedDrawn, 'in Thai, the same filtered map');
    await shot('11-map-th');

    // The watchers: the centre's own duties on the overview, and the inspecting offices' page.
    await page.goto(`${base}/dashboard?fy=${FY}&lang=en`);
    const centre = await page.textContent('#centre');
    check(/R0 forwarded within a day\s*\d+\.\d\d%/.test(centre) && centre.includes('Complainants told on time'), 'the overview shows the centre\'s own duties');
    await page.click('nav >> text=Inspection');
    await page.waitForSelector('#inspection-list');
    const listed = await page.locator('#inspection-list tbody tr').count();
    check(listed > 0, 'the Governor\'s secretariat has complaints to inspect (' + listed + ')');
    check(await page.locator('#inspection-months').count() === 1, 'the inspection days a month are tabled');
    await page.selectOption('#office', 'office:permanent-secretary-secretariat');
    await Promise.all([page.waitForURL(/permanent-secretary/), page.click('#inspection-filter button')]);
    check(await page.locator('#office option[selected]').getAttribute('value') === 'office:permanent-secretary-secretariat', 'the other office\'s list is shown');
    await shot('12-inspection');
    await page.click('nav >> text=Oversight reports');
    await page.waitForSelector('#centre-months');
    check(await page.locator('#centre-months tbody tr').count() === 13, 'the centre\'s report has the twelve months and the year');
    await page.click('#oversight-reports >> text=Field inspections, monthly report');
    await page.waitForSelector('#inspection-districts');
    check(true, 'the inspecting offices\' monthly report is one click away');
    await shot('13-oversight');

    // Worklists: each role signs in and records one event of each kind from its forms.
    const signIn = async (token) => {
      if (await page.locator('form[action="/dashboard/logout"] button').count() > 0) {
        await page.click('form[action="/dashboard/logout"] button');
      }
      await page.goto(`${base}/dashboard/login?lang=en`);
      await page.fill('#token', token);
      await page.click('form[action="/dashboard/login"] button');
      await page.waitForSelector('text=Signed in as');
      await page.goto(`${base}/dashboard/worklist?lang=en`);
      await page.waitForSelector('#worklist');
    };
    const record = async (kind, fill) => {
      const form = page.locator(`form.task-form[data-kind="${kind}"]`).first();
      check(await form.count() === 1, 'the worklist offers a `' + kind + '` form');
      if (fill) await fill(form);
      await Promise.all([page.waitForURL(/done=/), form.locator('button').click()]);
      const notice = await page.textContent('#notice');
      check(notice.includes('Recorded'), 'the `' + kind + '` form recorded its event: ' + notice.trim());
    };
    const wid = 'E2E-WL-' + Date.now();
    await append({
      id: '0190b000-0000-7000-a000-' + String(Date.now()).padStart(12, '0').slice(-12),
      stream: wid, type: 'received', occurred_at: new Date().toISOString(), actor: 'e2e',
      data: { channel: 'traffy_fondue', category: 'road', district: 'bang-rak', subject: 'E2E worklist', complainant: { anonymous: false, name: 'E2E', wants_update: true } },
    });
    await signIn(intakeToken);
    const fwd = page.locator(`tr:has(a:text("${wid}")) form.task-form[data-kind="forward"]`);
    await fwd.locator('input[name="to_unit"]').fill('district:bang-rak');
    await Promise.all([page.waitForURL(/done=/), fwd.locator('button').click()]);
    check((await page.textContent('#notice')).includes('forwarded'), 'the centre forwarded the new complaint from its worklist');
    await record('chase');
    await record('inform', (f) => f.locator('select[name="method"]').selectOption('sms'));
    await shot('14-worklist-centre');
    await signIn(unitToken);
    const ack = page.locator(`tr:has(a:text("${wid}")) form.task-form[data-kind="acknowledge"]`);
    await Promise.all([page.waitForURL(/done=/), ack.locator('button').click()]);
    check((await page.textContent('#notice')).includes('acknowledged'), 'the unit acknowledged the complaint the centre forwarded');
    await record('progress', (f) => f.locator('input[name="note"]').fill('team on site'));
    await record('close', (f) => f.locator('input[name="answer"]').fill('repaired'));
    await shot('15-worklist-unit');
    await signIn(inspectorToken);
    await record('inspect', (f) => f.locator('select[name="consistent"]').selectOption('false'));
    await shot('16-worklist-inspector');

    // A phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/dashboard?fy=${FY}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, 'the overview fits a phone screen (overflow ' + overflow + 'px)');
    await shot('09-phone');
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
