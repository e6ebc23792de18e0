// The SSRF guard: addresses and ports a webhook may never reach.
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
  // Local-use NAT64 (RFC 8215): translated inside a network, never on the internet.
  ['64:ff9b:1::', 48],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** The 16 bytes of a valid IPv6 address (a trailing dotted quad and a zone allowed). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 255];
  });
}

const zeros = (bytes: number[], from: number, to: number) =>
  bytes.slice(from, to).every((byte) => byte === 0);

/**
 * The IPv4 address an IPv6 address carries, by the form that embeds it: IPv4-mapped (::ffff:0:0/96), SIIT
 * (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). A connection to one of
 * these can reach that IPv4 address, so it is judged by it.
 */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  const ipv4 = (from: number) => bytes.slice(from, from + 4).join('.');
  const [b0, b1, b2, b3, , , , , b8, b9, b10, b11] = bytes;
  if (zeros(bytes, 0, 10) && b10 === 0xff && b11 === 0xff) return ipv4(12);
  if (zeros(bytes, 0, 8) && b8 === 0xff && b9 === 0xff && b10 === 0 && b11 === 0) return ipv4(12);
  if (zeros(bytes, 0, 12)) return ipv4(12);
  if (b0 === 0 && b1 === 0x64 && b2 === 0xff && b3 === 0x9b && zeros(bytes, 4, 12)) return ipv4(12);
  if (b0 === 0x20 && b1 === 0x02) return ipv4(2);
  return undefined;
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

/**
 * The ports a webhook may be delivered to unless private networks are allowed: those of https services, so that
 * the delivery log cannot be used to find which ports of a host are open.
 */
export const WEBHOOK_PORTS: ReadonlySet<number> = new Set([443, 8443]);

/** The port a URL connects to. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
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
  if (!WEBHOOK_PORTS.has(portOf(parsed))) return `must use port ${[...WEBHOOK_PORTS].join(' or ')}`;
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
