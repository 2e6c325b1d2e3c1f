/**
 * What `npm start` runs until `hookflash serve` lands: a SIP responder on UDP that answers OPTIONS
 * (a health check for phones and monitoring: `sipsak -s sip:127.0.0.1:5060`), rejects malformed
 * messages with 400 and the parser's reason, and answers other requests 501. Each message is logged
 * as one JSON line.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { createResponse, parseMessage, SipParseError, SipRequest, validateRequest } from '../index.js';

const ALLOW = 'INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, UPDATE, INFO';

function log(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
}

export async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: process.env.HOOKFLASH_PORT ?? '5060' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`hookflash start: bad --port ${JSON.stringify(values.port)}: an integer from 0 to 65535\n`);
    return 2;
  }
  const socket = createSocket(values.host!.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (data, rinfo) => {
    const peer = `${rinfo.address}:${rinfo.port}`;
    let msg;
    try {
      msg = parseMessage(data);
    } catch (e) {
      const err = e as SipParseError;
      log({ level: 'warn', event: 'malformed', peer, reason: err.reason, offset: err.offset, status: err.status });
      // A 400 needs the request's Via, From, To, Call-ID and CSeq; retry leniently to get them.
      try {
        const lenient = parseMessage(data, { lazy: true });
        if (lenient instanceof SipRequest && lenient.method !== 'ACK') {
          const res = createResponse(lenient, err.status, { reason: `Bad Request (${err.reason})`.slice(0, 200) });
          socket.send(res.toBuffer(), rinfo.port, rinfo.address);
        }
      } catch {
        // Not even framed: nothing to answer (RFC 3261 §18.3: drop), the log line above stands.
      }
      return;
    }
    if (!(msg instanceof SipRequest)) {
      log({ level: 'info', event: 'response-ignored', peer, status: msg.status });
      return;
    }
    log({ level: 'info', event: 'request', peer, method: msg.method, callId: msg.callId });
    if (msg.method === 'ACK') return;
    const verdict = validateRequest(msg);
    let res;
    if (!verdict.ok) res = createResponse(msg, verdict.status, { reason: verdict.reason, headers: verdict.headers });
    else if (msg.method === 'OPTIONS') res = createResponse(msg, 200, { headers: [['Allow', ALLOW], ['Accept', 'application/sdp'], ['Supported', 'replaces, norefersub']] });
    else res = createResponse(msg, 501, { headers: [['Allow', 'OPTIONS']] });
    socket.send(res.toBuffer(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, values.host, () => resolve());
  });
  const addr = socket.address();
  log({ level: 'info', event: 'listening', transport: 'udp', address: addr.address, port: addr.port,
    note: 'answers OPTIONS; `hookflash lint FILE` checks messages in files' });
  await new Promise<void>((resolve) => {
    const stop = () => socket.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
