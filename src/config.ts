import { isIP } from 'node:net';
import { readOidcIssuers, type OidcIssuers } from './config-oidc.js';

/**
 * One schema for the environment. Every variable is read and checked here, once,
 * at start: a bad value stops the process with a message naming the variable,
 * instead of surfacing later as a confusing runtime error.
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  /** REDIS_URL: shared slot cache, live-stream fan-out and rate limits across processes; null runs alone. */
  redisUrl: string | null;
  /** REDIS_KEY_PREFIX: namespaces keys and channels; the processes of one deployment share it, two deployments on one Redis must not. */
  redisKeyPrefix: string;
  dataDir: string; // 'memory' keeps the embedded database in memory
  /** EMBEDDED_SHARED_BUFFERS_MB: PostgreSQL's shared_buffers in the embedded database (its page cache inside the process). */
  embeddedSharedBuffersMb: number;
  adminApiKey: string | null;
  openSignup: boolean;
  holdTtlSeconds: number;
  minNoticeMinutes: number;
  expirySweepSeconds: number;
  loginKeyTtlSeconds: number;
  /** Failed logins one email may have within loginFailureWindowSeconds; more are a 429 before any password check. */
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  /** Working (unrevoked, unexpired) API keys one user may have. */
  maxApiKeysPerUser: number;
  /** Webhooks one user may have. */
  maxWebhooksPerUser: number;
  /** Live future bookings (held or confirmed, not yet started) one client may have with one provider, and overall. */
  maxBookingsPerClientPerProvider: number;
  maxBookingsPerClient: number;
  /** How far ahead a booking may start, in days. */
  bookingHorizonDays: number;
  /** The most a request may take to arrive (headers and body), and its headers alone; then a 408. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** PUBLIC_BASE_URL: the origin links are built from (the calendar feed URL), never the request's Host. */
  publicBaseUrl: string;
  /** SMTP_URL and the rest of the notifications' settings; null without SMTP_URL (nothing is queued or sent). */
  mail: MailConfig | null;
  /** ENCRYPTION_KEY: 32 bytes for AES-256-GCM over calendar credentials; null when unset. */
  encryptionKey: Buffer | null;
  /** How often connected calendars are refreshed in the background. */
  calendarSyncSeconds: number;
  /** Let calendar URLs reach loopback/private addresses (tests, private networks). */
  calendarAllowPrivateUrls: boolean;
  /** How often the calendar write worker looks for due writes (bookings out to a write calendar). */
  calendarWritePollMs: number;
  /** The first retry's delay of a failed calendar write; later ones are multiples of it (as webhooks). */
  calendarWriteRetryBaseMs: number;
  /** How long one calendar write (PUT/DELETE, discovery included) may take; also bounds a strict confirm's wait. */
  calendarWriteTimeoutMs: number;
  /**
   * Google Calendar's OAuth client (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, and
   * GOOGLE_REDIRECT_URI: the public URL of GET /v1/calendars/google/callback).
   * Any of them null: Google calendars cannot be connected (a 503 naming what is missing).
   */
  google: GoogleConfig;
  /**
   * Sign-in issuers by name (OIDC_ISSUERS, and "google" from GOOGLE_CLIENT_ID/SECRET
   * unless GOOGLE_SIGN_IN=false; OIDC_RETURN_URL): see src/config-oidc.ts.
   */
  oidcIssuers: OidcIssuers;
  logLevel: string;
  databasePoolSize: number;
  /** PG_PREPARED_STATEMENTS: PostgreSQL statements run repeatedly are prepared once per connection (db/statement-names.ts); false behind a transaction-mode pooler. */
  pgPreparedStatements: boolean;
  /** Live (held, unexpired) bookings one client may have at once. */
  maxHoldsPerClient: number;
  /** Requests per key (or address) per minute, the token bucket's refill rate; 0 turns the limiter off. */
  rateLimitPerMinute: number;
  /** The token bucket's size: how many requests may come at once after a quiet spell. */
  rateLimitBurst: number;
  metricsEnabled: boolean;
  /** GET /v1/slots answered before Fastify routes it, when it is the plain case (http/fast-slot-reads.ts). */
  fastSlotReads: boolean;
  /** Fastify's trustProxy: false, true, a hop count, or addresses/CIDRs of the proxies. */
  trustProxy: boolean | number | string;
  /** Let webhook URLs reach loopback/private addresses (tests, private networks). */
  webhookAllowPrivateUrls: boolean;
  /** The first retry's delay; later ones are multiples of it (5 s, 30 s, 2 min, 10 min, 1 h... by default). */
  webhookRetryBaseMs: number;
  /** Profile images: their size limit, how long a signed upload URL works, and where they are stored. */
  avatars: AvatarConfig;
  /** How often the delivery worker looks for due deliveries. */
  webhookPollMs: number;
  /** How long a receiver may take to answer before the attempt counts as failed. */
  webhookTimeoutMs: number;
}

