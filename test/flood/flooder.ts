/**
 * A UDP flood generator of our own, for the flood test and by hand: INVITE and REGISTER floods,
 * OPTIONS, and garbage (random bytes, truncated and byte-flipped requests), from many loopback
 * source addresses (127.0.0.N: Linux routes all of 127/8 to lo) and many ports each. Bounded in
 * rate and time; loopback only (the target host must be 127.x or ::1).
 *
 *   node dist/test/flood/flooder.js '{"port":5060,"seconds":20,"rate":3000,"addresses":40,"portsPerAddress":8}'
 *
 * Prints one JSON line when done: packets sent by kind, the rate achieved, answers by status.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export interface FloodOptions {
  host?: string;
  port: number;
  seconds: number;
  /** Packets per second in total. */
  rate: number;
  /** Source addresses 127.0.0.(firstAddress...) used. Default 40 from .2. */
  addresses?: number;
  firstAddress?: number;
  portsPerAddress?: number;
  domain?: string;
  /** Share of each kind; default invite 0.4, register 0.3, options 0.1, garbage 0.2. */
  mix?: Partial<Record<Kind, number>>;
}

export type Kind = 'invite' | 'register' | 'options' | 'garbage';

export interface FloodReport {
  sent: Record<Kind, number>;
  total: number;
  seconds: number;
  rate: number;
  answers: Record<string, number>;
}

let n = 0;

function sipText(method: string, domain: string, src: string, port: number): string {
  const i = ++n;
  const user = `u${i % 5000}`;
  const uri = method === 'REGISTER' ? `sip:${domain}` : method === 'OPTIONS' ? `sip:${domain}` : `sip:${user}@${domain}`;
  const body = method === 'INVITE' ? `v=0\r\no=- ${i} 1 IN IP4 ${src}\r\ns=-\r\nc=IN IP4 ${src}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n` : '';
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${src}:${port};rport;branch=z9hG4bK-fl-${process.pid}-${i}`,
    'Max-Forwards: 70',
    `From: <sip:scan${i % 997}@${domain}>;tag=${i}`,
    `To: <${method === 'REGISTER' ? `sip:${user}@${domain}` : uri}>`,
    `Call-ID: flood-${process.pid}-${i}@${src}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:${user}@${src}:${port}>`,
    'User-Agent: friendly-scanner',
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

function garbage(domain: string, src: string, port: number): Buffer {
  const r = Math.random();
  if (r < 0.3) return randomBytes(1 + Math.floor(Math.random() * 1400));
  const text = Buffer.from(sipText(Math.random() < 0.5 ? 'INVITE' : 'REGISTER', domain, src, port), 'latin1');
  if (r < 0.6) return text.subarray(0, Math.floor(Math.random() * text.length));
  const flipped = Buffer.from(text);
  for (let k = 0; k < 1 + Math.floor(Math.random() * 8); k++) flipped[Math.floor(Math.random() * flipped.length)] = Math.floor(Math.random() * 256);
  return flipped;
}

async function open(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => {
      s.off('error', reject);
      resolve();
    });
  });
  return s;
}

export async function flood(o: FloodOptions): Promise<FloodReport> {
  const host = o.host ?? '127.0.0.1';
  if (!/^127\./.test(host) && host !== '::1') throw new Error('the flooder sends to loopback only');
  const domain = o.domain ?? 'hookflash.test';
  const first = o.firstAddress ?? 2;
  if (first < 2 || first + (o.addresses ?? 40) > 254) throw new Error('source addresses are 127.0.0.2 to 127.0.0.254');
  const sockets: Array<{ s: Socket; address: string; port: number }> = [];
  const answers: Record<string, number> = {};
  for (let a = 0; a < (o.addresses ?? 40); a++) {
    const address = `127.0.0.${first + a}`;
    for (let p = 0; p < (o.portsPerAddress ?? 8); p++) {
      const s = await open(address);
      s.on('message', (buf) => {
        const m = /^SIP\/2\.0 (\d{3})/.exec(buf.toString('latin1', 0, 16));
        const key = m === null ? 'other' : m[1]!;
        answers[key] = (answers[key] ?? 0) + 1;
      });
      s.on('error', () => undefined);
      sockets.push({ s, address, port: s.address().port });
    }
  }
  const mix = { invite: 0.4, register: 0.3, options: 0.1, garbage: 0.2, ...o.mix };
  const kinds = Object.keys(mix) as Kind[];
  const total = kinds.reduce((acc, k) => acc + mix[k], 0);
  const sent: Record<Kind, number> = { invite: 0, register: 0, options: 0, garbage: 0 };
  const started = Date.now();
  const end = started + o.seconds * 1000;
  let count = 0;
  let next = 0;
  const tick = 10;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      const now = Date.now();
      if (now >= end) {
        resolve();
        return;
      }
      // Catch up to where the rate says we should be (bounded per tick).
      const due = Math.min(Math.floor(((now - started) / 1000) * o.rate) - count, Math.ceil((o.rate * tick) / 1000) * 4);
      for (let k = 0; k < due; k++) {
        const sock = sockets[next++ % sockets.length]!;
        let x = Math.random() * total;
        let kind: Kind = 'garbage';
        for (const kk of kinds) {
          if ((x -= mix[kk]) < 0) {
            kind = kk;
            break;
          }
        }
        const data = kind === 'garbage'
          ? garbage(domain, sock.address, sock.port)
          : Buffer.from(sipText(kind.toUpperCase(), domain, sock.address, sock.port), 'latin1');
        sock.s.send(data, o.port, host);
        sent[kind]++;
        count++;
      }
      setTimeout(step, tick);
    };
    step();
  });
  const seconds = (Date.now() - started) / 1000;
  // Late answers for a moment, then close.
  await new Promise((r) => setTimeout(r, 500));
  for (const { s } of sockets) s.close();
  return { sent, total: count, seconds, rate: Math.round(count / seconds), answers };
}

// Run as a script only with its JSON argument (node --test, which runs every file under test/, gives none).
const asScript = process.env.NODE_TEST_CONTEXT === undefined && process.argv[1] !== undefined
  && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2]?.startsWith('{') === true;
if (asScript) {
  const options = JSON.parse(process.argv[2] ?? '{}') as FloodOptions;
  flood(options).then((report) => {
    process.stdout.write(JSON.stringify(report) + '\n');
  }, (err: unknown) => {
    process.stderr.write(`flooder: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
