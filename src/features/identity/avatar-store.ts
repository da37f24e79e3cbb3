import { join } from 'node:path';
import type { Config } from '../../config.js';
import { serverSecret } from '../../db/avatars-repo.js';
import type { Queryable } from '../../db/database.js';
import { localObjectStore } from '../../platform/object-store/local-store.js';
import type { ObjectStore } from '../../platform/object-store/object-store.js';

/** Where the server receives local uploads: PUT /v1/uploads/<key> (src/http/routes/avatars.ts). */
export const UPLOAD_PATH = '/v1/uploads';

/**
 * The store for profile images: the S3 bucket when S3_BUCKET is set; else
 * files under DATA_DIR/uploads, or memory with DATA_DIR=memory. Several
 * processes (PostgreSQL behind a balancer) need S3 or a DATA_DIR they all
 * share: an upload received by one is served by any.
 */
export async function openObjectStore(db: Queryable, config: Config): Promise<ObjectStore> {
  const { s3, signingKey } = config.avatars;
  // The AWS SDK (~20 MB resident, ~0.1 s to import) is loaded only by a server that uses S3.
  if (s3) return (await import('../../platform/object-store/s3-store.js')).s3ObjectStore(s3);
  return localObjectStore({
    location: config.dataDir === 'memory' ? 'memory' : join(config.dataDir, 'uploads'),
    uploadBaseUrl: `${config.publicBaseUrl}${UPLOAD_PATH}`,
    // One key for every process of the database, unless configured.
    signingKey: signingKey ?? (await serverSecret(db, 'upload-signing-key')),
  });
}
