/**
 * Certificates made at test time with the `openssl` CLI (CI installs it with apt): a test CA, a
 * server certificate with SAN DNS names and loopback addresses, a wildcard-only certificate, and a
 * second CA nobody trusts with a certificate of its own. P-256 keys, so generation takes
 * milliseconds. Everything lives in a temp dir that cleanup() removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  /** The trusted test CA (PEM) and its file. */
  ca: string;
  caFile: string;
  /** Server: DNS ss1.example.com, atlanta.example.com, URI sip:example.com, IP 127.0.0.1 and ::1. */
  server: CertPair;
  /** DNS *.example.com only: RFC 5922 §7.2 says it must match nothing. */
  wildcard: CertPair;
  /** A CA nobody trusts, and a certificate for ss1.example.com and 127.0.0.1 that it signed. */
  otherCa: string;
  untrusted: CertPair;
  cleanup(): void;
}

/** The `openssl version` line, or undefined when the CLI is missing. */
export function opensslVersion(): string | undefined {
  try {
    return execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=hookflash ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function makeLeaf(dir: string, name: string, ca: string, san: string): CertPair {
  writeFileSync(join(dir, `${name}.ext`), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    `subjectAltName=${san}`,
    '',
  ].join('\n'));
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.test`]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`,
  ]);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

/** Makes the whole set in a fresh temp dir. Throws when openssl is missing. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-pki-'));
  try {
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    const server = makeLeaf(dir, 'server', 'ca',
      'DNS:ss1.example.com,DNS:atlanta.example.com,URI:sip:example.com,IP:127.0.0.1,IP:::1');
    const wildcard = makeLeaf(dir, 'wildcard', 'ca', 'DNS:*.example.com');
    const untrusted = makeLeaf(dir, 'untrusted', 'other-ca', 'DNS:ss1.example.com,IP:127.0.0.1');
    const caFile = join(dir, 'ca.crt');
    return {
      dir,
      ca: readFileSync(caFile, 'utf8'),
      caFile,
      server,
      wildcard,
      otherCa: readFileSync(join(dir, 'other-ca.crt'), 'utf8'),
      untrusted,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
