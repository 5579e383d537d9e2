// Browser test of Ordo's web UI: playwright-core (npm) driving Debian's chromium.
//
// Run by the Rust test `the_web_ui_runs_an_approval_end_to_end_in_a_real_browser` (crates/ordo/tests/api.rs),
// which starts a dev server, a worker and the API, then runs:
//   node tests/browser/ui.mjs
// with ORDO_URL (the API and UI), ORDO_SCREENSHOTS (a directory), and optionally CHROMIUM and
// ORDO_NAMESPACE (the Temporal namespace the API serves; `default` when unset).
// Each check throws on failure; the last line is "N passed, 0 failed", and the exit code is non-zero on failure.
// Every page is watched for script errors and for files of the UI (/assets/) that fail to load, so
// a module missing from the server fails the test by name instead of as a page that never renders.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.ORDO_URL;
const shots = process.env.ORDO_SCREENSHOTS || 'target/screenshots';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const namespace = process.env.ORDO_NAMESPACE || 'default';
if (!base) throw new Error('ORDO_URL is not set');
mkdirSync(shots, { recursive: true });

const TIMEOUT = 60_000;
let passed = 0;
let failed = 0;

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
    throw e;
  }
}

/** What went wrong loading the UI on any page: script errors, and /assets/ files that did not load. */
const problems = [];

/** A page in a fresh browser context (its own cookies), watched for `problems`. */
async function newPage(viewport) {
  const page = await (await browser.newContext({ viewport })).newPage();
  const isAsset = (url) => new URL(url).pathname.startsWith('/assets/');
  page.on('pageerror', (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    // The API's refusals (401 before sign-in, the 403s this test provokes) are logged as errors too.
    const url = message.location().url || '';
    if (message.type() === 'error' && !url.includes('/api/')) problems.push(`console error on ${page.url()}: ${message.text()} (${url})`);
  });
  page.on('requestfailed', (request) => {
    if (isAsset(request.url())) problems.push(`${request.url()} failed: ${request.failure().errorText}`);
  });
  page.on('response', (response) => {
    if (isAsset(response.url()) && response.status() !== 200) problems.push(`${response.url()} answered ${response.status()}`);
  });
  return page;
}

function assertNoProblems() {
  assert(problems.length === 0, `the UI loaded cleanly; problems:\n  ${problems.join('\n  ')}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(page, name, password) {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/signin/, { timeout: TIMEOUT });
  // Keyboard only: the name field has focus on load, Tab moves to the password, Enter submits.
  await page.locator('#name').waitFor();
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/`, { timeout: TIMEOUT });
  await page.getByTestId('whoami').filter({ hasText: name }).waitFor({ timeout: TIMEOUT });
}

