/** The user agent layer's public surface (for now the minimal SipEndpoint, RFC 3261 §8). */
export {
  SipEndpoint, type SipEndpointOptions, type EndpointTlsOptions, type EndpointRequestOptions, type EndpointAckOptions, type RequestHandler,
} from './endpoint.js';
export { UasTransaction } from './uas-transaction.js';
export { createAck, createDialogRequest, type DialogRequestOptions } from './dialog-request.js';
