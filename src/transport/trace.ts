/**
 * Messages in and out, published on node:diagnostics_channel (`hookflash:message:in`,
 * `hookflash:message:out`) for the dashboard, captures and debug logging. Guarded by
 * hasSubscribers, so tracing costs nothing while nobody listens.
 */
import { channel } from 'node:diagnostics_channel';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Source, TransportProtocol } from './types.js';

/** What `hookflash:message:in` carries. */
export interface MessageInEvent {
  message: SipRequest | SipResponse;
  source: Source;
}

/** What `hookflash:message:out` carries. */
export interface MessageOutEvent {
  message: SipRequest | SipResponse;
  protocol: TransportProtocol;
  address: string;
  port: number;
  connectionId?: string;
  /** The local end it left from (a listener's address and port, or a connection's local end). */
  localAddress?: string;
  localPort?: number;
}

const inbound = channel('hookflash:message:in');
const outbound = channel('hookflash:message:out');

export function traceIn(message: SipRequest | SipResponse, source: Source): void {
  if (inbound.hasSubscribers) inbound.publish({ message, source } satisfies MessageInEvent);
}

export function traceOut(event: MessageOutEvent): void {
  if (outbound.hasSubscribers) outbound.publish(event);
}
