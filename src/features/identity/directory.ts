import { listProviders as listProviderRows, type ProviderKind, type UserRecord } from '../../db/users-repo.js';
import { invalidField } from '../../domain/errors.js';
import { avatarUrlOf } from './avatars.js';
import { decodeTextCursor, encodeTextCursor, toPage, type Page } from '../../platform/pagination.js';

/** A provider as anyone with a key may see it: no email, nothing private. */
export interface ProviderView {
  id: string;
  name: string;
  kind: ProviderKind;
  timeZone: string;
  /** Only when the provider has a profile image. */
  avatarUrl?: string;
}

const toView = (publicBaseUrl: string) => (u: UserRecord): ProviderView => {
  const avatarUrl = avatarUrlOf(publicBaseUrl, u.avatar);
  return { id: u.id, name: u.name, kind: u.kind, timeZone: u.timeZone, ...(avatarUrl !== undefined ? { avatarUrl } : {}) };
};

/** GET /providers: active providers by name; `q` matches the name case-insensitively. */
export async function listProviders(
  db: Parameters<typeof listProviderRows>[0],
  query: { kind?: ProviderKind; q?: string; limit: number; cursor?: string },
  publicBaseUrl: string,
): Promise<Page<ProviderView>> {
  const after = decodeTextCursor(query.cursor);
  const text = query.q?.trim();
  if (query.q !== undefined && text === '') throw invalidField('q', 'must not be blank');
  const rows = await listProviderRows(db, {
    kind: query.kind ?? null,
    text: text ?? null,
    after: after ? { name: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit, toView(publicBaseUrl), (u) => encodeTextCursor(u.name, u.id));
}