export interface GoogleConfig {
  clientId: string | null;
  clientSecret: string | null;
  redirectUri: string | null;
  /** Google's endpoints; tests and self-hosters point them at another server. */
  authUrl: string;
  tokenUrl: string;
  apiRootUrl: string;
}

export interface AvatarConfig {
  /** AVATAR_MAX_BYTES: the largest image accepted (2 MiB by default). */
  maxBytes: number;
  /** UPLOAD_URL_TTL_SECONDS: how long a signed upload URL works (5 minutes by default). */
  uploadUrlTtlSeconds: number;
  /**
   * UPLOAD_SIGNING_KEY: the HMAC key of the local store's upload URLs (32+ characters).
   * null: a random key made once and kept in the database (server_secrets), shared by every process.
   */
  signingKey: string | null;
  /** S3_BUCKET and the rest: an S3-compatible bucket; null stores images under DATA_DIR (or in memory). */
  s3: S3Config | null;
}

export interface S3Config {
  bucket: string;
  /** S3_REGION; required (use any value, e.g. us-east-1, for servers that ignore it). */
  region: string;
  /** S3_ENDPOINT: an S3-compatible server (MinIO, R2, ...); null is AWS itself. */
  endpoint: string | null;
  /** S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: both or neither (neither: the AWS SDK's default credential chain). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  /** S3_FORCE_PATH_STYLE: http://endpoint/bucket/key instead of http://bucket.endpoint/key; true by default with S3_ENDPOINT. */
  forcePathStyle: boolean;
}

