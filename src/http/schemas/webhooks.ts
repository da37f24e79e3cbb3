import { Type, type Static } from 'typebox';
import { EVENT_TYPES } from '../../db/events-repo.js';
import { Id, Instant, named } from './common.js';

export const EventName = named('EventName', Type.Union(EVENT_TYPES.map((e) => Type.Literal(e)), { description: 'A change event' }));

export const CreateWebhookBody = named('CreateWebhookRequest', Type.Object(
  {
    // No `format`: the server parses it (http or https) and checks its host, with a 400 naming body/url.
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives the POSTs' }),
    events: Type.Array(EventName, { minItems: 1, maxItems: EVENT_TYPES.length * 2 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, examples: [{ url: 'https://example.com/hooks/booking', events: ['booking.confirmed', 'booking.cancelled'], description: 'Front desk' }] },
));
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const Webhook = named('Webhook', Type.Object({
  id: Id,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  createdAt: Instant,
}), 'A webhook (never its secret)');

export const CreatedWebhook = named('CreatedWebhook', Type.Object({
  ...Webhook.properties,
  secret: Type.String({ description: 'whsec_ + base64 of 32 random bytes: the signing key. Shown once.' }),
}), 'The new webhook, with its signing secret shown this once');

export const WebhookDelivery = named('WebhookDelivery', Type.Object({
  id: Type.String({ description: 'The webhook-id header of every attempt of this delivery' }),
  event: Type.String({ description: 'The event type' }),
  eventId: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer({ minimum: 0 }),
  lastAttemptAt: Type.Union([Instant, Type.Null()]),
  responseStatus: Type.Optional(Type.Integer({ description: 'The HTTP status of the last failed attempt, when the receiver answered' })),
  nextAttemptAt: Type.Optional(Instant),
  error: Type.Optional(Type.String({ description: 'Why the last attempt failed' })),
}), 'One event delivered (or being delivered) to a webhook');
