/**
 * Names for the elements of a ladder diagram (its columns). An element is known by the address and
 * port of its listener: given by the application (`set`: the demo names Alice, Bob, Carol and the
 * two proxies; serve names its own listeners), or learned from the top Via of the requests it sends
 * (its sent-by host, `client.atlanta.example.com`). A connection an element dialed comes from an
 * ephemeral port; the Via of the first request on it (sent-by port = the element's listener) ties
 * that port to the element, so the responses coming back land in the same column.
 */
import type { CapturedMessage, Endpoint } from './capture-trace.js';

const key = (address: string, port: number): string => `${address}:${port}`;
const isIp = (host: string): boolean => /^[\d.]+$/.test(host) || host.includes(':');
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

export class ElementNames {
  private readonly given = new Map<string, string>();
  /** Listeners on 0.0.0.0 / :: are named by port alone. */
  private readonly givenPort = new Map<number, string>();
  /** An ephemeral end → the listener its Via named, and the Via host (resolved when asked, so a name given later applies). */
  private readonly learned = new Map<string, { address: string; port: number; host: string }>();

  /** Names the element listening at `address:port` (`0.0.0.0` or `::`: any address). */
  set(address: string, port: number, name: string): void {
    if (UNSPECIFIED.has(address)) this.givenPort.set(port, name);
    else this.given.set(key(address, port), name);
  }

  /** The names given with `set`, for listings. */
  get known(): ReadonlyArray<{ address: string; port: number; name: string }> {
    const out: Array<{ address: string; port: number; name: string }> = [];
    for (const [k, name] of this.given) {
      const i = k.lastIndexOf(':');
      out.push({ address: k.slice(0, i), port: Number(k.slice(i + 1)), name });
    }
    for (const [port, name] of this.givenPort) out.push({ address: '0.0.0.0', port, name });
    return out;
  }

  /** Learns the sender of a request from its top Via; call before `nameOf` for that message. */
  learn(m: CapturedMessage): void {
    if (!m.isRequest || m.viaSentBy === undefined) return;
    const src = key(m.src.address, m.src.port);
    if (this.given.has(src) || this.givenPort.has(m.src.port)) return;
    const via = m.viaSentBy;
    const viaPort = via.port ?? (m.protocol === 'TLS' || m.protocol === 'WSS' ? 5061 : 5060);
    const known = this.learned.get(src);
    // The same sender names itself the same way request after request: nothing new to keep.
    if (known !== undefined && known.port === viaPort && known.host === via.host) return;
    if (this.learned.size > 10_000) this.learned.clear();
    this.learned.set(src, { address: m.src.address, port: viaPort, host: via.host });
  }

  /** The element at `ep`: its given name, a learned one, or `address:port`. */
  nameOf(ep: Endpoint): string {
    const k = key(ep.address, ep.port);
    const given = this.given.get(k) ?? this.givenPort.get(ep.port);
    if (given !== undefined) return given;
    const l = this.learned.get(k);
    if (l !== undefined) return this.given.get(key(l.address, l.port)) ?? this.givenPort.get(l.port) ?? (isIp(l.host) ? this.plain(l.address, l.port) : l.host);
    return this.plain(ep.address, ep.port);
  }

  private plain(address: string, port: number): string {
    return address.includes(':') ? `[${address}]:${port}` : key(address, port);
  }
}
