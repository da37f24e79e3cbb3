/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps what
 * it receives: the envelope and the raw message. Modes make it misbehave the
 * ways a mail service does: answer 500, answer slowly, or be down (stop()
 * and start() again on the same port).
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export type SinkMode =
  | { kind: 'accept' }
  | { kind: 'reject'; code: number; message: string }
  | { kind: 'slowGreeting'; ms: number }
  | { kind: 'slowData'; ms: number };

export interface SmtpSink {
  port: number;
  url: string;
  received: ReceivedMail[];
  mode: SinkMode;
  /** Messages the sink answered with an error (mode reject). */
  rejected: number;
  parsed(): Promise<ParsedMail[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number, then: () => void) => {
    const t = setTimeout(() => { timers.delete(t); then(); }, ms);
    timers.add(t);
  };
  const sink: SmtpSink = {
    port,
    url: '',
    received: [],
    mode: { kind: 'accept' },
    rejected: 0,
    parsed: () => Promise.all(sink.received.map((m) => simpleParser(m.raw))),
    stop: async () => {},
    start: async () => {},
  };
  let server: SMTPServer | null = null;
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // stop() cuts open sessions after 50 ms (an outage), instead of waiting 30 s for them.
      closeTimeout: 50,
      // Tests send many mails quickly from one address.
      maxClients: 50,
      onConnect(_session, callback) {
        const mode = sink.mode;
        if (mode.kind === 'slowGreeting') wait(mode.ms, () => callback());
        else callback();
      },
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username });
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const mode = sink.mode;
          if (mode.kind === 'reject') {
            sink.rejected += 1;
            callback(Object.assign(new Error(mode.message), { responseCode: mode.code }));
            return;
          }
          const finish = () => {
            sink.received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: Buffer.concat(chunks).toString('utf8'),
            });
            callback();
          };
          if (mode.kind === 'slowData') wait(mode.ms, finish);
          else finish();
        });
      },
    });
  sink.start = async () => {
    server = make();
    server.on('error', () => {}); // a client hanging up mid-session is not the test's failure
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(sink.port, '127.0.0.1', () => resolve());
    });
    const address = server.server.address();
    sink.port = typeof address === 'object' && address ? address.port : sink.port;
    sink.url = `smtp://127.0.0.1:${sink.port}`;
  };
  sink.stop = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const s = server;
    server = null;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await sink.start();
  return sink;
}
