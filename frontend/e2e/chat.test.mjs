// Two people chat in real time through the real server and two browser contexts.
// File uploads, search and AI live in files-search.test.mjs (run with `npm run e2e:all`).
// Run: ECHO_URL=http://127.0.0.1:8080 node --test e2e/
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, BASE_URL, launchBrowser, requireServer, unique, watchDialogs } from './support/env.mjs';
import { message, openChannel, registerViaUi, send } from './support/ui.mjs';

const T = { timeout: 60_000 };

describe('two users chatting in real time', { timeout: 10 * 60_000 }, () => {
  let browser;
  let ctxA, ctxB, a, b;
  const dialogs = [];
  const alice = { displayName: 'Alice E2E', email: `${unique('alice')}@example.com`, password: 'correct-horse-battery' };
  const bob = { displayName: 'Bob E2E', email: `${unique('bob')}@example.com`, password: 'correct-horse-battery' };
  const channel = unique('chat-');
  let inviteUrl;

  before(async () => {
    await requireServer();
    browser = await launchBrowser();
    ctxA = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    ctxB = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    a = await ctxA.newPage();
    b = await ctxB.newPage();
    watchDialogs(a, dialogs);
    watchDialogs(b, dialogs);
  });

  after(async () => {
    await browser?.close();
  });

  it('Alice registers, creates a workspace and a channel', T, async () => {
    await registerViaUi(a, BASE_URL, alice);
    await a.getByTestId('workspace-name-input').fill(unique('Team '));
    await a.getByTestId('create-workspace-submit').click();
    await a.getByTestId('channel-title').filter({ hasText: 'general' }).waitFor();
    await a.getByTestId('add-channel').click();
    await a.getByTestId('channel-name-input').fill(channel);
    await a.getByTestId('create-channel-submit').click();
    await a.getByTestId('channel-title').filter({ hasText: channel }).waitFor();
  });

  it('Alice creates an invite link and Bob joins through it after registering', T, async () => {
    await a.getByTestId('invite-button').click();
    await a.getByTestId('create-invite').click();
    inviteUrl = await a.getByTestId('invite-link').inputValue();
    assert.match(inviteUrl, /\/invite\/[^/]+$/);
    await a.keyboard.press('Escape');

    // Opening the invite logged out leads to sign-in, then back to the invite.
    await b.goto(inviteUrl);
    await b.waitForURL(/\/login$/);
    await b.getByRole('link', { name: 'Create an account' }).click();
    await b.locator('input[name="display_name"]').fill(bob.displayName);
    await b.locator('input[name="email"]').fill(bob.email);
    await b.locator('input[name="password"]').fill(bob.password);
    await b.locator('form button[type="submit"]').click();
    await b.getByTestId('channel-title').filter({ hasText: 'general' }).waitFor();

    await b.getByTestId('browse-channels').click();
    await b.locator(`[data-testid="browse-channel"][data-channel-name="${channel}"]`).getByRole('button', { name: 'Join' }).click();
    await b.getByTestId('channel-title').filter({ hasText: channel }).waitFor();
  });

  it('messages appear live on the other side, with typing indicators', T, async () => {
    await send(a, 'hello from alice');
    await message(b, 'hello from alice').waitFor();

    await b.getByTestId('composer-input').fill('typing something');
    await a.getByTestId('typing-indicator').filter({ hasText: 'Bob E2E is typing' }).waitFor();
    await b.getByTestId('composer-input').fill('');
    await send(b, 'hi alice, bob here');
    await message(a, 'hi alice, bob here').waitFor();
  });

  it('unread badges move for a channel that is not open', T, async () => {
    await openChannel(b, 'general');
    await openChannel(a, 'general');
    await send(a, 'general news');
    await message(b, 'general news').waitFor();
    await openChannel(a, channel);
    await send(a, 'ping in the side channel');
    const link = b.locator(`[data-testid="channel-link"][data-channel-name="${channel}"]`);
    await b.waitForFunction((name) => Number(document.querySelector(`[data-testid="channel-link"][data-channel-name="${name}"]`)?.getAttribute('data-unread')) > 0, channel);
    await link.click();
    await message(b, 'ping in the side channel').waitFor();
    await b.waitForFunction((name) => document.querySelector(`[data-testid="channel-link"][data-channel-name="${name}"]`)?.getAttribute('data-unread') === '0', channel);
  });

  it('reactions show up for both people', T, async () => {
    const target = message(a, 'hi alice, bob here');
    await target.hover();
    await target.getByTestId('add-reaction').click();
    await a.getByTestId('emoji-tada').click();
    await message(b, 'hi alice, bob here').locator('[data-testid="reaction"]').filter({ hasText: '🎉' }).waitFor();
    const count = await message(b, 'hi alice, bob here').getByTestId('reaction-count').first().textContent();
    assert.equal(count, '1');
  });

  it('a thread reply is visible in the thread panel on both sides', T, async () => {
    const root = message(b, 'hello from alice');
    await root.hover();
    await root.getByTestId('reply-in-thread').click();
    const thread = b.getByTestId('thread-panel');
    await send(b, 'replying in a thread', thread);
    await message(a, 'hello from alice').getByTestId('thread-replies').filter({ hasText: '1 reply' }).waitFor();
    await message(a, 'hello from alice').getByTestId('thread-replies').click();
    await message(a.getByTestId('thread-panel'), 'replying in a thread').waitFor();
    await a.keyboard.press('Escape');
    await a.getByTestId('thread-panel').waitFor({ state: 'detached' });
  });

  it('pins, edits with history and channel details show up for both people', T, async () => {
    const pinned = message(a, 'hello from alice');
    await pinned.hover();
    await pinned.getByTestId('pin-message').click();
    await message(b, 'hello from alice').getByTestId('pinned-marker').waitFor();
    await b.getByTestId('pins-button').click();
    await b.getByTestId('pins-panel').getByTestId('pinned-item').filter({ hasText: 'hello from alice' }).waitFor();

    const edited = message(a, 'ping in the side channel');
    await edited.hover();
    await edited.getByTestId('edit-message').click();
    await a.getByTestId('edit-input').fill('ping in the side channel (edited)');
    await a.getByTestId('save-edit').click();
    const seen = message(b, 'ping in the side channel (edited)');
    await seen.getByTestId('edited-marker').waitFor();
    await seen.getByTestId('edited-marker').click();
    await b.getByTestId('history-panel').getByTestId('history-version').filter({ hasText: 'ping in the side channel' }).first().waitFor();

    await b.getByTestId('details-button').click();
    const members = b.getByTestId('details-panel').getByTestId('member-list');
    await members.filter({ hasText: 'Alice E2E' }).filter({ hasText: 'Bob E2E' }).waitFor();
    await b.keyboard.press('Escape');
    await b.getByTestId('details-panel').waitFor({ state: 'detached' });
  });

  it('a direct message reaches the other person with a mention badge', T, async () => {
    await b.getByTestId('add-dm').click();
    await b.getByTestId('dm-person').filter({ hasText: 'Alice E2E' }).click();
    await b.getByTestId('start-dm').click();
    await b.getByTestId('channel-title').filter({ hasText: 'Alice E2E' }).waitFor();
    await send(b, 'a private word');
    const link = a.getByTestId('dm-list').getByTestId('channel-link').filter({ hasText: 'Bob E2E' });
    await link.getByTestId('mention-badge').waitFor();
    await link.click();
    await message(a, 'a private word').waitFor();
    await link.getByTestId('mention-badge').waitFor({ state: 'detached' });
    await openChannel(a, channel);
    await openChannel(b, channel);
  });

  it('presence changes reach the other person and sessions are listed', T, async () => {
    const aliceInDms = b.getByTestId('dm-list').getByTestId('channel-link').filter({ hasText: 'Alice E2E' });
    await aliceInDms.locator('[data-testid="presence"][data-status="online"]').waitFor();
    await a.getByTestId('profile-button').click();
    await a.getByTestId('presence-select').selectOption('away');
    await aliceInDms.locator('[data-testid="presence"][data-status="away"]').waitFor();
    await a.getByTestId('presence-select').selectOption('online');
    await aliceInDms.locator('[data-testid="presence"][data-status="online"]').waitFor();
    await a.getByTestId('tab-sessions').click();
    await a.getByTestId('sessions-list').locator('li').first().waitFor();
    await a.keyboard.press('Escape');
    await a.getByTestId('profile-modal').waitFor({ state: 'detached' });
  });

  it('a person who went offline sees every missed message after reconnecting, without reloading', T, async () => {
    await ctxB.setOffline(true);
    await b.getByTestId('reconnecting-banner').waitFor({ timeout: 30_000 });
    const missed = ['missed one', 'missed two', 'missed three'];
    for (const text of missed) await send(a, text);
    await ctxB.setOffline(false);
    for (const text of missed) await message(b, text).waitFor({ timeout: 30_000 });
    await b.getByTestId('reconnecting-banner').waitFor({ state: 'detached', timeout: 30_000 });
    const texts = await b.getByTestId('message-text').allTextContents();
    const order = missed.map((t) => texts.findIndex((x) => x.includes(t)));
    assert.deepEqual([...order].sort((x, y) => x - y), order, 'missed messages arrive in order');
  });

  it('stored XSS in a message and a display name renders as text', T, async () => {
    const payload = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    await a.getByTestId('profile-button').click();
    await a.getByTestId('profile-display_name').fill(`<img src=x onerror=alert(3)>`);
    await a.getByTestId('save-profile').click();
    await a.getByRole('status').filter({ hasText: 'Profile saved' }).waitFor();
    await a.keyboard.press('Escape');

    await send(a, payload);

    const evil = message(b, '<script>alert(2)</script>');
    await evil.waitFor();
    assert.equal(await evil.getByTestId('message-text').textContent(), payload);
    await b.locator('[data-testid="message-author"]', { hasText: '<img src=x onerror=alert(3)>' }).first().waitFor();
    for (const page of [a, b]) {
      assert.equal(await page.locator('img[src="x"], script:not([src])').count(), 0, 'no injected elements in the DOM');
    }
    await b.waitForTimeout(500);
    assert.deepEqual(dialogs, [], 'no dialog was opened by injected script');

    // Restore a readable name for the screenshots.
    await a.getByTestId('profile-button').click();
    await a.getByTestId('profile-display_name').fill(alice.displayName);
    await a.getByTestId('save-profile').click();
    await a.getByRole('status').filter({ hasText: 'Profile saved' }).waitFor();
    await a.keyboard.press('Escape');
  });

  it('captures light and dark screenshots of the main screens', T, async () => {
    for (const theme of ['light', 'dark']) {
      await a.getByTestId('profile-button').click();
      await a.getByTestId('tab-preferences').click();
      await a.getByTestId(`theme-${theme}`).click();
      await a.keyboard.press('Escape');
      const isDark = await a.evaluate(() => document.documentElement.classList.contains('dark'));
      assert.equal(isDark, theme === 'dark');
      // Park the pointer on the workspace rail so no message shows its hover toolbar.
      await a.mouse.move(30, 780);
      await a.screenshot({ path: join(ARTIFACTS, `${theme}-channel.png`) });
      await message(a, 'hello from alice').getByTestId('thread-replies').click();
      await a.getByTestId('thread-panel').waitFor();
      await a.mouse.move(30, 780);
      await a.screenshot({ path: join(ARTIFACTS, `${theme}-thread.png`) });
      await a.keyboard.press('Escape');
      await a.keyboard.press('Control+k');
      await a.getByTestId('quick-switcher').waitFor();
      await a.screenshot({ path: join(ARTIFACTS, `${theme}-switcher.png`) });
      await a.keyboard.press('Escape');
    }
  });

  it('reports first paint after login', T, async () => {
    // A fresh tab with the stored session: the cost of opening Echo when already logged in.
    const page = await ctxA.newPage();
    await page.goto(`${BASE_URL}/`);
    await page.getByTestId('message').first().waitFor();
    const timing = await page.evaluate(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
      const nav = performance.getEntriesByType('navigation')[0];
      return { fcp, messagesVisible: performance.now(), domContentLoaded: nav?.domContentLoadedEventEnd ?? null };
    });
    console.log(
      `first paint after login: first-contentful-paint ${timing.fcp?.toFixed(0)} ms, DOMContentLoaded ${timing.domContentLoaded?.toFixed(0)} ms, messages visible by ${timing.messagesVisible.toFixed(0)} ms`,
    );
    assert.ok(timing.fcp !== null && timing.fcp < 3_000, 'first contentful paint under 3 s');
    await page.close();
  });
});
