// Builds a starting point through the public API: two people sharing a workspace and a channel.
import { Api, unique } from './env.mjs';

export async function seedPair({ channel = unique('pair-') } = {}) {
  const alice = await Api.register('Alice E2E');
  const bob = await Api.register('Bob E2E');
  const workspace = await alice.api.call('POST', '/api/v1/workspaces', { name: unique('Team ') });
  const ch = await alice.api.call('POST', `/api/v1/workspaces/${workspace.id}/channels`, { name: channel, visibility: 'public' });
  const invite = await alice.api.call('POST', `/api/v1/workspaces/${workspace.id}/invites`, {});
  await bob.api.call('POST', `/api/v1/invites/${encodeURIComponent(invite.code)}/accept`);
  await bob.api.call('POST', `/api/v1/channels/${ch.id}/join`);
  return { alice, bob, workspace, channel: ch };
}
