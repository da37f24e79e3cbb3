/**
 * One schema for the environment. Every variable is read and checked here, once,
 * at start: a bad value stops the process with a message naming the variable,
 * instead of surfacing later as a confusing runtime error.
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string; // 'memory' keeps the embedded database in memory
  adminApiKey: string | null;
  openSignup: boolean;
  holdTtlSeconds: number;
  minNoticeMinutes: number;
  expirySweepSeconds: number;
  loginKeyTtlSeconds: number;
  publicUrl: string | null;
  logLevel: string;
  databasePoolSize: number;
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const adminApiKey = env.ADMIN_API_KEY?.trim() || null;
  if (adminApiKey !== null && adminApiKey.length < 16) {
    throw new ConfigError('ADMIN_API_KEY', 'must be at least 16 characters long');
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const publicUrl = readUrl(env, 'PUBLIC_URL', ['http:', 'https:']);
  return {
    port: readInt(env, 'PORT', 3000, 0, 65535),
    host,
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: env.DATA_DIR?.trim() || './.data',
    adminApiKey,
    openSignup: readBool(env, 'OPEN_SIGNUP', false),
    holdTtlSeconds: readInt(env, 'HOLD_TTL_SECONDS', 1800, 1, 7 * 24 * 3600),
    minNoticeMinutes: readInt(env, 'MIN_NOTICE_MINUTES', 1440, 0, 365 * 24 * 60),
    expirySweepSeconds: readInt(env, 'EXPIRY_SWEEP_SECONDS', 30, 1, 3600),
    loginKeyTtlSeconds: readInt(env, 'LOGIN_KEY_TTL_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600),
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    logLevel,
    databasePoolSize: readInt(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
  };
}
