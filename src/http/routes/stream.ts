import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { ChangeFeed } from '../../platform/change-feed/change-feed.js';
import type { AppContext } from '../../features/context.js';
import { hostsOfPublicTypes } from '../../db/event-types-repo.js';
import { problemOf, sendProblem } from '../problem.js';
import { Security } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';

/** Provider ids one subscribe/unsubscribe message may carry. */
export const MAX_IDS_PER_MESSAGE = 100;
/** Provider ids one socket may be subscribed to at once. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 500;
/** Open sockets per user (all its keys together), per server process. */
export const MAX_SOCKETS_PER_USER = 20;
export const PING_INTERVAL_MS = 30_000;
const MAX_ID_LENGTH = 200;
/** A frame larger than this is refused (ws closes with 1009). */
const MAX_FRAME_BYTES = 64 * 1024;

type ClientMessage = { type: 'subscribe' | 'unsubscribe'; providerIds: string[] };

function parseMessage(data: string): ClientMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'The message is not valid JSON.';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'The message must be a JSON object.';
  const { type, providerIds } = value as Record<string, unknown>;
  if (type !== 'subscribe' && type !== 'unsubscribe') return 'type must be "subscribe" or "unsubscribe".';
  if (!Array.isArray(providerIds)) return 'providerIds must be an array of strings.';
  if (providerIds.length > MAX_IDS_PER_MESSAGE) return `providerIds may hold at most ${MAX_IDS_PER_MESSAGE} ids.`;
  if (!providerIds.every((id) => typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH)) {
    return `providerIds must be non-empty strings of at most ${MAX_ID_LENGTH} characters.`;
  }
  return { type, providerIds: providerIds as string[] };
}

/**
 * GET /v1/stream: a WebSocket of availability changes (README, "Live stream").
 * Authentication is the usual onRequest hook (Bearer header or ?apiKey=), which
 * runs before the upgrade: a missing or unknown key is answered with a plain
 * HTTP 401 problem and no WebSocket is opened.
 */
export function streamRoutes(ctx: AppContext, feed: ChangeFeed) {
  return async (app: FastifyInstance) => {
    const socketsPerUser = new Map<string, number>();
    const alive = new WeakMap<WebSocket, boolean>();
    const open = new Set<WebSocket>();

    // One keep-alive timer for all sockets: a socket that did not answer the last ping is dropped.
    const pinger = setInterval(() => {
      for (const socket of open) {
        if (alive.get(socket) === false) {
          socket.terminate();
          continue;
        }
        alive.set(socket, false);
        socket.ping();
      }
    }, PING_INTERVAL_MS);
    pinger.unref();
    app.addHook('onClose', async () => clearInterval(pinger));

    // handler + wsHandler (not `websocket: true`, which hides the route from OpenAPI): a plain GET gets a 400 problem.
    app.route({
      method: 'GET',
      url: '/stream',
      // Without a key (a booking page): only the hosts of public event types, sockets counted per address.
      config: { auth: 'optional' },
      schema: {
        operationId: 'openStream',
        summary: 'Live availability changes over a WebSocket',
        description:
          'Upgrades to a WebSocket (key as Bearer header or ?apiKey=; an invalid key refuses the upgrade with 401). ' +
          'Without a key (a booking page) only hosts of public event types may be followed, and sockets are counted per client address. ' +
          'Send {"type":"subscribe","providerIds":[...]} (at most 100 ids a message) and get {"type":"subscribed","providerIds":[...]}; ' +
          'then {"type":"availability.changed","providerId","version"} within a second of any change to those providers. ' +
          '{"type":"unsubscribe","providerIds":[...]} removes ids. Bad frames get {"type":"error","message"}. ' +
          `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} providers per socket and ${MAX_SOCKETS_PER_USER} sockets per user and server process. See the README, "Live stream".`,
        tags: ['stream'],
        security: [...Security, {}],
        response: errorResponses(),
      },
      handler: async (_request, reply) =>
        sendProblem(reply, problemOf('invalid_request', 'GET /v1/stream is a WebSocket: send an upgrade request (Connection: Upgrade, Upgrade: websocket).')),
      wsHandler: (socket, request) => {
        const principal = request.principal;
        // Per user, not per key: minting keys must not multiply the cap; without a key, per address.
        const keyId = principal ? `user:${principal.userId}` : `address:${request.ip}`;
        const count = socketsPerUser.get(keyId) ?? 0;
        if (count >= MAX_SOCKETS_PER_USER) {
          socket.close(4429, `At most ${MAX_SOCKETS_PER_USER} open streams per user.`);
          return;
        }
        socketsPerUser.set(keyId, count + 1);
        open.add(socket);
        alive.set(socket, true);
        socket.on('pong', () => alive.set(socket, true));

        const subscriptions = new Map<string, () => void>();
        const send = (message: unknown) => {
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
        };
        const listener = (change: { providerId: string; version: number }) =>
          send({ type: 'availability.changed', providerId: change.providerId, version: change.version });

        // Frames are handled one at a time (a subscription without a key looks up which ids it may follow).
        let queue: Promise<unknown> = Promise.resolve();
        socket.on('message', (data, isBinary) => {
          queue = queue.then(() => onMessage(data, isBinary)).catch(() => send({ type: 'error', message: 'The message could not be handled; retry.' }));
        });
        const onMessage = async (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
          const text = isBinary ? null : Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
          if (text === null) return send({ type: 'error', message: 'Send text frames of JSON.' });
          if (text.length > MAX_FRAME_BYTES) return send({ type: 'error', message: 'The message is too large.' });
          const message = parseMessage(text);
          if (typeof message === 'string') return send({ type: 'error', message });
          if (message.type === 'subscribe') {
            let added = [...new Set(message.providerIds)].filter((id) => !subscriptions.has(id));
            if (!principal) {
              const open = await hostsOfPublicTypes(ctx.db, added);
              const refused = added.filter((id) => !open.has(id));
              if (refused.length > 0) send({ type: 'error', message: `Without an API key only hosts of public event types may be followed; not ${refused.join(', ')}.` });
              added = added.filter((id) => open.has(id));
            }
            if (subscriptions.size + added.length > MAX_SUBSCRIPTIONS_PER_SOCKET) {
              return send({ type: 'error', message: `A stream may follow at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} providers.` });
            }
            for (const id of added) subscriptions.set(id, feed.subscribe([id], listener));
            return send({ type: 'subscribed', providerIds: [...subscriptions.keys()] });
          }
          for (const id of message.providerIds) {
            subscriptions.get(id)?.();
            subscriptions.delete(id);
          }
          return send({ type: 'unsubscribed', providerIds: [...subscriptions.keys()] });
        };

        socket.on('close', () => {
          for (const unsubscribe of subscriptions.values()) unsubscribe();
          subscriptions.clear();
          open.delete(socket);
          const n = (socketsPerUser.get(keyId) ?? 1) - 1;
          if (n <= 0) socketsPerUser.delete(keyId);
          else socketsPerUser.set(keyId, n);
        });
      },
    });
  };
}