async function startScenario(page, key) {
  await page.locator(`form[data-scenario="${key}"] button[type=submit]`).click();
  await page.waitForURL(/\/runs\//, { timeout: TIMEOUT });
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
}

async function waitForStatus(page, status) {
  await page.getByTestId('status').filter({ hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: TIMEOUT });
}

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

try {
  const alice = await newPage({ width: 1280, height: 900 });
  let aliceRun;

  await step('the UI loads as JavaScript modules: every module is served as JavaScript, and the shell builds the navigation', async () => {
    const modules = [];
    const collect = (response) => { if (response.request().resourceType() === 'script') modules.push(response); };
    alice.on('response', collect);
    await alice.goto(`${base}/signin`);
    // Until the shell has rendered the sign-in form, or something failed to load (then say what).
    const deadline = Date.now() + TIMEOUT;
    while (problems.length === 0 && (await alice.locator('#name').count()) === 0 && Date.now() < deadline) await alice.waitForTimeout(50);
    alice.off('response', collect);
    assertNoProblems();
    assert(await alice.locator('#name').isVisible(), 'the shell rendered the sign-in form');
    const paths = modules.map((r) => new URL(r.url()).pathname);
    for (const path of ['/assets/app.js', '/assets/shared/http.js', '/assets/provision/index.js', '/assets/application/index.js']) {
      assert(paths.includes(path), `${path} was loaded; loaded: ${paths.join(', ')}`);
    }
    for (const response of modules) {
      const type = response.headers()['content-type'] || '';
      assert(response.status() === 200 && type.startsWith('text/javascript'), `${response.url()}: ${response.status()} ${type}`);
    }
    assert(await alice.locator('script[type=module][src="/assets/app.js"]').count() === 1, 'app.js is an ES module');
    const nav = await alice.locator('header nav a').allTextContents();
    assert(nav.join(',') === 'Runs,Applications,Releases,Hooks,Orders,Inbox', `the domains' navigation, then the inbox: ${nav}`);
  });

  await step('a signed-out visitor is sent to the sign-in page, and a wrong password is refused inline', async () => {
    await alice.goto(`${base}/`);
    await alice.waitForURL(/\/signin/, { timeout: TIMEOUT });
    await alice.fill('#name', 'alice');
    await alice.fill('#password', 'not-her-password');
    await alice.click('button[type=submit]');
    await alice.locator('#signin-error').filter({ hasText: 'wrong password' }).waitFor({ timeout: TIMEOUT });
    await shot(alice, '01-signin-refused');
  });

  await step('alice signs in with the keyboard and sees the scenario table and the run history', async () => {
    await signIn(alice, 'alice', 'alice-demo');
    const rows = await alice.locator('table.scenarios tbody tr').count();
    assert(rows === 9, `9 scenarios, saw ${rows}`);
    assert(await alice.locator('form[data-scenario="ephemeral"] input[name=ttl]').isVisible(), 'the ephemeral row has a TTL input');
    assert(await alice.locator('table.scenarios .badge.sim').first().isVisible(), 'the sim driver is labelled simulation');
    await alice.locator('#history-title').waitFor();
    await shot(alice, '02-home');
  });

  await step('running human_in_the_loop_update shows the progress moving up to the approval', async () => {
    aliceRun = await startScenario(alice, 'human_in_the_loop_update');
    const seen = new Set();
    const deadline = Date.now() + TIMEOUT;
    while (Date.now() < deadline) {
      const value = await alice.getByTestId('progress').getAttribute('aria-valuenow').catch(() => null);
      if (value !== null) seen.add(Number(value));
      if ((await alice.getByTestId('status').textContent().catch(() => '')) === 'awaiting approval decision') break;
      await alice.waitForTimeout(50);
    }
    await waitForStatus(alice, 'awaiting approval decision');
    seen.add(Number(await alice.getByTestId('progress').getAttribute('aria-valuenow')));
    assert(seen.size >= 2 && Math.max(...seen) === 60, `progress moved and reached 60 at the approval; saw ${[...seen].sort((a, b) => a - b)}`);
    assert(await alice.locator('table.plan .action.create').first().isVisible(), 'the plan table lists a create');
    assert(await alice.locator('[data-level="soft-mandatory"]').isVisible(), 'the soft-mandatory policy result is shown');
    const link = await alice.getByRole('link', { name: 'Open in Temporal Web UI' }).getAttribute('href');
    assert(link.endsWith(`/namespaces/${namespace}/workflows/${encodeURIComponent(aliceRun)}`), `Temporal link ${link}`);
    await shot(alice, '03-awaiting-approval');
  });

  await step('the approver\'s inbox lists the pending plan with what is needed to decide', async () => {
    await alice.goto(`${base}/inbox`);
    const item = alice.locator(`article[data-run="${aliceRun}"]`);
    await item.waitFor({ timeout: TIMEOUT });
    const text = await item.textContent();
    assert(text.includes('to add') && text.includes('soft-mandatory'), `inbox item: ${text}`);
    await shot(alice, '04-inbox');
    await item.getByRole('link', { name: 'Review and decide' }).click();
    await waitForStatus(alice, 'awaiting approval decision');
  });

  const bob = await newPage({ width: 1280, height: 900 });
  await step('a requester sees the pending plan but cannot approve it, in the UI or through the API', async () => {
    await signIn(bob, 'bob', 'bob-demo');
    await bob.goto(`${base}/runs/${encodeURIComponent(aliceRun)}`);
    await waitForStatus(bob, 'awaiting approval decision');
    await bob.getByTestId('cannot-decide').waitFor();
    assert(await bob.locator('button[value=approve]').isDisabled(), 'the approve button is disabled for a requester');
    const status = await bob.evaluate(async (id) => {
      const response = await fetch(`/api/runs/${encodeURIComponent(id)}/approve`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: 'I approve this' }),
      });
      return response.status;
    }, aliceRun);
    assert(status === 403, `the API refuses a requester's approval with 403, got ${status}`);
    await waitForStatus(bob, 'awaiting approval decision');
    await shot(bob, '05-requester-cannot-approve');
  });

  await step('approving with an empty reason shows the workflow validator\'s refusal next to the field', async () => {
    await alice.fill('#reason', '');
    await alice.click('button[value=approve]');
    await alice.locator('#reason-error').filter({ hasText: 'must include a reason' }).waitFor({ timeout: TIMEOUT });
    assert((await alice.locator('#reason').getAttribute('aria-invalid')) === 'true', 'the reason field is marked invalid');
    await waitForStatus(alice, 'awaiting approval decision');
    await shot(alice, '06-empty-reason-refused');
  });

  await step('approving with a reason lets the run finish with its outputs', async () => {
    await alice.fill('#reason', 'Reviewed: the demo admin user is expected');
    await alice.click('button[value=approve]');
    await waitForStatus(alice, 'applied');
    await alice.getByTestId('outputs').waitFor({ timeout: TIMEOUT });
    const decision = await alice.getByTestId('decision').textContent();
    assert(decision.includes('Approved by alice via update') && decision.includes('the demo admin user is expected'), decision);
    const outputs = await alice.getByTestId('outputs').textContent();
    assert(outputs.includes('namespace_id'), `outputs: ${outputs}`);
    // Outputs arrive while the run is still giving its workspace back; 100 % comes with the end.
    await alice.locator('.live').filter({ hasText: 'The run has ended.' }).waitFor({ timeout: TIMEOUT });
    assert(Number(await alice.getByTestId('progress').getAttribute('aria-valuenow')) === 100, 'progress is 100');
    await shot(alice, '07-applied');
  });

  await step('the happy path shows its outputs with the sensitive private key masked', async () => {
    await alice.goto(`${base}/`);
    await startScenario(alice, 'happy_path');
    await waitForStatus(alice, 'applied');
    const row = alice.getByTestId('outputs').locator('tr', { hasText: 'terraform_test_private_key' });
    await row.waitFor({ timeout: TIMEOUT });
    assert((await row.textContent()).includes('(sensitive)'), 'the private key is masked');
    assert(!(await alice.content()).includes('PRIVATE KEY'), 'no key material on the page');
    await shot(alice, '08-outputs-masked');
  });

  await step('an ephemeral run counts down its TTL, and extending it pushes the destroy out', async () => {
    await alice.goto(`${base}/`);
    await alice.fill('#ttl-ephemeral', '45');
    await startScenario(alice, 'ephemeral');
    await waitForStatus(alice, 'waiting for destroy');
    const seconds = async () => {
      const [m, s] = (await alice.getByTestId('ttl-countdown').textContent()).split(':').map(Number);
      return m * 60 + s;
    };
    const before = await seconds();
    assert(before > 0 && before <= 45, `countdown starts at the TTL, saw ${before}`);
    await alice.fill('#extend-seconds', '600');
    await alice.getByRole('button', { name: 'Extend' }).click();
    await alice.waitForFunction(() => {
      const [m, s] = document.querySelector('[data-testid=ttl-countdown]').textContent.split(':').map(Number);
      return m * 60 + s > 600;
    }, null, { timeout: TIMEOUT });
    await shot(alice, '09-ttl-extended');
  });

  // ---- seed 000: an application request, authorized from the inbox --------------------------

  let appId;
  await step('bob requests an application with the keyboard; naming a requester as authorizer is refused inline', async () => {
    await bob.goto(`${base}/applications`);
    await bob.locator('#app-name').waitFor({ timeout: TIMEOUT });
    await bob.locator('#app-name').focus();
    await bob.keyboard.type('Checkout');
    await bob.keyboard.press('Tab');
    await bob.keyboard.type('marketing');
    await bob.keyboard.press('Tab');
    await bob.keyboard.type('bob');
    await bob.keyboard.press('Enter');
    await bob.locator('#app-authorizer-error').filter({ hasText: 'approver or an admin' }).waitFor({ timeout: TIMEOUT });
    assert((await bob.locator('#app-authorizer').getAttribute('aria-invalid')) === 'true', 'the authorizer field is marked invalid');
    assert(await bob.locator('#app-authorizer').evaluate((el) => el === document.activeElement), 'focus is back on the authorizer field');
    await bob.keyboard.press('Control+A');
    await bob.keyboard.type('alice');
    await bob.keyboard.press('Enter');
    await bob.waitForURL(/\/applications\/.+/, { timeout: TIMEOUT });
    appId = decodeURIComponent(new URL(bob.url()).pathname.split('/').pop());
    assert(appId.startsWith('checkout-'), `application id ${appId}`);
    await waitForStatus(bob, 'awaiting authorization');
    await bob.getByTestId('deadline-countdown').first().waitFor({ timeout: TIMEOUT });
    const details = await bob.locator('dl.facts').textContent();
    assert(details.includes('Marketing') && details.includes('bob') && details.includes('alice'), `details: ${details}`);
    assert((await bob.locator('dl.facts .badge.sim').textContent()) === 'simulation', 'the sim driver is labelled simulation');
    await shot(bob, '11-application-requested');
  });

  await step('the requester cannot authorize his own request: the UI says so and the API refuses with 403', async () => {
    await bob.getByTestId('cannot-authorize').waitFor({ timeout: TIMEOUT });
    assert(await bob.locator('button[value=approve]').isDisabled(), 'the approve button is disabled for a requester');
    const response = await bob.evaluate(async (id) => {
      const r = await fetch(`/api/applications/${encodeURIComponent(id)}/authorization`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ isApproved: true, region: 'us-east-1', profile: 'iac' }),
      });
      return { status: r.status, body: await r.json() };
    }, appId);
    assert(response.status === 403, `the API refuses a requester's authorization with 403, got ${response.status}`);
    assert(response.body.reason.includes('requester'), `the refusal says why: ${response.body.reason}`);
    await waitForStatus(bob, 'awaiting authorization');
    await shot(bob, '12-requester-cannot-authorize');
  });

  await step('alice finds the request in her inbox with what she needs to decide; an approval without a region is refused inline', async () => {
    await alice.goto(`${base}/inbox`);
    const item = alice.locator(`article[data-application="${appId}"]`);
    await item.waitFor({ timeout: TIMEOUT });
    const text = await item.textContent();
    assert(text.includes('Checkout') && text.includes('Marketing') && text.includes('bob'), `inbox item: ${text}`);
    await item.getByTestId('deadline-countdown').waitFor();
    await item.locator('button[value=approve]').click();
    await item.locator('.field-error', { hasText: 'required to approve' }).first().waitFor({ timeout: TIMEOUT });
    assert((await item.locator('input[name=region]').getAttribute('aria-invalid')) === 'true', 'the region field is marked invalid');
    await shot(alice, '13-authorization-inbox');
    await item.locator('input[name=region]').fill('us-west-2');
    await item.locator('input[name=profile]').fill('iac');
    await item.locator('textarea[name=reason]').fill('Budget approved');
    await item.locator('button[value=approve]').click();
    await item.getByTestId('authorization-sent').waitFor({ timeout: TIMEOUT });
  });

  await step('the application page shows it provisioned by the rust worker with the simulation driver and its outputs', async () => {
    await alice.locator(`article[data-application="${appId}"]`).getByRole('link', { name: 'Follow the request' }).click();
    await waitForStatus(alice, 'provisioned');
    const decision = await alice.getByTestId('app-decision').textContent();
    assert(decision.includes('Approved by alice') && decision.includes('us-west-2') && decision.includes('Budget approved'), decision);
    assert((await alice.getByTestId('iac-worker').textContent()) === 'rust worker', 'which worker ran the IaC step');
    assert((await alice.locator('#resources-title ~ p .badge.sim').textContent()) === 'simulation', 'the sim driver is labelled simulation');
    await alice.getByTestId('app-outputs').waitFor();
    const outputs = await alice.getByTestId('app-outputs').textContent();
    assert(outputs.includes('bucketName') && outputs.includes('s3-website-us-west-2'), `outputs: ${outputs}`);
    assert(await alice.getByRole('button', { name: 'Decommission' }).isVisible(), 'a Decommission button');
    await shot(alice, '14-application-provisioned');
  });

  await step('decommissioning the application destroys what it provisioned', async () => {
    await bob.goto(`${base}/applications/${encodeURIComponent(appId)}`);
    await waitForStatus(bob, 'provisioned');
    bob.once('dialog', (dialog) => dialog.accept());
    await bob.getByRole('button', { name: 'Decommission' }).click();
    await waitForStatus(bob, 'destroyed');
    const destroyed = await bob.locator('#destroyed-title ~ ul').textContent();
    assert(destroyed.includes('2 destroyed'), `destroy summary: ${destroyed}`);
    await bob.locator('.live').filter({ hasText: 'The request has ended.' }).waitFor({ timeout: TIMEOUT });
    await bob.goto(`${base}/applications`);
    await bob.locator(`a[href="/applications/${encodeURIComponent(appId)}"]`).waitFor({ timeout: TIMEOUT });
    await shot(bob, '15-application-decommissioned');
  });

  await step('a release started from the catalogue waits at the gate before PROD; opened on the board, it reaches PROD', async () => {
    const key = 'RELEASE-JAN-24-ALPHA-PROD';
    await alice.goto(`${base}/releases`);
    await alice.locator('#release-key').selectOption(key);
    await alice.check('#release-gate');
    await alice.click('form.card button[type=submit]');
    await alice.waitForURL(new RegExp(`/releases/${key}$`), { timeout: TIMEOUT });
    const open = alice.getByRole('button', { name: 'Open the gate to PROD' });
    await open.waitFor({ timeout: TIMEOUT });
    await alice.locator('p.live', { hasText: 'Live' }).waitFor({ timeout: TIMEOUT }); // pushed by the board's event stream
    await shot(alice, '17-release-at-the-gate');
    await alice.fill('#release-reason', 'QC signed off');
    await open.click();
    await alice.getByText(`Release ${key}: SUCCESS`).waitFor({ timeout: TIMEOUT });
    const done = await alice.locator('[data-testid=release-board] table.matrix td .badge.ok').count();
    assert(done === 3, `the three deploys are done in PROD (${done})`);
    await shot(alice, '18-release-reached-prod');
  });

  await step('hook intents created through the API fire on instantiate; the hooks page lists the hooks with their workflows and outcomes', async () => {
    const dig = `ui-${Date.now()}`;
    const digPath = `/v2/projects/ui/composite-apps/shop/v1/deployment-intent-groups/${dig}`;
    const hook = (name, hookType) => ({
      metadata: { name },
      spec: {
        hookType, workflowClient: { clientEndpointName: 'wfclient', clientEndpointPort: 9090 },
        temporal: { workflowClientName: 'ui', workflowStartOptions: { taskqueue: `nobody-polls-${dig}` } },
      },
    });
    const intents = [hook('before-install', 'pre-install'), hook('after-install', 'post-install'), hook('before-update', 'pre-update')];
    const created = await alice.evaluate(async ({ path, bodies }) => Promise.all(bodies.map(async (body) => (await fetch(
      `${path}/temporal-action-controller`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).status)),
    { path: digPath, bodies: intents });
    assert(created.every((status) => status === 201), `the intents are created (${created})`);
    await alice.goto(`${base}/hooks`);
    await alice.fill('#hooks-project', 'ui');
    await alice.fill('#hooks-compositeApp', 'shop');
    await alice.fill('#hooks-compositeAppVersion', 'v1');
    await alice.fill('#hooks-dig', dig);
    await alice.getByRole('button', { name: 'Open' }).click();
    await alice.waitForURL(new RegExp(`/hooks/ui/shop/v1/${dig}$`), { timeout: TIMEOUT });
    await alice.locator('[data-testid=hook-intents] tbody tr').nth(2).waitFor({ timeout: TIMEOUT });
    await alice.getByRole('button', { name: 'Instantiate' }).click();
    const action = alice.locator('[data-testid=lifecycle-actions] section[data-action=instantiate]');
    await action.locator('h3 .badge.ok', { hasText: 'succeeded' }).waitFor({ timeout: TIMEOUT });
    const fired = await action.locator('table.hooks-fired tbody tr').evaluateAll((rows) => rows.map((r) =>
      [...r.cells].map((c) => c.textContent.trim())));
    assert(fired.length === 2, `the pre- and post-install hooks fired, not the pre-update one: ${JSON.stringify(fired)}`);
    assert(fired[0][0] === 'before-install' && fired[0][1] === 'pre-install' && fired[0][4] === 'started', `first: ${fired[0]}`);
    assert(fired[1][0] === 'after-install' && fired[1][1] === 'post-install' && fired[1][4] === 'started', `then: ${fired[1]}`);
    assert(fired.every((row) => row[3] && row[3] !== '–'), `each hook shows its workflow id: ${JSON.stringify(fired)}`);
    await shot(alice, '19-hooks-lifecycle');
  });

  await step('the admin orders a pizza (crust, cheese, toppings) and its page shows it delivered, pushed live', async () => {
    const admin = await newPage({ width: 1280, height: 900 });
    await signIn(admin, 'admin', 'admin-demo');
    await admin.goto(`${base}/orders`);
    await admin.locator('#order-crust').selectOption('CRUST_GARLIC');
    await admin.locator('#order-cheese').selectOption('CHEESE_ALL');
    await admin.locator('#order-toppings').selectOption(['basil', 'mushrooms']);
    await admin.fill('#order-step-ms', '100');
    await admin.click('form.card button[type=submit]');
    await admin.waitForURL(/\/orders\/manual-/, { timeout: TIMEOUT });
    await admin.getByTestId('order-status').filter({ hasText: /^ORDER_DELIVERED$/ }).waitFor({ timeout: TIMEOUT });
    assert(await admin.getByText('basil, mushrooms').count() === 1, 'the toppings are shown');
    await shot(admin, '20-order-delivered');

    await admin.goto(`${base}/orders/stats`);
    const delivered = admin.getByTestId('stat-delivered');
    await delivered.waitFor({ timeout: TIMEOUT });
    const before = Number(await delivered.textContent());
    await admin.fill('#stream-count', '20');
    await admin.fill('#stream-rate', '20');
    await admin.fill('#stream-step-ms', '50');
    await admin.locator('[data-testid=stream-form] button[type=submit]').click();
    await admin.getByTestId('stream-status').filter({ hasText: 'Placed 20 of 20' }).waitFor({ timeout: TIMEOUT });
    await delivered.filter({ hasText: new RegExp(`^${before + 20}$`) }).waitFor({ timeout: 2 * TIMEOUT });
    await admin.getByTestId('stat-running').filter({ hasText: /^0$/ }).waitFor({ timeout: TIMEOUT });
    const failedOrders = await admin.getByTestId('stat-failed').textContent();
    assert(failedOrders === '0', `no order failed (${failedOrders})`);
    assert(await admin.locator('svg.chart rect.bar').count() >= 1, 'the throughput chart has bars');
    await shot(admin, '21-orders-streamed');
  });

  await step('on a narrow screen the home, run, application and inbox pages fit the width', async () => {
    const phone = await newPage({ width: 375, height: 800 });
    await signIn(phone, 'alice', 'alice-demo');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 1, `no horizontal scrolling on a 375 px screen (overflow ${overflow}px)`);
    await phone.goto(`${base}/runs/${encodeURIComponent(aliceRun)}`);
    await waitForStatus(phone, 'applied');
    await shot(phone, '10-narrow-run');
    for (const path of ['/applications', `/applications/${encodeURIComponent(appId)}`, '/inbox']) {
      await phone.goto(`${base}${path}`);
      await phone.locator('h1').first().waitFor({ timeout: TIMEOUT });
      await phone.waitForLoadState('networkidle').catch(() => {});
      const wide = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert(wide <= 1, `no horizontal scrolling on ${path} at 375 px (overflow ${wide}px)`);
    }
    await phone.goto(`${base}/applications`);
    await phone.locator('#app-name').waitFor();
    await shot(phone, '16-narrow-application-form');
  });

  await step('no page had a script error or failed to load a file of the UI', assertNoProblems);
} finally {
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
}
process.exit(failed === 0 ? 0 : 1);
