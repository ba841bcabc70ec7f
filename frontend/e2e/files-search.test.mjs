// File uploads, search and the AI panel, end to end with two people in one channel.
// These need `/api/v1/files`, `/api/v1/workspaces/{ws}/search` and `/api/v1/ai/*`; `npm run e2e`
// leaves this file out until the server has them, `npm run e2e:all` (or `E2E_ALL=1 scripts/e2e.sh`)
// runs it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, BASE_URL, launchBrowser, makePng, requireServer, unique, watchDialogs } from './support/env.mjs';
import { seedPair } from './support/seed.mjs';
import { loginViaUi, message, openChannel, send } from './support/ui.mjs';

const T = { timeout: 60_000 };

describe('files, search and AI', { timeout: 10 * 60_000 }, () => {
  let browser;
  let a, b;
  let seeded;
  const dialogs = [];

  before(async () => {
    await requireServer();
    seeded = await seedPair({ channel: unique('files-') });
    browser = await launchBrowser();
    a = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    b = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    watchDialogs(a, dialogs);
    watchDialogs(b, dialogs);
    for (const [page, who] of [
      [a, seeded.alice],
      [b, seeded.bob],
    ]) {
      await loginViaUi(page, BASE_URL, who);
      await page.getByTestId('app').waitFor();
      await openChannel(page, seeded.channel.name);
    }
    await send(a, 'hello from alice');
  });

  after(async () => {
    await browser?.close();
  });

  it('an uploaded image is previewed for the other person', T, async () => {
    await a.getByTestId('file-input').setInputFiles({ name: 'swatch.png', mimeType: 'image/png', buffer: makePng(96, 64, [74, 21, 75]) });
    // The composer sends only once its files are stored.
    await a.locator('[data-testid="upload"][data-state="done"]').waitFor();
    await send(a, 'here is the swatch');
    const attachment = message(b, 'here is the swatch').locator('[data-testid="attachment"][data-file-name="swatch.png"]');
    await attachment.waitFor();
    await attachment.locator('img[src^="blob:"]').waitFor({ timeout: 15_000 });
  });

  it('search finds a message, highlights the match and jumps to it', T, async () => {
    await b.getByTestId('search-input').fill('swatch');
    await b.getByTestId('search-input').press('Enter');
    const result = b.getByTestId('search-result').first();
    await result.waitFor();
    const marked = await result.locator('mark').allTextContents();
    assert.ok(marked.some((t) => t.toLowerCase().includes('swatch')), `expected a highlighted match, got ${JSON.stringify(marked)}`);
    await result.click();
    await b.locator('[data-testid="message"].flash', { hasText: 'here is the swatch' }).waitFor();
  });

  it('stored XSS in a file name renders as text', T, async () => {
    const payload = 'file name check <b>not bold</b>';
    await a.getByTestId('file-input').setInputFiles({ name: '<img src=x onerror=alert(4)>.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await a.getByTestId('upload').waitFor();
    // Sent at once, the upload possibly still running: the composer sends when it finishes.
    await send(a, payload);
    const evil = message(b, payload);
    await evil.waitFor();
    await evil.locator('[data-testid="attachment"]').waitFor();
    assert.match(await evil.locator('[data-testid="attachment"]').textContent(), /<img src=x onerror=alert\(4\)>\.txt/);
    for (const page of [a, b]) {
      assert.equal(await page.locator('img[src="x"], script:not([src])').count(), 0, 'no injected elements in the DOM');
    }
    await b.waitForTimeout(500);
    assert.deepEqual(dialogs, [], 'no dialog was opened by injected script');
  });

  it('the AI panel summarises the channel with citations', T, async () => {
    await a.getByTestId('ai-button').click();
    await a.getByTestId('ai-panel').waitFor();
    await a.getByTestId('catch-up').click();
    await a.getByTestId('ai-summary').waitFor({ timeout: 30_000 });
    assert.equal(await a.getByTestId('ai-error').count(), 0, 'no AI error shown');
    await a.getByTestId('ask-input').fill('What did Alice share?');
    await a.getByTestId('ask-button').click();
    await a.getByTestId('ai-answer').waitFor({ timeout: 30_000 });
    assert.ok((await a.getByTestId('citation').count()) > 0, 'the answer cites messages');
    await a.keyboard.press('Escape');
  });

  it('captures light and dark screenshots of search', T, async () => {
    for (const theme of ['light', 'dark']) {
      await a.getByTestId('profile-button').click();
      await a.getByTestId('tab-preferences').click();
      await a.getByTestId(`theme-${theme}`).click();
      await a.keyboard.press('Escape');
      await a.getByTestId('search-input').fill('alice');
      await a.getByTestId('search-input').press('Enter');
      await a.getByTestId('search-panel').waitFor();
      await a.getByTestId('search-result').first().waitFor();
      await a.screenshot({ path: join(ARTIFACTS, `${theme}-search.png`) });
      await a.keyboard.press('Escape');
    }
  });
});
