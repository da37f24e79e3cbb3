import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { requireKey, type ObjectHead, type PutRequest, type RemoteObjectStore, type SignedPut } from './object-store.js';

export interface S3StoreOptions {
  bucket: string;
  region: string;
  endpoint: string | null;
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  forcePathStyle: boolean;
}

/**
 * An S3-compatible bucket. Upload URLs are SigV4 presigned PUTs with
 * Content-Type and Content-Length among the signed headers, so S3 refuses
 * another type or length (403 SignatureDoesNotMatch). The signing time is the
 * caller's `now` (S3 checks X-Amz-Date against its own clock, so in production
 * that is the system clock).
 */
export function s3ObjectStore(options: S3StoreOptions): RemoteObjectStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // The SDK would otherwise sign a CRC32 of the empty body into a presigned PUT, which the real upload cannot match.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = options.bucket;
  return {
    kind: 's3',
    async signPut({ key, contentType, size, now, ttlSeconds }: PutRequest): Promise<SignedPut> {
      const command = new PutObjectCommand({ Bucket, Key: requireKey(key), ContentType: contentType, ContentLength: size });
      const url = await getSignedUrl(client, command, {
        expiresIn: ttlSeconds,
        signingDate: new Date(now),
        signableHeaders: new Set(['content-type', 'content-length']),
      });
      // Content-Length is set by any HTTP client from the body; it is listed so the caller knows it is signed.
      return { url, method: 'PUT', headers: { 'Content-Type': contentType, 'Content-Length': String(size) }, expiresAt: now + ttlSeconds * 1000 };
    },
    async head(key: string, firstBytes: number): Promise<ObjectHead | null> {
      try {
        // A ranged GET, not HEAD: one request gives the size (Content-Range), the stored type and the first bytes.
        const object = await client.send(new GetObjectCommand({ Bucket, Key: requireKey(key), Range: `bytes=0-${firstBytes - 1}` }));
        const bytes = Buffer.from(await object.Body!.transformToByteArray());
        const total = /\/(\d+)$/.exec(object.ContentRange ?? '')?.[1];
        return {
          size: total !== undefined ? Number(total) : (object.ContentLength ?? bytes.length),
          contentType: object.ContentType ?? null,
          firstBytes: bytes.subarray(0, firstBytes),
        };
      } catch (error) {
        if (error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404)) return null;
        // An empty object has no byte 0: S3 answers 416 to the range.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416) return { size: 0, contentType: null, firstBytes: Buffer.alloc(0) };
        throw error;
      }
    },
    async delete(key: string): Promise<void> {
      await client.send(new DeleteObjectCommand({ Bucket, Key: requireKey(key) }));
    },
    signGet(key: string, now: number, ttlSeconds: number): Promise<string> {
      return getSignedUrl(client, new GetObjectCommand({ Bucket, Key: requireKey(key) }), { expiresIn: ttlSeconds, signingDate: new Date(now) });
    },
  };
}
