// Notifications as two people meet them: a mention arrives live with a badge and opens its message;
// a channel's own notification settings are kept and muting holds mentions back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_URL, launchBrowser, requireServer, unique } from './support/env.mjs';
import { seedPair } from './support/seed.mjs';
import { loginViaUi, openChannel } from './support/ui.mjs';

const T = { timeout: 60_000 };

/** Explain for `who`, once the notifier has decided the message. */
async function explain(who, messageId) {
  for (let tries = 0; tries < 100; tries++) {
    const answer = await who.api.call('GET', `/api/v1/notifications/explain?message_id=${messageId}`);
    if (!answer.reasons.includes('pending')) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`message ${messageId} was never decided`);
}

describe('notifications', { timeout: 5 * 60_000 }, () => {
  let browser;
  let page;
  let seeded;
  const mention = (text) => seeded.alice.api.call('POST', `/api/v1/channels/${seeded.channel.id}/messages`, { text: `<@${seeded.bob.user.id}> ${text}` });

  before(async () => {
    await requireServer();
    seeded = await seedPair({ channel: unique('notify-') });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await loginViaUi(page, BASE_URL, seeded.bob);
    await page.getByTestId('app').waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  it('a mention arrives live as a badge, and its entry opens the message', T, async () => {
    await mention('could you review the draft?');
    const bell = page.getByTestId('notifications-button');
    await bell.locator('span', { hasText: '1' }).waitFor();
    await bell.click();
    const entry = page.getByTestId('notification').first();
    await entry.waitFor();
    assert.match(await entry.textContent(), new RegExp(`Mentioned you.*#${seeded.channel.name}`));
    await entry.click();
    await page.locator('[data-testid="message"].flash', { hasText: 'could you review the draft?' }).waitFor();
    await bell.locator('span').waitFor({ state: 'detached' });
  });

  it("a channel's level and mute are kept, and muting holds mentions back", T, async () => {
    await openChannel(page, seeded.channel.name);
    await page.getByTestId('details-button').click();
    const level = page.getByTestId('channel-notification-level');
    await level.selectOption('mentions');
    await page.getByTestId('channel-notifications').getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByTestId('channel-mute').check();

    await page.reload();
    await openChannel(page, seeded.channel.name);
    await page.getByTestId('details-button').click();
    await page.getByTestId('channel-mute').waitFor();
    assert.equal(await page.getByTestId('channel-notification-level').inputValue(), 'mentions');
    assert.equal(await page.getByTestId('channel-mute').isChecked(), true);

    const held = await mention('this one stays quiet');
    const answer = await explain(seeded.bob, held.id);
    assert.equal(answer.notified, false);
    assert.ok(answer.reasons.includes('channel_muted'), JSON.stringify(answer));
    assert.equal(await page.getByTestId('notifications-button').locator('span').count(), 0, 'no badge for a muted channel');
  });
});
