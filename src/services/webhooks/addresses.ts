import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DomainError, invalid } from '../../domain/errors.js';

/** Cloud metadata services: never a webhook's target, whatever the configuration. */
const METADATA = new BlockList();
METADATA.addAddress('169.254.169.254');
METADATA.addAddress('169.254.170.2'); // AWS ECS task metadata
METADATA.addAddress('100.100.100.200'); // Alibaba Cloud
METADATA.addAddress('fd00:ec2::254', 'ipv6'); // AWS over IPv6

/** Loopback, private, link-local, shared and unspecified addresses: refused unless private targets are allowed. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** Why an address may not be a webhook's target, or undefined when it may. */
export function refusal(address: string, allowPrivate: boolean): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (METADATA.check(ip, family)) return `${address} is a cloud metadata address`;
  if (!allowPrivate && PRIVATE.check(ip, family))
    return `${address} is a loopback, private or link-local address`;
  return undefined;
}

/**
 * A DNS lookup for outgoing webhook connections that refuses forbidden addresses: the check
 * happens where the connection is made, so a name that resolved to a public address when the
 * endpoint was saved cannot be pointed at an internal one later (DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const refused = addresses.map((a) => refusal(a.address, allowPrivate)).find(Boolean);
      if (refused) return callback(new Error(`refused: ${refused}`), '', 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Checks an endpoint URL when it is saved: http(s), and a host that resolves to allowed addresses only. */
export async function checkEndpointUrl(url: string, allowPrivate: boolean): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('url', 'is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalid('url', 'must be http or https');
  if (parsed.username || parsed.password) throw invalid('url', 'may not hold credentials');
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve) =>
        dnsLookup(host, { all: true }, (error, found) => resolve(error ? [] : found.map((a) => a.address))),
      );
  if (addresses.length === 0) throw invalid('url', `its host ${host} does not resolve`);
  const refused = addresses.map((a) => refusal(a, allowPrivate)).find(Boolean);
  if (refused)
    throw new DomainError('validation', `url: refused, ${refused}`, {
      fields: [{ field: 'url', message: `refused: ${refused}` }],
    });
}
