// What the sign-in benches share: a browser (cookies, client address, redirects), client loops, percentiles.

/**
 * A browser: its cookies, and the client address it stands for. The benches' service believes X-Forwarded-For from
 * this machine (TRUST_PROXY=127.0.0.1), so each browser is a client of its own, as people are, and not several
 * attempts of one address, which the sign-in allows only two at a time.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly address: string,
    kept: Map<string, string> = new Map(),
  ) {
    for (const [name, value] of kept) this.cookies.set(name, value);
  }
  async request(url: string, form?: Record<string, string>): Promise<Response> {
    const response = await fetch(new URL(url, this.base), {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        'x-forwarded-for': this.address,
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) this.cookies.set(name.trim(), value.join('='));
    }
    return response;
  }
  /** Follows redirects within the service; answers the last page's status and text, or where it left to. */
  async follow(url: string, form?: Record<string, string>) {
    let response = await this.request(url, form);
    for (let hop = 0; hop < 10 && response.status >= 300 && response.status < 400; hop++) {
      const location = new URL(response.headers.get('location') ?? '', this.base).toString();
      await response.arrayBuffer();
      if (!location.startsWith(this.base)) return { status: response.status, html: '', leftTo: location };
      response = await this.request(location);
    }
    return { status: response.status, html: await response.text(), leftTo: undefined };
  }
}

export const percentile = (sorted: number[], p: number) =>
  Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) * 10) / 10;

/** Runs `work` in `workers` loops until `end`; answers each success's duration and the failures. */
export async function loop(workers: number, end: number, work: (worker: number) => Promise<void>) {
  const durations: number[] = [];
  let failures = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (Date.now() < end) {
        const started = performance.now();
        try {
          await work(worker);
          durations.push(performance.now() - started);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { durations: durations.sort((a, b) => a - b), failures };
}
