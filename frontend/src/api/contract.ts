// The client's types against the types generated from the server's API document (schema.d.ts):
// each must accept what the server says it sends, so a renamed or retyped field fails the build.
import type { components } from './schema';
import type { PinsResponse } from './endpoints';
import type * as Client from './types';

/**
 * A schema as it travels: the document marks every Rust `Option` optional, but only those it
 * also marks non-nullable are left out when empty; the rest are always sent, `null` when empty.
 */
type Wire<T> = T extends (infer Item)[]
  ? Wire<Item>[]
  : T extends object
    ? { [K in keyof T as null extends T[K] ? K : never]-?: Wire<Exclude<T[K], undefined>> } & {
        [K in keyof T as null extends T[K] ? never : K]: Wire<T[K]>;
      }
    : T;

type Sent<Name extends keyof components['schemas']> = Wire<components['schemas'][Name]>;
type Accepts<ClientType, ServerType extends ClientType> = ServerType;

export type CheckedResponses = [
  Accepts<Client.User, Sent<'UserView'>>,
  Accepts<Client.AuthResponse, Sent<'AuthResponse'>>,
  Accepts<Client.Workspace, Sent<'Workspace'>>,
  Accepts<Client.WorkspaceMember, Sent<'Member'>>,
  Accepts<Client.Channel, Sent<'Channel'>>,
  Accepts<Client.Message, Sent<'Message'>>,
  Accepts<Client.MessagePage, Sent<'MessagePage'>>,
  Accepts<Client.Invite, Sent<'InviteCreated'>>,
  Accepts<Client.SearchResponse, Sent<'SearchPage'>>,
  Accepts<Client.Session, Sent<'SessionView'>>,
  Accepts<Client.SummaryResponse, Sent<'Summary'>>,
  Accepts<Client.AskResponse, Sent<'Answer'>>,
  Accepts<Client.AppNotification, Sent<'Notification'>>,
  Accepts<Client.NotificationPreferences, Sent<'PreferencesBody'>>,
  Accepts<Client.ChannelNotificationSettings, Sent<'ChannelSettings'>>,
  Accepts<PinsResponse, Sent<'PinList'>>,
  Accepts<Client.AuditPage, Sent<'AuditPage'>>,
];
