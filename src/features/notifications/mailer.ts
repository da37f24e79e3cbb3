/**
 * The port mail goes out through (src/integrations/mail/smtp-mailer.ts is
 * the SMTP one). A batch is sent at once and each mail gets its own outcome;
 * the outbox worker decides about retries.
 */
export interface Address {
  name: string | null;
  address: string;
}

export interface OutgoingMail {
  /** Stable per outbox row: a retry carries the same Message-ID, so a receiver can tell a repeat. */
  messageId: string;
  from: Address;
  to: Address;
  subject: string;
  text: string;
  html: string;
  /** An iTIP invitation: sent as text/calendar; method=… alternative and as invite.ics. */
  invitation: { method: 'REQUEST' | 'CANCEL'; content: string } | null;
}

/** `permanent`: the server refused for good (an SMTP 5xx reply); anything else is worth a retry. */
export type SendOutcome = { ok: true } | { ok: false; permanent: boolean; error: string };

export interface Mailer {
  /** Sends the batch; resolves (never rejects) with one outcome per mail, in order. `signal` aborts it (shutdown). */
  sendAll(mails: readonly OutgoingMail[], signal: AbortSignal): Promise<SendOutcome[]>;
}
