/**
 * A certificate authority and one server certificate for the names a test asks for (SAN DNS
 * entries plus the loopback addresses), made with the `openssl` CLI in a temp dir. The seed's
 * flows need biloxi.example.com and ss1.example.com, which test/helpers/certs.ts does not cover.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NamedPki {
  /** The CA's certificate (PEM): what clients trust. */
  ca: string;
  /** The server certificate and key (PEM), and their files (for `hookflash start --cert/--key`). */
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  cleanup(): void;
}

/** True when the openssl CLI runs. */
export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes a CA and a certificate for `names` (and 127.0.0.1, ::1) it signed. Throws without openssl. */
export function makeNamedPki(names: readonly string[]): NamedPki {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-named-pki-'));
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  // P-256: key generation takes milliseconds, unlike RSA.
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    run(['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=hookflash flows CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
    writeFileSync(join(dir, 'leaf.ext'), [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'));
    run(['req', ...key, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0] ?? 'localhost'}`]);
    run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt',
      '-days', '2', '-extfile', 'leaf.ext']);
    const certFile = join(dir, 'leaf.crt');
    const keyFile = join(dir, 'leaf.key');
    return {
      ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
      certFile,
      keyFile,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
