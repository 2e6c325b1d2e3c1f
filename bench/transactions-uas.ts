/**
 * bench:transactions' UAS, run as a child process by bench/transactions.ts:
 *
 *   node dist/bench/transactions-uas.js [PORT]
 *
 * Answers every non-INVITE request 200 OK through a server transaction (Timer J keeps it in
 * Completed for 64*T1 over UDP), and 405 to an INVITE. Prints `PORT <n>` once listening, then
 * reads commands on stdin, one per line:
 *   reset   zero the counters and the CPU baseline; prints `OK`
 *   stats   prints `STATS <json>` (UasStats)
 * It exits when stdin closes, when its parent goes away (process.ppid changes), or after
 * MAX_LIFETIME_MS whatever happens, so it never outlives the bench.
 */
import { createInterface } from 'node:readline';
import { createResponse, type SipRequest } from '../src/message/index.js';
import type { InviteServerTransaction, ServerTransaction } from '../src/transaction/index.js';
import type { Source } from '../src/transport/index.js';
import { startStack, type UasStats } from './transactions/stack.js';

const MAX_LIFETIME_MS = 150_000;

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? '0');
  let transactions = 0;
  const stack = await startStack({
    onRequest(request: SipRequest, tx: ServerTransaction): void {
      transactions++;
      tx.respond(createResponse(request, request.method === 'INVITE' ? 405 : 200));
    },
    onAck(_ack: SipRequest, _source: Source, _tx: InviteServerTransaction | undefined): void {},
  }, port);

  let cpuBase = process.cpuUsage();
  let wallBase = performance.now();
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    // Sockets close, then the process ends; a hung close is cut short.
    setTimeout(() => process.exit(code), 1000).unref();
    stack.close().finally(() => process.exit(code));
  };

  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) exit(0);
  }, 500).unref();
  setTimeout(() => exit(2), MAX_LIFETIME_MS).unref();

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'reset') {
      const c = stack.counters;
      c.requestsIn = c.requestsOut = c.responsesIn = c.responsesOut = 0;
      transactions = 0;
      cpuBase = process.cpuUsage();
      wallBase = performance.now();
      process.stdout.write('OK\n');
    } else if (cmd === 'stats') {
      const cpu = process.cpuUsage(cpuBase);
      const mem = process.memoryUsage();
      const stats: UasStats = {
        counters: { ...stack.counters },
        transactions,
        serverCount: stack.layer.serverCount,
        timerCount: stack.layer.timerCount,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        wallMs: performance.now() - wallBase,
        heapUsed: mem.heapUsed,
        rss: mem.rss,
        warnings: stack.logger.warnings,
        errors: stack.logger.errors,
        firstLogLines: stack.logger.first,
      };
      process.stdout.write(`STATS ${JSON.stringify(stats)}\n`);
    }
  });
  lines.on('close', () => exit(0));
  process.on('SIGTERM', () => exit(0));
  process.stdout.write(`PORT ${stack.port}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`transactions-uas: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
