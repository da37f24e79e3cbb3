import { describe, expect, it } from 'vitest';
import { KnownVersions } from '../../src/platform/change-feed/known-versions.js';

describe('KnownVersions', () => {
  const healthy = () => new KnownVersions(() => true);

  it('keeps a version read from the database', () => {
    const known = healthy();
    expect(known.known('a')).toBeUndefined();
    known.learn('a', known.startRead(), 3);
    expect(known.known('a')).toBe(3);
  });

  it('a read in flight when a delivery arrives is not kept: the late read cannot overwrite the news', () => {
    const known = healthy();
    known.learn('a', known.startRead(), 3);
    const token = known.startRead(); // reads 3 ...
    known.delivered('a'); // ... while version 4 is delivered
    known.learn('a', token, 3);
    expect(known.known('a')).toBeUndefined();
    known.learn('a', known.startRead(), 4); // the next read, after the delivery, is kept
    expect(known.known('a')).toBe(4);
  });

  it('a delivery for another key does not stop a read from being kept', () => {
    const known = healthy();
    const token = known.startRead();
    known.delivered('b');
    known.learn('a', token, 1);
    expect(known.known('a')).toBe(1);
  });

  it('a local transaction sets the key aside until it settles, and no read is kept meanwhile', () => {
    const known = healthy();
    known.learn('a', known.startRead(), 3);
    known.touching('a');
    expect(known.known('a')).toBeUndefined();
    known.learn('a', known.startRead(), 3); // a read during the transaction sees the old version
    expect(known.known('a')).toBeUndefined();
    known.settled('a');
    expect(known.known('a')).toBeUndefined(); // forgotten, not back to 3
    known.learn('a', known.startRead(), 4);
    expect(known.known('a')).toBe(4);
  });

  it('a read started during a transaction and ending after its commit is not kept', () => {
    const known = healthy();
    known.touching('a');
    const token = known.startRead();
    known.settled('a');
    known.learn('a', token, 3);
    expect(known.known('a')).toBeUndefined();
  });

  it('two transactions on one key: aside until both settle (a rollback settles too)', () => {
    const known = healthy();
    known.touching('a');
    known.touching('a');
    known.settled('a'); // rolled back
    known.learn('a', known.startRead(), 5);
    expect(known.known('a')).toBeUndefined();
    known.settled('a');
    known.learn('a', known.startRead(), 5);
    expect(known.known('a')).toBe(5);
  });

  it('says nothing while the feed is not trusted, and again once it is', () => {
    let trusted = true;
    const known = new KnownVersions(() => trusted);
    known.learn('a', known.startRead(), 2);
    trusted = false;
    expect(known.known('a')).toBeUndefined();
    trusted = true;
    expect(known.known('a')).toBe(2);
  });

  it('reset forgets everything, reads in flight included', () => {
    const known = healthy();
    known.learn('a', known.startRead(), 2);
    const token = known.startRead();
    known.reset();
    expect(known.known('a')).toBeUndefined();
    known.learn('b', token, 1);
    expect(known.known('b')).toBeUndefined();
  });

  it('stays bounded: past maxKeys it starts over', () => {
    const known = new KnownVersions(() => true, { maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) known.learn(key, known.startRead(), 1);
    expect(known.size).toBe(3);
    known.learn('d', known.startRead(), 1);
    expect(known.size).toBe(1);
    expect(known.known('d')).toBe(1);
  });

  it('an entry expires maxAgeMs after its read (a change the feed missed is wrong for that long at most)', () => {
    let now = 1_000;
    const known = new KnownVersions(() => true, { maxAgeMs: 500, now: () => now });
    known.learn('a', known.startRead(), 2);
    now += 500;
    expect(known.known('a')).toBe(2);
    now += 1;
    expect(known.known('a')).toBeUndefined();
  });
});
