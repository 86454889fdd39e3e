/**
 * Who the edge answers. It listens on loopback, but a web page the developer visits can still reach
 * loopback: through DNS rebinding (a name the page's owner points at 127.0.0.1 makes the page same-origin
 * with the edge) and through cross-site "simple" requests (a form POST or `fetch(..., { mode: 'no-cors' })`
 * with `content-type: text/plain` needs no CORS preflight). So the edge answers a request only when
 *
 * - its `Host` names the local cloud: `localhost`, a `*.localhost` name, a loopback IP (127.0.0.0/8,
 *   `[::1]`), the address the edge listens on, or a name the user allowed (`--allowed-hosts`,
 *   `STEPSAGA_ALLOWED_HOSTS`); any port. Nobody can point a name under `.localhost` (reserved by RFC 6761,
 *   resolved to loopback by the browsers themselves) or an IP literal somewhere else, so none of these can
 *   be rebound; every other name can, hence the allow-list, as dev servers have done since their
 *   DNS-rebinding advisories (Vite's `server.allowedHosts`, webpack-dev-server's `allowedHosts`);
 * - and, when a browser sent it, its `Origin` is a page on one of those hosts: a page elsewhere on the web
 *   gets no service at all, so it cannot create and invoke a Lambda function with a `text/plain` POST.
 *   SDKs and the AWS CLI send no `Origin`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsResponse } from './types';

/** Extra host names, comma-separated (the same as `npm start -- --allowed-hosts`). */
export const ALLOWED_HOSTS_ENV = 'STEPSAGA_ALLOWED_HOSTS';

/** The names allowed without configuration (for messages). */
export const BUILT_IN_HOSTS = 'localhost, *.localhost, 127.0.0.1 (any 127.x.y.z) and [::1]';

/** `name`, `name:port`, `[v6]`, `[v6]:port`: nothing else (no userinfo, no path). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)(?::(\d{1,5}))?$/i;
const HOST_NAME = /^(\[[0-9a-f:.]+\]|\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)$/i;
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The host name of a `Host` header value, lower case, without port and trailing dot; undefined if malformed. */
export function hostName(header: string): string | undefined {
  const match = HOST_HEADER.exec(header.trim());
  if (!match?.[1]) return undefined;
  return match[1].toLowerCase().replace(/\.$/, '');
}

/**
 * Parses a comma- (or space-) separated list of host names: `dev.example.test`, `.example.test` (that
 * name and every name under it), `192.168.1.20`, `::1`. Ports are not part of an entry (any port is
 * allowed). Throws naming the entry that is not a host name.
 */
export function parseAllowedHosts(value: string | undefined, source = ALLOWED_HOSTS_ENV): string[] {
  const entries = (value ?? '')
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);
  return entries.map((entry) => {
    // A bare IPv6 address is written without brackets in lists; the Host header brackets it.
    const name = (entry.match(/:/g)?.length ?? 0) >= 2 && !entry.startsWith('[') ? `[${entry}]` : entry;
    if (!HOST_NAME.test(name) || name === '.')
      throw new Error(
        `${source}: "${entry}" is not a host name (expected names like dev.example.test, .example.test for a domain and its subdomains, or an IP address; no ports, no URLs)`,
      );
    return name;
  });
}

export interface HostPolicyOptions {
  /** Names the user allowed (as `parseAllowedHosts` takes them; checked and normalized here too). */
  allowedHosts?: readonly string[];
  /** The address the edge listens on; allowed unless it is a wildcard (0.0.0.0, ::). */
  listenHost?: string;
}

/** The edge's answer to "is this request for us?". */
export class HostPolicy {
  private readonly names = new Set<string>();
  private readonly domains: string[] = [];

  constructor(options: HostPolicyOptions = {}) {
    for (const entry of parseAllowedHosts((options.allowedHosts ?? []).join(','), 'allowedHosts')) {
      if (entry.startsWith('.')) {
        this.domains.push(entry);
        this.names.add(entry.slice(1));
      } else this.names.add(entry);
    }
    const listen = options.listenHost?.toLowerCase();
    if (listen && listen !== '0.0.0.0' && listen !== '::' && listen !== '[::]')
      this.names.add(listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen);
  }

  /** The names allowed on top of the built-in ones (for the start-up line). */
  get configured(): string[] {
    return [...[...this.names].filter((name) => !builtIn(name)), ...this.domains.map((d) => `*${d}`)];
  }

  /** Whether a host name (as `hostName` returns it) is the local cloud's. */
  allowsName(name: string): boolean {
    if (builtIn(name) || this.names.has(name)) return true;
    return this.domains.some((domain) => name.endsWith(domain));
  }

  /** Why the edge does not answer this request, as the 403 to send; undefined when it does. */
  refusal(headers: IncomingHttpHeaders): AwsResponse | undefined {
    const host = headers.host;
    const name = host ? hostName(host) : undefined;
    if (!host || !name)
      return forbidden(
        'InvalidHostHeader',
        `The local cloud answers only requests with a Host header naming it (${BUILT_IN_HOSTS}), got ${host ? show(host) : 'none'}.`,
      );
    if (!this.allowsName(name))
      return forbidden(
        'HostNotAllowed',
        `The local cloud does not answer requests for Host ${show(host)}: it answers ${BUILT_IN_HOSTS} (any port) and the names you allow. ` +
          `If you reach it by this name on purpose, allow it: npm start -- --allowed-hosts ${name}, or ${ALLOWED_HOSTS_ENV}=${name}.`,
      );
    const origin = headers.origin;
    if (origin !== undefined) {
      const originName = originHostName(origin);
      if (!originName || !this.allowsName(originName))
        return forbidden(
          'OriginNotAllowed',
          `The local cloud does not answer requests from web pages on other sites (Origin ${show(origin)}): ` +
            `only pages on ${BUILT_IN_HOSTS} and the names you allow. ` +
            `If that page is yours, allow its host: npm start -- --allowed-hosts <name>, or ${ALLOWED_HOSTS_ENV}=<name>.`,
        );
    }
    return undefined;
  }
}

/** localhost, `*.localhost`, loopback IPs, and the same with the `sync-` prefix. */
function builtIn(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (IPV4_LOOPBACK.test(name) || name === '[::1]') return true;
  // The `sync-` endpoint prefix AWS SDKs put before the host for StartSyncExecution and TestState
  // (unless `disableHostPrefix`): nobody can register `sync-localhost` or `sync-127.0.0.1` either.
  return name === 'sync-localhost' || (name.startsWith('sync-') && IPV4_LOOPBACK.test(name.slice(5)));
}

/** The host name of an `Origin` header (`http://localhost:5173` → `localhost`); undefined for `null`. */
function originHostName(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return hostName(url.host);
  } catch {
    return undefined;
  }
}

function show(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

function forbidden(type: string, message: string): AwsResponse {
  return {
    status: 403,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': type,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    },
    body: JSON.stringify({ __type: type, message }),
  };
}
