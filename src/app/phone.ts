/**
 * `hookflash phone`: a scriptable softphone over the UserAgent API, with audio (issue 7).
 *
 *   hookflash phone --uri sip:bob@127.0.0.1 [--listen udp:127.0.0.1:5070]... [--register sip:REGISTRAR]
 *                   [--auth user:password] [--auto-answer] [--json] [--tui | --no-tui]
 *                   [--play FILE | --tone HZ] [--record FILE] [--moh FILE] [--rtp-ports MIN-MAX]
 *
 * In a terminal (standard input and output both TTYs, no --json; or --tui) the phone keeps a view
 * of its calls (phone-view.ts: URI, registration, each call's state, duration, MOS and loss) below
 * the event lines and above the prompt, repainted on every event and every second
 * (phone-screen.ts). Elsewhere the output is the same as without it.
 *
 * Media (src/app/media-factory.ts): every call has an RTP session (G.711, RFC 4733 DTMF; SRTP
 * with SDES keys on sips calls) from a MediaEngine on --rtp-ports. We send the --play WAV
 * (looped) or a --tone, else silence; while we hold, the --moh WAV (looped). --record writes what
 * we receive (every call, one after the other) as a WAV when the phone exits. `dtmf DIGITS`
 * sends RFC 4733 events; a received digit is a `dtmf` event; `stats` prints the current call's
 * packets and bytes each way, loss, jitter and MOS (a `stats` line with --json).
 *
 * Commands (phone-script.ts) come from the terminal (a readline prompt) or, when standard input
 * is not a terminal, line by line from it; they apply to the current call, the most recent one.
 * Every API event is printed: one JSON line with --json (`{"event":"held","call":"<call-id>"}`),
 * else a line for people. `wait EVENT [SECONDS]` takes an event of the current call (or, for
 * `incoming`, of the phone) that no earlier `wait` took, or waits for the next one; when none
 * comes in time a script stops with exit status 1. The phone exits after `quit`, at the end of
 * its input, or on SIGINT/SIGTERM, once it has hung up every call: 0, or 1 when a command failed.
 * Bad flags exit 2.
 *
 * With --register, the --uri is registered at that registrar (RFC 3261 §10.2) before the first
 * command runs (a `registered` event; a failure is an error, and the exit status 1), refreshed
 * while the phone runs and unregistered when it quits. --auth gives the Digest credentials for
 * the registration and for every request of the calls (RFC 3261 §22).
 *
 * Transfer (RFC 5589): `transfer URI` refers the peer of the current call to URI (blind, §6);
 * `transfer --attended CALL` refers it to the peer of another answered call, whose dialog the
 * transferee's INVITE replaces (§7). Neither command waits: the transfer's events say how it goes
 * (`transfer-progress` per NOTIFY, then `transferred` or `transfer-failed`; a failure is an error,
 * and the exit status 1). `calls` lists every call the phone has seen with its index, state and
 * hold flags (`use CALL` makes one the current call). As transferee the phone reports the new
 * call to the target (made current, with its `answered`) after `transferred`; as transfer target
 * the call replaced by an INVITE with Replaces reports `replaced`, and the replacing call becomes
 * the current one (with its `answered`; there is no `incoming` for it).
 */
import { isIP } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isSipUri, MediaEngine, parseUri, Registration, ToneSource, UserAgent, WavRecorder, wavSource, type AudioSource, type Call, type DigestCredentials, type ListenerConfig, type RegistrationEvent, type UserAgentOptions } from '../index.js';
import { hostPort, parseListen, UsageError } from './listen-flags.js';
import { CommandError, parseCommand, type PhoneCommand, type PhoneEvent } from './phone-script.js';
import { readFile } from 'node:fs/promises';
import { engineMediaFactory } from './media-factory.js';
import { renderPhoneView, viewState, type PhoneViewModel, type PhoneViewRegistration } from './phone-view.js';
import { PhoneScreen } from './phone-screen.js';

