import { BlockList, isIP } from 'node:net';

/**
 * Addresses a user-given URL must not reach (SSRF): loopback, private,
 * link-local (cloud metadata at 169.254.169.254), unique-local, unspecified,
 * carrier-grade NAT, multicast, reserved and documentation ranges; in IPv6 also
 * the forms that carry an IPv4 address (::ffff:a.b.c.d, NAT64, 6to4), judged
 * by the address they carry.
 *
 *   isForbiddenAddress('127.0.0.1')            -> true
 *   isForbiddenAddress('::ffff:10.0.0.1')      -> true
 *   isForbiddenAddress('64:ff9b::808:808')     -> false (NAT64 of 8.8.8.8)
 *   isForbiddenAddress('93.184.215.14')        -> false
 */
const V4_FORBIDDEN: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const V6_FORBIDDEN: [string, number][] = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32] /* Teredo */, ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
];

const v4 = new BlockList();
for (const [net, bits] of V4_FORBIDDEN) v4.addSubnet(net, bits, 'ipv4');
const v6 = new BlockList();
for (const [net, bits] of V6_FORBIDDEN) v6.addSubnet(net, bits, 'ipv6');

/** The 16 bytes of an IPv6 address (any valid spelling, including a dotted IPv4 tail). */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0]!; // drop a zone id (fe80::1%eth0)
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups].map((g) => Number.parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

const v4Of = (b: number[], at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const startsWith = (b: number[], prefix: number[]) => prefix.every((x, i) => b[i] === x);

export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) return v4.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const b = ipv6Bytes(address);
  // ::ffff:a.b.c.d (IPv4-mapped), 64:ff9b::a.b.c.d (NAT64), 2002:aabb:ccdd:: (6to4): judge the IPv4 inside.
  if (startsWith(b, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) return v4.check(v4Of(b, 12), 'ipv4');
  if (startsWith(b, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return v4.check(v4Of(b, 12), 'ipv4');
  if (startsWith(b, [0x20, 0x02])) return v4.check(v4Of(b, 2), 'ipv4');
  return v6.check(address.split('%')[0]!, 'ipv6');
}
