import { Type } from 'typebox';
import { Id, Instant, TimeZone } from './common.js';

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('provider'), Type.Literal('client')]);

export const User = Type.Object({
  id: Id,
  name: Type.String(),
  email: Type.Optional(Type.String({ description: 'Absent when a provider is viewed by someone else' })),
  role: Role,
  timeZone: TimeZone,
  createdAt: Instant,
  deactivatedAt: Type.Optional(Instant),
});

export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 320 }),
    role: Type.Union([Type.Literal('provider'), Type.Literal('client')]),
    timeZone: Type.Optional(TimeZone),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const CreatedUser = Type.Object({
  user: User,
  apiKey: Type.String({ description: 'Shown once; store it now' }),
});

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const LoginResult = Type.Object({ apiKey: Type.String(), expiresAt: Instant });

export const ApiKey = Type.Object({
  id: Id,
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'First characters of the key, to tell keys apart' }),
  expiresAt: Type.Union([Instant, Type.Null()]),
  createdAt: Instant,
});

export const CreateApiKeyBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), expiresAt: Type.Optional(Instant) },
  { additionalProperties: false },
);

export const CreatedApiKey = Type.Object({ ...ApiKey.properties, apiKey: Type.String({ description: 'Shown once' }) });

export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    timeZone: Type.Optional(TimeZone),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
    currentPassword: Type.Optional(Type.String({
      minLength: 1, maxLength: 200, description: 'Required with password when users change their own (not for an admin)',
    })),
  },
  { additionalProperties: false, description: 'Only the fields sent change; the role never does' },
);
