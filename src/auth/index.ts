/** The auth layer's public surface: Digest (RFC 7616, RFC 8760) for UACs and servers. */
export {
  parseAlgorithm, digestHash, formatNonceCount, newCnonce, computeHa1Base, computeHa1, computeHa2, computeResponse,
  offeredQops, isSupportedChallenge, chooseChallenge, computeCredentials, createChallenge, verifyCredentials,
  NonceIssuer, SUPPORTED_ALGORITHMS,
  type DigestAlgorithm, type DigestQop, type ResponseInput, type CredentialsInput, type ChallengeInput,
  type NonceCheck, type NonceIssuerOptions, type VerifyInput, type VerifyResult,
} from './digest.js';
export { DigestClient, type DigestCredentials, type DigestClientOptions, type AuthorizationHeader } from './digest-client.js';
export { DigestAuthenticator, type DigestAuthenticatorOptions, type AuthOutcome } from './digest-server.js';
export type { UserRecord, UserStore } from './user-store.js';
export { AuthLockout, type LockoutOptions, type LockoutVerdict } from './lockout.js';
