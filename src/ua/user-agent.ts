/**
 * UserAgent: the public face of the stack for calls. It owns a SipEndpoint (transport and
 * transactions) and the dialogs, and routes each incoming request (RFC 3261 §8.2, §12.2.2):
 * - an INVITE outside a dialog becomes an incoming Call (the `incoming` event);
 * - a request with a To tag goes to its dialog's Call, or gets 481 when there is none (§12.2.2);
 *   a BYE outside any dialog gets 481 too (§15.1.2);
 * - everything else (OPTIONS above all, §11.2) is left to the endpoint's defaults.
 */
import { RealClock, type Clock, type TimerHandle } from '../core/clock.js';
import { SipError } from '../core/errors.js';
import { noopLogger, type Logger } from '../core/logger.js';
import { contactOf, Dialog, DialogTable, REFER_EVENT, ReferSubscriber } from '../dialog/index.js';
import { createRequest, createResponse, formatUri, isSipUri, parseUri, type SipRequest, type SipfragStatus, type TargetDialogValue } from '../message/index.js';
import { newCallId } from '../core/ids.js';
import { OfferAnswer, OfferAnswerError, SdpError, parseSdp, type Codec, type LocalMediaConfig } from '../sdp/index.js';
import type { BoundListener, ListenerConfig, Resolver } from '../transport/index.js';
import type { DigestCredentials } from '../auth/digest-client.js';
import { Call, type CallHost, type CallOptions } from './call/call.js';
import { sessionTimerConfig, uasVerdict, type SessionTimerOptions } from './call/session-timer.js';
import { runTransferor, targetDialogFor, type TransferConfig, type TransferOptions, type TransferOutcome } from './call/transfer.js';
import { TypedEvents } from './call/events.js';
import { replacesAuthorised, replacesVerdict } from './call/replaces.js';
import { DigestClient } from '../auth/digest-client.js';
import { requestWithAuth } from './auth-retry.js';
import { SipEndpoint, type EndpointTlsOptions } from './endpoint.js';
import type { UasTransaction } from './uas-transaction.js';
import { mediaConfigFor, newSdesCrypto, offersSavp, type CallAudioSource, type MediaFactory } from './call/media.js';

/** The local side of calls' SDP (RTP itself is the `mediaFactory`'s, when one is given). */
export interface UserAgentMedia {
  /** The address for c= and o= (never 0.0.0.0: an RFC 2543 peer reads that as hold, RFC 3264 §8.4). */
  address: string;
  /** The audio RTP port offered in m= (with a `mediaFactory`, each call's session's port instead). */
  port: number;
  /** In order of preference; default PCMU, PCMA, telephone-event. */
  codecs?: readonly Codec[];
}

export interface UserAgentOptions {
  /** Our address of record, e.g. `sips:bob@biloxi.example.com`: the From of our requests. */
  uri: string;
  /** Display name for From. */
  displayName?: string;
  listeners: ListenerConfig[];
  /** Where requests go (RFC 3263). Default: DNS. */
  resolver?: Resolver;
  tls?: EndpointTlsOptions;
  /** SDP capabilities. Default: audio on port 49170 at the first listener's address. */
  media?: UserAgentMedia;
  /** Contact of our INVITEs; default built from the first listener (its Via host and port). */
  contact?: string;
  logger?: Logger;
  clock?: Clock;
  /** RFC 3261 T1, ms (500). */
  t1?: number;
  /** Session timers (RFC 4028): interval (1800 s), Min-SE (90 s), refresher preference. */
  sessionTimer?: SessionTimerOptions;
  /**
   * Digest credentials (RFC 3261 §22, RFC 7616, RFC 8760) for 401/407 challenges to any request
   * of our calls: INVITE, re-INVITE, BYE. Without them a challenge ends the request with it.
   */
  credentials?: DigestCredentials;
  /** Timings of call transfers (REFER, RFC 5589): NOTIFY wait, BYE wait, subscription interval. */
  transfer?: TransferConfig;
  /**
   * Media (issue 7): makes each call's RTP session (a MediaEngine behind it, see
   * src/app/media-factory.ts); its port goes in the call's SDP, and sips calls offer RTP/SAVP
   * with SDES keys. Without it calls are signalling only (SDP on `media.port`).
   */
  mediaFactory?: MediaFactory;
  /** What each call sends (with a mediaFactory); default silence. */
  audioSource?: () => CallAudioSource;
  /** Music on hold: what a call sends while we hold it (sendonly); default the normal source. */
  musicOnHold?: () => CallAudioSource;
}