const HELP = `hookflash phone: a scriptable softphone with audio (G.711 RTP, DTMF, SRTP on sips calls)

  hookflash phone --uri sip:USER@HOST [--listen PROTO:HOST:PORT]... [--register sip:REGISTRAR]
                  [--auth USER:PASSWORD] [--auto-answer] [--json] [--tui | --no-tui]
                  [--play FILE | --tone HZ] [--record FILE] [--moh FILE] [--rtp-ports MIN-MAX]

  --uri URI                  our address of record (From of our calls)
  --listen PROTO:HOST:PORT   udp, tcp, tls, ws or wss; repeatable; PORT 0 picks a free one (see the
                             'listening' line); default UDP on the --uri's host (an IP, else
                             127.0.0.1) and port (else 5060)
  --cert FILE --key FILE     certificate and key (PEM) for tls and wss listeners
  --auto-answer              answer incoming calls at once
  --json                     one JSON line per event on stdout
  --tui, --no-tui            a view of the calls (state, duration, MOS) above the prompt: on by
                             default when stdin and stdout are terminals and --json is not given
  --register URI             register --uri at this registrar (e.g. sip:127.0.0.1:5060) before the
                             first command, refresh it, unregister at quit ('registered' event)
  --auth USER:PASSWORD       Digest credentials for the registration and for calls' requests
  --play FILE                send this WAV (any rate, mono or stereo; converted to 8 kHz), looped
  --tone HZ                  send a sine tone of HZ (e.g. 440) instead; default: silence
  --record FILE              write what the calls receive to this WAV (8 kHz mono) at exit
  --moh FILE                 music on hold: this WAV (looped) is sent while we hold a call
  --rtp-ports MIN-MAX        RTP/RTCP port range (default 10000-20000)

Commands, from the terminal or line by line from standard input, for the current (latest) call:
  call URI | answer | reject [CODE] | hold | resume | hangup | wait EVENT [SECONDS] | quit
  transfer URI                 blind transfer of the current call's peer to URI (REFER)
  transfer --attended CALL     transfer the current call's peer to CALL's peer (REFER with Replaces)
  calls                        list the calls: index, id, direction, state, hold flags (* current)
  use CALL                     make CALL the current call
  dtmf DIGITS                  send DTMF (0-9 * # A-D) as RFC 4733 events
  stats                        packets and bytes each way, loss, jitter, MOS of the current call
CALL: an index from 'calls' or a call id.
EVENT: incoming, ringing, answered, held, resumed, remote-held, remote-resumed, ended,
       transfer-progress, transferred, transfer-failed, replaced, dtmf (SECONDS: 10).
`;

interface PhoneFlags {
  uri: string;
  listeners: ListenerConfig[];
  autoAnswer: boolean;
  json: boolean;
  /** The terminal view: on, off, or (undefined) when stdin and stdout are TTYs without --json. */
  tui: boolean | undefined;
  register?: string;
  credentials?: DigestCredentials;
  play?: string;
  tone?: number;
  record?: string;
  moh?: string;
  rtpPorts?: { min: number; max: number };
}

function flagsFrom(args: string[]): PhoneFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        uri: { type: 'string' },
        listen: { type: 'string', multiple: true },
        cert: { type: 'string' },
        key: { type: 'string' },
        'auto-answer': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        tui: { type: 'boolean' },
        'no-tui': { type: 'boolean' },
        register: { type: 'string' },
        auth: { type: 'string' },
        play: { type: 'string' },
        tone: { type: 'string' },
        record: { type: 'string' },
        moh: { type: 'string' },
        'rtp-ports': { type: 'string' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.uri === undefined) throw new UsageError('--uri is required (e.g. --uri sip:bob@127.0.0.1)');
  let uri;
  try {
    uri = parseUri(values.uri);
  } catch (e) {
    throw new UsageError(`bad --uri ${JSON.stringify(values.uri)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isSipUri(uri)) throw new UsageError(`bad --uri ${JSON.stringify(values.uri)}: a sip: or sips: URI`);
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  const tls = values.cert !== undefined && values.key !== undefined ? { cert: values.cert, key: values.key } : undefined;
  let listeners: ListenerConfig[];
  if (values.listen !== undefined && values.listen.length > 0) {
    listeners = values.listen.map((spec) => parseListen(spec, tls));
  } else {
    const host = uri.host.replace(/^\[(.*)\]$/, '$1');
    listeners = [{ protocol: 'UDP', host: isIP(host) === 0 ? '127.0.0.1' : host, port: uri.port ?? 5060 }];
  }
  if (values.tui === true && values['no-tui'] === true) throw new UsageError('--tui and --no-tui do not go together');
  const tui = values.tui === true ? true : values['no-tui'] === true ? false : undefined;
  const flags: PhoneFlags = { uri: values.uri, listeners, autoAnswer: values['auto-answer'], json: values.json, tui };
  if (values.register !== undefined) {
    let registrar;
    try {
      registrar = parseUri(values.register);
    } catch (e) {
      throw new UsageError(`bad --register ${JSON.stringify(values.register)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!isSipUri(registrar)) throw new UsageError(`bad --register ${JSON.stringify(values.register)}: a sip: or sips: URI`);
    flags.register = values.register;
  }
  if (values.auth !== undefined) {
    const colon = values.auth.indexOf(':');
    if (colon <= 0) throw new UsageError('--auth is USER:PASSWORD');
    flags.credentials = { username: values.auth.slice(0, colon), password: values.auth.slice(colon + 1) };
  }
  if (values.play !== undefined && values.tone !== undefined) throw new UsageError('--play and --tone do not go together');
  if (values.play !== undefined) flags.play = values.play;
  if (values.tone !== undefined) {
    const hz = Number(values.tone);
    if (!/^\d+(\.\d+)?$/.test(values.tone) || hz < 20 || hz > 3900) throw new UsageError(`--tone is a frequency in Hz from 20 to 3900, not ${JSON.stringify(values.tone)}`);
    flags.tone = hz;
  }
  if (values.record !== undefined) flags.record = values.record;
  if (values.moh !== undefined) flags.moh = values.moh;
  if (values['rtp-ports'] !== undefined) {
    const m = /^(\d{4,5})-(\d{4,5})$/.exec(values['rtp-ports']);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (m === null || min < 1024 || max > 65535 || max - min < 1) throw new UsageError(`--rtp-ports is MIN-MAX, ports from 1024 to 65535 (e.g. 10000-20000), not ${JSON.stringify(values['rtp-ports'])}`);
    flags.rtpPorts = { min, max };
  }
  return flags;
}

