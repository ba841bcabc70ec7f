// UI steps shared by the scenarios, written against the selectors documented in README.md.

export const message = (page, text) => page.locator('[data-testid="message"]', { hasText: text }).first();

export async function registerViaUi(page, baseUrl, { displayName, email, password }) {
  await page.goto(`${baseUrl}/register`);
  await page.locator('input[name="display_name"]').fill(displayName);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form button[type="submit"]').click();
}

export async function loginViaUi(page, baseUrl, { email, password }) {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form button[type="submit"]').click();
}

export async function send(page, text, scope = page.getByTestId('channel-view')) {
  const input = scope.getByTestId('composer-input').first();
  await input.fill(text);
  await input.press('Enter');
  // Wait for the server's ack: the optimistic copy turns into a sent message.
  await scope.locator('[data-testid="message"][data-send-state="sent"]', { hasText: text.split('\n')[0] }).first().waitFor({ timeout: 10_000 });
}

export async function openChannel(page, name) {
  await page.locator(`[data-testid="channel-link"][data-channel-name="${name}"]`).click();
  await page.getByTestId('channel-title').filter({ hasText: name }).waitFor();
}