/** The events of a UserAgent and their argument. */
export interface UserAgentEvents {
  /** An INVITE arrived and was answered 180: `call.answer()` or `call.reject()`. */
  incoming: Call;
  /**
   * Transfer target (RFC 3891): an INVITE with Replaces matched `replaced`; the new `call` was
   * answered at once (no `incoming`) and `replaced` ended after it.
   */
  replaced: { call: Call; replaced: Call };
}

const ALLOW = ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'SUBSCRIBE'];
/** Option tags (Supported, and Require checks): session timers (RFC 4028), Refer-Sub (RFC 4488), Replaces (RFC 3891), Target-Dialog (RFC 4538). */
const SUPPORTED = ['timer', 'norefersub', 'replaces', 'tdialog'];

/** What the UA found of an INVITE with Replaces before asking `onReplaces`. */
export interface ReplacesCheck {
  /** The replaced dialog is early (one we initiated: RFC 3891 §3 allows no other). */
  readonly early: boolean;
  /** Our rule says yes: early, or the From or Referred-By is the replaced dialog's peer. */
  readonly authorised: boolean;
}

/** Options of `UserAgent.refer`. */
export interface ReferOptions extends Pick<TransferOptions, 'referSub'> {
  /**
   * RFC 4538: the call the REFER is about: the REFER carries Target-Dialog naming its dialog (and
   * `Require: tdialog`), the recipient acts on it as on a REFER in that call, and a success ends
   * this call with BYE (as `Call.transfer` does).
   */
  readonly targetDialog?: Call;
  /** Each NOTIFY's sipfrag, in order. */
  readonly onProgress?: (frag: SipfragStatus) => void;
}
/** Body types taken (Accept): the endpoint's defaults and the usual INFO bodies (RFC 6086: DTMF relay). */
const ACCEPT = ['application/sdp', 'multipart/mixed', 'message/sipfrag', 'text/plain', 'application/dtmf-relay', 'application/dtmf', 'application/json'];
/** How long close() waits for the peers to answer its BYEs and CANCELs. */
const CLOSE_GRACE_MS = 2000;

export class UserAgent extends TypedEvents<UserAgentEvents> {
  readonly endpoint: SipEndpoint;
  readonly #logger: Logger;
  readonly #dialogs = new DialogTable();
  /** Calls by dialog key, for requests in a dialog. */
  readonly #byDialog = new Map<string, Call>();
  /** Incoming calls by their INVITE's transaction, for CANCEL (§9.2). */
  readonly #byInvite = new Map<UasTransaction, Call>();
  readonly #calls = new Set<Call>();
  /** The subscriptions of our REFERs sent outside a dialog, by Call-ID and our (From) tag. */
  readonly #outsideRefers = new Map<string, ReferSubscriber>();
  /** Transferee: the dialogs the 202s of REFERs outside a call created (RFC 4538), by dialog key. */
  readonly #subscriptionDialogs = new Map<string, (request: SipRequest, uas: UasTransaction) => void>();
  readonly #host: CallHost;
  #closing: Promise<void> | undefined;
  /**
   * The application's say on a REFER in one of our calls (RFC 3515 §2.4.2): return a status
   * (403 Forbidden, 603 Decline) to refuse it, nothing to accept (202) and carry out the transfer.
   */
  onRefer: ((refer: SipRequest, call: Call) => number | undefined) | undefined;
  /**
   * The application's say on an INVITE that would replace `replaced` (RFC 3891 §3: the replacing
   * request must be authorised): a status (403, 603) refuses it, `true` accepts, `false` refuses
   * 403, nothing leaves it to our rule (`check.authorised`, see replacesAuthorised in
   * call/replaces.ts: an early dialog, or a confirmed one whose peer is the INVITE's From or its
   * Referred-By), which accepts when authorised and refuses 403 otherwise.
   */
  onReplaces: ((invite: SipRequest, replaced: Call, check: ReplacesCheck) => number | boolean | undefined) | undefined;