export interface MailConfig {
  /** SMTP_URL: smtp:// (STARTTLS when offered) or smtps:// (TLS from the start), optional user:password; nodemailer reads it. */
  smtpUrl: string;
  /** MAIL_FROM: the sender, and the ORGANIZER of the invitations. */
  from: { name: string | null; address: string };
  /** REMINDER_MINUTES: minutes before a confirmed booking's start when its client and hosts are reminded, largest first. */
  reminderMinutes: number[];
  /** nodemailer's timeouts: the TCP/TLS connection, the server's greeting, and silence on an open socket. */
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  /** The most one mail may take end to end; past it the connection is closed and the mail retried (and the lease is built on it). */
  sendTimeoutMs: number;
  /** How often each process looks for due mail; the first retry's delay (later ones as webhooks: x6, x24, ...). */
  pollMs: number;
  retryBaseMs: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

function readUrl(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${url.protocol}`);
  }
  return raw;
}

/** REDIS_URL: redis:// or rediss:// (TLS) with a host; user, password and database number as ioredis reads them. */
function readRedisUrl(env: Env): string | null {
  const url = readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  if (url !== null && new URL(url).hostname === '') throw new ConfigError('REDIS_URL', 'must name a host, e.g. redis://127.0.0.1:6379');
  return url;
}

function readRedisKeyPrefix(env: Env): string {
  const raw = env.REDIS_KEY_PREFIX;
  if (raw === undefined || raw === '') return 'booking:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(raw)) throw new ConfigError('REDIS_KEY_PREFIX', 'must be 1 to 64 letters, digits or : _ . -');
  return raw;
}

/**
 * Behind a load balancer every request comes from the balancer's address, so
 * per-address rate limits need the client's address from X-Forwarded-For:
 * `true` (trust any), a hop count (`1`), or the proxies' addresses/CIDRs
 * (`10.0.0.1,10.1.0.0/16`).
 */
function readTrustProxy(env: Env): boolean | number | string {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === '') return false;
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (/^\d+$/.test(raw)) return readInt(env, 'TRUST_PROXY', 0, 1, 100);
  const parts = raw.split(',').map((p) => p.trim());
  for (const part of parts) {
    const [address, bits, extra] = part.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new ConfigError('TRUST_PROXY', `must be true, false, a hop count or addresses/CIDRs separated by commas, got ${JSON.stringify(part)}`);
    }
  }
  return parts.join(',');
}

/**
 * ENCRYPTION_KEY: exactly 32 bytes, written as 64 hex characters or as base64
 * (`openssl rand -base64 32`, `openssl rand -hex 32`). Anything else stops the
 * start: a truncated key would silently encrypt with a weaker one.
 */
function readEncryptionKey(env: Env): Buffer | null {
  const raw = env.ENCRYPTION_KEY?.trim();
  if (raw === undefined || raw === '') return null;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) {
    const key = Buffer.from(raw, /[-_]/.test(raw) ? 'base64url' : 'base64');
    if (key.length === 32) return key;
  }
  throw new ConfigError('ENCRYPTION_KEY', 'must be 32 bytes written as 64 hex characters or as base64 (try `openssl rand -base64 32`)');
}

function readGoogle(env: Env): GoogleConfig {
  const http = ['http:', 'https:'];
  const apiRootUrl = readUrl(env, 'GOOGLE_API_ROOT_URL', http) ?? 'https://www.googleapis.com/';
  return {
    clientId: env.GOOGLE_CLIENT_ID?.trim() || null,
    clientSecret: env.GOOGLE_CLIENT_SECRET?.trim() || null,
    redirectUri: readUrl(env, 'GOOGLE_REDIRECT_URI', http),
    authUrl: readUrl(env, 'GOOGLE_AUTH_URL', http) ?? 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: readUrl(env, 'GOOGLE_TOKEN_URL', http) ?? 'https://oauth2.googleapis.com/token',
    // The client library appends "/calendar/v3/...": one trailing slash, whatever was written.
    apiRootUrl: `${apiRootUrl.replace(/\/+$/, '')}/`,
  };
}

/** SMTP_URL: smtp:// or smtps:// with a host; user:password (percent-encoded) optional. */
function readSmtpUrl(env: Env): string | null {
  const url = readUrl(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  if (url === null) return null;
  const parsed = new URL(url);
  if (parsed.hostname === '') throw new ConfigError('SMTP_URL', 'must name a host, e.g. smtp://user:password@smtp.example.com:587');
  if (parsed.pathname !== '' && parsed.pathname !== '/') throw new ConfigError('SMTP_URL', 'must not have a path');
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    throw new ConfigError('SMTP_URL', 'has a user or password that is not valid percent-encoding');
  }
  return url;
}

// One address: local@domain with no spaces, quotes, angle brackets or control characters.
const MAIL_ADDRESS = /^[^\s@<>"(),;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** MAIL_FROM: `bookings@example.com` or `Example Clinic <bookings@example.com>`. */
export function readMailFrom(raw: string): { name: string | null; address: string } | null {
  const value = raw.trim();
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  const named = /^(.*?)\s*<([^<>]+)>$/.exec(value);
  const name = named ? named[1]!.trim().replace(/^"(.*)"$/, '$1') : null;
  const address = named ? named[2]!.trim() : value;
  if (!MAIL_ADDRESS.test(address) || (name !== null && /["<>]/.test(name))) return null;
  return { name: name || null, address };
}

/** REMINDER_MINUTES: `1440`, `1440,60`, or `none`; each a whole number of minutes from 1 to a year. */
function readReminderMinutes(env: Env): number[] {
  const raw = env.REMINDER_MINUTES?.trim();
  if (raw === undefined || raw === '') return [1440];
  if (raw.toLowerCase() === 'none') return [];
  const values = raw.split(',').map((part) => part.trim());
  const minutes = values.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (minutes.some((m) => !Number.isInteger(m) || m < 1 || m > 525_600)) {
    throw new ConfigError('REMINDER_MINUTES', `must be whole minutes from 1 to 525600 separated by commas (or none), got ${JSON.stringify(raw)}`);
  }
  return [...new Set(minutes)].sort((a, b) => b - a);
}

function readMail(env: Env): MailConfig | null {
  const smtpUrl = readSmtpUrl(env);
  const rawFrom = env.MAIL_FROM?.trim();
  const from = rawFrom ? readMailFrom(rawFrom) : null;
  if (rawFrom && from === null) throw new ConfigError('MAIL_FROM', 'must be an address, optionally with a name: "Example Clinic <bookings@example.com>"');
  const reminderMinutes = readReminderMinutes(env);
  const timeouts = {
    connectionTimeoutMs: readInt(env, 'SMTP_CONNECTION_TIMEOUT_MS', 10_000, 100, 120_000),
    greetingTimeoutMs: readInt(env, 'SMTP_GREETING_TIMEOUT_MS', 10_000, 100, 120_000),
    socketTimeoutMs: readInt(env, 'SMTP_SOCKET_TIMEOUT_MS', 30_000, 100, 600_000),
  };
  const sendTimeoutMs = readInt(env, 'MAIL_SEND_TIMEOUT_MS', 60_000, 100, 600_000);
  const pollMs = readInt(env, 'MAIL_POLL_MS', 1000, 10, 3_600_000);
  const retryBaseMs = readInt(env, 'MAIL_RETRY_BASE_MS', 5000, 1, 3_600_000);
  if (smtpUrl === null) return null;
  if (from === null) throw new ConfigError('MAIL_FROM', 'is required with SMTP_URL: the address mail is sent from');
  return { smtpUrl, from, reminderMinutes, ...timeouts, sendTimeoutMs, pollMs, retryBaseMs };
}

/** S3_*: all or nothing around S3_BUCKET, so a half-configured bucket stops the start instead of falling back to disk. */
function readS3(env: Env): S3Config | null {
  const names = ['S3_BUCKET', 'S3_REGION', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'];
  const bucket = env.S3_BUCKET?.trim() || null;
  if (bucket === null) {
    const stray = names.find((name) => env[name]?.trim());
    if (stray) throw new ConfigError('S3_BUCKET', `is required when ${stray} is set`);
    return null;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError('S3_BUCKET', 'must be a bucket name: 3 to 63 lowercase letters, digits, dots or hyphens');
  const region = env.S3_REGION?.trim();
  if (!region) throw new ConfigError('S3_REGION', 'is required with S3_BUCKET (e.g. us-east-1)');
  const endpoint = readUrl(env, 'S3_ENDPOINT', ['http:', 'https:']);
  const accessKeyId = env.S3_ACCESS_KEY_ID?.trim() || null;
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY?.trim() || null;
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new ConfigError(accessKeyId === null ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together');
  }
  return {
    bucket,
    region,
    endpoint: endpoint?.replace(/\/+$/, '') ?? null,
    credentials: accessKeyId !== null && secretAccessKey !== null ? { accessKeyId, secretAccessKey } : null,
    forcePathStyle: readBool(env, 'S3_FORCE_PATH_STYLE', endpoint !== null),
  };
}

function readAvatars(env: Env): AvatarConfig {
  const signingKey = env.UPLOAD_SIGNING_KEY?.trim() || null;
  if (signingKey !== null && signingKey.length < 32) throw new ConfigError('UPLOAD_SIGNING_KEY', 'must be at least 32 characters long (try `openssl rand -base64 32`)');
  return {
    maxBytes: readInt(env, 'AVATAR_MAX_BYTES', 2 * 1024 * 1024, 1024, 20 * 1024 * 1024),
    uploadUrlTtlSeconds: readInt(env, 'UPLOAD_URL_TTL_SECONDS', 300, 10, 3600),
    signingKey,
    s3: readS3(env),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const adminApiKey = env.ADMIN_API_KEY?.trim() || null;
  if (adminApiKey !== null && adminApiKey.length < 16) {
    throw new ConfigError('ADMIN_API_KEY', 'must be at least 16 characters long');
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const port = readInt(env, 'PORT', 3000, 0, 65535);
  // PUBLIC_URL is the old name of PUBLIC_BASE_URL, still read.
  const publicBaseUrl = readUrl(env, 'PUBLIC_BASE_URL', ['http:', 'https:']) ?? readUrl(env, 'PUBLIC_URL', ['http:', 'https:']);
  const requestTimeoutMs = readInt(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 30_000);
  const rateLimitPerMinute = readInt(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000);
  const openSignup = readBool(env, 'OPEN_SIGNUP', false);
  const google = readGoogle(env);
  const googleSignIn = env.GOOGLE_SIGN_IN === undefined || env.GOOGLE_SIGN_IN.trim() === '' ? null : readBool(env, 'GOOGLE_SIGN_IN', true);
  return {
    port,
    host,
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: readRedisUrl(env),
    redisKeyPrefix: readRedisKeyPrefix(env),
    dataDir: env.DATA_DIR?.trim() || './.data',
    embeddedSharedBuffersMb: readInt(env, 'EMBEDDED_SHARED_BUFFERS_MB', 8, 1, 4096), // db/embedded.ts's DEFAULT_SHARED_BUFFERS_MB
    adminApiKey,
    openSignup,
    holdTtlSeconds: readInt(env, 'HOLD_TTL_SECONDS', 1800, 1, 7 * 24 * 3600),
    minNoticeMinutes: readInt(env, 'MIN_NOTICE_MINUTES', 1440, 0, 365 * 24 * 60),
    expirySweepSeconds: readInt(env, 'EXPIRY_SWEEP_SECONDS', 30, 1, 3600),
    loginKeyTtlSeconds: readInt(env, 'LOGIN_KEY_TTL_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600),
    loginMaxFailures: readInt(env, 'LOGIN_MAX_FAILURES', 10, 1, 10_000),
    loginFailureWindowSeconds: readInt(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 900, 1, 7 * 24 * 3600),
    maxApiKeysPerUser: readInt(env, 'MAX_API_KEYS_PER_USER', 50, 1, 10_000),
    maxWebhooksPerUser: readInt(env, 'MAX_WEBHOOKS_PER_USER', 20, 1, 10_000),
    maxBookingsPerClientPerProvider: readInt(env, 'MAX_BOOKINGS_PER_CLIENT_PER_PROVIDER', 20, 1, 100_000),
    maxBookingsPerClient: readInt(env, 'MAX_BOOKINGS_PER_CLIENT', 50, 1, 100_000),
    bookingHorizonDays: readInt(env, 'BOOKING_HORIZON_DAYS', 365, 1, 3650),
    requestTimeoutMs,
    headersTimeoutMs: readInt(env, 'HEADERS_TIMEOUT_MS', Math.min(10_000, requestTimeoutMs), 100, requestTimeoutMs),
    publicBaseUrl: (publicBaseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, ''),
    mail: readMail(env),
    encryptionKey: readEncryptionKey(env),
    calendarSyncSeconds: readInt(env, 'CALENDAR_SYNC_SECONDS', 300, 1, 7 * 24 * 3600),
    calendarAllowPrivateUrls: readBool(env, 'CALENDAR_ALLOW_PRIVATE_URLS', false),
    calendarWritePollMs: readInt(env, 'CALENDAR_WRITE_POLL_MS', 1000, 10, 3_600_000),
    calendarWriteRetryBaseMs: readInt(env, 'CALENDAR_WRITE_RETRY_BASE_MS', 5000, 1, 3_600_000),
    calendarWriteTimeoutMs: readInt(env, 'CALENDAR_WRITE_TIMEOUT_MS', 10_000, 100, 120_000),
    google,
    oidcIssuers: readOidcIssuers(env, { openSignup, google, googleSignIn }),
    logLevel,
    databasePoolSize: readInt(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    pgPreparedStatements: readBool(env, 'PG_PREPARED_STATEMENTS', true),
    maxHoldsPerClient: readInt(env, 'MAX_HOLDS_PER_CLIENT', 5, 1, 10_000),
    rateLimitPerMinute,
    rateLimitBurst: readInt(env, 'RATE_LIMIT_BURST', Math.max(1, rateLimitPerMinute), 1, 1_000_000),
    metricsEnabled: readBool(env, 'METRICS_ENABLED', true),
    fastSlotReads: readBool(env, 'FAST_SLOT_READS', true),
    trustProxy: readTrustProxy(env),
    webhookAllowPrivateUrls: readBool(env, 'WEBHOOK_ALLOW_PRIVATE_URLS', false),
    webhookRetryBaseMs: readInt(env, 'WEBHOOK_RETRY_BASE_MS', 5000, 1, 3_600_000),
    webhookPollMs: readInt(env, 'WEBHOOK_POLL_MS', 1000, 10, 3_600_000),
    webhookTimeoutMs: readInt(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    avatars: readAvatars(env),
  };
}
