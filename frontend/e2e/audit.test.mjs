// The audit log as a workspace owner meets it: their own sign-in and the invite they made are
// recorded, the workspace exports as a ZIP from there, and a member has no way to open it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, launchBrowser, requireServer, unique } from './support/env.mjs';
import { seedPair } from './support/seed.mjs';
import { loginViaUi } from './support/ui.mjs';

const T = { timeout: 60_000 };

describe('audit log', { timeout: 3 * 60_000 }, () => {
  let browser;
  let seeded;

  before(async () => {
    await requireServer();
    seeded = await seedPair({ channel: unique('audit-') });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  it("an owner reads sign-ins and invites and exports the workspace; a member cannot open it", T, async () => {
    const owner = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await loginViaUi(owner, BASE_URL, seeded.alice);
    // The log's consumer records the sign-in moments after it: wait for it, then read the log.
    const ws = seeded.workspace.id;
    for (let tries = 0; ; tries++) {
      const page = await seeded.alice.api.call('GET', `/api/v1/workspaces/${ws}/audit-log?action=login`);
      if (page.entries.length > 0) break;
      assert.ok(tries < 100, 'the sign-in reached the audit log');
      await new Promise((r) => setTimeout(r, 100));
    }
    await owner.getByTestId('audit-log-button').click();
    const log = owner.getByTestId('audit-log');
    await log.getByTestId('audit-entry').filter({ hasText: 'created an invite link' }).first().waitFor();
    await log.getByTestId('audit-entry').filter({ hasText: 'Alice E2E signed in' }).first().waitFor();
    await owner.getByTestId('audit-log-filter').selectOption('login');
    await log.getByTestId('audit-entry').filter({ hasNotText: 'signed in' }).first().waitFor({ state: 'detached' });
    const entries = await log.getByTestId('audit-entry').allTextContents();
    assert.ok(entries.length > 0 && entries.every((text) => text.includes('signed in')), entries.join('\n'));
    assert.match(entries[0], /127\.0\.0\.1/);

    const [download] = await Promise.all([owner.waitForEvent('download'), owner.getByTestId('export-workspace').click()]);
    assert.match(download.suggestedFilename(), new RegExp(`^echo-export-${ws}-\\d{4}-\\d{2}-\\d{2}\\.zip$`));
    const zip = await readFile(await download.path());
    assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a ZIP');
    for (const entry of ['export.json', 'people.json', 'channels.json', 'files.json']) {
      assert.ok(zip.includes(Buffer.from(entry)), `${entry} in the export`);
    }

    const member = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await loginViaUi(member, BASE_URL, seeded.bob);
    await member.getByTestId('invite-button').waitFor();
    assert.equal(await member.getByTestId('audit-log-button').count(), 0);
  });
});
