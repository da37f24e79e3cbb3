/**
 * Blobs under string keys, uploaded by clients straight to the store through a
 * signed URL, so large bodies never pass through the API's JSON pipeline.
 * Two implementations: the local store (this server's own signed URLs, bytes
 * under a directory or in memory) and an S3-compatible bucket (presigned URLs).
 *
 *   const put = await store.signPut({ key: 'a/b', contentType: 'image/png', size: 1234, now, ttlSeconds: 300 });
 *   // the client: PUT put.url with put.headers and exactly 1234 bytes, before put.expiresAt
 *   const head = await store.head('a/b', 16); // { size: 1234, contentType: 'image/png', firstBytes }
 */
export interface SignedPut {
  url: string;
  method: 'PUT';
  /** Headers the client must send as they are: they are part of the signature. */
  headers: Record<string, string>;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface PutRequest {
  key: string;
  contentType: string;
  /** Exact length in bytes. */
  size: number;
  /** Epoch milliseconds: the signature's time; the URL works for ttlSeconds after it. */
  now: number;
  ttlSeconds: number;
}

export interface ObjectHead {
  size: number;
  /** As stored (the S3 object's Content-Type); null when the store keeps none. */
  contentType: string | null;
  /** The object's first bytes (up to the number asked for), to tell its real type. */
  firstBytes: Buffer;
}

interface CommonStore {
  signPut(request: PutRequest): Promise<SignedPut>;
  /** null when nothing is stored under the key. */
  head(key: string, firstBytes: number): Promise<ObjectHead | null>;
  /** Removes the object; nothing happens when there is none. */
  delete(key: string): Promise<void>;
}

/** The local store: this server receives the PUT itself (verifyPut, then put) and serves the bytes (get). */
export interface LocalObjectStore extends CommonStore {
  kind: 'local';
  /** Checks a signed URL's query against the key and the clock. */
  verifyPut(key: string, query: Record<string, unknown>, now: number): PutVerdict;
  /** Stores the bytes under a key that holds nothing yet; false (nothing written) when it already holds something. */
  putNew(key: string, bytes: Buffer): Promise<boolean>;
  get(key: string): Promise<Buffer | null>;
}

/** A bucket elsewhere: the client PUTs to it, and reads through a short-lived signed GET. */
export interface RemoteObjectStore extends CommonStore {
  kind: 's3';
  signGet(key: string, now: number, ttlSeconds: number): Promise<string>;
}

export type ObjectStore = LocalObjectStore | RemoteObjectStore;

export type PutVerdict =
  | { ok: true; contentType: string; size: number; expiresAt: number }
  | { ok: false; reason: 'bad_signature' | 'expired' };

/** Keys are path-like but never climb out: letters, digits, _ and -, in segments joined by '/'. */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{1,100}(\/[A-Za-z0-9_-]{1,100}){0,4}$/;

export function requireKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`not a valid object key: ${JSON.stringify(key)}`);
  return key;
}
