/**
 * The location service in Redis, shared by several nodes. One string key per AOR holds its
 * bindings as JSON (`<prefix>aor:<aor>`), with a TTL of the longest binding; a set
 * (`<prefix>aors`) lists the AORs for `count` and `list`.
 *
 * `update` is optimistic: read, compute, then a Lua script writes only if the key still holds
 * what was read (compare-and-set), else the change is retried on the fresh value. Unlike
 * WATCH/MULTI this needs no connection of its own per update, so concurrent updates can share one
 * connection. Times (`now`, `expiresAt`) are the callers' clock: nodes sharing a store must use
 * the same time base (wall-clock ms), see docs.
 */
import { Redis } from 'ioredis';
import type { Binding, BindingStore } from '../registrar/binding.js';
import { StoreError } from './store-error.js';

export interface RedisBindingStoreOptions {
  /** `redis://host:port/db`; or host and port. */
  url?: string;
  host?: string;
  port?: number;
  /** Prefix of every key. Default `hookflash:`. */
  keyPrefix?: string;
  /** Attempts of a contended update before it fails with ERR_STORE_CONFLICT. Default 50. */
  maxRetries?: number;
}

const CAS = `
local cur = redis.call('GET', KEYS[1])
if cur == false then cur = '' end
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[4])
end
return 1`;

const FORGET = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1`;

export class RedisBindingStore implements BindingStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly maxRetries: number;

  constructor(options: RedisBindingStoreOptions = {}) {
    const common = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.redis = options.url !== undefined
      ? new Redis(options.url, common)
      : new Redis({ host: options.host ?? '127.0.0.1', port: options.port ?? 6379, ...common });
    this.prefix = options.keyPrefix ?? 'hookflash:';
    this.maxRetries = options.maxRetries ?? 50;
    this.redis.defineCommand('hookflashCas', { numberOfKeys: 2, lua: CAS });
    this.redis.defineCommand('hookflashForget', { numberOfKeys: 2, lua: FORGET });
    // Errors surface on the commands; an unhandled 'error' event would crash the process.
    this.redis.on('error', () => {});
  }

  private key(aor: string): string {
    return `${this.prefix}aor:${aor}`;
  }

  private get setKey(): string {
    return `${this.prefix}aors`;
  }

  async lookup(aor: string, now: number): Promise<Binding[]> {
    return live(await this.redis.get(this.key(aor)), now);
  }

  async update(aor: string, now: number, change: (current: Binding[]) => Binding[]): Promise<Binding[]> {
    const key = this.key(aor);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const raw = (await this.redis.get(key)) ?? '';
      const next = change(live(raw, now)).filter((b) => b.expiresAt > now);
      const text = next.length === 0 ? '' : JSON.stringify(next);
      const ttl = next.length === 0 ? 1 : Math.max(1, Math.ceil(Math.max(...next.map((b) => b.expiresAt)) - now));
      const cas = (this.redis as unknown as { hookflashCas(...args: Array<string | number>): Promise<number> }).hookflashCas;
      const ok = await cas.call(this.redis, key, this.setKey, raw, text, ttl, aor);
      if (ok === 1) return next;
    }
    throw new StoreError('ERR_STORE_CONFLICT', `binding update for ${aor} lost ${this.maxRetries} races in a row`);
  }

  async purgeExpired(now: number): Promise<number> {
    let dropped = 0;
    for (const aor of await this.redis.smembers(this.setKey)) {
      const raw = await this.redis.get(this.key(aor));
      if (raw === null) {
        await this.forget(aor);
        continue;
      }
      const stale = (JSON.parse(raw) as Binding[]).length - live(raw, now).length;
      if (stale > 0) {
        await this.update(aor, now, (current) => current);
        dropped += stale;
      }
    }
    return dropped;
  }

  async count(now: number): Promise<number> {
    return (await this.all(now, Infinity)).length;
  }

  async list(now: number, limit = 10_000): Promise<Binding[]> {
    return this.all(now, limit);
  }

  private async forget(aor: string): Promise<void> {
    await (this.redis as unknown as { hookflashForget(...args: string[]): Promise<number> }).hookflashForget(this.key(aor), this.setKey, aor);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async all(now: number, limit: number): Promise<Binding[]> {
    const aors = (await this.redis.smembers(this.setKey)).sort();
    const out: Binding[] = [];
    const gone: string[] = [];
    for (let i = 0; i < aors.length && out.length < limit; i += 100) {
      const chunk = aors.slice(i, i + 100);
      const values = await this.redis.mget(chunk.map((a) => this.key(a)));
      values.forEach((v, j) => {
        if (v === null) gone.push(chunk[j]!);
        for (const b of live(v, now)) if (out.length < limit) out.push(b);
      });
    }
    // AORs whose key expired by TTL leave the set (only if the key is still absent: a writer may have re-added it).
    for (const aor of gone) await this.forget(aor);
    return out;
  }
}

function live(raw: string | null, now: number): Binding[] {
  if (raw === null || raw === '') return [];
  return (JSON.parse(raw) as Binding[]).filter((b) => b.expiresAt > now);
}
