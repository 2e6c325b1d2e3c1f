/** The transaction layer's public surface (RFC 3261 §17, RFC 6026). */
export { TransactionLayer, type TransactionUser, type TransactionLayerOptions, type AckOptions } from './transaction-layer.js';
export { ClientTransaction, type ClientTransactionListener, type ClientTransactionOptions } from './client-transaction.js';
export { ServerTransaction } from './server-transaction.js';
export { InviteClientTransaction, type InviteClientState } from './invite-client-transaction.js';
export { NonInviteClientTransaction, type NonInviteClientState } from './non-invite-client-transaction.js';
export { InviteServerTransaction, type InviteServerState } from './invite-server-transaction.js';
export { NonInviteServerTransaction, type NonInviteServerState } from './non-invite-server-transaction.js';
export { Transaction, type TransactionState, type TransactionStateChange } from './transaction.js';
export { TransactionError, shouldFailOver, type TransactionErrorCode, type TimeoutTimer } from './transaction-error.js';
export { TimerHeap, type Scheduled } from './timer-heap.js';
