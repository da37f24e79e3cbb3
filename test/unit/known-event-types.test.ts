import { describe, expect, it } from 'vitest';
import type { EventTypeRecord } from '../../src/db/event-types-repo.js';
import { KnownVersions } from '../../src/platform/change-feed/known-versions.js';
import { KnownEventTypes } from '../../src/features/slots/known-event-types.js';

const typeOf = (title: string, hosts = ['a', 'b']) =>
  ({ id: 'et_1', hosts: hosts.map((providerId) => ({ providerId, priority: 2, weight: 100 })), spec: { title } }) as unknown as EventTypeRecord;

/** A database of one type, counting its reads; `during` runs while a read is in flight. */
function database(initial: EventTypeRecord) {
  const db = { current: initial as EventTypeRecord | null, reads: 0, during: () => {} };
  const read = async () => {
    db.reads++;
    const seen = db.current; // the read's snapshot ...
    db.during(); // ... then something happens before it returns
    return seen;
  };
  return { db, read };
}

describe('KnownEventTypes', () => {
  function setUp(hostsKnown = true) {
    const versions = new KnownVersions(() => true);
    if (hostsKnown) for (const host of ['a', 'b']) versions.learn(host, versions.startRead(), 1);
    return { versions, types: new KnownEventTypes(versions) };
  }

  it('a type read while its hosts\' versions are known is served from memory until one of them changes', async () => {
    const { versions, types } = setUp();
    const { db, read } = database(typeOf('v1'));
    await types.find(read, 'et_1');
    expect((await types.find(read, 'et_1'))!.spec.title).toBe('v1');
    expect(db.reads).toBe(1);
    db.current = typeOf('v2');
    versions.delivered('b'); // every write of a type bumps its hosts
    versions.learn('b', versions.startRead(), 2);
    expect((await types.find(read, 'et_1'))!.spec.title).toBe('v2');
    expect(db.reads).toBe(2);
  });

  it('is not kept when a host changes while the read is in flight (the read may predate the change)', async () => {
    const { versions, types } = setUp();
    const { db, read } = database(typeOf('old'));
    // Host a changes while the type is read, and another request learns its new version meanwhile:
    // the old type must not be kept with the new version.
    db.during = () => {
      versions.delivered('a');
      versions.learn('a', versions.startRead(), 2);
    };
    await types.find(read, 'et_1');
    db.during = () => {};
    db.current = typeOf('new');
    expect((await types.find(read, 'et_1'))!.spec.title).toBe('new');
  });

  it('is not kept while a host\'s version is unknown, nor while a local change of a host is open', async () => {
    const { versions, types } = setUp(false);
    const { db, read } = database(typeOf('v1'));
    await types.find(read, 'et_1');
    await types.find(read, 'et_1');
    expect(db.reads).toBe(2);
    for (const host of ['a', 'b']) versions.learn(host, versions.startRead(), 1);
    await types.find(read, 'et_1');
    versions.touching('a');
    await types.find(read, 'et_1');
    expect(db.reads).toBe(4);
  });

  it('a deleted type (its hosts bumped) is not served from memory', async () => {
    const { versions, types } = setUp();
    const { db, read } = database(typeOf('v1'));
    await types.find(read, 'et_1');
    db.current = null;
    versions.delivered('a');
    expect(await types.find(read, 'et_1')).toBe(null);
    expect(types.size).toBe(0);
  });
});
