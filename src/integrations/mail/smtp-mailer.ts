import nodemailer from 'nodemailer';
import type { MailConfig } from '../../config.js';
import type { Mailer, OutgoingMail, SendOutcome } from '../../features/notifications/mailer.js';

/**
 * Mail over SMTP with nodemailer, one pooled transport per batch (at most two
 * connections). nodemailer's own timeouts bound each stage (connect, greeting,
 * silence); sendTimeoutMs bounds the whole batch: past it, or on shutdown, the
 * connections are closed and the mails not yet accepted fail (and are retried).
 * A 5xx reply is permanent (RFC 5321 4.2.1: do not repeat the same request);
 * a 4xx, a dropped connection or a timeout is not.
 */
export function smtpMailer(config: MailConfig): Mailer {
  return {
    async sendAll(mails: readonly OutgoingMail[], signal: AbortSignal): Promise<SendOutcome[]> {
      if (mails.length === 0) return [];
      const transport = nodemailer.createTransport({
        url: config.smtpUrl,
        pool: true,
        maxConnections: 2,
        // A message whose connection drops is not sent again inside this batch: the outbox retries it, with backoff.
        maxRequeues: 0,
        connectionTimeout: config.connectionTimeoutMs,
        greetingTimeout: config.greetingTimeoutMs,
        socketTimeout: config.socketTimeoutMs,
        // Never let nodemailer print message contents (addresses, answers) to stdout.
        logger: false,
        debug: false,
      });
      let stop: (reason: string) => void = () => {};
      const stopped = new Promise<string>((resolve) => { stop = resolve; });
      const timer = setTimeout(() => stop(`no answer within ${config.sendTimeoutMs} ms (MAIL_SEND_TIMEOUT_MS)`), config.sendTimeoutMs);
      const onAbort = () => stop('the server is shutting down');
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.all(
          mails.map(async (mail): Promise<SendOutcome> => {
            const sending = transport.sendMail(toNodemailer(mail)).then(
              (): SendOutcome => ({ ok: true }),
              (error: unknown): SendOutcome => failure(error),
            );
            return Promise.race([sending, stopped.then((reason): SendOutcome => ({ ok: false, permanent: false, error: reason }))]);
          }),
        );
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        transport.close({ force: true });
      }
    },
  };
}

function toNodemailer(mail: OutgoingMail) {
  const address = (a: { name: string | null; address: string }) => (a.name ? { name: a.name, address: a.address } : a.address);
  return {
    messageId: mail.messageId,
    from: address(mail.from),
    to: address(mail.to),
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    ...(mail.invitation ? { icalEvent: { method: mail.invitation.method, filename: 'invite.ics', content: mail.invitation.content } } : {}),
    // Nothing from the booking goes into headers except through nodemailer's encoders; no extra headers at all.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

function failure(error: unknown): SendOutcome {
  const e = error as { responseCode?: unknown; response?: unknown; code?: unknown; message?: unknown };
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const response = typeof e.response === 'string' ? e.response : null;
  const message = response ?? (typeof e.message === 'string' ? e.message : String(error));
  const text = `${code !== null ? '' : typeof e.code === 'string' ? `${e.code}: ` : ''}${message}`.replace(/[\r\n]+/g, ' ').slice(0, 500);
  return { ok: false, permanent: code !== null && code >= 500 && code < 600, error: text };
}