/** A call, its index in `calls` (from 1), and the events of it that no `wait` has taken yet. */
interface Tracked {
  readonly call: Call;
  readonly index: number;
  readonly untaken: Map<PhoneEvent, number>;
  /** Our transfers of this call not settled yet (its `ended` then does not end a `wait` for their outcome). */
  transferring: number;
  // For the terminal view (Date.now() ms): when seen, answered, ended; whether replaced.
  readonly startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  replaced: boolean;
}

/** The events that say how a transfer went; the transferor's call ends before its `transferred`. */
const TRANSFER_OUTCOMES: ReadonlySet<PhoneEvent> = new Set<PhoneEvent>(['transfer-progress', 'transferred', 'transfer-failed']);

type Waiter = (event: PhoneEvent, call: Call | undefined) => void;

class Phone {
  readonly #ua: UserAgent;
  readonly #json: boolean;
  readonly #autoAnswer: boolean;
  readonly #interactive: boolean;
  readonly #registration: Registration | undefined;
  readonly #aor: string;
  readonly #registrar: string;
  #rl: Interface | undefined;
  #current: Tracked | undefined;
  /** Every call seen, in order (`calls`). */
  readonly #tracked = new Map<Call, Tracked>();
  #incomingUntaken = 0;
  readonly #waiters = new Set<Waiter>();
  /** A command failed: the exit status is 1. */
  #failed = false;
  // Input: lines not yet run, the reader waiting for one, the end of input.
  readonly #lines: string[] = [];
  #lineWanted: ((line: string | undefined) => void) | undefined;
  #inputEnded = false;
  #waitingForInput = false;
  /** Settles on SIGINT/SIGTERM. */
  readonly #stopped: Promise<'stopped'>;
  #stop!: () => void;
  #stopping = false;

  readonly #media: PhoneMedia;
  /** The terminal view (phone-screen.ts), while it is on. */
  readonly #tui: boolean;
  #screen: PhoneScreen | undefined;
  #registrationState: PhoneViewRegistration;