  /** Opens the listeners; rejects (with everything closed) when one cannot be opened. */
  static async create(options: UserAgentOptions): Promise<UserAgent> {
    const uri = parseUri(options.uri);
    if (!isSipUri(uri)) throw new SipError('ERR_INVALID_ARGUMENT', `${options.uri} is not a sip: or sips: URI`);
    const clock = options.clock ?? new RealClock();
    const logger = options.logger ?? noopLogger;
    const endpoint = await SipEndpoint.create({
      listeners: options.listeners,
      resolver: options.resolver,
      tls: options.tls,
      clock,
      logger,
      t1: options.t1,
      allow: ALLOW,
      supported: SUPPORTED,
      accept: ACCEPT,
    });
    try {
      return new UserAgent(endpoint, options, clock, logger);
    } catch (e) {
      await endpoint.close();
      throw e;
    }
  }

  private constructor(endpoint: SipEndpoint, options: UserAgentOptions, clock: Clock, logger: Logger) {
    super();
    this.endpoint = endpoint;
    this.#logger = logger;
    this.onRefer = undefined;
    this.onReplaces = undefined;
    const uri = parseUri(options.uri);
    const user = isSipUri(uri) ? uri.user : undefined;
    const first = endpoint.listeners[0];
    if (first === undefined) throw new SipError('ERR_INVALID_ARGUMENT', 'a user agent needs a listener');
    const media: LocalMediaConfig = {
      address: options.media?.address ?? (isUnspecified(first.host) ? '127.0.0.1' : first.host),
      media: [{ type: 'audio', port: options.media?.port ?? 49170, ...(options.media?.codecs === undefined ? {} : { codecs: options.media.codecs }) }],
      // RFC 8866 §5.2: o= username is the user's login; the seed's is the AOR's user part.
      ...(user === undefined || user === '' ? {} : { username: user }),
    };
    // Check the media config now rather than on the first call.
    new OfferAnswer(media);
    const display = options.displayName === undefined ? '' : `"${options.displayName.replace(/["\\]/g, '\\$&')}" `;
    this.#host = {
      endpoint,
      clock,
      logger,
      media,
      identity: `${display}<${options.uri}>`,
      contact: options.contact ?? contactFor(first, uri.scheme === 'sips', user),
      capabilityHeaders: [['Allow', ALLOW.join(', ')], ['Supported', SUPPORTED.join(', ')]],
      sessionTimer: sessionTimerConfig(options.sessionTimer),
      t1: options.t1 ?? 500,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      addDialog: (dialog, call) => {
        this.#dialogs.add(dialog);
        this.#byDialog.set(dialog.key, call);
      },
      callEnded: (call, dialog) => this.#forget(call, dialog),
      startCall: (target, callOptions) => (this.#closing === undefined ? this.call(target, callOptions) : undefined),
      referPolicy: (refer, call) => this.onRefer?.(refer, call),
      addSubscriptionDialog: (dialog, receive) => {
        this.#dialogs.add(dialog);
        this.#subscriptionDialogs.set(dialog.key, receive);
        return () => {
          if (this.#subscriptionDialogs.get(dialog.key) !== receive) return;
          this.#subscriptionDialogs.delete(dialog.key);
          this.#dialogs.remove(dialog);
        };
      },
      ...(options.transfer === undefined ? {} : { transfer: options.transfer }),
      ...(options.mediaFactory === undefined ? {} : { mediaFactory: options.mediaFactory }),
      ...(options.audioSource === undefined ? {} : { audioSource: options.audioSource }),
      ...(options.musicOnHold === undefined ? {} : { musicOnHold: options.musicOnHold }),
    };
    endpoint.onRequest((request, uas) => this.#receive(request, uas));
    endpoint.onCancel((uas) => this.#byInvite.get(uas)?.cancelled());
  }

  /** Calls still going (not ended). */
  get calls(): readonly Call[] {
    return [...this.#calls];
  }

  /**
   * Calls `target` (a sip: or sips: URI): an INVITE with our SDP offer goes out at once. Watch
   * the Call's events, or await `call.established`.
   */
  call(target: string, options: CallOptions = {}): Call {
    if (this.#closing !== undefined) throw new SipError('ERR_CLOSED', 'the user agent is closed');
    const call = Call.outgoing(this.#host, target, options);
    if (call.state !== 'ended') this.#calls.add(call);
    return call;
  }

  /**
   * REFER outside any dialog (RFC 3515 §2.4.1) to `target` (a sip: or sips: URI), asking it to
   * send a request to `referTo` (a URI or name-addr); its NOTIFYs come in the dialog its 2xx
   * creates. With `targetDialog` it is the transfer of that call by Target-Dialog (RFC 4538; see
   * ReferOptions). Settles as `Call.transfer` does: {ok: true} at a 2xx sipfrag, {ok: true,
   * subscription: false} at a 2xx carrying `Refer-Sub: false`, or the failure (481 when the
   * recipient knows no such dialog).
   */
  refer(target: string, referTo: string, options: ReferOptions = {}): Promise<TransferOutcome> {
    if (this.#closing !== undefined) return Promise.reject(new SipError('ERR_CLOSED', 'the user agent is closed'));
    const call = options.targetDialog;
    const id = call?.dialogId;
    if (call !== undefined && id === undefined) {
      return Promise.reject(new SipError('ERR_INVALID_STATE', 'the target dialog\'s call has no dialog yet'));
    }
    const host = this.#host;
    let key = '';
    // RFC 3261 §22.2: a 401/407 to the REFER is answered with our credentials (a DigestClient of
    // its own, as each call has); the retry's CSeq is one up and its NOTIFYs' Event id follows it.
    const digest = host.credentials === undefined ? undefined : new DigestClient(host.credentials);
    let subscription: Dialog | undefined;
    return runTransferor({
      clock: host.clock,
      referredBy: host.identity,
      config: host.transfer,
      createRefer: (headers) => {
        const extra: Array<[string, string]> = [...headers];
        // RFC 4538 §4: Target-Dialog, with Require (and Supported) tdialog.
        if (id !== undefined) extra.push(['Target-Dialog', targetDialogFor(id)], ['Require', 'tdialog'], ['Supported', 'tdialog']);
        const refer = createRequest({ method: 'REFER', uri: target, from: host.identity, to: `<${target}>`, callId: newCallId(), cseq: 1, contact: host.contact, headers: extra });
        key = `${refer.callId}\n${refer.fromTag ?? ''}`;
        return refer;
      },
      request: async (refer) => {
        const response = await requestWithAuth(this.endpoint, refer, digest);
        if (response.status >= 200 && response.status < 300) {
          try {
            // RFC 3515 §2.4.4, RFC 6665 §4.1.2.1: the 2xx creates the subscription's dialog.
            subscription = Dialog.forUac(refer, response);
          } catch (err) {
            this.#logger.info({ err }, 'the REFER\'s 2xx creates no dialog: its subscription will not be refreshed');
          }
        }
        return response;
      },
      // RFC 3515 §2.4.6, RFC 6665 §4.1.2.1: refreshed by SUBSCRIBE in that dialog, before it expires.
      subscribe: (id) => {
        const dialog = subscription;
        if (dialog === undefined || dialog.state === 'terminated') return Promise.resolve();
        const expires = String(host.transfer?.subscriptionExpires ?? 60);
        const subscribe = dialog.createRequest('SUBSCRIBE', { contact: host.contact, headers: [['Event', `${REFER_EVENT};id=${id}`], ['Expires', expires]] });
        return requestWithAuth(this.endpoint, subscribe, digest, { nextCSeq: () => dialog.createRequest('SUBSCRIBE', { contact: host.contact }).cseq.seq });
      },
      addSubscriber: (subscriber) => {
        const filed = key;
        this.#outsideRefers.set(filed, subscriber);
        return () => {
          if (this.#outsideRefers.get(filed) === subscriber) this.#outsideRefers.delete(filed);
        };
      },
      progress: (frag) => options.onProgress?.(frag),
      hangup: () => call?.hangup() ?? Promise.resolve({ ok: true }),
    }, referTo.startsWith('<') ? referTo : `<${referTo}>`, options.referSub === undefined ? {} : { referSub: options.referSub });
  }

  /**
   * Hangs up every call (BYE, CANCEL, or 480 for one still ringing here), waiting at most
   * `CLOSE_GRACE_MS` for the peers, ends whatever is left without signalling, then closes every
   * transaction, timer and socket. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const calls = [...this.#calls];
      if (calls.length > 0) {
        const clock = this.#host.clock;
        let timer: TimerHandle | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = clock.setTimeout(resolve, CLOSE_GRACE_MS);
        });
        // RFC 3261 §21.4.18: 480 Temporarily Unavailable for a call still ringing here.
        const hangups = calls.map((call) => (call.state === 'ringing' && call.direction === 'incoming' ? call.reject(480) : call.hangup())
          .catch(() => call.hangup())
          .catch(() => undefined));
        await Promise.race([Promise.all(hangups), grace]);
        if (timer !== undefined) clock.clearTimeout(timer);
      }
      for (const call of [...this.#calls]) call.close();
      for (const subscriber of [...this.#outsideRefers.values()]) subscriber.end();
      await this.endpoint.close();
    })();
    return this.#closing;
  }

  #receive(request: SipRequest, uas: UasTransaction | undefined): boolean | void {
    if (request.method === 'ACK') {
      // An ACK matching no dialog cannot be answered (§17.2.3): it is dropped.
      const dialog = this.#dialogs.match(request);
      if (dialog !== undefined) this.#byDialog.get(dialog.key)?.receiveAck(request);
      return;
    }
    if (uas === undefined) return;
    if (request.toTag !== undefined) {
      const dialog = this.#dialogs.match(request);
      const call = dialog === undefined ? undefined : this.#byDialog.get(dialog.key);
      // A request in the dialog of a REFER we accepted outside a call (its refresh SUBSCRIBE).
      const subscription = call === undefined && dialog !== undefined ? this.#subscriptionDialogs.get(dialog.key) : undefined;
      if (subscription !== undefined) {
        subscription(request, uas);
        return;
      }
      if (call === undefined) {
        // A NOTIFY of one of our REFERs sent outside a dialog (its To tag is our From tag).
        const subscriber = request.method === 'NOTIFY' ? this.#outsideRefers.get(`${request.callId}\n${request.toTag}`) : undefined;
        if (subscriber !== undefined && subscriber.matches(request)) {
          uas.respond(createResponse(request, subscriber.receive(request)));
          return;
        }
        // §12.2.2: "If the UAS wishes to reject the request because it does not wish to recreate
        // the dialog, it MUST respond to the request with a 481 (Call/Transaction Does Not Exist)".
        uas.respond(createResponse(request, 481));
        return;
      }
      return call.receiveRequest(request, uas);
    }
    switch (request.method) {
      case 'INVITE':
        this.#incoming(uas);
        return;
      case 'BYE':
      case 'UPDATE':
      case 'INFO':
        // §15.1.2: a BYE that matches no dialog gets 481; so do UPDATE (RFC 3311 §5.2) and INFO
        // (RFC 6086 §4.2.2), which exist only in a dialog.
        uas.respond(createResponse(request, 481));
        return;
      case 'REFER':
        return this.#targetedRefer(request, uas);
      default:
        return false;
    }
  }

  /**
   * RFC 4538 §4: a REFER outside a dialog whose Target-Dialog names one of our calls (tags as we
   * see them) is a REFER in that call; 481 when none matches. Without Target-Dialog, not ours.
   */
  #targetedRefer(request: SipRequest, uas: UasTransaction): boolean | void {
    if (!request.has('target-dialog')) return false;
    let td: TargetDialogValue | undefined;
    try {
      td = request.targetDialog;
    } catch {
      uas.respond(createResponse(request, 400, { reason: 'Bad Target-Dialog' }));
      return;
    }
    const dialog = td?.localTag === undefined || td.remoteTag === undefined ? undefined : this.#dialogs.get({ callId: td.callId, localTag: td.localTag, remoteTag: td.remoteTag });
    const call = dialog === undefined || dialog.state === 'terminated' ? undefined : this.#byDialog.get(dialog.key);
    if (call === undefined) {
      uas.respond(createResponse(request, 481));
      return;
    }
    call.receiveTargetedRefer(request, uas);
  }

  /** §13.3.1: a new INVITE. Its offer is checked before anyone is alerted (488 when unusable). */
  #incoming(uas: UasTransaction): void {
    const request = uas.request;
    if (this.#closing !== undefined) {
      uas.respond(createResponse(request, 480, { toTag: uas.toTag }));
      return;
    }
    if (contactOf(request) === undefined) {
      // §8.1.1.8: an INVITE carries a Contact; without one no dialog can be made.
      uas.respond(createResponse(request, 400, { reason: 'Missing Contact', toTag: uas.toTag }));
      return;
    }
    const timer = uasVerdict(request, this.#host.sessionTimer ?? sessionTimerConfig());
    if (!timer.ok) {
      // RFC 4028 §9: a Session-Expires below our Min-SE: 422 with our Min-SE.
      uas.respond(createResponse(request, 422, { toTag: uas.toTag, headers: timer.headers }));
      return;
    }
    const replaced = this.#replacedCall(request, uas);
    if (replaced === null) return;
    const factory = this.#host.mediaFactory;
    let secure = false;
    if (factory !== undefined && request.body.length > 0) {
      try {
        secure = offersSavp(parseSdp(request.bodyText));
      } catch {
        // Unreadable SDP: the OfferAnswer below answers it 400.
      }
    }
    // With media, an RTP/SAVP offer is taken with a key of ours (RFC 4568); the call gets its own.
    const offerAnswer = new OfferAnswer(secure ? mediaConfigFor(this.#host.media, this.#host.media.media[0]!.port, newSdesCrypto()) : this.#host.media);
    if (request.body.length > 0) {
      try {
        offerAnswer.setRemoteOffer(request.bodyText);
      } catch (err) {
        // RFC 3261 §13.3.1.3 / RFC 3264 §6: an offer we cannot take is 488; bad SDP 400.
        const status = err instanceof OfferAnswerError || err instanceof SdpError ? err.status : 500;
        this.#logger.info({ err, status }, 'INVITE offer refused');
        uas.respond(createResponse(request, status, { toTag: uas.toTag }));
        return;
      }
    }
    if (factory !== undefined) {
      void this.#incomingWithMedia(uas, offerAnswer, factory, secure, replaced);
      return;
    }
    this.#startIncoming(Call.incoming(this.#host, uas, offerAnswer), uas, replaced);
  }

  /** An acceptable INVITE, with a MediaFactory: the call's RTP session first, its port in our answer. */
  async #incomingWithMedia(uas: UasTransaction, offerAnswer: OfferAnswer, factory: MediaFactory, secure: boolean, replaced: Call | undefined): Promise<void> {
    const request = uas.request;
    let session;
    try {
      session = await factory.create({ callId: request.callId, direction: 'incoming', remoteUri: formatUri(request.from.uri), secure });
    } catch (err) {
      this.#logger.warn({ err }, 'no media session for an incoming call');
      uas.respond(createResponse(request, 503, { toTag: uas.toTag, reason: 'No Media Ports' }));
      return;
    }
    if (this.#closing !== undefined || uas.answered) {
      // Cancelled (the endpoint answered 487) or closing while the ports were bound.
      session.close();
      if (!uas.answered) uas.respond(createResponse(request, 480, { toTag: uas.toTag }));
      return;
    }
    let call: Call;
    try {
      call = Call.incoming(this.#host, uas, offerAnswer, { session, secure });
    } catch (err) {
      session.close();
      this.#logger.info({ err }, 'INVITE offer refused with the media session\'s config');
      uas.respond(createResponse(request, 488, { toTag: uas.toTag }));
      return;
    }
    this.#startIncoming(call, uas, replaced);
  }

  #startIncoming(call: Call, uas: UasTransaction, replaced: Call | undefined): void {
    this.#calls.add(call);
    this.#byInvite.set(uas, call);
    if (replaced === undefined) {
      this.emit('incoming', call);
      return;
    }
    void replaced.replacedBy(call).then((outcome) => {
      if (outcome.ok) this.emit('replaced', { call, replaced });
    });
  }

  /**
   * RFC 3891 §3: the call an INVITE's Replaces names: undefined without Replaces; null when the
   * INVITE was answered here (400 for a bad header, 481/486/603 from the match, the application's refusal).
   */
  #replacedCall(request: SipRequest, uas: UasTransaction): Call | undefined | null {
    if (!request.has('replaces')) return undefined;
    let status: number;
    try {
      const value = request.replaces;
      const match = value === undefined ? { status: 400 } : this.#dialogs.matchReplaces(value);
      if ('dialog' in match) {
        const call = this.#byDialog.get(match.dialog.key);
        if (call === undefined) status = 481;
        else {
          // RFC 3891 §3: a confirmed dialog is replaced only when the request is authorised.
          const early = match.dialog.state === 'early';
          const authorised = early || replacesAuthorised(request, match.dialog);
          const refused = replacesVerdict(this.onReplaces?.(request, call, { early, authorised }), authorised);
          if (refused === undefined) return call;
          status = refused;
        }
      } else status = match.status;
    } catch {
      status = 400;
    }
    uas.respond(createResponse(request, status, { toTag: uas.toTag, ...(status === 403 ? { reason: 'Replaces Not Authorised' } : {}) }));
    return null;
  }

  #forget(call: Call, dialog: Dialog | undefined): void {
    this.#calls.delete(call);
    for (const [uas, c] of this.#byInvite) if (c === call) this.#byInvite.delete(uas);
    if (dialog !== undefined) {
      this.#dialogs.remove(dialog);
      this.#byDialog.delete(dialog.key);
    }
  }

  protected override listenerFailed(event: string, err: unknown): void {
    this.#logger.error({ err, event }, 'a user agent event listener threw');
  }
}

/** Our Contact (§8.1.1.8): where the peer reaches this listener, with the transport it needs. */
function contactFor(listener: BoundListener, sips: boolean, user: string | undefined): string {
  const host = listener.viaHost ?? listener.host;
  const hostText = host.includes(':') ? `[${host}]` : host;
  const port = listener.viaHost !== undefined ? listener.viaPort : listener.port;
  const secure = listener.protocol === 'TLS' || listener.protocol === 'WSS';
  const scheme = sips && secure ? 'sips' : 'sip';
  let param = '';
  if (listener.protocol === 'TCP') param = ';transport=tcp';
  else if (listener.protocol === 'TLS' && scheme === 'sip') param = ';transport=tls';
  else if (listener.protocol === 'WS' || listener.protocol === 'WSS') param = ';transport=ws';
  const userPart = user === undefined || user === '' ? '' : `${user}@`;
  return `<${scheme}:${userPart}${hostText}:${port}${param}>`;
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
