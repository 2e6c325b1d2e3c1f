/**
 * The dashboard and the capture of `hookflash serve`: the trace hook feeding a call store, the
 * dashboard's routes over it (mounted on serve's HTTP server, behind its loopback-or-token rule),
 * the registrations from the binding store, and, when `HOOKFLASH_HEP=HOST:PORT` is set, a HEP v3
 * copy of every message to that Homer collector (`HOOKFLASH_HEP_ID`: the capture agent id,
 * `HOOKFLASH_HEP_KEY`: its auth key). `HOOKFLASH_DASHBOARD=off` turns the capture and the dashboard
 * off (the capture costs about 10 µs and a copy of each message, kept in bounded buffers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Binding, BoundListener, Logger } from '../index.js';
import { HepSender } from './capture-hep.js';
import { CallStore } from './capture-store.js';
import { TraceHook } from './capture-trace.js';
import { Dashboard, registrationViews } from './dashboard-http.js';

export interface ServeDashboardOptions {
  /** The SIP listeners: named `name` in the ladders. */
  listeners: readonly BoundListener[];
  name: string;
  /** Live bindings (the binding store's list) and the time on their clock. */
  bindings: () => Promise<Binding[]>;
  now: () => number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface ServeDashboard {
  routes: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
  /** Where HEP goes, when it does. */
  hep: string | undefined;
  close(): Promise<void>;
}

/** Throws an Error naming the variable when HOOKFLASH_HEP is not HOST:PORT. */
export function startServeDashboard(options: ServeDashboardOptions): ServeDashboard {
  const env = options.env ?? process.env;
  if (env['HOOKFLASH_DASHBOARD'] === 'off') {
    return { routes: async () => false, hep: undefined, close: async () => undefined };
  }
  // Serve's peers are other processes: a hop is never seen from both ends here.
  const hook = new TraceHook({ twins: false });
  const store = new CallStore();
  for (const l of options.listeners) store.names.set(l.host, l.port, options.name);
  hook.onMessage((m) => store.add(m));
  let hep: HepSender | undefined;
  const target = env['HOOKFLASH_HEP'];
  if (target !== undefined && target !== '') {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(target);
    const id = Number(env['HOOKFLASH_HEP_ID'] ?? '2001');
    if (m === null || Number(m[2]) > 65535 || !Number.isInteger(id) || id < 0) {
      hook.close();
      throw new Error(`HOOKFLASH_HEP must be HOST:PORT (and HOOKFLASH_HEP_ID a number): ${JSON.stringify(target)}`);
    }
    const key = env['HOOKFLASH_HEP_KEY'];
    const sender = new HepSender({
      host: m[1]!, port: Number(m[2]), captureId: id, ...(key === undefined ? {} : { authKey: key }),
      onError: (err) => options.logger.warn({ err: err.message }, 'HEP send failed'),
    });
    hep = sender;
    hook.onMessage((msg) => sender.send(msg));
  }
  const dashboard = new Dashboard({
    store,
    title: options.name,
    registrations: async () => registrationViews(await options.bindings(), options.now()),
  });
  return {
    routes: (req, res, path) => dashboard.handle(req, res, path),
    hep: target === undefined || target === '' ? undefined : target,
    close: async () => {
      dashboard.close();
      hook.close();
      await hep?.close();
    },
  };
}
