import { Type, type Static } from 'typebox';
import { Id, Instant, named, TimeZone } from './common.js';
import { AvatarUrl } from './avatars.js';

export const Role = named('Role', Type.Union([Type.Literal('admin'), Type.Literal('provider'), Type.Literal('client'), Type.Literal('staff')]));

/** The providers a staff member manages (admin sets them). */
const StaffProviderIds = Type.Array(Id, {
  maxItems: 200, uniqueItems: true, description: 'Staff only: the providers it manages (acts for)', examples: [['usr_3f9a', 'usr_8c21']],
});

export const User = named('User', Type.Object({
  id: Id,
  name: Type.String(),
  email: Type.Optional(Type.String({ description: 'Absent when a provider is viewed by someone else' })),
  role: Role,
  kind: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('resource')], { description: 'Providers only' })),
  timeZone: TimeZone,
  createdAt: Instant,
  deactivatedAt: Type.Optional(Instant),
  avatarUrl: Type.Optional(AvatarUrl),
  providerIds: Type.Optional(Type.Array(Id, { description: 'Staff only (shown to itself and admins): the providers it manages' })),
}), 'A user (email only for itself and admins)');

export const CreateUserBody = named('CreateUserRequest', Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320, description: 'Required, except for resources' })),
    role: Type.Union([Type.Literal('provider'), Type.Literal('client'), Type.Literal('staff')]),
    providerIds: Type.Optional(StaffProviderIds),
    kind: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('resource')], {
      description: 'Providers: person (default) or resource (a room, a machine: admin only, no email, no password, no API key)',
    })),
    timeZone: Type.Optional(TimeZone),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  },
  { additionalProperties: false, examples: [{ name: 'Dr. Ada Lovelace', email: 'ada@example.com', role: 'provider', timeZone: 'Europe/London', password: 'a long passphrase' }],
    description: 'Staff (a receptionist): role "staff" with providerIds, e.g. { "name": "Front desk", "email": "desk@example.com", "role": "staff", "providerIds": ["usr_3f9a"] }',
  },
));
export type CreateUserBody = Static<typeof CreateUserBody>;

export const CreatedUser = named('CreatedUser', Type.Object({
  user: User,
  apiKey: Type.Union([Type.String(), Type.Null()], { description: 'Shown once; store it now. null for a resource, which has no key' }),
}), 'The new user and its first API key');

export const LoginBody = named('LoginRequest', Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'a long passphrase' }] },
));

export const ChangePasswordBody = named('ChangePasswordRequest', Type.Object(
  {
    currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Required when the user has a password' })),
    newPassword: Type.String({ minLength: 8, maxLength: 200 }),
  },
  { additionalProperties: false, examples: [{ currentPassword: 'correct horse battery', newPassword: 'a much longer passphrase' }] },
));
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const LoginResult = named('LoginResult', Type.Object({ apiKey: Type.String(), expiresAt: Instant }), 'A new API key for the user');

export const ApiKey = named('ApiKey', Type.Object({
  id: Id,
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'First characters of the key, to tell keys apart' }),
  expiresAt: Type.Union([Instant, Type.Null()]),
  createdAt: Instant,
}), 'An API key (never its secret)');

export const CreateApiKeyBody = named('CreateApiKeyRequest', Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), expiresAt: Type.Optional(Instant) },
  { additionalProperties: false, examples: [{ name: 'CI pipeline', expiresAt: '2027-12-31T23:59:59Z' }] },
));

export const CreatedApiKey = named('CreatedApiKey', Type.Object({ ...ApiKey.properties, apiKey: Type.String({ description: 'Shown once' }) }), 'The new key, with its secret shown this once');

export const UpdateUserBody = named('UpdateUserRequest', Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    timeZone: Type.Optional(TimeZone),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
    providerIds: Type.Optional(StaffProviderIds),
    currentPassword: Type.Optional(Type.String({
      minLength: 1, maxLength: 200, description: 'Required with password when users change their own (not for an admin)',
    })),
  },
  { additionalProperties: false, examples: [{ name: 'Ada King', timeZone: 'Europe/Paris' }], description: 'Only the fields sent change; the role never does. providerIds: an administrator, on a staff member only (replaces the list)' },
));
export type UpdateUserBody = Static<typeof UpdateUserBody>;