  constructor(ua: UserAgent, flags: PhoneFlags, interactive: boolean, media: PhoneMedia) {
    this.#ua = ua;
    this.#media = media;
    this.#json = flags.json;
    this.#autoAnswer = flags.autoAnswer;
    this.#interactive = interactive;
    this.#aor = flags.uri;
    this.#registrar = flags.register ?? '';
    this.#tui = flags.tui === true;
    this.#registrationState = flags.register === undefined ? 'none' : 'registering';
    if (flags.register !== undefined) {
      const registration = new Registration(ua.endpoint, {
        aor: flags.uri,
        registrar: flags.register,
        ...(flags.credentials === undefined ? {} : { credentials: flags.credentials }),
      });
      registration.on((event) => this.#registrationEvent(event));
      this.#registration = registration;
    }
    this.#stopped = new Promise((resolve) => {
      this.#stop = () => {
        this.#stopping = true;
        resolve('stopped');
      };
    });
    ua.on('incoming', (call) => this.#incoming(call));
  }

  /** Runs commands until `quit`, the end of input, a signal or (in a script) a failed `wait`; then hangs up. */
  async run(): Promise<number> {
    const onSignal = (): void => {
      this.#stop();
      this.#deliver(undefined);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const rl = createInterface({ input: process.stdin, ...(this.#interactive ? { output: process.stdout, prompt: 'phone> ' } : {}) });
    this.#rl = rl;
    if (this.#tui) this.#startScreen(rl);
    rl.on('line', (line) => this.#deliver(line));
    rl.on('close', () => {
      this.#inputEnded = true;
      this.#deliver(undefined);
    });
    // A terminal's Ctrl-C reaches readline, not the process.
    rl.on('SIGINT', onSignal);
    // Only now: whoever reads this line may signal at once.
    this.#announce();
    try {
      const registration = this.#registration;
      // Commands wait for the registration (their lines are kept meanwhile): a script's `call` then finds us registered.
      if (registration !== undefined) await Promise.race([registration.register(), this.#stopped]);
      for (;;) {
        const line = await this.#nextLine();
        if (line === undefined || this.#stopping) break;
        let command: PhoneCommand | null;
        try {
          command = parseCommand(line);
        } catch (e) {
          this.#error(e instanceof Error ? e.message : String(e));
          continue;
        }
        if (command === null) continue;
        if (command.name === 'quit') break;
        const ok = await Promise.race([this.#execute(command), this.#stopped]);
        // A transfer started, a call made current: no event says so.
        this.#screen?.print([]);
        if (ok === false && command.name === 'wait' && !this.#interactive) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rl.close();
      // A pipe nobody closes must not keep the process up.
      if (!this.#interactive) process.stdin.destroy();
      for (const waiter of this.#waiters) waiter('ended', undefined);
      const registration = this.#registration;
      if (registration !== undefined) {
        // §10.2.2: our binding goes (Expires 0) before the phone does. (A REGISTER still unanswered
        // at a signal is not waited for: close() drops the queue.)
        if (registration.state === 'registered') await registration.unregister();
        registration.close();
      }
      await this.#ua.close();
      await this.#media.close().catch((e: unknown) => this.#error(`--record: ${e instanceof Error ? e.message : String(e)}`));
      this.#screen?.close();
    }
    return this.#failed ? 1 : 0;
  }

  #deliver(line: string | undefined): void {
    const wanted = this.#lineWanted;
    if (wanted !== undefined) {
      this.#lineWanted = undefined;
      wanted(line);
      return;
    }
    if (line !== undefined) this.#lines.push(line);
  }

  #nextLine(): Promise<string | undefined> {
    if (this.#stopping) return Promise.resolve(undefined);
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#inputEnded) return Promise.resolve(undefined);
    if (this.#interactive) this.#rl?.prompt();
    this.#waitingForInput = true;
    return new Promise((resolve) => {
      this.#lineWanted = (l) => {
        this.#waitingForInput = false;
        resolve(l);
      };
    });
  }

  /** Runs one command; false when it failed (and said why). */
  async #execute(command: Exclude<PhoneCommand, { name: 'quit' }>): Promise<boolean> {
    try {
      switch (command.name) {
        case 'call':
          this.#track(this.#ua.call(command.uri));
          return true;
        case 'answer': {
          const call = this.#call(command.name);
          // Settles at the ACK; the 'answered' event (or 'ended') says how it went.
          call.answer().catch((e: unknown) => this.#error(`answer: ${e instanceof Error ? e.message : String(e)}`));
          return true;
        }
        case 'reject': {
          const outcome = await this.#call(command.name).reject(command.status);
          return this.#outcome(command.name, outcome);
        }
        case 'hold':
        case 'resume': {
          const call = this.#call(command.name);
          const outcome = await (command.name === 'hold' ? call.hold() : call.resume());
          return this.#outcome(command.name, outcome);
        }
        case 'hangup': {
          const call = this.#call(command.name);
          // The call ends at once (or at the CANCEL's 487); the BYE's answer may come later.
          void call.hangup().catch(() => undefined);
          return true;
        }
        case 'transfer':
          this.#transfer(command);
          return true;
        case 'calls':
          this.#listCalls();
          return true;
        case 'dtmf': {
          const call = this.#call(command.name);
          if (call.state !== 'answered') throw new CommandError(`dtmf needs an answered call, not one ${call.state}`);
          if (!call.sendDtmf(command.digits)) throw new CommandError('dtmf: not sent (the peer took no telephone-event, or we do not send now)');
          return true;
        }
        case 'stats':
          this.#stats(this.#call(command.name));
          return true;
        case 'use':
          this.#current = this.#find(command.name, command.call);
          return true;
        case 'wait':
          return await this.#wait(command.event, command.seconds);
      }
    } catch (e) {
      this.#error(`${command.name}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  /** Starts a transfer of the current call; its events (and an error if it fails) come later. */
  #transfer(command: Extract<PhoneCommand, { name: 'transfer' }>): void {
    const tracked = this.#current;
    if (tracked === undefined) throw new CommandError('no call to transfer');
    const call = tracked.call;
    if (call.state !== 'answered') throw new CommandError(`transfer needs an answered call, not one ${call.state}`);
    let target: string | Call;
    if (command.attended) {
      const other = this.#find('transfer --attended', command.call);
      if (other === tracked) throw new CommandError('transfer --attended: CALL is the call to transfer; name the other (consultation) call');
      if (other.call.state !== 'answered') throw new CommandError(`transfer --attended: call ${other.index} is ${other.call.state}, not answered`);
      target = other.call;
    } else {
      let uri;
      try {
        uri = parseUri(command.uri);
      } catch (e) {
        throw new CommandError(`transfer: bad URI ${JSON.stringify(command.uri)}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!isSipUri(uri)) throw new CommandError(`transfer: ${JSON.stringify(command.uri)} is not a sip: or sips: URI`);
      target = command.uri;
    }
    const pending = call.transfer(target);
    tracked.transferring++;
    pending.then(
      (outcome) => {
        if (!outcome.ok) this.#error(`transfer failed: ${outcome.status} ${outcome.reason}`);
      },
      (e: unknown) => this.#error(`transfer: ${e instanceof Error ? e.message : String(e)}`),
    ).finally(() => tracked.transferring--);
  }

  /** The call a CALL argument names: an index from `calls`, else a call id. */
  #find(command: string, spec: string): Tracked {
    const all = [...this.#tracked.values()];
    const found = /^\d+$/.test(spec) ? all.find((t) => t.index === Number(spec)) : all.find((t) => t.call.id === spec);
    if (found === undefined) throw new CommandError(`${command}: no call ${JSON.stringify(spec)} (see calls)`);
    return found;
  }

  /** One line per call seen: index, id, direction, state, hold flags, peer; `*` marks the current call. */
  #listCalls(): void {
    if (this.#tracked.size === 0 && !this.#json) this.#out('no calls');
    for (const t of this.#tracked.values()) {
      const { call } = t;
      const current = t === this.#current;
      if (this.#json) {
        this.#out(JSON.stringify({
          event: 'calls', index: t.index, call: call.id, direction: call.direction, state: call.state,
          localHold: call.localHold, remoteHold: call.remoteHold, remote: call.remoteUri, current,
        }));
      } else {
        const holds = [call.localHold ? 'held' : '', call.remoteHold ? 'remote-held' : ''].filter((w) => w !== '').join(' ');
        this.#out(`${current ? '*' : ' '}${t.index} ${call.id} ${call.direction} ${call.state}${holds === '' ? '' : ` ${holds}`} ${call.remoteUri}`);
      }
    }
  }

  /** The `stats` line of a call: packets and bytes each way, loss, jitter, MOS. */
  #stats(call: Call): void {
    const s = call.stats();
    if (s === undefined) throw new CommandError('stats: the call has no media');
    const fields = {
      direction: s.direction, codec: s.codec, srtp: call.secureMedia,
      packetsSent: s.packetsSent, bytesSent: s.bytesSent, packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived,
      packetsLost: s.packetsLost, lossRatio: s.lossRatio, jitterMs: Number(s.jitterMs.toFixed(3)), mos: Number(s.mos.toFixed(2)),
      dtmfSent: s.dtmfSent, dtmfReceived: s.dtmfReceived,
    };
    this.#print('stats', call, fields,
      `stats ${s.direction} ${s.codec}${call.secureMedia ? ' SRTP' : ''}: sent ${s.packetsSent} packets ${s.bytesSent} bytes, `
      + `received ${s.packetsReceived} packets ${s.bytesReceived} bytes, lost ${s.packetsLost} (${(100 * s.lossRatio).toFixed(1)}%), `
      + `jitter ${s.jitterMs.toFixed(2)} ms, MOS ${s.mos.toFixed(2)}`);
  }

  #call(command: string): Call {
    const call = this.#current?.call;
    if (call === undefined) throw new CommandError(`no call to ${command}`);
    return call;
  }

  #outcome(command: string, outcome: { ok: true } | { ok: false; status: number; reason: string }): boolean {
    if (outcome.ok) return true;
    this.#error(`${command} failed: ${outcome.status} ${outcome.reason}`);
    return false;
  }

  /** Takes an untaken `event` of the current call (of the phone for `incoming`), or waits `seconds` for one. */
  #wait(event: PhoneEvent, seconds: number): Promise<boolean> {
    if (event === 'incoming') {
      if (this.#incomingUntaken > 0) {
        this.#incomingUntaken--;
        return Promise.resolve(true);
      }
    } else {
      const tracked = this.#current;
      if (tracked === undefined) {
        this.#error(`wait ${event}: no call`);
        return Promise.resolve(false);
      }
      const count = tracked.untaken.get(event) ?? 0;
      if (count > 0) {
        tracked.untaken.set(event, count - 1);
        return Promise.resolve(true);
      }
      if (tracked.call.state === 'ended' && !(TRANSFER_OUTCOMES.has(event) && tracked.transferring > 0)) {
        this.#error(`wait ${event}: the call has ended (${tracked.call.endReason?.text ?? 'ended'})`);
        return Promise.resolve(false);
      }
    }
    const target = event === 'incoming' ? undefined : this.#current;
    return new Promise((resolve) => {
      const done = (ok: boolean, message?: string): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (message !== undefined) this.#error(message);
        resolve(ok);
      };
      const waiter: Waiter = (e, call) => {
        // The phone is shutting down (a signal): give up quietly.
        if (call === undefined) return done(false);
        if (event === 'incoming') {
          if (e === 'incoming') {
            this.#incomingUntaken--;
            done(true);
          }
          return;
        }
        if (call !== target?.call) return;
        if (e === event) {
          const count = target.untaken.get(event) ?? 0;
          target.untaken.set(event, count - 1);
          done(true);
        } else if (e === 'ended' && !(TRANSFER_OUTCOMES.has(event) && target.transferring > 0)) {
          done(false, `wait ${event}: the call ended first (${call.endReason?.text ?? 'ended'})`);
        } else if ((event === 'transferred' && e === 'transfer-failed') || (event === 'transfer-failed' && e === 'transferred')) {
          done(false, `wait ${event}: the transfer ${e === 'transferred' ? 'succeeded' : 'failed'} instead`);
        }
      };
      const timer = setTimeout(() => done(false, `wait ${event}: none within ${seconds} s`), seconds * 1000);
      this.#waiters.add(waiter);
    });
  }

  #incoming(call: Call): void {
    this.#incomingUntaken++;
    this.#track(call);
    this.#print('incoming', call, { from: call.remoteUri }, `incoming call from ${call.remoteUri}${this.#autoAnswer ? '' : ' (answer or reject)'}`);
    this.#notify('incoming', call);
    if (this.#autoAnswer) call.answer().catch((e: unknown) => this.#error(`answer: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Makes `call` the current call and prints its events (from now on: a call tracked late prints its `answered` itself). */
  #track(call: Call): Tracked {
    const known = this.#tracked.get(call);
    if (known !== undefined) {
      this.#current = known;
      return known;
    }
    const tracked: Tracked = { call, index: this.#tracked.size + 1, untaken: new Map(), transferring: 0, startedAt: Date.now(), replaced: false };
    this.#tracked.set(call, tracked);
    this.#current = tracked;
    const seen = (event: PhoneEvent, fields: Record<string, unknown> = {}, words = event as string): void => {
      tracked.untaken.set(event, (tracked.untaken.get(event) ?? 0) + 1);
      this.#print(event, call, fields, words);
      this.#notify(event, call);
    };
    call.on('ringing', ({ status }) => seen('ringing', { status }, `ringing (${status})`));
    call.on('answered', () => {
      tracked.answeredAt = Date.now();
      seen('answered');
    });
    call.on('held', () => seen('held', {}, 'held (we hold the call)'));
    call.on('resumed', () => seen('resumed', {}, 'resumed (we took it off hold)'));
    call.on('remote-held', () => seen('remote-held', {}, 'remote-held (the peer holds the call)'));
    call.on('remote-resumed', () => seen('remote-resumed', {}, 'remote-resumed (the peer took it off hold)'));
    call.on('dtmf', ({ digit, durationMs }) => seen('dtmf', { digit, durationMs }, `dtmf ${digit} (${durationMs} ms)`));
    call.on('ended', ({ reason }) => {
      tracked.endedAt = Date.now();
      seen('ended', { reason: reason.cause, ...(reason.status === undefined ? {} : { status: reason.status }), text: reason.text },
        `ended: ${reason.text}`);
    });
    call.on('transfer-progress', ({ status, reason }) => seen('transfer-progress', { status, reason }, `transfer progress: ${status} ${reason}`));
    call.on('transfer-failed', ({ status, reason }) => seen('transfer-failed', { status, reason }, `transfer failed: ${status} ${reason}`));
    call.on('transferred', ({ target, callId }) => {
      // Transferee: the new call to the target (already up) is reported from here on.
      seen('transferred', { target, ...(callId === undefined ? {} : { newCall: callId }) },
        `transferred to ${target}${callId === undefined ? '' : ` (new call ${callId})`}`);
      if (callId !== undefined) this.#adopt(callId);
    });
    call.on('replaced', ({ callId }) => {
      // Transfer target: the INVITE with Replaces made a new call, answered already.
      tracked.replaced = true;
      seen('replaced', { by: callId }, `replaced by call ${callId}`);
      this.#adopt(callId);
    });
    return tracked;
  }

  /** Tracks a call the user agent made by itself (a transfer's), reporting its `answered` if it is up already. */
  #adopt(callId: string): void {
    const call = this.#ua.calls.find((c) => c.id === callId);
    if (call === undefined || this.#tracked.has(call)) return;
    const tracked = this.#track(call);
    if (call.state !== 'answered') return;
    tracked.answeredAt = Date.now();
    tracked.untaken.set('answered', (tracked.untaken.get('answered') ?? 0) + 1);
    this.#print('answered', call, { remote: call.remoteUri, direction: call.direction }, `answered (${call.direction}, ${call.remoteUri})`);
    this.#notify('answered', call);
  }

  #registrationEvent(event: RegistrationEvent): void {
    const o = event.outcome;
    this.#registrationState = event.type;
    if (event.type === 'failed') {
      this.#error(`registration${event.refresh ? ' refresh' : ''} failed: ${o.status === 0 ? '' : `${o.status} `}${o.reason ?? ''}`.trimEnd());
      return;
    }
    const fields = { aor: this.#aor, registrar: this.#registrar };
    if (event.type === 'registered') {
      this.#out(this.#json
        ? JSON.stringify({ event: 'registered', ...fields, expires: o.expires, ...(event.refresh ? { refresh: true } : {}) })
        : `registered ${this.#aor} at ${this.#registrar} for ${o.expires} s${event.refresh ? ' (refresh)' : ''}`);
    } else {
      this.#out(this.#json ? JSON.stringify({ event: 'unregistered', ...fields }) : `unregistered ${this.#aor} at ${this.#registrar}`);
    }
  }

  #notify(event: PhoneEvent, call: Call): void {
    for (const waiter of [...this.#waiters]) waiter(event, call);
  }

  #print(event: string, call: Call, fields: Record<string, unknown>, words: string): void {
    this.#out(this.#json ? JSON.stringify({ event, call: call.id, ...fields }) : `call ${call.id}: ${words}`);
  }

  #error(message: string): void {
    this.#failed = true;
    if (this.#screen !== undefined) {
      this.#screen.print([`hookflash phone: ${message}`], true);
      return;
    }
    const prompting = this.#waitingForInput && this.#interactive;
    if (prompting) process.stdout.write('\r\x1b[K');
    process.stderr.write(`hookflash phone: ${message}\n`);
    if (prompting) this.#rl?.prompt(true);
  }

  /** A line on stdout, keeping a terminal's prompt below it. */
  #out(line: string): void {
    if (this.#screen !== undefined) {
      this.#screen.print([line]);
      return;
    }
    if (this.#waitingForInput && this.#interactive) {
      process.stdout.write(`\r\x1b[K${line}\n`);
      this.#rl?.prompt(true);
    } else {
      process.stdout.write(`${line}\n`);
    }
  }

  /** Shows the terminal view below the event lines (and above the prompt, in a terminal). */
  #startScreen(rl: Interface): void {
    const color = process.env.NO_COLOR === undefined && process.stdout.isTTY === true && process.stdout.hasColors();
    const screen = new PhoneScreen({
      output: process.stdout,
      errors: process.stderr,
      render: (width) => renderPhoneView(this.#viewModel(), { width, color }),
      ...(this.#interactive ? {
        prompt: {
          shown: () => this.#waitingForInput,
          cursorRow: () => rl.getCursorPos().rows,
          redraw: () => rl.prompt(true),
        },
      } : {}),
    });
    // readline echoed the line and moved below it: the screen writes it again above the view.
    if (this.#interactive) rl.on('line', (line) => screen.entered(`${rl.getPrompt()}${line}`));
    this.#screen = screen;
    screen.start();
  }

  /** What the terminal view shows now. */
  #viewModel(): PhoneViewModel {
    const calls = [...this.#tracked.values()].map((t) => {
      const { call } = t;
      const stats = call.state === 'answered' ? call.stats() : undefined;
      const media = stats !== undefined && stats.packetsSent + stats.packetsReceived > 0 ? { mos: stats.mos, lossRatio: stats.lossRatio } : undefined;
      return {
        index: t.index, id: call.id, peer: call.remoteUri, direction: call.direction, current: t === this.#current,
        state: viewState({ state: call.state, localHold: call.localHold, remoteHold: call.remoteHold, transferring: t.transferring > 0, replaced: t.replaced }),
        startedAt: t.startedAt,
        ...(t.answeredAt === undefined ? {} : { answeredAt: t.answeredAt }),
        ...(t.endedAt === undefined ? {} : { endedAt: t.endedAt }),
        ...(media === undefined ? {} : { media }),
      };
    });
    return { uri: this.#aor, registration: this.#registrationState, ...(this.#registrar === '' ? {} : { registrar: this.#registrar }), calls, now: Date.now() };
  }

  /** The 'listening' lines, once per listener. */
  #announce(): void {
    for (const l of this.#ua.endpoint.listeners) {
      const transport = l.protocol.toLowerCase();
      this.#out(this.#json ? JSON.stringify({ event: 'listening', transport, address: l.host, port: l.port }) : `listening on ${transport} ${hostPort(l.host, l.port)}`);
    }
  }
}

export async function phone(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  let flags: PhoneFlags;
  try {
    flags = flagsFrom(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`hookflash phone: ${e.message}\n\n${HELP}`);
    return 2;
  }
  let ua: UserAgent;
  let media: PhoneMedia | undefined;
  try {
    media = await phoneMedia(flags);
    ua = await UserAgent.create({
      uri: flags.uri,
      listeners: flags.listeners,
      ...(flags.credentials === undefined ? {} : { credentials: flags.credentials }),
      ...media.options,
    });
  } catch (e) {
    await media?.close().catch(() => undefined);
    process.stderr.write(`hookflash phone: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const interactive = process.stdin.isTTY === true;
  // The view by default only where people look and type: a terminal on both sides, no JSON for a program.
  flags.tui ??= !flags.json && interactive && process.stdout.isTTY === true;
  return new Phone(ua, flags, interactive, media).run();
}

/** The phone's audio: a MediaEngine on --rtp-ports, the sources (--play, --tone, --moh) and the --record sink. */
interface PhoneMedia {
  readonly options: Pick<UserAgentOptions, 'mediaFactory' | 'audioSource' | 'musicOnHold'>;
  /** Closes the engine and writes the recording. */
  close(): Promise<void>;
}

async function phoneMedia(flags: PhoneFlags): Promise<PhoneMedia> {
  const read = async (flag: string, path: string): Promise<Buffer> => {
    const bytes = await readFile(path).catch((e: unknown) => {
      throw new Error(`${flag} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    });
    // Checked now, so that a bad file is an error at start rather than silence in a call.
    wavSource(bytes);
    return bytes;
  };
  const play = flags.play === undefined ? undefined : await read('--play', flags.play);
  const moh = flags.moh === undefined ? undefined : await read('--moh', flags.moh);
  const first = flags.listeners[0];
  const host = first === undefined || isIP(first.host) === 0 ? '0.0.0.0' : first.host;
  const engine = new MediaEngine({ address: host, ...(flags.rtpPorts === undefined ? {} : { portMin: flags.rtpPorts.min, portMax: flags.rtpPorts.max }) });
  const recorder = flags.record === undefined ? undefined : new WavRecorder(flags.record);
  const tone = flags.tone;
  let audioSource: (() => AudioSource) | undefined;
  if (play !== undefined) audioSource = () => wavSource(play, { loop: true });
  else if (tone !== undefined) audioSource = () => new ToneSource({ frequency: tone, amplitude: 0.5 });
  return {
    options: {
      mediaFactory: engineMediaFactory(engine, recorder === undefined ? {} : { sink: () => recorder }),
      ...(audioSource === undefined ? {} : { audioSource }),
      ...(moh === undefined ? {} : { musicOnHold: () => wavSource(moh, { loop: true }) }),
    },
    close: async () => {
      engine.close();
      await recorder?.close();
    },
  };
}
