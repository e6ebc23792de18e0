import dns from 'node:dns';
import net from 'node:net';

/**
 * Addresses a webhook may never reach (SSRF): this host, private networks, link-local (cloud metadata at
 * 169.254.169.254 and fd00:ec2::254 among them), and ranges that are not unicast on the internet.
 */
const FORBIDDEN = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, compatible ::a.b.c.d). */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1] as string, 16);
  const low = Number.parseInt(hex[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True when a webhook may not be delivered to this IP address. */
export function isForbiddenAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family !== 6) return true;
  const ipv4 = embeddedIpv4(address);
  if (ipv4 !== undefined) return FORBIDDEN.check(ipv4, 'ipv4');
  return FORBIDDEN.check(address, 'ipv6');
}

/** A URL's host as an IP literal (brackets of IPv6 removed), or undefined for a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) ? bare : undefined;
}

/** Why a webhook URL is refused (to be shown to the admin), or undefined when it is acceptable. */
export function urlProblem(url: string, allowPrivateNetworks: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  const protocols = allowPrivateNetworks ? ['https:', 'http:'] : ['https:'];
  if (!protocols.includes(parsed.protocol))
    return `must use ${allowPrivateNetworks ? 'https or http' : 'https'}`;
  if (parsed.username || parsed.password) return 'must not hold a user name or password';
  if (parsed.hash) return 'must not have a fragment';
  if (allowPrivateNetworks) return undefined;
  const literal = ipLiteral(parsed.hostname);
  if (literal !== undefined) {
    return isForbiddenAddress(literal)
      ? 'must not point to a loopback, private or link-local address'
      : undefined;
  }
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    return 'must name a host on the internet';
  }
  return undefined;
}

/** The addresses a name resolves to (all of them), or [] when it does not resolve within `timeoutMs`. */
export async function resolveAll(hostname: string, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs);
  });
  try {
    return await Promise.race([
      dns.promises
        .lookup(hostname, { all: true, verbatim: true })
        .then((entries) => entries.map((entry) => entry.address))
        .catch(() => []),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class ForbiddenAddressError extends Error {}

/**
 * A `lookup` for http(s).request that resolves the name, refuses it when any of its addresses is forbidden, and
 * answers the checked address: the connection goes to exactly the address that was checked (no second lookup that
 * a rebinding DNS could answer differently).
 */
export function guardedLookup(allowPrivateNetworks: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, verbatim: true }, (error, entries) => {
      if (error) return callback(error, '', 0);
      const allowed = allowPrivateNetworks
        ? entries
        : entries.some((entry) => isForbiddenAddress(entry.address))
          ? []
          : entries;
      const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
      const chosen = allowed.find((entry) => wanted === undefined || entry.family === wanted) ?? allowed[0];
      if (!chosen) {
        return callback(
          new ForbiddenAddressError(`${hostname} resolves to a loopback, private or link-local address`),
          '',
          0,
        );
      }
      if (options.all) {
        (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, [chosen]);
        return;
      }
      callback(null, chosen.address, chosen.family);
    });
  };
}
