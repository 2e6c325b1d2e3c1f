import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipParseError } from '../../../src/core/errors.js';
import { formatNameAddr, parseNameAddr, parseNameAddrList } from '../../../src/message/name-addr.js';
import { newParams } from '../../../src/message/params.js';
import type { NameAddr, SipUri } from '../../../src/message/types.js';
import { isSipUri, parseUri } from '../../../src/message/uri.js';

function plain<V>(o: Record<string, V>): Record<string, V> {
  return { ...o };
}

function sipOf(na: NameAddr): SipUri {
  assert.ok(isSipUri(na.uri));
  return na.uri;
}

function isParse400(e: unknown): boolean {
  return e instanceof SipParseError && e.status === 400;
}

function rejects(text: string): void {
  assert.throws(() => parseNameAddr(text), isParse400, `${JSON.stringify(text)} should be rejected with 400`);
}

// ---- the three forms (RFC 3261 §20.10, §25.1) --------------------------------------------------

test('a quoted display name is unquoted and its quoted-pairs resolved (RFC 3261 §25.1; RFC 4475 §3.1.1.1 wsinv)', () => {
  const na = parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8');
  assert.equal(na.displayName, 'J Rosenberg \\"');
  assert.equal(sipOf(na).user, 'jdrosen');
  assert.deepEqual(plain(na.params), { tag: '98asjd8' });
});

