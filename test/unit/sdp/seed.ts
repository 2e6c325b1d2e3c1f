/**
 * The SDP bodies of the seed (../shared/seed/, RFC 5359 §2.1 as the blog shows it): F1 is
 * Alice's INVITE offer, F10 Bob's hold re-INVITE with a=sendonly. Lines end in CRLF (RFC 8866 §5).
 */
export const crlf = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

export const SEED_F1_OFFER = crlf(
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com',
  's=',
  'c=IN IP4 client.atlanta.example.com',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);

export const SEED_F10_HOLD = crlf(
  'v=0',
  'o=bob 2890844527 2890844528 IN IP4 client.biloxi.example.com',
  's=',
  'c=IN IP4 client.biloxi.example.com',
  't=0 0',
  'm=audio 3456 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'a=sendonly',
);

/** An offer from a peer at `address`, audio on `port`, with the given direction line and formats. */
export function peerOffer(options: {
  version?: number;
  address?: string;
  direction?: string;
  formats?: string;
  rtpmaps?: string[];
  extraMedia?: string[];
} = {}): string {
  const address = options.address ?? 'client.atlanta.example.com';
  const version = options.version ?? 2890844526;
  return crlf(
    'v=0',
    `o=alice 2890844526 ${version} IN IP4 client.atlanta.example.com`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio 49170 RTP/AVP ${options.formats ?? '0'}`,
    ...(options.rtpmaps ?? ['a=rtpmap:0 PCMU/8000']),
    ...(options.direction === undefined ? [] : [`a=${options.direction}`]),
    ...(options.extraMedia ?? []),
  );
}
