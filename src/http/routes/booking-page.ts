import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { findEventTypeBySlug } from '../../db/event-types-repo.js';
import type { AppContext } from '../../features/context.js';

/** The built page (scripts/build-page.ts runs in `npm ci` through prepare). */
const DIST = fileURLToPath(new URL('../../../web/booking-page/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const EMBED_SCRIPT = `(function () {
  var me = document.currentScript; if (!me) return;
  var origin = new URL(me.src).origin, slug = me.getAttribute('data-slug') || '';
  var date = me.getAttribute('data-date');
  var frame = document.createElement('iframe');
  frame.src = origin + '/book/' + encodeURIComponent(slug) + (date ? '?date=' + encodeURIComponent(date) : '');
  frame.title = me.getAttribute('data-title') || 'Booking';
  frame.style.cssText = 'width:100%;min-height:600px;border:0';
  frame.setAttribute('loading', 'lazy');
  me.parentNode.insertBefore(frame, me.nextSibling);
  window.addEventListener('message', function (e) {
    if (e.origin === origin && e.source === frame.contentWindow && e.data && e.data.type === 'booking-page:height') {
      frame.style.height = Math.ceil(e.data.height) + 'px';
    }
  });
})();
`;
const ASSET_NAME = /^[A-Za-z0-9_-]+\.(js|css|map)$/;

/**
 * GET /book/{slug} and /book/manage/{id}: the booking page's HTML (the page
 * reads its path and talks to the public API through the SDK); a slug that is
 * not a public event type answers the same page with status 404, which shows
 * "Not found". GET /book/assets/{file}: the page's hashed JS and CSS, cached
 * for a year. Everything comes from this server: no CDN.
 */
export function bookingPageRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    let html: string | null = null;
    const page = async () => (html ??= await readFile(`${DIST}index.html`, 'utf8').catch(() => null as never));
    const sendPage = async (reply: import('fastify').FastifyReply, status: number) => {
      const body = await page();
      if (!body) {
        return reply.code(503).type('text/plain; charset=utf-8')
          .send('The booking page is not built: run `npm ci` (or `node --import tsx scripts/build-page.ts`).');
      }
      return reply.code(status).type('text/html; charset=utf-8')
        .header('Cache-Control', 'no-cache')
        .header('X-Content-Type-Options', 'nosniff')
        .header('Referrer-Policy', 'no-referrer') // the manage page's URL carries its token
        .header('Content-Security-Policy', "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'")
        .send(body);
    };
    const hidden = { hide: true };

    app.get<{ Params: { id: string } }>('/book/manage/:id', { schema: hidden }, async (_request, reply) => sendPage(reply, 200));

    app.get<{ Params: { file: string } }>('/book/assets/:file', { schema: hidden }, async (request, reply) => {
      const { file } = request.params;
      const type = TYPES[extname(file)];
      const body = ASSET_NAME.test(file) && type ? await readFile(`${DIST}assets/${file}`).catch(() => null) : null;
      if (!body) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      return reply.type(type!).header('Cache-Control', 'public, max-age=31536000, immutable').header('X-Content-Type-Options', 'nosniff').send(body);
    });

    // <script src=".../book/embed.js" data-slug="…"> puts the page in an iframe where the tag stands, grown to its height.
    app.get('/book/embed.js', { schema: hidden }, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(EMBED_SCRIPT));

    app.get<{ Params: { slug: string } }>('/book/:slug', { schema: hidden }, async (request, reply) => {
      const type = await findEventTypeBySlug(ctx.db, request.params.slug);
      return sendPage(reply, type && type.public ? 200 : 404);
    });
  };
}