test('quoted-pairs of NUL, BEL and DEL in a display name are kept as those chars (RFC 4475 §3.1.1.2 intmeth)', () => {
  const na = parseNameAddr('"BEL:\\\u0007 NUL:\\\u0000 DEL:\\\u007f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>');
  assert.equal(na.displayName, 'BEL:\u0007 NUL:\u0000 DEL:\u007f');
  assert.equal(sipOf(na).user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.deepEqual(parseNameAddr(formatNameAddr(na)), na);
});

test('a display name of several tokens keeps them joined by one space (RFC 3261 §25.1 display-name; RFC 4475 intmeth)', () => {
  const na = parseNameAddr(
    'token1~` token2\'+_ token3*%!.- <sip:mundane@example.com>;fromParam\'\'~+*_!.-%="\u00d1\u0080\u00d0\u00b0";tag=_token~1\'+`*%!-.',
  );
  assert.equal(na.displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(sipOf(na).user, 'mundane');
  assert.deepEqual(plain(na.params), { "fromparam''~+*_!.-%": '\u00d1\u0080\u00d0\u00b0', tag: "_token~1'+`*%!-." });
  assert.equal(parseNameAddr('A   B\t C <sip:a@b.example>').displayName, 'A B C');
});

test('no LWS is needed between a display name and "<" (RFC 3261 §25.1 LAQUOT; RFC 4475 §3.1.1.6 lwsdisp)', () => {
  const na = parseNameAddr('caller<sip:caller@example.com>;tag=323');
  assert.equal(na.displayName, 'caller');
  assert.equal(sipOf(na).user, 'caller');
  assert.equal(parseNameAddr('"caller"<sip:caller@example.com>').displayName, 'caller');
});

test('a bracketed URI without display name has no displayName property (RFC 3261 §20.10)', () => {
  const na = parseNameAddr('<sip:alice@atlanta.com>;tag=1928301774');
  assert.equal('displayName' in na, false);
  assert.deepEqual(plain(na.params), { tag: '1928301774' });
  assert.equal(parseNameAddr('"" <sip:a@b.example>').displayName, '');
});

test('params after a bracketed URI are header params and params inside belong to the URI (RFC 4475 §3.3.9 cparam02)', () => {
  const na = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
  assert.deepEqual(plain(sipOf(na).params), { unknownparam: null });
  assert.deepEqual(plain(na.params), {});
});

test('params after a bare addr-spec are header params (RFC 3261 §20.10; RFC 4475 §3.3.8 cparam01)', () => {
  const na = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam');
  assert.deepEqual(plain(sipOf(na).params), {});
  assert.deepEqual(plain(na.params), { unknownparam: null });
  const to = parseNameAddr(' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
  assert.equal(sipOf(to).host, 'chair-dnrc.example.com');
  assert.deepEqual(plain(to.params), { tag: '1918181833n' });
  assert.equal('displayName' in to, false);
});

test('a bare addr-spec holding "?" or "," is rejected with 400 (RFC 3261 §20.10; RFC 4475 §3.1.2.6 regbadct)', () => {
  rejects('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
  rejects('sip:user@example.com,sip:b@c.example');
  rejects('http://www.example.com/?a=b');
});

test('a user part with ";" must be bracketed in a header (RFC 3261 §20.10)', () => {
  rejects('sip:user;par=u%40example.net@example.com');
  assert.equal(sipOf(parseNameAddr('<sip:user;par=u%40example.net@example.com>')).user, 'user;par=u@example.net');
});

test('URI headers are allowed inside the brackets (RFC 4475 §3.3.6 regescrt)', () => {
  const na = parseNameAddr('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>');
  assert.equal(sipOf(na).headers.Route, '<sip:sip.example.com>');
});

test('escaped NULs in contact URIs are unescaped (RFC 4475 §3.1.1.8 escnull)', () => {
  assert.equal(sipOf(parseNameAddr('<sip:%00@host5.example.com>')).user, '\u0000');
  assert.equal(sipOf(parseNameAddr('sip:null-%00-null@example.com;tag=839923423')).user?.length, 11);
});

test('IPv6 references inside name-addr values parse (RFC 5118 §4.1, §4.7)', () => {
  const na = parseNameAddr('"T. desk phone" <sip:ted@[::ffff:192.0.2.2]>');
  assert.equal(na.displayName, 'T. desk phone');
  assert.equal(sipOf(na).host, '[::ffff:192.0.2.2]');
  assert.equal(sipOf(parseNameAddr('"Caller" <sip:caller@[2001:db8::1]>')).hostType, 'ipv6');
});

test('non-SIP URIs are accepted in brackets and bare (RFC 3261 §20.10 absoluteURI)', () => {
  assert.deepEqual(parseNameAddr('<http://www.example.com>').uri, parseUri('http://www.example.com'));
  const t = parseNameAddr('tel:+1-201-555-0123;tag=x');
  assert.equal(t.uri.scheme, 'tel');
  assert.deepEqual(plain(t.params), { tag: 'x' });
});

// ---- rejections (RFC 4475 §3.1.2) --------------------------------------------------------------

test('spaces inside the angle brackets are rejected with 400 (RFC 4475 §3.1.2.14 badaspec)', () => {
  rejects('"Watson, Thomas" < sip:t.watson@example.org >');
  rejects('<sip:t.watson@example.org >');
});

test('an unterminated quoted display name is rejected with 400 (RFC 4475 §3.1.2.9 quotbal)', () => {
  rejects('"Mr. J. User <sip:j.user@example.com>');
});

test('an unquoted display name with a comma fails once the list is split (RFC 4475 §3.1.2.15 baddn)', () => {
  assert.throws(() => parseNameAddrList('Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43'), isParse400);
  rejects('Bell');
  rejects('Bell, Alexander <sip:a.g.bell@bell-tel.com>');
  const quoted = parseNameAddrList('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423');
  assert.equal(quoted.length, 1);
  assert.equal(quoted[0].displayName, 'Bell, Alexander');
});

test('empty header parameters are rejected with 400 (RFC 4475 §3.1.2.1 badinv01)', () => {
  rejects('"Joe" <sip:joe@example.org>;;;;');
  rejects('<sip:joe@example.org>;');
  rejects('sip:joe@example.org;tag=');
});

test('malformed name-addr values are rejected with 400 (RFC 3261 §25.1 name-addr)', () => {
  for (const bad of [
    '',
    '   ',
    '<sip:a@b.example',
    '<>',
    '<sip:a@b.example>x',
    '<sip:a@b.example> x=1',
    '"x"sip:a@b.example',
    '"x" sip:a@b.example',
    'x "y" <sip:a@b.example>',
    'Bob Smith',
    'alice@atlanta.example.com',
    '<alice@atlanta.example.com>',
    '<sip:a@b.example>;tag=1,<sip:c@d.example>',
    'sip:a@b.example x',
    'a@b <sip:a@b.example>',
  ])
    rejects(bad);
});

test('lenientScheme reads a scheme-less URI as sip: (seed Referred-By: <alice@atlanta.example.com>)', () => {
  const na = parseNameAddr('<alice@atlanta.example.com>', { lenientScheme: true });
  assert.equal(na.uri.scheme, 'sip');
  assert.equal(sipOf(na).user, 'alice');
  assert.equal(formatNameAddr(na), '<sip:alice@atlanta.example.com>');
  const bare = parseNameAddr('alice@atlanta.example.com;cid=1', { lenientScheme: true });
  assert.equal(sipOf(bare).host, 'atlanta.example.com');
  assert.deepEqual(plain(bare.params), { cid: '1' });
  assert.equal(parseNameAddr('<sip:bob@b.example>', { lenientScheme: true }).uri.scheme, 'sip');
});

// ---- lists -------------------------------------------------------------------------------------

test('a list splits at top-level commas only (RFC 3261 §7.3.1, §20.10)', () => {
  const list = parseNameAddrList(
    '"Doe, John" <sip:j@d.example;a=1>;q=0.7, <sip:x@y.example?Route=%3Csip:p%2Cq%3E>, sip:z@w.example;expires=60',
  );
  assert.equal(list.length, 3);
  assert.equal(list[0].displayName, 'Doe, John');
  assert.deepEqual(plain(list[0].params), { q: '0.7' });
  assert.equal(sipOf(list[1]).headers.Route, '<sip:p,q>');
  assert.deepEqual(plain(list[2].params), { expires: '60' });
});

test('empty list elements are rejected with 400 (RFC 3261 §7.3.1)', () => {
  for (const bad of ['', ' ', '<sip:a@b.example>,', ',<sip:a@b.example>', '<sip:a@b.example>, ,<sip:c@d.example>'])
    assert.throws(() => parseNameAddrList(bad), isParse400, JSON.stringify(bad));
});

test('an unterminated quote or bracket in a list is rejected with 400', () => {
  assert.throws(() => parseNameAddrList('"a <sip:a@b.example>, <sip:c@d.example>'), isParse400);
  assert.throws(() => parseNameAddrList('<sip:a@b.example, sip:c@d.example'), isParse400);
});

// ---- formatting --------------------------------------------------------------------------------

test('formatNameAddr always writes <uri> and header params after it (RFC 3261 §20.10)', () => {
  const na = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam;tag=abc');
  assert.equal(formatNameAddr(na), '<sip:+19725552222@gw1.example.net>;unknownparam;tag=abc');
});

test('formatNameAddr writes a token display name as is and quotes any other (RFC 3261 §25.1)', () => {
  const uri = parseUri('sip:a@b.example');
  const params = newParams();
  assert.equal(formatNameAddr({ displayName: 'Alice', uri, params }), 'Alice <sip:a@b.example>');
  assert.equal(formatNameAddr({ displayName: 'Alice B. Toklas', uri, params }), 'Alice B. Toklas <sip:a@b.example>');
  assert.equal(formatNameAddr({ displayName: 'Toklas, Alice', uri, params }), '"Toklas, Alice" <sip:a@b.example>');
  assert.equal(formatNameAddr({ displayName: 'a  b', uri, params }), '"a  b" <sip:a@b.example>');
  assert.equal(formatNameAddr({ displayName: 'say "hi" \\o/', uri, params }), '"say \\"hi\\" \\\\o/" <sip:a@b.example>');
  assert.equal(formatNameAddr({ displayName: '', uri, params }), '"" <sip:a@b.example>');
  assert.equal(formatNameAddr({ uri, params }), '<sip:a@b.example>');
});

test('formatNameAddr never writes CR or LF, so a display name cannot break the header line', () => {
  const uri = parseUri('sip:a@b.example');
  const text = formatNameAddr({ displayName: 'evil\r\nVia: x', uri, params: newParams() });
  assert.equal(text.includes('\r'), false);
  assert.equal(text.includes('\n'), false);
  assert.equal(parseNameAddr(text).displayName, 'evil  Via: x');
});

test('parseNameAddr(formatNameAddr(x)) deep-equals x (RFC 3261 §20.10)', () => {
  for (const text of [
    '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8',
    'token1~` token2\'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1\'+`*%!-.',
    '<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>',
    'sip:user@example.com;tag=1;q=0.5;expires=3600',
    '"Tab\\\there" <sips:[2001:db8::10]:5061;transport=tls>;+sip.instance="<urn:uuid:1234>"',
    '<tel:+1-201-555-0123;ext=99>;tag=z',
    '<urn:service:sos>',
  ]) {
    const na = parseNameAddr(text);
    assert.deepEqual(parseNameAddr(formatNameAddr(na)), na, text);
  }
});

// ---- robustness --------------------------------------------------------------------------------

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('garbage input only ever throws SipParseError, and what parses round-trips', () => {
  const rnd = prng(0xc0ffee);
  const alphabet = 'sip:@<>"\\;,=? \tabcXYZ019[].-_%&+\u0000\u00ff\r\n';
  const seeds = [
    '"Bell, A." <sip:a.g.bell@bell-tel.com;lr>;tag=43, Bob <sips:b@[::1]:5061>',
    'sip:user@example.com;tag=1;q=0.5',
    'caller<sip:caller@example.com?Subject=hi%20there>;tag=323',
  ];
  const inputs: string[] = [];
  for (let n = 0; n < 300; n++) {
    let s = '';
    const len = Math.floor(rnd() * 40);
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    inputs.push(s);
  }
  for (let n = 0; n < 300; n++) {
    const chars = seeds[n % seeds.length].split('');
    for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) {
      const at = Math.floor(rnd() * chars.length);
      const c = alphabet[Math.floor(rnd() * alphabet.length)];
      if (rnd() < 0.5) chars.splice(at, 1);
      else chars.splice(at, 0, c);
    }
    inputs.push(chars.join(''));
  }
  let parsed = 0;
  for (const s of inputs) {
    for (const lenientScheme of [false, true]) {
      let list: NameAddr[];
      try {
        list = parseNameAddrList(s, { lenientScheme });
      } catch (e) {
        assert.ok(isParse400(e), `${JSON.stringify(s)} threw ${String(e)}`);
        continue;
      }
      for (const na of list) {
        parsed++;
        assert.deepEqual(parseNameAddr(formatNameAddr(na)), na, `round trip of ${JSON.stringify(s)}`);
      }
    }
  }
  assert.ok(parsed > 50, `too few values parsed (${parsed})`);
});

test('non-string input throws SipParseError', () => {
  assert.throws(() => parseNameAddr(null as unknown as string), isParse400);
  assert.throws(() => parseNameAddrList(undefined as unknown as string), isParse400);
});

test('line breaks left in a quoted display name read as SP (RFC 3261 §7.3.1)', () => {
  const na = parseNameAddr('"a\r\n b" <sip:a@b.example>');
  assert.equal(na.displayName, 'a b');
  assert.deepEqual(parseNameAddr(formatNameAddr(na)), na);
});

test('feature-tag parameter values stay quoted when written back (RFC 3840 §9)', () => {
  const na = parseNameAddr('<sips:bob@client.biloxi.example.com>;+sip.rendering="no"');
  assert.equal(na.params['+sip.rendering'], 'no');
  assert.equal(formatNameAddr(na), '<sips:bob@client.biloxi.example.com>;+sip.rendering="no"');
});
