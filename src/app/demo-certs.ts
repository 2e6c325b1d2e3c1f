/**
 * Certificates for `hookflash demo`, made when it starts with the `openssl` CLI in a temp dir: a CA
 * of its own and one P-256 certificate (key generation takes milliseconds) for the seed's names and
 * the loopback addresses, which every element of the demo presents and checks (RFC 5922). Nothing
 * outside the demo trusts that CA; the directory is removed by `cleanup()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DemoCertificates {
  /** The demo CA's certificate (PEM): what every element trusts. */
  ca: string;
  /** The certificate every element presents, and its key (PEM). */
  cert: string;
  key: string;
  cleanup(): void;
}

/** The demo cannot make its certificates (openssl missing or failing). */
export class DemoCertificateError extends Error {
  override readonly name = 'DemoCertificateError';
}

export function makeDemoCertificates(names: readonly string[]): DemoCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-demo-pki-'));
  const run = (args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      if (err.code === 'ENOENT') throw new DemoCertificateError('the openssl command is needed to make the demo\'s TLS certificates (apt-get install openssl)');
      throw new DemoCertificateError(`openssl ${args[0]} failed: ${err.stderr?.toString().trim() ?? err.message}`);
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=hookflash demo CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
    writeFileSync(join(dir, 'leaf.ext'), [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'));
    run(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0] ?? 'localhost'}`]);
    run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2', '-extfile', 'leaf.ext']);
    const certs = {
      ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      cert: readFileSync(join(dir, 'leaf.crt'), 'utf8'),
      key: readFileSync(join(dir, 'leaf.key'), 'utf8'),
    };
    // The PEM text is all the demo needs: the files go now.
    rmSync(dir, { recursive: true, force: true });
    return { ...certs, cleanup: () => undefined };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
